"""Rule kinds: each one function `(steps, rule, ctx) -> steps`, with its parameters declared.

The rules file (rules.yaml) names a kind per rule and gives its parameters; `KINDS` maps each
kind name to its function and parameter table, which the loader uses to check the file.
A kind never changes its input: it returns new steps (dataclasses.replace).
"""

from __future__ import annotations

import errno as errno_module
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from harness.normalize.steps import UNFINISHED, Step, format_addr, format_value
from harness.normalize.syscalls import SyscallTable

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule

Steps = tuple[Step, ...]
KindFunction = Callable[[Steps, "Rule", "Context"], Steps]


class ParamError(ValueError):
    """A parameter value that does not fit its kind (the loader adds file and rule)."""


# -- matching steps --------------------------------------------------------------------------

MATCH_KEYS = ("syscall", "name", "class", "does", "errno", "outcome", "args")


@dataclass(frozen=True, slots=True)
class Match:
    """A condition on a step: every given key must hold (AND). A list of conditions in the
    rules file means any of them (OR)."""

    syscalls: frozenset[str] | None = None  # recorded syscall name (or the call an io_uring
    # operation is like) in this set
    names: frozenset[str] | None = None  # current (canonical) name in this set
    classes: tuple[str, ...] | None = None  # recorded syscall in one of these classes
    # has one of these effects (syscalls.yaml `does`); send and receive at a socket's end
    effects: tuple[str, ...] | None = None
    errnos: frozenset[str] | None = None  # failed with one of these errno names
    outcomes: frozenset[str] | None = None  # outcome in this set ("" for success, EOF, ...)
    args: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # arg equals (or contains) one value
    alternatives: tuple[Match, ...] = ()  # when set, any of these (this one's fields unused)

    def __call__(self, step: Step, table: SyscallTable) -> bool:
        if self.alternatives:
            return any(alt(step, table) for alt in self.alternatives)
        if self.syscalls is not None and step.syscall not in self.syscalls \
                and table.base(step.syscall) not in self.syscalls:
            return False
        if self.names is not None and step.name not in self.names:
            return False
        if self.classes is not None and not any(table.in_class(step.syscall, c)
                                                for c in self.classes):
            return False
        if self.effects is not None and not any(has_effect(step, e, table)
                                                for e in self.effects):
            return False
        if self.errnos is not None and step.errno not in self.errnos:
            return False
        if self.outcomes is not None and step.outcome not in self.outcomes:
            return False
        for key, wanted in self.args:
            value = step.args.get(key)
            if isinstance(value, list):
                if not any(v in wanted for v in value):
                    return False
            elif value not in wanted:
                return False
        return True


def transfer_direction(step: Step, table: SyscallTable) -> str | None:
    """recv or send: what a step is at its socket's end, by the table's effects. Once the
    socket rules ran, an fd argument that names a socket holds its name (conn), any other fd
    its number: sendfile(out_fd=conn, in_fd=5) is a send."""
    return table.direction(step.syscall, step.args, lambda v: isinstance(v, str))


def has_effect(step: Step, effect: str, table: SyscallTable) -> bool:
    """Whether the step's call has the effect; send and receive only at a socket's end."""
    if effect == "send" or effect == "receive":
        return transfer_direction(step, table) == {"send": "send", "receive": "recv"}[effect]
    return table.does(step.syscall, effect)


def _as_tuple(value: Any, what: str) -> tuple[Any, ...]:
    if isinstance(value, list):
        if not value:
            raise ParamError(f"{what}: empty list")
        return tuple(value)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return (value,)
    raise ParamError(f"{what}: expected a name or a list of names, got {value!r}")


def _str_set(value: Any, what: str) -> frozenset[str]:
    items = _as_tuple(value, what)
    if not all(isinstance(v, str) for v in items):
        raise ParamError(f"{what}: expected names, got {value!r}")
    return frozenset(items)


def parse_match(value: Any, table: SyscallTable) -> Match:
    if isinstance(value, list):
        if not value:
            raise ParamError("an empty list of conditions")
        return Match(alternatives=tuple(parse_match(v, table) for v in value))
    if not isinstance(value, dict) or not value:
        raise ParamError(f"expected a condition mapping with some of {', '.join(MATCH_KEYS)}")
    unknown = sorted(set(value) - set(MATCH_KEYS))
    if unknown:
        raise ParamError(f"unknown condition '{unknown[0]}' (known: {', '.join(MATCH_KEYS)})")
    classes = None
    if "class" in value:
        classes = tuple(sorted(_str_set(value["class"], "class")))
        missing = [c for c in classes if c not in table.classes]
        if missing:
            raise ParamError(f"unknown syscall class '{missing[0]}' (classes in "
                             f"{table.source}: {', '.join(sorted(table.classes))})")
    effects = None
    if "does" in value:
        effects = tuple(sorted(_str_set(value["does"], "does")))
        from harness.normalize.syscalls import EFFECTS

        unknown_effects = [e for e in effects if e not in EFFECTS]
        if unknown_effects:
            raise ParamError(f"unknown effect '{unknown_effects[0]}' (effects in "
                             f"{table.source}: {', '.join(EFFECTS)})")
    args: list[tuple[str, tuple[Any, ...]]] = []
    if "args" in value:
        if not isinstance(value["args"], dict) or not value["args"]:
            raise ParamError("args: expected a mapping of argument name -> value(s)")
        args = [(str(k), _as_tuple(v, f"args.{k}")) for k, v in value["args"].items()]
    outcomes = None
    if "outcome" in value:
        raw = value["outcome"]
        outcomes = frozenset("" if v is None else str(v)
                             for v in (raw if isinstance(raw, list) else [raw]))
    return Match(
        syscalls=_str_set(value["syscall"], "syscall") if "syscall" in value else None,
        names=_str_set(value["name"], "name") if "name" in value else None,
        classes=classes, effects=effects,
        errnos=(table.errnos(tuple(_str_set(value["errno"], "errno")))
                if "errno" in value else None),
        outcomes=outcomes, args=tuple(args))


# -- parameter tables ------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a rule kind."""

    parse: Callable[[Any, SyscallTable], Any]  # checks and converts the value from the file
    required: bool = False  # the rule must give it
    default: Any = None  # used when the rule leaves it out


def p_str(value: Any, table: SyscallTable) -> str:
    if not isinstance(value, str):
        raise ParamError(f"expected a string, got {value!r}")
    return value


def p_bool(value: Any, table: SyscallTable) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"expected true or false, got {value!r}")
    return value


def p_names(value: Any, table: SyscallTable) -> tuple[str, ...]:
    return tuple(sorted(_str_set(value, "names")))


def p_values(value: Any, table: SyscallTable) -> tuple[Any, ...]:
    return _as_tuple(value, "values")


def p_name_map(value: Any, table: SyscallTable) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise ParamError(f"expected a mapping of role -> name, got {value!r}")
    unknown = sorted(set(value) - {"listener", "conn", "sock"})
    if unknown:
        raise ParamError(f"unknown socket role '{unknown[0]}' (roles: listener, conn, sock)")
    return {"listener": "listener", "conn": "conn", "sock": "sock", **value}


def p_arg_names(value: Any, table: SyscallTable) -> Mapping[str, str]:
    if not isinstance(value, dict) or not value or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ParamError(f"expected a mapping of argument -> name, got {value!r}")
    return dict(value)


@dataclass(frozen=True, slots=True)
class Kind:
    """A rule kind: its function and the parameters a rule of this kind may give."""

    function: KindFunction
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""


# -- helpers ---------------------------------------------------------------------------------

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


def _when(rule: Rule, ctx: Context) -> Callable[[Step], bool]:
    match: Match | None = rule.params.get("when")
    if match is None:
        return lambda step: True
    return lambda step: match(step, ctx.syscalls)


# -- socket level ----------------------------------------------------------------------------

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


# -- canonical level -------------------------------------------------------------------------

def drop(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Leave out the steps that match (what they said stays in the sample's attributes)."""
    when = _when(rule, ctx)
    return tuple(s for s in steps if not when(s))


def alias(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Give each dialect its canonical name from the alias groups (accept4 -> accept,
    recvfrom -> recv, IORING_OP_RECV -> recv); the dialect keeps the recorded name. A step an
    earlier rule named already (an exit that closed a socket) keeps its name."""
    only: tuple[str, ...] | None = rule.params["only"]
    when = _when(rule, ctx)
    out = []
    for s in steps:
        name = ctx.syscalls.canonical(s.syscall)
        if name != s.name and s.name == s.syscall and (only is None or name in only) \
                and when(s):
            s = replace(s, name=name)
        out.append(s)
    return tuple(out)


def alias_by_end(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Name a call between a socket and a pipe or a file by the end the socket is at, as the
    syscall table's effects say: splice or sendfile out of a socket is a receive, into one a
    send (`ends: {fd_in: recv, fd_out: send}` names the ends instead); the dialect keeps the
    recorded name."""
    ends: Mapping[str, str] | None = rule.params["ends"]
    when = _when(rule, ctx)
    out = []
    for s in steps:
        if when(s):
            if ends is not None:
                name = next((n for arg, n in ends.items()
                             if s.fd and s.args.get(arg) == s.fd), None)
            else:
                name = transfer_direction(s, ctx.syscalls)
            if name is not None and name != s.name:
                s = replace(s, name=name)
        out.append(s)
    return tuple(out)


def strip_flags(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Remove the named flags from flag-list arguments; they show in the dialect instead."""
    keys, flags = rule.params["args"], set(rule.params["flags"])
    when = _when(rule, ctx)
    out = []
    for s in steps:
        if when(s):
            args, stripped = dict(s.args), []
            for key in keys:
                value = args.get(key)
                if isinstance(value, list):
                    stripped += [f for f in value if f in flags]
                    args[key] = [f for f in value if f not in flags]
            if stripped:
                s = replace(s, args=args, marks=s.marks + ("|".join(stripped),))
        out.append(s)
    return tuple(out)


def _arg_text(value: Any) -> str:
    if isinstance(value, dict) and "family" in value:
        return format_addr(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "|".join(value)
    if isinstance(value, str):
        return value
    return format_value(value)


def show_arg(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Show one argument in the dialect, not compared (listen's backlog: listen(128)); an
    argument that is absent, null or an empty list shows nothing."""
    key, hide = rule.params["arg"], tuple(rule.params["hide"] or ())
    when = _when(rule, ctx)
    out = []
    for s in steps:
        value = s.args.get(key)
        if when(s) and value is not None and value != [] and value not in hide:
            s = replace(s, marks=s.marks + (_arg_text(s.args[key]),))
        out.append(s)
    return tuple(out)


def qualify(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Make one argument part of what is compared (shutdown's how, the bound address, flags
    left after stripping, a socket's type): it shows in the row label, and with `show` in the
    dialect too. A value in `hide` (the usual one: SOCK_STREAM) is neither compared nor
    shown, so that only the unusual value reads as a difference."""
    key, hide, show = rule.params["arg"], tuple(rule.params["hide"] or ()), rule.params["show"]
    when = _when(rule, ctx)
    out = []
    for s in steps:
        value = s.args.get(key)
        if when(s) and value not in (None, []) and value not in hide:
            text = _arg_text(value)
            s = replace(s, qualifiers=s.qualifiers + (text,),
                        marks=s.marks + (text,) if show else s.marks)
        out.append(s)
    return tuple(out)


def fold_v4mapped(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """An IPv6 address that maps an IPv4 one (::ffff:127.0.0.1) becomes that IPv4 address;
    the step's dialect says it was mapped."""
    mark = rule.params["mark"]
    out = []
    for s in steps:
        mapped: list[bool] = []

        def fold(addr: dict[str, Any]) -> dict[str, Any]:
            if addr.get("v4mapped"):
                mapped.append(True)
                return {"family": "AF_INET", "address": addr["v4mapped"], "port": addr.get("port")}
            return addr

        args = _map_addresses(s.args, fold)
        if mapped:
            s = replace(s, args=args, marks=s.marks + (mark,))
        out.append(s)
    return tuple(out)


def fold_local_address(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A bind or a connect on the run's port that names another address of this machine than
    the run's host is the run's address's step: a bind of every interface (0.0.0.0, [::]),
    of the host name's address (127.0.1.1 on Debian) or of another loopback address, and a
    connect to a loopback address or the host name's. Its address becomes the run's, and
    its dialect shows the address it named (bind(0.0.0.0:PORT)); the "address" attribute
    says what that address is."""
    from harness.normalize import sockets as sk

    host, run_port = ctx.run.host, rule.params["run_port"]
    when = _when(rule, ctx)
    if ctx.run.path or not host or not sk._is_ip(host):
        return steps
    # a server that chose its own port (`port: own`) may bind port 0: the kernel's choice
    # is the run's port
    ports = (run_port, 0) if ctx.run.port_from == "learned" else (run_port,)
    out = []
    for s in steps:
        addr = s.args.get("addr")
        bind = ctx.syscalls.does(s.syscall, "bind")
        if when(s) and isinstance(addr, dict) and "address" in addr \
                and (addr.get("port") == run_port or bind and addr.get("port") in ports) \
                and (not sk._same_ip(addr["address"], host) or addr.get("port") != run_port) \
                and (bind or sk.this_machine(addr["address"], ctx.run.host_addresses)):
            run_addr = {"family": "AF_INET6" if ":" in host else "AF_INET", "address": host,
                        "port": run_port}
            s = replace(s, args={**s.args, "addr": run_addr},
                        marks=s.marks + (format_addr(addr),))
        out.append(s)
    return tuple(out)


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


def _mergeable(a: Step, b: Step) -> bool:
    return (a.name, a.fd, a.qualifiers, a.outcome, a.errno, a.aside) == \
        (b.name, b.fd, b.qualifiers, b.outcome, b.errno, b.aside) and not a.errno


def _merge(a: Step, b: Step) -> Step:
    same = (a.syscall, a.marks, a.extras) == (b.syscall, b.marks, b.extras)
    total = (a.result or 0) + (b.result or 0)
    if same:
        return replace(a, seqs=a.seqs + b.seqs, result=total, count=a.count + b.count)
    return replace(a, seqs=a.seqs + b.seqs, result=total, syscall=f"{a.dialect}+{b.dialect}",
                   marks=(), extras=(), count=1)


class Messages:
    """Where the run's messages begin and end in each byte stream of a socket (its sends,
    its receives). Message sizes are the run's (RunRecord.sizes for tcp-session, else the one
    message); past the last message, further messages of the last size are assumed (a
    second echo of the whole message is a second message)."""

    def __init__(self, sizes: Sequence[int]):
        self.sizes = [n for n in sizes if n > 0]
        self.ends: list[int] = []
        total = 0
        for n in self.sizes:
            total += n
            self.ends.append(total)

    def end(self, offset: int) -> int | None:
        """The stream offset where the message holding byte `offset` ends (None: no limit)."""
        if not self.sizes:
            return None
        for end in self.ends:
            if offset < end:
                return end
        last, total = self.sizes[-1], self.ends[-1]
        return total + ((offset - total) // last + 1) * last

    def index(self, offset: int) -> int | None:
        """1-based number of the message holding byte `offset`; None past the last one."""
        return next((k for k, end in enumerate(self.ends, 1) if offset < end), None)

    def fits(self, start: int, moved: int, more: int) -> bool:
        """Whether `more` bytes after `moved` bytes from `start` stay in the message that
        began the step, and that message was not complete yet."""
        end = self.end(start)
        return end is None or (start + moved < end and start + moved + more <= end)


def _stream_starts(steps: Steps, when: Callable[[Step], bool],
                   peek: Callable[[Step], bool] = lambda s: False) -> list[int | None]:
    """For each step: the offset of its first byte in its stream (its socket, its direction);
    None for steps that move no data. A peek (recv with MSG_PEEK) reads bytes without taking
    them: the stream does not move on."""
    moved: dict[tuple[str, str], int] = {}
    starts: list[int | None] = []
    for s in steps:
        if not when(s):
            starts.append(None)
            continue
        key = (s.fd, s.name)
        starts.append(moved.get(key, 0))
        if not s.errno and (s.result or 0) > 0 and not peek(s):
            moved[key] = moved.get(key, 0) + (s.result or 0)
    return starts


def _peek(rule: Rule, ctx: Context) -> Callable[[Step], bool]:
    match: Match | None = rule.params.get("peek")
    if match is None:
        return lambda step: False
    return lambda step: match(step, ctx.syscalls)


def _datagram(step: Step, ctx: Context) -> bool:
    event = ctx.events.get(step.seqs[0]) if step.seqs else None
    return event is not None and event.sock is not None and event.sock.type == "SOCK_DGRAM"


def _messages(rule: Rule, ctx: Context) -> Messages:
    return Messages(ctx.messages if rule.params["split_at_message"] else ())


def merge_transfers(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Consecutive transfers of one direction on one socket are one step (`recvfrom x7`)
    while they carry one message: with split_at_message, they merge only while the bytes
    add up to no more than the message the step began in (the run's message sizes: several
    for tcp-session), so a second full echo stays a second send, and a send per message stays
    a step per message. A step that holds bytes of more than one message (TCP is a stream:
    two echoes read at once) says so in its dialect (`recvfrom(messages 1-2)`). Datagrams
    never merge: each call is one datagram."""
    when = _when(rule, ctx)
    messages = _messages(rule, ctx)
    starts = _stream_starts(steps, when, _peek(rule, ctx))
    out: list[Step] = []
    out_starts: list[int | None] = []
    for s, start in zip(steps, starts):
        prev = out[-1] if out else None
        prev_start = out_starts[-1] if out_starts else None
        if (prev is not None and prev_start is not None and start is not None
                and when(prev) and _mergeable(prev, s)
                and (rule.params["merge_datagrams"] or not _datagram(s, ctx))
                and messages.fits(prev_start, prev.result or 0, s.result or 0)):
            out[-1] = _merge(prev, s)
            continue
        out.append(s)
        out_starts.append(start)
    if len(messages.sizes) < 2:
        return tuple(out)
    return tuple(_mark_spanned(s, start, messages) for s, start in zip(out, out_starts))


def _mark_spanned(s: Step, start: int | None, messages: Messages) -> Step:
    if start is None or s.errno or (s.result or 0) <= 0:
        return s
    first, last = messages.index(start), messages.index(start + (s.result or 0) - 1)
    if first is None or first == last:
        return s
    span = f"messages {first}-{last if last is not None else f'{len(messages.sizes)}+'}"
    return replace(s, marks=s.marks + (span,))


def fold_interleaved(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A message received in pieces and echoed piece by piece (recv, send, recv, send on one
    socket, every piece within the same message of its stream) is one recv and one send step,
    marked in the dialect: `recvfrom(interleaved) x2`, `sendto(interleaved) x2`. How many
    pieces TCP delivers changes from run to run; what is echoed, message by message, does
    not. The same for a client that sends a message in pieces and reads each piece's echo."""
    when = _when(rule, ctx)
    messages = _messages(rule, ctx)
    mark = rule.params["mark"]
    starts = _stream_starts(steps, when, _peek(rule, ctx))
    out: list[Step] = []
    i = 0

    def pair(a: Step, b: Step) -> bool:
        return (when(a) and when(b) and a.fd == b.fd and a.name != b.name
                and not a.errno and not b.errno and not a.outcome and not b.outcome
                and not _datagram(a, ctx))

    while i < len(steps):
        a = steps[i]
        b = steps[i + 1] if i + 1 < len(steps) else None
        if b is None or not pair(a, b):
            out.append(a)
            i += 1
            continue
        x, y = a, b
        x_start, y_start = starts[i], starts[i + 1]
        j = i + 2
        while j + 1 < len(steps):
            nx, ny = steps[j], steps[j + 1]
            if not (_mergeable(x, nx) and _mergeable(y, ny) and when(nx) and when(ny)
                    and x_start is not None and y_start is not None
                    and messages.fits(x_start, x.result or 0, nx.result or 0)
                    and messages.fits(y_start, y.result or 0, ny.result or 0)):
                break
            x, y = _merge(x, nx), _merge(y, ny)
            j += 2
        if j == i + 2:
            out.append(a)
            i += 1
            continue
        out += [x if mark in x.marks else replace(x, marks=x.marks + (mark,)),
                y if mark in y.marks else replace(y, marks=y.marks + (mark,))]
        i = j
    return tuple(out)


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


# -- the table the loader checks rules against -----------------------------------------------

_WHEN = Param(parse_match)
_WHEN_REQUIRED = Param(parse_match, required=True)

KINDS: dict[str, Kind] = {
    "echo_sockets": Kind(echo_sockets, {
        "names": Param(p_name_map, default={"listener": "listener", "conn": "conn",
                                            "sock": "sock"}),
        "other": Param(p_str, default="other")}),
    "mask_ports": Kind(mask_ports, {"run_port": Param(p_str, default="PORT"),
                                    "other_ports": Param(p_str, default="*")}),
    "mask_paths": Kind(mask_paths, {"run_path": Param(p_str, default="PATH"),
                                    "run_dir": Param(p_str, default="RUNDIR")}),
    "mark_eof": Kind(mark_eof, {"when": _WHEN_REQUIRED}),
    "mark_unfinished": Kind(mark_unfinished, {"when": _WHEN}),
    "drop": Kind(drop, {"when": _WHEN_REQUIRED, "tally": Param(p_str),
                        "tally_detail": Param(p_names, default=())}),
    "alias": Kind(alias, {"only": Param(p_names), "when": _WHEN}),
    "alias_by_end": Kind(alias_by_end, {"ends": Param(p_arg_names), "when": _WHEN}),
    "drop_retried": Kind(drop_retried, {"when": _WHEN_REQUIRED}),
    "fold_references": Kind(fold_references, {"name": Param(p_str, default="close")}),
    "split_messages": Kind(split_messages, {}),
    "fold_into_creator": Kind(fold_into_creator, {
        "when": _WHEN_REQUIRED, "mark": Param(p_str, required=True),
        "extra_arg": Param(p_names, default=("cmd", "request"))}),
    "strip_flags": Kind(strip_flags, {"args": Param(p_names, required=True),
                                      "flags": Param(p_names, required=True), "when": _WHEN}),
    "show_arg": Kind(show_arg, {"arg": Param(p_str, required=True),
                                "hide": Param(p_values), "when": _WHEN}),
    "qualify": Kind(qualify, {"arg": Param(p_str, required=True), "hide": Param(p_values),
                              "show": Param(p_bool, default=False), "when": _WHEN}),
    "fold_v4mapped": Kind(fold_v4mapped, {"mark": Param(p_str, default="v4-mapped")}),
    "fold_local_address": Kind(fold_local_address, {"run_port": Param(p_str, default="PORT"),
                                                    "when": _WHEN}),
    "fold_pending_connect": Kind(fold_pending_connect, {
        "pending": Param(p_names, default=("EINPROGRESS",)),
        "check": _WHEN_REQUIRED, "until": _WHEN, "extra": Param(p_str, default="SO_ERROR")}),
    "merge_transfers": Kind(merge_transfers, {
        "when": _WHEN_REQUIRED, "split_at_message": Param(p_bool, default=True),
        "merge_datagrams": Param(p_bool, default=False), "peek": _WHEN}),
    "fold_interleaved": Kind(fold_interleaved, {
        "when": _WHEN_REQUIRED, "split_at_message": Param(p_bool, default=True),
        "mark": Param(p_str, default="interleaved"), "peek": _WHEN}),
}
