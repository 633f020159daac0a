"""The rule kinds of the canonical level that name a step and say what it shows: the canonical
name of each dialect, the flags and arguments shown in the dialect or compared, and the
addresses folded to the run's.

`alias` and `alias_by_end` give a step its canonical name (accept4 -> accept, splice out of a
socket -> recv); `strip_flags`, `show_arg` and `qualify` move arguments into the dialect (not
compared) or the row label (compared); `fold_v4mapped` and `fold_local_address` fold an
address that names the run's in another way (::ffff:127.0.0.1, 0.0.0.0) into the run's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from harness.normalize.kinds.match import _when, transfer_direction
from harness.normalize.kinds.params import Steps
from harness.normalize.kinds.socket_level import _map_addresses
from harness.normalize.steps import format_addr, format_value

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule


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
        # a call that failed reached nothing there: it keeps the address it named (a
        # connect to [::1] refused, before one to the run's 127.0.0.1, is not the run's)
        if when(s) and not s.errno and isinstance(addr, dict) and "address" in addr \
                and (addr.get("port") == run_port or bind and addr.get("port") in ports) \
                and (not sk._same_ip(addr["address"], host) or addr.get("port") != run_port) \
                and (bind or sk.this_machine(addr["address"], ctx.run.host_addresses)):
            run_addr = {"family": "AF_INET6" if ":" in host else "AF_INET", "address": host,
                        "port": run_port}
            s = replace(s, args={**s.args, "addr": run_addr},
                        marks=s.marks + (format_addr(addr),))
        out.append(s)
    return tuple(out)
