"""The rule kinds of the canonical level that drop calls or fold one into another: what a
program did besides the echo, calls interrupted and made again, closes of copies, calls that
move several messages, settings its creating call could have made, pending connects.

`drop` leaves out the steps that match (their attributes keep what they said); `drop_retried`
the interrupted calls made again; `fold_references` makes the release of a socket's last
reference its close; `split_messages` makes a sendmmsg or a recvmmsg one step per message;
`fold_into_creator` and `fold_pending_connect` fold a call into the step it completes.
"""

from __future__ import annotations

import errno as errno_module
import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.normalize.kinds.match import Match, _when, has_effect
from harness.normalize.kinds.params import Steps
from harness.normalize.steps import UNFINISHED, Step

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule


def drop(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Leave out the steps that match (what they said stays in the sample's attributes)."""
    when = _when(rule, ctx)
    return tuple(s for s in steps if not when(s))


def fold_pending_connect(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A non-blocking connect that fails with EINPROGRESS, then the check of its result
    (getsockopt SO_ERROR) on the same socket, is one connect whose outcome is that result:
    `connect(EINPROGRESS)+SO_ERROR`. A pending connect never checked counts as connected
    (the calls after it tell)."""
    pending: frozenset[str] = frozenset(rule.params["pending"])
    check: Match = rule.params["check"]
    until: Match | None = rule.params["until"]
    extra = rule.params["extra"]
    out = list(steps)
    removed: set[int] = set()
    for i, s in enumerate(out):
        if i in removed or s.name != "connect" or s.errno not in pending:
            continue
        folded = replace(s, errno=None, outcome="", marks=s.marks + (s.errno or "",))
        for j in range(i + 1, len(out)):
            t = out[j]
            if j in removed or t.fd != s.fd:
                continue
            if check(t, ctx.syscalls):
                failed = _so_error_name(t.args.get("value"))
                folded = replace(folded, seqs=folded.seqs + t.seqs, extras=folded.extras
                                 + (extra,), errno=failed, outcome=failed or "")
                removed.add(j)
                break
            if until is not None and until(t, ctx.syscalls):
                break
        out[i] = folded
    return tuple(s for i, s in enumerate(out) if i not in removed)


def _so_error_name(value: Any) -> str | None:
    """The errno name of a pending connect's result as SO_ERROR gives it (None: connected)."""
    if value in (0, None):
        return None
    if isinstance(value, int):
        return errno_module.errorcode.get(value, str(value))
    return str(value)


def drop_retried(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A call interrupted by a signal (EINTR, ERESTARTSYS...) that its thread makes again on
    the same fd is dropped: the retry is the step. One never made again (its process died in
    it, or the next call of that thread on that fd is another) never returned: outcome
    UNFINISHED, as for a call still blocked when its process died."""
    when = _when(rule, ctx)
    events = ctx.trace.events
    position = {e.seq: k for k, e in enumerate(events)}
    out = []
    for s in steps:
        if not when(s):
            out.append(s)
            continue
        ev = ctx.events[s.seqs[0]]
        fd = ev.args.get("fd")
        # the thread's next call on that fd, or the exit or exec that ended its program
        ends = ctx.syscalls.in_class
        after = (e for e in events[position[ev.seq] + 1:] if e.tid == ev.tid
                 and ((ends(e.syscall, "process") and not ends(e.syscall, "fork_like"))
                      or (not ends(e.syscall, "process") and e.args.get("fd") == fd)))
        following = next(after, None)
        if (following is not None and not ends(following.syscall, "process")
                and following.syscall == ev.syscall):
            continue  # made again: the retry is the step
        out.append(replace(s, outcome=UNFINISHED))
    return tuple(out)


def fold_references(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """When the trace says which event released each socket's last reference (schema 4,
    `released`): a call that gives up one of several fds of a socket (a close of a copy) is
    not the socket's close and leaves the sequence; the event that released the last one is
    the socket's close step, whatever it was: a close, a close_range, a dup2 over its fd, or
    the exit or exec of the last process that held it (its dialect says which, and which
    program: `exit(cat)`). Without that knowledge (older traces) every close is a close."""
    if not any(e.released for e in ctx.trace.events):
        return steps
    table = ctx.syscalls
    programs = {p.pid: p.exe for p in ctx.trace.processes}
    name = rule.params["name"]
    out = []
    for s in steps:
        released = s.args.get("released")
        if not table.does(s.syscall, "release") or table.in_class(s.syscall, "fd_copy") \
                and released is None:
            out.append(s)
            continue
        if released is None:
            continue  # a copy's close: the socket lives on through its other fds
        if table.in_class(s.syscall, "process"):
            ev = ctx.events[s.seqs[0]]
            exe = ev.args.get("exe") if ev.args.get("exe") else programs.get(ev.pid)
            program = os.path.basename(str(exe)) if exe else f"pid {ev.pid}"
            s = replace(s, marks=s.marks + (program,))
        out.append(replace(s, name=name, fd=str(released), creates=""))
    return tuple(out)


def split_messages(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A call that moves several messages (sendmmsg, recvmmsg: the table's `count: msgs`) is
    one transfer per message, each with its own address, bytes and flags, as if each had been
    a sendto or a recvfrom; a message of 0 bytes received is end of file, as a recv's 0."""
    table = ctx.syscalls
    out: list[Step] = []
    for s in steps:
        msgs = s.args.get("msgs")
        if not table.counts_messages(s.syscall) or s.errno or not isinstance(msgs, list):
            out.append(s)
            continue
        receive = has_effect(s, "receive", table)
        base = {k: v for k, v in s.args.items() if k in ("fd", "flags")}
        for m in msgs:
            m = m if isinstance(m, dict) else {}
            args = {**base, **{k: v for k, v in m.items()
                               if k in ("addr", "size", "data", "data_len", "data_truncated")}}
            if m.get("flags"):
                args["msg_flags"] = m["flags"]
            n = m.get("data_len") if isinstance(m.get("data_len"), int) else 0
            out.append(replace(s, args=args, result=n,
                               outcome="EOF" if receive and n == 0 else s.outcome))
    return tuple(out)


def fold_into_creator(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A call that sets on a socket what its creating call could have set with a flag
    (fcntl(F_SETFD, FD_CLOEXEC) after socket(): SOCK_CLOEXEC) is folded into that creating
    step: the flag as a mark, the call that set it as an extra (`socket(SOCK_CLOEXEC)+F_SETFD`).
    A socket made before the trace keeps the call."""
    when = _when(rule, ctx)
    mark, arg_names = rule.params["mark"], rule.params["extra_arg"]
    out: list[Step] = []
    for s in steps:
        if not when(s):
            out.append(s)
            continue
        at = next((k for k in range(len(out) - 1, -1, -1) if s.fd and s.fd in
                   [c.strip() for c in out[k].creates.split(",")]), None)
        if at is None:
            out.append(s)
            continue
        creator = out[at]
        extra = next((str(s.args[a]) for a in arg_names if s.args.get(a) is not None), s.syscall)
        out[at] = replace(creator, seqs=creator.seqs + s.seqs,
                          marks=creator.marks if mark in _mark_tokens(creator) else
                          creator.marks + (mark,),
                          extras=creator.extras if extra in creator.extras else
                          creator.extras + (extra,))
    return tuple(out)


def _mark_tokens(step: Step) -> set[str]:
    return {part.strip() for m in step.marks for part in m.split("|")}
