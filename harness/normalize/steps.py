"""Step: one entry of a normalized sequence, and how steps read as text.

A step starts as one recorded event; rules rename it, give its fd a symbolic name, fold
details of the call into its dialect, merge it with neighbours or drop it. What a step is for
the comparison is its `key`; what it looked like in the program is its `dialect`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.formats.model import SyscallEvent
from harness.normalize.sockets import SocketDescription  # (a real import: files decode steps)

# Shown in tables where a sample has no step for a row.
GAP = "—"
# The outcome of a call that was still blocked when its process died (result null): never
# the same step as one that returned.
UNFINISHED = "never returned"


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a sequence at some normalization level."""

    seqs: tuple[int, ...]  # seq of each trace event this step stands for
    pid: int  # process of the (first) event
    tid: int  # thread of the (first) event
    syscall: str  # syscall as recorded (accept4, recvfrom, ...); "a+b" once unlike calls merged
    name: str  # what the step is: the syscall, or its canonical name once aliased (accept, recv)
    args: dict[str, Any]  # decoded arguments; fds symbolic and ports masked after the socket rules
    result: int | None  # raw return value (summed when transfers are merged); None if none
    errno: str | None = None  # errno name when the call failed
    fd: str = ""  # the socket it worked on: listener, conn, sock, ... ("fd 3" before naming)
    creates: str = ""  # the socket(s) it created: conn for an accept, listener for its socket()
    # what of the result is compared: "" (success), "EOF", the errno name, or UNFINISHED
    outcome: str = ""
    marks: tuple[str, ...] = ()  # folded details shown in the dialect (SOCK_CLOEXEC, 128, ...)
    extras: tuple[str, ...] = ()  # calls folded into this one, shown as "+NAME" (SO_ERROR)
    qualifiers: tuple[str, ...] = ()  # canonical arguments that are compared (SHUT_WR, address)
    count: int = 1  # how many calls of the same dialect were merged into this step
    # set by the socket rules: a call on a socket that is not the echo's, listed apart under
    # what that socket is
    aside: SocketDescription | None = None

    @property
    def dialect(self) -> str:
        """How the program said it: accept4(SOCK_CLOEXEC), connect(EINPROGRESS)+SO_ERROR,
        recvfrom x2."""
        text = self.syscall
        if self.marks:
            text += "(" + ", ".join(self.marks) + ")"
        text += "".join(f"+{e}" for e in self.extras)
        if self.count > 1:
            text += f" x{self.count}"
        return text

    @property
    def key(self) -> tuple[Any, ...]:
        """What is compared with the reference: bytes counts and dialects are not."""
        return (self.name, self.fd, self.creates, self.qualifiers, self.outcome)

    @property
    def label(self) -> str:
        """The key as text: `conn = accept(listener)`, `recv(conn) → EOF`,
        `shutdown(conn, SHUT_WR)`."""
        inner = [self.fd] if self.fd and self.fd != self.creates else []
        inner += list(self.qualifiers)
        text = f"{self.name}({', '.join(inner)})"
        if self.creates:
            text = f"{self.creates} = {text}"
        if self.outcome == UNFINISHED:
            text += f" … {UNFINISHED}"
        elif self.outcome:
            text += f" → {self.outcome}"
        return text


def raw_fd_name(fd: Any) -> str:
    return f"fd {fd}" if isinstance(fd, int) else ""


def step_from_event(event: SyscallEvent) -> Step:
    """The raw step of one recorded event: nothing folded, fds as numbers."""
    fd = event.args.get("fd", event.args.get("oldfd", event.args.get("out_fd")))
    return Step(seqs=(event.seq,), pid=event.pid, tid=event.tid, syscall=event.syscall,
                name=event.syscall, args=dict(event.args), result=event.result,
                errno=event.errno, fd=raw_fd_name(fd),
                creates=", ".join(raw_fd_name(f) for f in event.fds),
                outcome=event.errno or "")


# -- text ------------------------------------------------------------------------------------

def format_addr(addr: Any) -> str:
    """127.0.0.1:PORT, [::1]:PORT, unix:/path, unix:@abstract, AF_NETLINK."""
    if not isinstance(addr, dict):
        return repr(addr) if addr is not None else "NULL"
    family = addr.get("family")
    if "address" in addr:
        host = str(addr["address"])
        if ":" in host:
            host = f"[{host}]"
        return f"{host}:{addr.get('port')}"
    if family == "AF_UNIX":
        if "path" in addr:
            return f"unix:{addr['path']}"
        if "abstract" in addr:
            return f"unix:@{addr['abstract']}"
        return "unix:(unnamed)"
    return str(family)


def _is_addr(value: Any) -> bool:
    return isinstance(value, dict) and "family" in value


def format_value(value: Any, limit: int = 24) -> str:
    """An argument value as text: addresses as host:port, flag lists as A|B (0 when empty),
    symbolic names bare."""
    if _is_addr(value):
        return format_addr(value)
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "|".join(value) if value else "0"
        return "[" + ", ".join(format_value(v, limit) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={format_value(v, limit)}" for k, v in value.items()) + "}"
    return str(value)


def format_data(value: str, limit: int = 24) -> str:
    shown = value if len(value) <= limit else value[:limit] + "..."
    return '"' + shown.replace('"', '\\"') + '"'


def format_fds(value: Any) -> str:
    """An fd-valued argument once named: listener, [listener, conn], [conn:EPOLLIN]."""
    if isinstance(value, list):
        items = []
        for v in value:
            if isinstance(v, dict) and "fd" in v:
                ev = v.get("events", v.get("revents"))
                items.append(f"{v['fd']}" + (f":{format_value(ev)}" if ev else ""))
            else:
                items.append(str(v))
        return "[" + ", ".join(items) + "]"
    return str(value)


# Arguments that say nothing useful in a listing (the epoll cookie, lengths of lengths).
_HIDDEN_ARGS = frozenset({"optlen", "data_truncated", "controllen"})
# ... and for a readiness registration (epoll_ctl: the table's `register` effect), its cookie
_HIDDEN_WHEN_REGISTERING = frozenset({"data", "user_data"})
# Written without the key when first: fd=listener reads worse than listener.
_BARE_ARGS = ("fd", "oldfd")


def format_call(step: Step) -> str:
    """One line in the manner of strace: `accept4(listener, addr=127.0.0.1:*, flags=...) = conn`."""
    from harness.normalize.syscalls import default_table

    table = default_table()
    hidden = _HIDDEN_ARGS | (_HIDDEN_WHEN_REGISTERING if table.does(step.syscall, "register")
                             else frozenset())
    fd_args = table.fd_args  # the arguments that hold fds
    parts: list[str] = []
    for k, v in step.args.items():
        if k in hidden or v is None:
            continue
        if k in _BARE_ARGS and not parts:
            parts.append(str(v))
        elif k == "data" and isinstance(v, str):
            parts.append(f"data={format_data(v)}")
        elif k in fd_args:
            parts.append(f"{k}={format_fds(v)}")
        else:
            parts.append(f"{k}={format_value(v)}")
    text = f"{step.syscall}({', '.join(parts)})"
    if step.result is None:
        return text + " = ?"
    if step.errno:
        return text + f" = -1 {step.errno}"
    if step.creates:
        return text + f" = {step.creates}"
    if step.outcome == "EOF":
        return text + " = 0 (EOF)"
    return text + f" = {step.result}"
