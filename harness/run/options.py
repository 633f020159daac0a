"""What a run is asked to do: its options (timeout, message, tracing mode, how many data
bytes a trace keeps, whether packets are captured), the default message, and why a message
cannot be a run's (checked before anything runs: every program is given it as one argv
item)."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MESSAGE = "hello, sockets"
# the longest message: one argv item of a program (the kernel's MAX_ARG_STRLEN, less its NUL)
MAX_MESSAGE_BYTES = 32 * 4096 - 1


@dataclass(frozen=True)
class RunOptions:
    timeout: float = 10.0  # seconds each of server and client may run
    message: str = DEFAULT_MESSAGE
    seccomp: bool = True
    data_bytes: int = 64
    capture: bool = True  # capture the run's packets (the wire view) where allowed


def message_problem(message: str) -> str | None:
    """Why message cannot be a run's message (None when it can)."""
    try:
        n = len(message.encode("utf-8"))
    except UnicodeEncodeError:
        return "--message: not UTF-8 text (the echo is checked as UTF-8)"
    if n > MAX_MESSAGE_BYTES:
        return (f"--message: {n:,} bytes, more than the {MAX_MESSAGE_BYTES:,} one argument "
                f"of a program may be")
    if "\0" in message:
        return "--message: holds a NUL byte, which no argument of a program may"
    return None
