"""What a lone trace says of its run, for `harness diff` (harness/diff.py): the role, the
address the echo's sockets use, the scenario and the message's size, read from its calls where
the options do not give them (`infer`; harness/diff.py's docstring says how).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from harness.diff_sides import DiffError
from harness.formats.model import Trace


@dataclass(frozen=True)
class Facts:
    role: str
    host: str
    port: int
    path: str | None
    scenario: str
    sizes: tuple[int, ...]
    message_len: int
    how: str


def _addr_text(addr: dict[str, Any]) -> str:
    from harness.normalize.steps import format_addr

    return format_addr(addr)


def _found(walk: Any) -> tuple[str, dict[str, Any], Any, str] | None:
    """(role, address, socket, how) of the echo's socket, as the calls show it."""
    def usable(a: Any) -> bool:
        return isinstance(a, dict) and (bool(a.get("path")) or bool(a.get("port")))

    for s in walk.sockets:
        if s.listening and usable(s.bound):
            return "server", s.bound, s, f"its listening socket is bound to " \
                f"{_addr_text(s.bound)}"
    for s in walk.sockets:
        if s.datagram and usable(s.bound) and s.transfers:
            return "server", s.bound, s, f"its datagram socket is bound to " \
                f"{_addr_text(s.bound)}"
    for s in walk.sockets:
        if s.transfers and s.connects and usable(s.connects[-1]):
            return "client", s.connects[-1], s, f"it connects to " \
                f"{_addr_text(s.connects[-1])}"
    for s in walk.sockets:
        if s.transfers and s.sent_to and usable(s.sent_to[0]):
            return "client", s.sent_to[0], s, f"it sends to {_addr_text(s.sent_to[0])}"
    return None


def _message_len(trace: Trace, walk: Any, roles: dict[int, str], table: Any) -> int:
    """The bytes of the first transfers one way on the echo's sockets, up to the first the
    other way: the client's message (a server's first receives)."""
    from harness.normalize.sockets import direction

    total, way = 0, None
    for ev in trace.events:
        if ev.kind != "syscall" or ev.failed or not any(i in roles for i in
                                                        walk.touched.get(ev.seq, ())):
            continue
        d = direction(ev, table)
        if d is None:
            continue
        if table.counts_messages(ev.syscall):
            n = sum(m.get("data_len") or 0 for m in ev.args.get("msgs") or ()
                    if isinstance(m, dict))
        else:
            n = ev.result if isinstance(ev.result, int) and ev.result > 0 else 0
        if not n:
            continue
        if way is not None and d != way:
            break
        way = d
        total += n
    return total


def infer(trace: Trace, source: str, args: argparse.Namespace, scenarios: dict[str, Any],
          table: Any) -> Facts:
    """A lone trace's run facts: from the options where given, else from its calls."""
    from harness.normalize import sockets as sk

    walk = sk.walk_sockets(trace, table)
    found = _found(walk)
    hows: list[str] = []
    family = typ = None
    if args.path:
        host, port, path = "", 0, args.path
        hows.append(f"path {args.path} (--path)")
    elif args.port:
        port, path = args.port, None
        host = args.host or (found[1].get("v4mapped") or found[1].get("address")
                             if found and found[1].get("port") == args.port else None) \
            or "127.0.0.1"
        hows.append(f"port {port} (--port)" + (" and host (--host)" if args.host else ""))
    elif found is not None:
        addr = found[1]
        path = addr.get("path") or None
        port = 0 if path else int(addr.get("port") or 0)
        host = "" if path else str(addr.get("v4mapped") or addr.get("address") or "")
        if host in sk.WILDCARDS:
            host = "::1" if host == "::" else "127.0.0.1"
        if args.host and not path:
            host = args.host
        hows.append(found[3])
    else:
        raise DiffError(f"{source}: no socket of it listened, or connected or sent to an "
                        f"address and moved data: give its address (--port PORT [--host "
                        f"HOST], or --path PATH)")
    if found is not None:
        family, typ = found[1].get("family"), found[2].type
        if found[1].get("v4mapped"):
            family = "AF_INET"
    role = args.role or (found[0] if found is not None else "client")
    if args.role:
        hows.insert(0, f"a {role} (--role)")
    else:
        hows.insert(0, f"a {role}")
    if args.scenario:
        scenario = args.scenario
    elif path or family == "AF_UNIX":
        scenario = "unix"
    elif typ == "SOCK_DGRAM":
        scenario = "udp"
    elif family == "AF_INET6" or ":" in host:
        scenario = "tcp6"
    else:
        scenario = "tcp"
    sizes = tuple(scenarios[scenario].sizes) if scenario in scenarios else ()
    roles = sk.echo_roles(walk, host, port, path)
    n = 0 if sizes else _message_len(trace, walk, roles, table)
    hows.append(f"scenario {scenario}" + (" (--scenario)" if args.scenario else ""))
    hows.append(f"messages of {', '.join(map(str, sizes))} bytes" if sizes else
                f"a message of {n} bytes (its first {'receives' if role == 'server' else 'sends'})"
                if n else "no message seen")
    return Facts(role=role, host=host, port=port, path=path, scenario=scenario, sizes=sizes,
                 message_len=n, how="; ".join(hows))

