"""SIGTERM and SIGHUP stop a command the way Ctrl-C does: as an exception the command handles
(it kills what it started, writes what finished, and exits 128 + the signal)."""

from __future__ import annotations

import signal


class Terminated(Exception):
    """SIGTERM (or SIGHUP) reached the harness."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def install_stop_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_terminated)
    signal.signal(signal.SIGHUP, _raise_terminated)
