"""SIGTERM and SIGHUP stop a command the way Ctrl-C does: as an exception the command handles
(it kills what it started, writes what finished, and exits 128 + the signal). And the parent
death signal, which makes the end of a parent (make, stopped by a signal it does not pass on)
stop the harness the same way."""

from __future__ import annotations

import os
import signal


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) reached the harness. A BaseException, as KeyboardInterrupt is: no
    `except Exception` on the way (a rule that fails, a parser) may take it for an error."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stop_signal(e: BaseException) -> int | None:
    """The signal a stop stands for (Ctrl-C: SIGINT), None when e is no stop."""
    if isinstance(e, KeyboardInterrupt):
        return signal.SIGINT
    if isinstance(e, Terminated):
        return e.signum
    return None


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def install_stop_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)


def parent_death_signal(signum: int) -> bool:
    """signum to this process when its parent ends (sent now if it has already ended)."""
    from harness.tracer import kernel_proc

    return kernel_proc.parent_death_signal(signum, os.getppid())
