"""One readable, strace-like line per event."""

from __future__ import annotations

from typing import Any

from harness.formats.model import SyscallEvent


def _value(v: Any) -> str:
    if isinstance(v, list):
        return "|".join(map(str, v)) if v and all(isinstance(x, str) for x in v) else \
            "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        if "family" in v:
            return format_address(v)
        return "{" + ", ".join(f"{k}={_value(x)}" for k, x in v.items()) + "}"
    if v is None:
        return "NULL"
    return str(v)


def format_address(a: dict[str, Any]) -> str:
    fam = a.get("family")
    cut = " (truncated)" if a.get("truncated") else ""
    if "address" in a and "port" in a:
        host = a["address"]
        return (f"[{host}]:{a['port']}" if ":" in host else f"{host}:{a['port']}") + cut
    if "port" in a:  # cut short by the caller's buffer: the port, no address
        return f"{fam}:?:{a['port']}{cut}"
    if "path" in a:
        return f"{fam}:{a['path']}{cut}"
    if "abstract" in a:
        return f"{fam}:@{a['abstract']}{cut}"
    return f"{fam}{cut}"


# unix sockets of the C library's name service cache: a program's name lookups, not its own
# conversation (a report lists them as unrelated sockets)
NAME_SERVICE = frozenset({"/var/run/nscd/socket", "/run/nscd/socket"})


def format_event(ev: SyscallEvent) -> str:
    head = f"[{ev.pid}" + (f"/{ev.tid}" if ev.tid != ev.pid else "") + "]"
    args = ", ".join(f"{k}={_value(v)}" if k != "data" else f'data="{v}"'
                     for k, v in ev.args.items() if k not in ("data_truncated",))
    if ev.kind == "process":
        return f"{head} +++ {ev.syscall}({args}) +++"
    if ev.result is None:
        result = "?"
    elif ev.errno:
        result = f"-1 {ev.errno}"
    else:
        result = str(ev.result)
    line = f"{head} {ev.syscall}({args}) = {result}"
    addr = ev.args.get("addr")
    if isinstance(addr, dict) and addr.get("path") in NAME_SERVICE:
        line += "  (a name lookup: nscd, unrelated)"
    if ev.sock is not None and ev.sock.family != "unknown":
        ends = [format_address(x) for x in (ev.sock.local, ev.sock.peer) if x]
        line += f"  <{ev.sock.family} {ev.sock.type}" + (" " + "->".join(ends) if ends else "") + ">"
    return line
