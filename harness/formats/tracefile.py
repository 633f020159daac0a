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

Files are opened, created and renamed through harness/common/safefile.py: a trace is read only from a
regular file (never a link, a FIFO, a device), never past MAX_STREAM_BYTES whatever its size
says, its first line whole however long; it is written never through another user's link,
each batch of events unbuffered (what the tracer handed over survives a SIGKILL), and a write
that fails ends the trace in one line, not in the tracer.

Importing this module costs little: the tracer imports it; YAML and the model classes are
imported only to read a file or to write YAML.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterable, Iterator

from harness.common.errors import HarnessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from harness.formats.model import Trace

SCHEMA_VERSION = 4  # 4: socket inodes, `released`, io_uring operations; 3: socket ids from the tracer (`sock.id`, `ids`); 2: the stream
READABLE_VERSIONS = (1, 2, 3, 4)
FORMATS = ("jsonl", "json", "yaml")  # json: the JSON Lines stream too
PARTIAL = ".partial"  # suffix of a trace still being written (or cut off by a crash)
# the largest trace files read back: a sample's run writes some kilobytes; a stream of 64 MB is
# some 200,000 events (seconds to read, a gigabyte of memory), a YAML document of 16 MB as long
MAX_STREAM_BYTES = 64 << 20
MAX_DOCUMENT_BYTES = 16 << 20


class TraceFileError(HarnessError):
    """A trace file that cannot be read: names the file and what is wrong."""


def format_for(path: Path | str, requested: str | None = None) -> str:
    """The format to write: the one asked for, else YAML for a .yaml/.yml name, else JSON
    Lines."""
    if requested:
        if requested not in FORMATS:
            raise ValueError(f"unknown trace format {requested!r} (choose from "
                             f"{', '.join(FORMATS)})")
        return "yaml" if requested == "yaml" else "jsonl"
    return "yaml" if os.path.splitext(str(path))[1] in (".yaml", ".yml") else "jsonl"


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
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None
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
        self._put((self._encode_lines or _encode_lines_stdlib)(events))
        self.count += len(events)

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
                    write_chunks_atomic(self.path, yaml_chunks(read_stream(self.partial,
                                                                           limit=None)),
                                        fsync=False, follow=False)
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
        if self.file is not None:
            try:
                self.file.close()
            except OSError:
                pass
            self.file = None


def trace_stream(trace: Trace) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """A Trace object as (header, events, footer) of the stream."""
    doc = trace.to_dict()
    header = {k: doc[k] for k in ("command", "cwd", "started_at", "tracer")}
    footer = {"exit_status": doc["exit_status"], "processes": doc["processes"]}
    return header, doc["events"], footer


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
        doc = {"schema_version": SCHEMA_VERSION, **header, **footer, "events": events,
               "complete": True}
        return "".join(yaml_chunks(iter([doc])))
    enc = _encoder()
    lines = [json.dumps({"type": "header", "schema_version": SCHEMA_VERSION, **header},
                        separators=(",", ":")),
             *(enc.encode(e).decode() for e in events),
             json.dumps({"type": "footer", **footer, "events": len(events)},
                        separators=(",", ":"))]
    return "\n".join(lines) + "\n"


def yaml_chunks(docs: Iterator[dict[str, Any]]) -> Iterator[str]:
    """A stream (header, events..., footer) as one YAML document, piece by piece with
    libyaml's C dumper: the header's fields, the footer's, then `events:` one item at a
    time, so that a long trace is converted in constant memory. A single whole document
    (from dumps) comes out as it is."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

    def dump(x: Any, flow: bool | None = None) -> str:
        return yaml.dump(x, Dumper=dumper, sort_keys=False, default_flow_style=flow,
                         width=100, allow_unicode=False)

    def dump_top(d: dict[str, Any]) -> str:
        """Top-level keys one by one: a key whose value is a scalar would otherwise make a
        mapping of scalars only, which the dumper writes in flow style ({complete: true})."""
        return "".join(dump({k: v}, None if isinstance(v, (dict, list)) else False)
                       for k, v in d.items())

    first = next(docs)
    if first.get("type") != "header":  # a whole document already
        yield dump_top(first)
        return
    header = {k: v for k, v in first.items() if k != "type"}
    yield dump_top(header)
    footer: dict[str, Any] | None = None
    wrote_events = False
    for doc in docs:
        if doc.get("type") == "footer":
            footer = doc
            continue
        if not wrote_events:
            yield "events:\n"
            wrote_events = True
        yield dump([doc])
    if not wrote_events:
        yield "events: []\n"
    if footer is not None:
        yield dump_top({"exit_status": footer.get("exit_status"),
                        "processes": footer.get("processes") or []})
    yield dump_top({"complete": footer is not None})


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


# -- reading ------------------------------------------------------------------------------------

TOO_LARGE = "a trace file may be to be read back (a sample's run writes a few kilobytes)"


def _open(path: Path | str, limit: int) -> Any:
    """A trace file opened for reading: a regular file, not a link, of which no more than
    limit bytes are read (harness.common.safefile)."""
    from harness.common.safefile import BoundedFile

    return BoundedFile(path, limit, TraceFileError, TOO_LARGE)


def _lines(f: Any, path: Path | str, first: int = 1) -> Iterator[dict[str, Any]]:
    for n, line in enumerate(f, first):
        if not line.endswith(b"\n"):
            return  # cut off while it was being written
        yield _decode_json(line, f"{path}: line {n}")


def read_stream(path: Path | str, limit: int | None = MAX_STREAM_BYTES
                ) -> Iterator[dict[str, Any]]:
    """The lines of a JSON Lines trace, decoded one at a time. A last line cut off (no
    newline: a crash in the middle of a write) ends the stream; a whole line that is not JSON
    (an edit, a broken disk) is a TraceFileError naming the line. No more than limit bytes
    are read (None: the writer's own file, converted to YAML, however long)."""
    with _open(path, limit if limit is not None else 1 << 62) as f:
        yield from _lines(f, path)


def _decode_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except UnicodeDecodeError as e:
        raise TraceFileError(f"{where}: not UTF-8 text ({e.reason} at byte {e.start})") \
            from None
    except RecursionError:
        raise TraceFileError(f"{where}: nested too deep") from None
    except ValueError as e:
        raise TraceFileError(f"{where}: not JSON: {e}") from None


def _is_header(first: bytes) -> bool | None:
    """True: the first line of a stream (a header, read whole however long: a command of
    many arguments makes it long); None: a line of JSON that is no header; False: anything
    else (the start of a whole document, YAML or JSON)."""
    try:
        doc = json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True if isinstance(doc, dict) and doc.get("type") == "header" else None


def _more_than_blanks(f: Any) -> bool:
    """Whether the rest of f holds anything but white space (read in pieces)."""
    while True:
        chunk = f.read(1 << 16)
        if not chunk:
            return False
        if chunk.strip():
            return True


def load(path: Path | str) -> Trace:
    """Read a trace file of any readable version: a JSON Lines stream (a `.partial` one, or
    one cut off, reads as far as it goes and is marked incomplete), a YAML export, or a
    schema version 1 YAML or JSON document. Every field is checked against the format
    (docs/trace-format.md) before anything reads it: a file that does not hold a trace gives
    a TraceFileError naming the file, the line or event, and the field. The file must be a
    regular file (a link, a FIFO or a device is refused), and no more than MAX_STREAM_BYTES
    (a stream) or MAX_DOCUMENT_BYTES (a document) of it are ever read."""
    from pathlib import Path

    path = Path(path)
    with _open(path, MAX_STREAM_BYTES) as f:
        first = f.readline()
        stream = _is_header(first)
        if stream:
            return _load_stream(path, _decode_json(first, f"{path}: line 1"), f)
        if stream is None and first.endswith(b"\n") and _more_than_blanks(f):
            # JSON on the first line and more lines after it: a stream whose header is gone
            # (a whole JSON document is on one line, or starts with a line that is not JSON
            # alone: `{`)
            text = first.split(b"\n", 1)[0].decode(errors="replace")
            raise TraceFileError(f"{path}: line 1: not a trace header (a stream's first line "
                                 f'is {{"type":"header","schema_version":...}}), got '
                                 f"{text!r:.60}")
        size = os.fstat(f.file.fileno()).st_size
        if size > MAX_DOCUMENT_BYTES:
            from harness.common.safefile import too_large

            raise TraceFileError(too_large(path, size, MAX_DOCUMENT_BYTES, TOO_LARGE))
        if first.lstrip().startswith(b"{"):
            f.file.seek(0)
            data = f.file.read(MAX_DOCUMENT_BYTES + 1)
            if len(data) > MAX_DOCUMENT_BYTES:
                from harness.common.safefile import too_large

                raise TraceFileError(too_large(path, len(data), MAX_DOCUMENT_BYTES,
                                               TOO_LARGE))
            doc: Any = _decode_json(data, f"{path}: not a valid trace file")
        else:
            doc = None
    if doc is None:
        from harness.common.validate import ValidationError, load_yaml_text

        try:
            doc = load_yaml_text(path, MAX_DOCUMENT_BYTES)
        except ValidationError as e:
            what = str(e).removeprefix(f"{path}: ")
            raise TraceFileError(f"{path}: not a valid trace file: {what}") from None
    if not isinstance(doc, dict):
        raise TraceFileError(f"{path}: not a valid trace file: top level is not a mapping")
    _check_version(path, doc.get("schema_version"))
    events = doc.get("events")
    if "events" not in doc:
        raise TraceFileError(f"{path}: missing field 'events'")
    if not isinstance(events, list):
        raise TraceFileError(f"{path}: field 'events' must be a list of events, got "
                             f"{events!r:.60}")
    return _trace(path, doc, ((str(path), f"events[{i}]") for i in range(len(events))))


def _check_version(path: Path, version: Any) -> None:
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise TraceFileError(f"{path}: schema_version is {version!r:.40}, this harness reads "
                             f"{', '.join(map(str, READABLE_VERSIONS[:-1]))} and "
                             f"{READABLE_VERSIONS[-1]}")


def check_event(doc: Any, file: str, where: str = "") -> None:
    """Raise TraceFileError unless doc is an event of the format: every field of its type,
    and every argument the normalizer reads (model.ARG_TYPES) of its type."""
    from harness.formats.model import ARG_TYPES, AddressShape, SyscallEvent
    from harness.common.validate import check_record, check_value

    check_record(doc, SyscallEvent, file, where)
    sock = doc.get("sock")
    for end in ("local", "peer") if sock else ():
        check_value(sock.get(end), AddressShape | None, file,
                    f"{where}.sock.{end}" if where else f"sock.{end}")
    for name, value in doc.get("args", {}).items():
        hint = ARG_TYPES.get(name)
        if hint is not None:
            check_value(value, hint, file, f"{where}.args.{name}" if where else
                        f"args.{name}")


def _trace(path: Path, doc: dict[str, Any], where: Iterable[tuple[str, str]]) -> Trace:
    """The Trace in doc, once every field is checked; where gives, for each event, what the
    messages name: (file, field prefix), `(FILE, "events[3]")` or `("FILE: line 5", "")`."""
    from harness.formats.model import Trace
    from harness.common.validate import ValidationError, check_record

    try:
        check_record({**doc, "events": []}, Trace, str(path))
        for event, (file, prefix) in zip(doc["events"], where):
            check_event(event, file, prefix)
        return Trace.from_dict(doc)
    except ValidationError as e:
        raise TraceFileError(str(e)) from None
    except RecursionError:
        raise TraceFileError(f"{path}: not a valid trace file: nested too deep") from None


def _load_stream(path: Path, header: dict[str, Any], f: Any) -> Trace:
    """The rest of a stream whose header line was read from f."""
    _check_version(path, header.get("schema_version"))
    events: list[dict[str, Any]] = []
    numbers: list[int] = []
    footer: dict[str, Any] | None = None
    for n, doc in enumerate(_lines(f, path, 2), 2):
        if not isinstance(doc, dict):
            raise TraceFileError(f"{path}: line {n}: not a JSON object, got {doc!r:.60}")
        if doc.get("type") == "footer":
            footer = doc
            break
        events.append(doc)
        numbers.append(n)
    doc = {**{k: v for k, v in header.items() if k != "type"}, "events": events,
           "exit_status": (footer or {}).get("exit_status"),
           "processes": (footer or {}).get("processes") or [],
           "complete": footer is not None and not path.name.endswith(PARTIAL)}
    return _trace(path, doc, ((f"{path}: line {n}", "") for n in numbers))


def iter_events(path: Path | str) -> Iterable[dict[str, Any]]:
    """The event dicts of a JSON Lines trace, one at a time (constant memory)."""
    for doc in read_stream(path):
        if isinstance(doc, dict) and doc.get("type") not in ("header", "footer"):
            yield doc
