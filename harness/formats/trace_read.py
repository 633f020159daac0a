"""Reading trace files back: a JSON Lines stream line by line (a `.partial` one, or one cut
off by a crash, as far as its last whole line, marked incomplete), a YAML export, or a schema
version 1 YAML or JSON document, every field checked against the format (docs/trace-format.md)
before anything reads it, so that a file that does not hold a trace is a TraceFileError of one
line naming the file, the line or event, and the field.

A trace is read only from a regular file (never a link, a FIFO, a device), never past
MAX_STREAM_BYTES (a stream) or MAX_DOCUMENT_BYTES (a document) whatever its size says, its
first line whole however long (harness/common/safefile.py). The model classes, YAML and the
checker are imported only when a file is read: the writer (harness/formats/tracefile.py)
imports read_stream from here to convert its stream to YAML.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

from harness.formats.trace_base import PARTIAL, READABLE_VERSIONS, TraceFileError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

    from harness.formats.model import Trace

# the largest trace files read back: a sample's run writes some kilobytes; a stream of 64 MB is
# some 200,000 events (seconds to read, a gigabyte of memory), a YAML document of 16 MB as long
MAX_STREAM_BYTES = 64 << 20
MAX_DOCUMENT_BYTES = 16 << 20

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
        yield decode_json(line, f"{path}: line {n}")


def read_stream(path: Path | str, limit: int | None = MAX_STREAM_BYTES
                ) -> Iterator[dict[str, Any]]:
    """The lines of a JSON Lines trace, decoded one at a time. A last line cut off (no
    newline: a crash in the middle of a write) ends the stream; a whole line that is not JSON
    (an edit, a broken disk) is a TraceFileError naming the line. No more than limit bytes
    are read (None: the writer's own file, converted to YAML, however long)."""
    with _open(path, limit if limit is not None else 1 << 62) as f:
        yield from _lines(f, path)


def decode_json(data: bytes, where: str) -> Any:
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
            return _load_stream(path, decode_json(first, f"{path}: line 1"), f)
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
            doc: Any = decode_json(data, f"{path}: not a valid trace file")
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
    """Raise ValidationError unless doc is an event of the format: every field of its type,
    and every argument the normalizer reads (model.ARG_TYPES) of its type. (The hand-written
    check, slow: harness/formats/trace_events.py runs it only on an event its Structs
    refused, for the message.)"""
    from harness.common.validate import ValidationError, check_record, check_value
    from harness.formats.model import ARG_TYPES, AddressShape, SyscallEvent

    sock = doc.get("sock") if isinstance(doc, dict) else None
    if isinstance(sock, (list, tuple)):  # schema 5: [fd, id] (a tuple once decoded)
        check_value(list(sock), tuple[int, int], file, f"{where}.sock" if where else "sock")
        doc = {k: v for k, v in doc.items() if k != "sock"}
        sock = None
    check_record(doc, SyscallEvent, file, where)
    if isinstance(sock, dict):
        for end in ("local", "peer"):
            check_value(sock.get(end), AddressShape | None, file,
                        f"{where}.sock.{end}" if where else f"sock.{end}")
    for name, value in doc.get("args", {}).items():
        if not isinstance(name, str):
            raise ValidationError(f"{file}: field '{where + '.' if where else ''}args': key "
                                  f"{name!r} must be text")
        hint = ARG_TYPES.get(name)
        if hint is not None:
            check_value(value, hint, file, f"{where}.args.{name}" if where else
                        f"args.{name}")


def _header(path: Path, doc: dict[str, Any]) -> Trace:
    """The Trace of a header (and footer) without its events, once every field is checked."""
    from harness.common.validate import ValidationError, check_record
    from harness.formats.model import Trace

    try:
        check_record({**doc, "events": []}, Trace, str(path))
        return Trace.from_dict({**doc, "events": []})
    except ValidationError as e:
        raise TraceFileError(str(e)) from None
    except RecursionError:
        raise TraceFileError(f"{path}: not a valid trace file: nested too deep") from None


def _read_events(path: Path, items: Iterable[tuple[Any, str, str]]) -> tuple[Any, ...]:
    """The events of (line bytes or decoded mapping, file, field prefix) items, each checked;
    a socket record sets what the events after it name."""
    from harness.common.validate import ValidationError
    from harness.formats.trace_events import EventReader

    reader = EventReader(str(path))
    events = []
    file = f"{path}: not a valid trace file"
    try:
        for item, file, prefix in items:
            event = reader.line(item, file) if type(item) is bytes else \
                reader.mapping(item, file, prefix)
            if event is not None:
                events.append(event)
    except ValidationError as e:
        raise TraceFileError(str(e)) from None
    except RecursionError:
        raise TraceFileError(f"{file}: nested too deep") from None
    return tuple(events)


def _trace(path: Path, doc: dict[str, Any], where: Iterable[tuple[str, str]]) -> Trace:
    """The Trace in doc, once every field is checked; where gives, for each event, what the
    messages name: (file, field prefix), `(FILE, "events[3]")`."""
    import dataclasses

    trace = _header(path, {k: v for k, v in doc.items() if k != "events"})
    events = _read_events(path, ((event, file, prefix) for event, (file, prefix)
                                 in zip(doc["events"], where)))
    return dataclasses.replace(trace, events=events)


def _load_stream(path: Path, header: dict[str, Any], f: Any) -> Trace:
    """The rest of a stream whose header line was read from f."""
    import dataclasses

    _check_version(path, header.get("schema_version"))
    fields = {k: v for k, v in header.items() if k != "type"}
    # a header that is wrong is said before any event
    _header(path, {"exit_status": None, "processes": [], **fields})
    footer: dict[str, Any] | None = None

    def items() -> Iterator[tuple[Any, str, str]]:
        nonlocal footer
        for n, line in enumerate(f, 2):
            if not line.endswith(b"\n"):
                return  # cut off while it was being written
            where = f"{path}: line {n}"
            if line.startswith(b'{"seq":'):
                yield line, where, ""
                continue
            doc = decode_json(line, where)
            if not isinstance(doc, dict):
                raise TraceFileError(f"{where}: not a JSON object, got {doc!r:.60}")
            if doc.get("type") == "footer":
                footer = doc
                return
            yield doc, where, ""

    events = _read_events(path, items())
    trace = _header(path, {**fields, "exit_status": (footer or {}).get("exit_status"),
                           "processes": (footer or {}).get("processes") or [],
                           "complete": footer is not None and not path.name.endswith(PARTIAL)})
    return dataclasses.replace(trace, events=events)
