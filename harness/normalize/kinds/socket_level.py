"""The rule kinds of the socket level: the echo's sockets under symbolic names, the run's port
and path masked, end of file and unfinished calls marked.

`echo_sockets` keeps the calls on the echo's sockets (harness/normalize/sockets.py finds them)
and sets aside the calls on other sockets; `mask_ports` and `mask_paths` write the run's
address as PORT and PATH, since it changes from run to run; `mark_eof` and `mark_unfinished`
give the outcomes that are compared. `_map_addresses` (every address in a step's arguments)
serves the canonical level's `fold_v4mapped` too.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.normalize.kinds.match import _when
from harness.normalize.kinds.params import Steps
from harness.normalize.steps import UNFINISHED, Step
from harness.normalize.syscalls import SyscallTable

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule


def _map_addresses(value: Any, fn: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    """value with every decoded address in it replaced by fn(address); the very same object
    when nothing changed (most steps carry no address)."""
    if isinstance(value, dict):
        if "family" in value and ("port" in value or "path" in value or "abstract" in value):
            return fn(value)
        items = {k: _map_addresses(v, fn) for k, v in value.items()
                 if isinstance(v, (dict, list))}
        if all(items[k] is value[k] for k in items):
            return value
        return {**value, **items}
    if isinstance(value, list):
        mapped = [_map_addresses(v, fn) if isinstance(v, (dict, list)) else v for v in value]
        return value if all(a is b for a, b in zip(mapped, value)) else mapped
    return value


def echo_sockets(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Keep the calls on the echo's sockets under symbolic names; set aside the calls on
    other sockets (listed apart, by what the socket is); drop the rest (process records,
    epoll_create and other calls on no socket)."""
    from harness.normalize import sockets as sk

    walk = sk.walk_sockets(ctx.trace, ctx.syscalls)
    roles = sk.echo_roles(walk, ctx.run.host, ctx.run.port, ctx.run.path,
                          ctx.run.host_addresses, learned=ctx.run.port_from == "learned")
    names = sk.symbolic_names(walk, roles, rule.params["names"], rule.params["other"])
    port, path = ctx.run.port, ctx.run.path

    def mask(a: dict[str, Any]) -> dict[str, Any]:
        # the descriptions of other sockets are made here, before the masking rules run
        return _mask_path(_mask_port(a, port, "PORT", None), path, "PATH", "RUNDIR")

    described = {s.id: sk.describe(s, mask) for s in walk.sockets if s.id not in roles}
    # sockets released together by one call (a close_range, an exit) have no order of their
    # own: connections first, listeners last, as a server closes them one by one
    last = {"listener": 1}
    out: list[Step] = []
    for step in steps:
        seq = step.seqs[0]
        released = [names[i] for i in sorted(
            (i for i in walk.released.get(seq, ()) if i in roles),
            key=lambda i: last.get(roles[i], 0))]
        if ctx.events[seq].kind == "process":
            # an exit or an exec that released the last reference to an echo socket: that
            # socket's end (trace schema 4), one step per socket
            out += [replace(step, fd=name, creates="", args={**step.args, "released": name})
                    for name in released]
            continue
        if not walk.touched.get(seq):
            out += [replace(step, fd=name, creates="", args={**step.args, "released": name})
                    for name in released]
            continue
        touched = walk.touched[seq]
        echo = [i for i in touched if i in roles]
        fd_names = {fd: names[i] for fd, i in walk.named[seq].items()}
        args = _rename_fds(step.args, fd_names, ctx.syscalls)
        created = walk.created[seq]
        fd_arg = step.args.get("fd", step.args.get("oldfd"))
        own = touched[0]  # the socket an aside step is listed under
        if isinstance(fd_arg, int) and fd_arg in fd_names:
            fd = fd_names[fd_arg]
            if walk.named[seq][fd_arg] not in roles:
                if not created:  # (a call that made a socket is listed under it)
                    own = walk.named[seq][fd_arg]
                # a call on another socket that only names an echo socket (a sendmsg passing
                # the connection's fd over a socketpair, a dup2 of another socket over it):
                # the call is the other socket's
                echo = []
        elif created:
            fd = names[created[0]]
        else:
            fd = ",".join(names[i] for i in (echo or touched))
        if fd in released:
            args = {**args, "released": fd}
        step = replace(step, args=args, fd=fd,
                       creates=", ".join(names[i] for i in created) if created else "")
        if not echo:
            step = replace(step, aside=described[own])
        out.append(step)
        # the last reference of another echo socket went with this call (a dup2 over its fd,
        # a close_range): that socket's end, a step of its own
        out += [replace(step, fd=name, creates="", aside=None, args={**args, "released": name})
                for name in released if name != fd]
    return tuple(out)


def _rename_fds(args: dict[str, Any], names: Mapping[int, str],
                table: SyscallTable) -> dict[str, Any]:
    def rename(v: Any) -> Any:
        if isinstance(v, int) and not isinstance(v, bool):
            return names.get(v, v)
        if isinstance(v, list):
            return [rename(x) for x in v]
        if isinstance(v, dict) and "fd" in v:
            return {**v, "fd": rename(v["fd"])}
        return v

    keys = [k for k in table.fd_args if k in args]
    return {**args, **{k: rename(args[k]) for k in keys}} if keys else args


def _mask_port(addr: dict[str, Any], port: int, run_port: str,
               other_ports: str | None) -> dict[str, Any]:
    p = addr.get("port")
    if port and p == port:
        return {**addr, "port": run_port}
    if other_ports is not None and isinstance(p, int) and p != 0:
        return {**addr, "port": other_ports}
    return addr


def mask_ports(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Show the run's port as PORT (and other non-zero ports, the ephemeral ones, as *):
    ports change from run to run."""
    run_port, other = rule.params["run_port"], rule.params["other_ports"]
    fn = lambda a: _mask_port(a, ctx.run.port, run_port, other)  # noqa: E731
    out = []
    for s in steps:
        args = _map_addresses(s.args, fn)
        out.append(s if args is s.args else replace(s, args=args))
    return tuple(out)


def _mask_path(addr: dict[str, Any], path: str | None, run_path: str,
               run_dir: str) -> dict[str, Any]:
    p = addr.get("path")
    if not path or not isinstance(p, str):
        return addr
    if p == path:
        return {**addr, "path": run_path}
    folder = os.path.dirname(path)
    if folder and p.startswith(folder + "/"):
        return {**addr, "path": run_dir + p[len(folder):]}
    return addr


def mask_paths(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Show the run's socket path as PATH, and other paths in the run's temporary folder as
    RUNDIR/...: the folder is new for every run."""
    path = ctx.run.path
    if not path:
        return steps
    run_path, run_dir = rule.params["run_path"], rule.params["run_dir"]
    fn = lambda a: _mask_path(a, path, run_path, run_dir)  # noqa: E731
    out = []
    for s in steps:
        args = _map_addresses(s.args, fn)
        out.append(s if args is s.args else replace(s, args=args))
    return tuple(out)


def mark_eof(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A receive that returns 0 is the peer's end of file: outcome EOF, which is compared
    (bytes counts are not). A call whose result counts messages (recvmmsg) is left to
    split_messages, which reads each message's bytes."""
    when = _when(rule, ctx)
    return tuple(replace(s, outcome="EOF") if when(s) and s.result == 0 and not s.errno
                 and not ctx.syscalls.counts_messages(s.syscall) else s for s in steps)


def mark_unfinished(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A call still blocked when its process died (result null: killed by the harness on a
    timeout, or by a signal) never returned: outcome UNFINISHED, which is compared, so that
    it is never lined up with a call that completed."""
    when = _when(rule, ctx)
    return tuple(replace(s, outcome=UNFINISHED) if s.result is None and when(s) else s
                 for s in steps)
