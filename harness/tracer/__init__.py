"""The ptrace tracer: `trace_command` for one command, `Tracer` for several at once.

Nothing is imported from python-ptrace until a trace starts.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from harness.formats.model import Trace


def trace_command(argv: list[str], *, seccomp: bool = True, data_bytes: int = 64,
                  timeout: float | None = None, **spawn: Any) -> Trace:
    """Run argv under the tracer until it and everything it started are gone."""
    from harness.tracer.core import Tracer

    tracer = Tracer(seccomp=seccomp, data_bytes=data_bytes)
    root = tracer.spawn(argv, timeout=timeout, **spawn)
    try:
        tracer.run()
    finally:
        tracer.kill_all()
    return root.trace(data_bytes)
