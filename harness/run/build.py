"""Building a sample: its manifest's `build` commands run once per hash of its files, into a
build folder of the cache (one harness at a time, behind a lock); a build that fails, times
out or is interrupted leaves no folder and no process, and what it printed last is kept for
the report (BuildError)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.run.argv import base_values, expand
from harness.run.manifest import ManifestError, Sample

BUILD_OUTPUT_LINES = 20  # lines of a failed build's output kept


class BuildError(HarnessError):
    """A sample's build could not run (`missing`: its command is not on PATH, a toolchain
    the manifest did not list) or failed (`output`: the last lines it printed)."""

    def __init__(self, message: str, output: str = "", missing: str | None = None):
        super().__init__(message)
        self.output = output
        self.missing = missing


def source_hash(sample: Sample) -> str:
    """A hash of the sample's files, each read a piece at a time; a link counts as its text
    and, when it leads to a regular file, that file's bytes. Anything else (a FIFO, a
    device, a socket) is never opened: it would block, or never end."""
    import stat

    h = hashlib.sha256()
    for path in sorted(sample.folder.rglob("*")):
        try:
            st = os.lstat(path)
        except OSError:
            continue
        name = str(path.relative_to(sample.folder)).encode()
        if stat.S_ISLNK(st.st_mode):
            h.update(name + b"\0->" + os.fsencode(os.readlink(path)) + b"\0")
        elif stat.S_ISREG(st.st_mode):
            h.update(name + b"\0")
        else:
            continue
        try:  # (O_NONBLOCK: a link to a FIFO does not block the open; it is no regular file)
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue  # a dangling link
        with os.fdopen(fd, "rb") as f:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
    h.update(repr(sample.build).encode())
    return h.hexdigest()[:16]


def _tail_lines(text: str, n: int = BUILD_OUTPUT_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


BUILD_TIMEOUT = 300.0  # seconds one build command may take


def build(sample: Sample, cache: Path,
          log: Callable[[str], None] | None = None) -> Path | None:
    """Run the sample's build once per content hash; returns its build folder. One harness
    builds a sample at a time (a lock beside the folder; another waits, then finds it
    built). A build that fails, times out or is interrupted leaves no folder and no process:
    each command runs in a process group of its own, killed whole when it must stop. Files a
    build writes beside the sources are moved into the build folder (and said so): left
    there, they would change the sources' hash, so the next run would build again, and
    show as untracked files."""
    if not sample.build:
        return None
    import fcntl
    import time

    say = log or (lambda line: None)
    who = f"{sample.role} {sample.name}"
    cache = cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{sample.role}-{sample.name}-{source_hash(sample)}"
    lock_path = cache / f".{sample.role}-{sample.name}.lock"
    try:  # (never through a link planted there: the harness often runs as root)
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                          0o666)
    except OSError as e:
        raise ManifestError(f"{lock_path}: cannot open the build's lock: {e.strerror}") \
            from None
    with os.fdopen(lock_fd, "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when the process ends
        if not out.is_symlink() and (out / ".built").exists():
            say(f"build {who}: up to date ({out.name})")
            return out
        if out.is_symlink():  # a link planted as the build folder: removed, never followed
            out.unlink()
        elif out.exists():
            shutil.rmtree(out)
        out.mkdir()
        start = time.monotonic()
        before = _files(sample.folder)
        strays: list[str] = []
        try:
            for i, step in enumerate(sample.build, 1):
                argv = expand(step, base_values(sample, out))
                say(f"build {who} [{i}/{len(sample.build)}]: {' '.join(argv)}")
                _build_step(sample, argv)
                strays += _move_strays(sample.folder, before, out)
        except BaseException:  # a failure, a timeout, Ctrl-C, SIGTERM: no half-built folder
            _move_strays(sample.folder, before, out)
            shutil.rmtree(out, ignore_errors=True)
            raise
        (out / ".built").touch()
        say(f"build {who}: done in {time.monotonic() - start:.1f} s")
        if strays:
            say(f"build {who}: the build wrote {', '.join(strays)} beside the sources; moved "
                f"into the build folder (write build outputs to {{build}})")
    return out


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def _move_strays(folder: Path, before: set[Path], out: Path) -> list[str]:
    """Move the files that appeared in folder into out, at the same relative paths (so that a
    run naming {build}/NAME finds them); their names."""
    moved = []
    for path in sorted(_files(folder) - before):
        rel = path.relative_to(folder)
        target = out / rel
        if target.exists():  # the build wrote it where it belongs too
            path.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        moved.append(str(rel))
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        try:
            if not any(d.iterdir()) and not any(b.is_relative_to(d) for b in before):
                d.rmdir()  # a folder the build made, empty now
        except OSError:
            pass
    return moved


def _build_step(sample: Sample, argv: list[str]) -> None:
    import signal
    import tempfile

    from harness.tracer import kernel_proc

    harness = os.getpid()
    with tempfile.TemporaryFile() as output:
        try:
            # SIGKILL to the build command when the harness ends (its own children go with
            # their process group)
            proc = subprocess.Popen(argv, cwd=sample.folder, stdin=subprocess.DEVNULL,
                                    stdout=output, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    preexec_fn=lambda: kernel_proc.parent_death_signal(
                                        signal.SIGKILL, harness))
        except FileNotFoundError:
            raise BuildError(f"{argv[0]} not found on PATH (a build command of "
                             f"{sample.manifest})", missing=argv[0]) from None
        except PermissionError:
            raise BuildError(f"{argv[0]}: permission denied (a build command of "
                             f"{sample.manifest})") from None
        try:
            status = proc.wait(timeout=BUILD_TIMEOUT)
        except BaseException as e:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the compiler and everything it started
            except ProcessLookupError:
                pass
            proc.wait()
            if isinstance(e, subprocess.TimeoutExpired):
                raise BuildError(f"build timed out after {BUILD_TIMEOUT:g} s "
                                 f"({' '.join(argv)})", output=_read_tail(output)) from None
            raise
        if status != 0:
            raise BuildError(f"build failed with exit status {status} ({' '.join(argv)})",
                             output=_read_tail(output))


def _read_tail(output: Any) -> str:
    output.seek(0)
    return _tail_lines(output.read()[-(1 << 16):].decode("utf-8", errors="replace"))


