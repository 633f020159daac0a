"""The ptrace tracer: `trace_command` for one command, `Tracer` for several at once.

Nothing is imported from python-ptrace until a trace starts.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.formats.model import Trace


def trace_command(argv: list[str], *, seccomp: bool = True, data_bytes: int = 64,
                  timeout: float | None = None, cwd: str | None = None,
                  env: dict[str, str] | None = None, stdin: int | None = None,
                  stdout: int | None = None, stderr: int | None = None) -> Trace:
    """Run argv under the tracer until it and everything it started are gone (cwd, env and
    the standard fds as Tracer.spawn takes them)."""
    from harness.tracer.core import Tracer

    tracer = Tracer(seccomp=seccomp, data_bytes=data_bytes)
    root = tracer.spawn(argv, timeout=timeout, cwd=cwd, env=env, stdin=stdin, stdout=stdout,
                        stderr=stderr)
    try:
        tracer.run()
    finally:
        tracer.kill_all()
    return root.trace(data_bytes)
