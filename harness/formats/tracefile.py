"""Trace files: written as a stream while the trace is taken, read back whole.

Format (docs/trace-format.md), schema version 2: JSON Lines. A header line, one line per event
in the order the tracer recorded them, a footer line with the exit status and the process table:

    {"type":"header","schema_version":2,"command":[...],"cwd":...,"started_at":...,"tracer":{...}}
    {"seq":1,"ts_ns":...,"pid":...,"tid":...,"syscall":"socket","args":{...},"result":3,...}
    ...
    {"type":"footer","exit_status":0,"processes":[...],"events":1234}

While a trace is being written it is `FILE.partial`; the footer is written and the file renamed to
FILE when the trace ends, so FILE is always whole. A `.partial` file left by a crash reads up to
its last whole line, as a trace marked incomplete. YAML (`--format yaml`) is an export for humans:
the same document in one piece, made from the stream at the end. Schema version 1 files (one
YAML or JSON document) are still read.

This module writes (the stream, and the YAML made from it); reading and checking a file are in
harness/formats/trace_read.py, the versions, formats and the error in
harness/formats/trace_base.py. `load` and `read_stream` are imported here too: `tracefile.load`
is how the rest of the harness reads a trace.

Files are created and renamed through harness/common/safefile.py: a trace is written never
through another user's link, each batch of events unbuffered (what the tracer handed over
survives a SIGKILL), and a write that fails ends the trace in one line, not in the tracer.

Importing this module costs little: the tracer imports it; YAML and the model classes are
imported only to read a file or to write YAML.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator

from harness.common.errors import HarnessError
from harness.formats.trace_base import PARTIAL, SCHEMA_VERSION, TraceFileError, format_for
from harness.formats.trace_read import load, read_stream

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from harness.formats.model import Trace

# -- encoding -----------------------------------------------------------------------------------

BIG_BATCH = 256  # events in one write from which msgspec is worth its import


def _encoder() -> Any:
    """msgspec's JSON encoder: eight times the standard library's on trace events (measured in
    docs/trace-format.md); its `encode_lines` writes a batch of events in one call."""
    import msgspec

    return msgspec.json.Encoder()


def _encode_lines_stdlib(events: list[dict[str, Any]]) -> bytes:
    dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode
    return "".join(f"{dumps(e)}\n" for e in events).encode()


class TraceWriter:
    """Streams one trace to a file: `start(header)`, `write(events)` as often as needed,
    `finish(footer)`. The events are dicts as documented; the writer never holds more than
    the batch it is given: each batch goes to the file in one unbuffered write, so that what
    the tracer handed over is on disk even if the harness is killed the next moment.

    A write that fails (a full disk, -o /dev/full) never raises into the tracer: the writer
    keeps `error` (one line naming the file), removes its .partial file (nothing half
    written), drops every later event, and calls on_error(error) once; the caller says it
    and exits 2 (the traced command runs on to its end, untraced to a file)."""

    def __init__(self, path: Path | str, fmt: str | None = None, follow: bool = True,
                 on_error: Callable[[str], None] | None = None):
        # follow: a symlink at path (the user's own) has its target replaced (`harness
        # trace -o LINK`), a device or a fifo (-o /dev/null) is written to directly; without
        # follow (the traces folder) nothing but a new file at path is ever written. A link
        # of another user at path or at path.partial is refused (TraceFileError) here, before
        # anything runs.
        from harness.common.safefile import UnsafeFile, check_link, target

        try:
            self.path, self.direct = target(path, follow)
            if not self.direct:
                check_link(self.path + PARTIAL)
        except UnsafeFile as e:
            raise TraceFileError(str(e)) from None
        self.format = format_for(self.path, fmt)
        self.follow = follow
        self.partial = self.path if self.direct else self.path + PARTIAL
        self.file: Any = None
        self.count = 0  # events written
        self.error: str | None = None  # why the trace could not be written: one line
        self.reason: str | None = None  # the same without the file's name (strerror)
        self.errno: int | None = None  # and its errno (EPIPE: the reader went away)
        self._fd: int | None = None
        if self.direct:  # a device or a FIFO, opened now: one that cannot be is refused
            try:  # before anything runs (a FIFO no program reads, too: not waited for)
                self._fd = os.open(self.partial, os.O_WRONLY | os.O_CLOEXEC | os.O_NOCTTY
                                   | os.O_NONBLOCK)
                os.set_blocking(self._fd, True)
            except OSError as e:
                why = "a FIFO that no program reads" if e.errno == errno.ENXIO else e.strerror
                raise TraceFileError(f"{self.path}: cannot write the trace: {why}") from None
        self.on_error = on_error
        # a short trace (a command's start: tens of events) is written with the standard
        # library's encoder, so that importing msgspec (some milliseconds) is paid only by
        # traces long enough to gain from it
        self._encode_lines: Any = None

    def start(self, header: dict[str, Any]) -> None:
        from harness.common.safefile import UnsafeFile, create_new

        try:
            if self._fd is not None:  # a device or a FIFO, opened already
                fd, self._fd = self._fd, None
            else:
                os.makedirs(os.path.dirname(self.partial), exist_ok=True)
                # a new file of its own: never through a link, never one that is there
                fd = create_new(self.partial)
        except OSError as e:
            self._fail(e)
            return
        except UnsafeFile as e:
            self._fail(e)
            return
        self.file = os.fdopen(fd, "wb", buffering=0)
        self._line({"type": "header", "schema_version": SCHEMA_VERSION, **header})

    def _put(self, data: bytes) -> None:
        from harness.common.safefile import write_all

        if self.file is None:
            return
        try:
            write_all(self.file.fileno(), data)
        except OSError as e:
            self._fail(e)

    def _fail(self, why: OSError | HarnessError) -> None:
        """The trace cannot be written: keep why, leave nothing half written."""
        if self.error is not None:
            return
        if isinstance(why, OSError):
            self.reason = why.strerror or str(why)
            self.errno = why.errno
            self.error = f"{self.path}: cannot write the trace: {self.reason}"
        else:
            self.reason = self.error = str(why)
        message = self.error
        self._close_file()
        if not self.direct:
            try:
                os.unlink(self.partial)
            except OSError:
                pass
        if self.on_error is not None:
            self.on_error(message)

    def _line(self, doc: dict[str, Any]) -> None:
        self._put(json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode() + b"\n")

    def write(self, events: list[dict[str, Any]]) -> None:
        if not events or self.file is None:
            return
        if self._encode_lines is None and len(events) >= BIG_BATCH:
            self._encode_lines = _encoder().encode_lines
        try:
            data = (self._encode_lines or _encode_lines_stdlib)(events)
        except UnicodeEncodeError:  # a lone surrogate (a name that is not UTF-8, as Python
            data = _encode_lines_stdlib(events)  # decodes it): msgspec refuses, json escapes
        self._put(data)
        self.count += sum(1 for e in events if e.get("type") != "socket")

    def finish(self, footer: dict[str, Any]) -> None:
        """Write the footer and give the file its name (YAML: convert the stream)."""
        # (no fsync: the rename makes the file whole for any reader, a crash of the harness
        # leaves the .partial; only a crash of the machine could lose the end of a trace)
        if self.file is None:  # never started (its command never ran), failed, or finished
            self._close_unused()
            return
        self._line({"type": "footer", **footer, "events": self.count})
        if self.file is None:  # the footer could not be written
            return
        try:
            self.file.close()
        except OSError as e:
            self.file = None
            self._fail(e)
            return
        self.file = None
        if self.direct:
            return
        try:
            if self.format == "yaml":
                try:
                    write_chunks_atomic(self.path, yaml_chunks(self.partial), fsync=False,
                                        follow=False, binary=True)
                finally:
                    os.unlink(self.partial)
            else:
                os.replace(self.partial, self.path)
        except OSError as e:
            self._fail(e)
        except HarnessError as e:  # a link of another user planted at the name since
            self._fail(e)

    def _close_unused(self) -> None:
        if self._fd is not None:  # a device opened for a command that never ran
            os.close(self._fd)
            self._fd = None

    def abandon(self) -> None:
        """Close without a footer: the .partial file stays, readable as incomplete."""
        self._close_unused()
        self._close_file()

    def _close_file(self) -> None:
        """Close the file being written, if it is open, whatever closing it says."""
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None


def trace_stream(trace: Trace) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A Trace object as (header, events, footer) of the stream: each socket's identity in a
    socket record before the first event on it (and again when it changes), as the tracer
    writes it; an event on a socket without an id (a trace of schema 1 or 2) keeps it
    whole."""
    from harness.formats.trace_base import SocketRecords

    doc = trace.to_dict()
    header = {k: doc[k] for k in ("command", "cwd", "started_at", "tracer")}
    footer = {"exit_status": doc["exit_status"], "processes": doc["processes"]}
    records = SocketRecords()
    events: list[dict[str, Any]] = []
    for event, d in zip(trace.events, doc["events"]):
        s = event.sock
        if s is not None and s.id is not None:
            rec = records.changed(s.fd, s.family, s.type, s.local, s.peer, s.id, s.inode)
            if rec is not None:
                events.append(rec)
            d["sock"] = [s.fd, s.id]
        events.append(d)
    return header, events, footer


def save(trace: Trace, path: Path | str, fmt: str | None = None) -> None:
    """Write a whole Trace object (as the stream would have)."""
    header, events, footer = trace_stream(trace)
    writer = TraceWriter(path, fmt)
    writer.start(header)
    try:
        writer.write(events)
    except BaseException:
        writer.abandon()
        if not writer.direct:
            os.unlink(writer.partial)
        raise
    writer.finish(footer)
    if writer.error is not None:
        raise TraceFileError(writer.error)


def dumps(trace: Trace, fmt: str = "jsonl") -> str:
    """A Trace as the text of a file of that format."""
    header, events, footer = trace_stream(trace)
    if format_for("x", fmt) == "yaml":
        from harness.formats.trace_yaml import document_yaml

        return b"".join(document_yaml({"schema_version": SCHEMA_VERSION, **header}, events,
                                      footer)).decode()
    enc = _encoder()
    lines = [json.dumps({"type": "header", "schema_version": SCHEMA_VERSION, **header},
                        separators=(",", ":")),
             *(enc.encode(e).decode() for e in events),
             json.dumps({"type": "footer", **footer,
                         "events": sum(1 for e in events if e.get("type") != "socket")},
                        separators=(",", ":"))]
    return "\n".join(lines) + "\n"


def yaml_chunks(stream: Path | str) -> Iterator[bytes]:
    """The JSON Lines stream in the file at stream as one YAML document, piece by piece, in
    constant memory: the header's fields, `events:` with every other line of the stream as
    one item (a flow mapping on one line), the footer's fields, `complete`
    (harness/formats/trace_yaml.py)."""
    from harness.formats.trace_yaml import stream_yaml

    return stream_yaml(stream)


def write_chunks_atomic(path: Path | str, chunks: Iterable[str] | Iterable[bytes],
                        fsync: bool = True, follow: bool = True, binary: bool = False) -> None:
    """Write text made piece by piece (never held whole) to path through a temporary file in
    the same folder and a rename, so that a reader never sees half a file and a crash leaves
    no partial file behind. follow: a symlink at path (the user's own) has its target
    replaced, a device or a fifo is written to directly; without follow, a link at path is
    replaced by the file. A link of another user is refused (harness.common.safefile)."""
    from harness.common.safefile import write_chunks_atomic as write

    write(path, chunks, fsync=fsync, follow=follow, binary=binary)


def write_atomic(path: Path | str, text: str, follow: bool = True) -> None:
    """Write text to path atomically (see write_chunks_atomic), flushed to the disk."""
    write_chunks_atomic(path, [text], follow=follow)


__all__ = ["PARTIAL", "SCHEMA_VERSION", "TraceFileError", "TraceWriter", "dumps", "format_for",
           "load", "read_stream", "save", "trace_stream", "write_atomic", "write_chunks_atomic",
           "yaml_chunks"]
