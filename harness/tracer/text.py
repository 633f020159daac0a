"""One readable, strace-like line per event."""

from __future__ import annotations

from typing import Any

from harness.model import SyscallEvent


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
    if "port" in a:
        host = a["address"]
        return f"[{host}]:{a['port']}" if ":" in host else f"{host}:{a['port']}"
    if "path" in a:
        return f"{fam}:{a['path']}"
    if "abstract" in a:
        return f"{fam}:@{a['abstract']}"
    return str(fam)


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
    if ev.sock is not None and ev.sock.family != "unknown":
        ends = [format_address(x) for x in (ev.sock.local, ev.sock.peer) if x]
        line += f"  <{ev.sock.family} {ev.sock.type}" + (" " + "->".join(ends) if ends else "") + ">"
    return line
