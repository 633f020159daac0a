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

Importing this module costs little: the tracer imports it; YAML and the model classes are
imported only to read a file or to write YAML.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

from harness.errors import HarnessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from harness.model import Trace

SCHEMA_VERSION = 3  # 3: socket ids from the tracer (`sock.id`, `ids`); 2: the stream
READABLE_VERSIONS = (1, 2, 3)
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
    the batch it is given."""

    def __init__(self, path: Path | str, fmt: str | None = None, follow: bool = True):
        # follow: a symlink at path has its target replaced (`harness trace -o LINK`), a
        # device or a fifo (-o /dev/null) is written to directly; without follow (the traces
        # folder) nothing but a new file at path is ever written
        self.path = os.path.realpath(path) if follow else os.path.abspath(path)
        self.format = format_for(self.path, fmt)
        self.follow = follow
        self.direct = follow and os.path.exists(self.path) and not os.path.isfile(self.path)
        self.partial = self.path if self.direct else self.path + PARTIAL
        self.file: Any = None
        self.count = 0  # events written
        # a short trace (a command's start: tens of events) is written with the standard
        # library's encoder, so that importing msgspec (some milliseconds) is paid only by
        # traces long enough to gain from it
        self._encode_lines: Any = None

    def start(self, header: dict[str, Any]) -> None:
        if not self.direct:
            os.makedirs(os.path.dirname(self.partial), exist_ok=True)
        if self.follow:
            self.file = open(self.partial, "wb")
        else:  # a new file of its own: never through a link, never one that is there
            self.file = os.fdopen(os.open(self.partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                                          | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644), "wb")
        self._line({"type": "header", "schema_version": SCHEMA_VERSION, **header})

    def _line(self, doc: dict[str, Any]) -> None:
        self.file.write(json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode())
        self.file.write(b"\n")

    def write(self, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        if self._encode_lines is None and len(events) >= BIG_BATCH:
            self._encode_lines = _encoder().encode_lines
        self.file.write((self._encode_lines or _encode_lines_stdlib)(events))
        self.count += len(events)

    def finish(self, footer: dict[str, Any]) -> None:
        """Write the footer and give the file its name (YAML: convert the stream)."""
        # (no fsync: the rename makes the file whole for any reader, a crash of the harness
        # leaves the .partial; only a crash of the machine could lose the end of a trace)
        if self.file is None:  # never started (its command never ran), or finished already
            return
        self._line({"type": "footer", **footer, "events": self.count})
        self.file.close()
        self.file = None
        if self.direct:
            return
        if self.format == "yaml":
            try:
                write_chunks_atomic(self.path, yaml_chunks(read_stream(self.partial)),
                                    fsync=False, follow=self.follow)
            finally:
                os.unlink(self.partial)
        else:
            os.replace(self.partial, self.path)

    def abandon(self) -> None:
        """Close without a footer: the .partial file stays, readable as incomplete."""
        if self.file is not None:
            self.file.close()
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
        os.unlink(writer.partial)
        raise
    writer.finish(footer)


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
    no partial file behind. follow: a symlink at path has its target replaced, a device or a
    fifo is written to directly; without follow, a link at path is replaced by the file."""
    import tempfile
    from pathlib import Path

    path = Path(os.path.realpath(path) if follow else os.path.abspath(path))
    mode: dict[str, Any] = {"mode": "wb"} if binary else {"mode": "w", "encoding": "utf-8"}
    if follow and path.exists() and not path.is_file():  # a device or a fifo: write to it
        with open(path, **mode) as f:
            f.writelines(chunks)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, **mode) as f:
            f.writelines(chunks)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_atomic(path: Path | str, text: str, follow: bool = True) -> None:
    """Write text to path atomically (see write_chunks_atomic), flushed to the disk."""
    write_chunks_atomic(path, [text], follow=follow)


# -- reading ------------------------------------------------------------------------------------

def read_stream(path: Path | str) -> Iterator[dict[str, Any]]:
    """The lines of a JSON Lines trace, decoded one at a time. A last line cut off (no
    newline: a crash in the middle of a write) ends the stream; a whole line that is not JSON
    (an edit, a broken disk) is a TraceFileError naming the line."""
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                return  # cut off while it was being written
            yield _decode_json(line, f"{path}: line {n}")


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


def _is_stream(head: bytes) -> bool | None:
    """True: a stream (its first line is a header); None: lines of JSON whose first is no
    header; False: anything else (a whole document, YAML or JSON)."""
    first, newline, rest = head.partition(b"\n")
    try:
        doc = json.loads(first)
    except (ValueError, RecursionError):
        return False
    if isinstance(doc, dict) and doc.get("type") == "header":
        return True
    # JSON on the first line and more lines after it: a stream whose header is gone (a whole
    # JSON document is on one line, or starts with a line that is not JSON alone: `{`)
    return None if newline and rest.strip() else False


def load(path: Path | str) -> Trace:
    """Read a trace file of any readable version: a JSON Lines stream (a `.partial` one, or
    one cut off, reads as far as it goes and is marked incomplete), a YAML export, or a
    schema version 1 YAML or JSON document. Every field is checked against the format
    (docs/trace-format.md) before anything reads it: a file that does not hold a trace gives
    a TraceFileError naming the file, the line or event, and the field."""
    from pathlib import Path

    path = Path(path)
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(1 << 16)
    except OSError as e:
        raise TraceFileError(f"{path}: cannot read: {e.strerror}") from None
    stream = _is_stream(head)
    if stream is None:
        first = head.split(b"\n", 1)[0].decode(errors="replace")
        raise TraceFileError(f"{path}: line 1: not a trace header (a stream's first line is "
                             f'{{"type":"header","schema_version":...}}), got {first!r:.60}')
    limit = MAX_STREAM_BYTES if stream else MAX_DOCUMENT_BYTES
    if size > limit:
        raise TraceFileError(f"{path}: {size / 1e6:.1f} MB, more than the {limit / 1e6:.0f} MB "
                             f"a trace file may be to be read back (a sample's run writes a "
                             f"few kilobytes)")
    if stream:
        return _load_stream(path)
    if not head.lstrip().startswith(b"{"):
        from harness.validate import ValidationError, load_yaml_text

        try:
            doc: Any = load_yaml_text(path, limit)
        except ValidationError as e:
            what = str(e).removeprefix(f"{path}: ")
            raise TraceFileError(f"{path}: not a valid trace file: {what}") from None
    else:
        doc = _decode_json(path.read_bytes(), f"{path}: not a valid trace file")
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
    from harness.model import ARG_TYPES, AddressShape, SyscallEvent
    from harness.validate import check_record, check_value

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
    from harness.model import Trace
    from harness.validate import ValidationError, check_record

    try:
        check_record({**doc, "events": []}, Trace, str(path))
        for event, (file, prefix) in zip(doc["events"], where):
            check_event(event, file, prefix)
        return Trace.from_dict(doc)
    except ValidationError as e:
        raise TraceFileError(str(e)) from None
    except RecursionError:
        raise TraceFileError(f"{path}: not a valid trace file: nested too deep") from None


def _load_stream(path: Path) -> Trace:
    lines = read_stream(path)
    header = next(lines)
    _check_version(path, header.get("schema_version"))
    events: list[dict[str, Any]] = []
    numbers: list[int] = []
    footer: dict[str, Any] | None = None
    for n, doc in enumerate(lines, 2):
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
        if doc.get("type") not in ("header", "footer"):
            yield doc
