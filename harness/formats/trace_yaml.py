"""The YAML export of a trace (`--format yaml`): one YAML document, for reading, made from the
JSON Lines stream when the trace ends, in constant memory (docs/trace-format.md).

The header's fields and the footer's (a few lines) are written by libyaml's C dumper, in
block style. Every other line of the stream (an event, or a record of any other type) is one
item of `events:`, on one line, as a flow mapping in JSON's syntax:

    - {"seq": 4, "ts_ns": 1973996715665, "pid": 4242, "syscall": "sendto", "args": {...}}

JSON's flow collections are YAML, and a line of the stream is one already: msgspec lays it out
(a space after each `:` and `,`) without decoding it. Where YAML 1.1 (PyYAML, libyaml) would
read that text otherwise than JSON does, the line is decoded and written again by `flow`:

- a character out of ASCII, or DEL: YAML forbids some raw (C1 controls, U+FEFF, U+FFFE) and
  reads others as line breaks (U+0085, U+2028, U+2029); every one is written as a YAML escape
  (`\\xe9`, `\\u2028`, `\\U0001f600`), as the C dumper writes them;
- a `\\u` escape: JSON writes a character past U+FFFF as two surrogates, which libyaml refuses;
  a lone surrogate (a name that is not UTF-8, as Python decodes it) is no Unicode text and
  cannot be in YAML at all: it is written as U+FFFD;
- a number with an exponent (`1e300`, `1.5e-7`): a YAML 1.1 float needs a point and a signed
  exponent (`1.0e+300`), and `Infinity`, `NaN` are `.inf`, `.nan`;
- a key longer than LONG_KEY characters: YAML ends an implicit key after 1024 characters, so
  such a key is written as an explicit one (`? "key": value`).

A line that needs none of this (every line the tracer writes, in practice) goes to the file as
msgspec laid it out, which is why the export costs a fraction of the trace.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator

from harness.formats.trace_base import TraceFileError
from harness.formats.trace_read import decode_json as _decode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BLOCK = 1 << 18  # bytes of the stream read at a time (whole lines)
LONG_KEY = 1000  # characters of a quoted key from which it is written as an explicit key

# a key of more than LONG_KEY characters (quotes included) in JSON text whose escaped quotes
# and backslashes are blanked out: the run between two quotes that a `:` follows
_LONG_KEY_RE = re.compile(rb'"[^"]{%d,}"\s*:' % (LONG_KEY - 1))
# digits as 0, E as e and + as -: a number with an exponent then holds `0e0` or `0e-`
_EXPONENT = bytes.maketrans(b"123456789E+", b"000000000e-")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f", "\0": "\\0"}
_SPECIAL = re.compile(r'["\\\x00-\x1f\x7f-\U0010ffff]')
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    short = _ESCAPES.get(c)
    if short is not None:
        return short
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF:  # a lone surrogate: no Unicode character
        return "\\ufffd"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _string(s: str) -> str:
    return f'"{_SPECIAL.sub(_escape, s)}"'


def _float(x: float) -> str:
    if math.isnan(x):
        return ".nan"
    if math.isinf(x):
        return ".inf" if x > 0 else "-.inf"
    text = repr(x)  # the shortest text read back as x: 0.1, 1e+16, 5e-324
    mantissa, e, exponent = text.partition("e")
    if e and "." not in mantissa:
        return f"{mantissa}.0e{exponent}"  # the exponent has its sign
    return text


def flow(value: Any) -> str:
    """value (str, int, float, bool, None, and lists and dicts with str keys of those) as a
    YAML flow collection or scalar on one line, ASCII only, read back by YAML 1.1 as value."""
    if isinstance(value, str):
        return _string(value)
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"a key that is not text: {k!r:.40}")
            key = _string(k)
            items.append(f"{'? ' if len(key) > LONG_KEY else ''}{key}: {flow(v)}")
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(flow, value)) + "]"
    raise TypeError(f"cannot be written in a trace: {type(value).__name__}")


def _plain(text: bytes, longest: int) -> bool:
    """Whether JSON text (a line, or lines) holds nothing YAML 1.1 reads otherwise: no
    character out of ASCII, no DEL, no `\\u` escape, no number with an exponent (a string
    that looks like one, `\\x1e5`, counts too: its line is then written again, as it is
    read), no key of more than LONG_KEY characters (none in a text whose longest line
    is no longer)."""
    if not text.isascii() or b"\\u" in text or b"\x7f" in text:
        return False
    digits = text.translate(_EXPONENT)
    if b"0e0" in digits or b"0e-" in digits:
        return False
    return longest <= LONG_KEY or not _LONG_KEY_RE.search(
        text.replace(b"\\\\", b"__").replace(b'\\"', b"__"))


class _Items:
    """Lines of a stream as items of `events:`, each `- VALUE\\n`."""

    def __init__(self, path: str) -> None:
        import msgspec

        self.path = path
        self.layout = msgspec.json.format
        self.malformed = msgspec.DecodeError

    def block(self, lines: list[bytes]) -> bytes | None:
        """Whole lines as items, or None when one of them needs more than a layout (or may
        be a footer): then each is to be given to item()."""
        block = b"".join(lines)
        if (b'"footer"' in block or not block.endswith(b"\n")
                or not _plain(block, max(map(len, lines)))):
            return None
        layout = self.layout
        try:  # a space after each `:` and `,`, nothing decoded
            return b"".join([b"- " + layout(line, indent=0) + b"\n" for line in lines])
        except self.malformed:  # Infinity, NaN (the standard library writes them), or bad
            return None

    def item(self, line: bytes, n: int) -> bytes:
        """Line n of the stream as an item."""
        try:
            text = self.layout(line, indent=0)
        except self.malformed:
            text = b""
        if text and _plain(text, len(text)):
            return b"- " + text + b"\n"
        return f"- {flow(_decode(line, f'{self.path}: line {n}'))}\n".encode()


def _no_surrogates(value: Any) -> Any:
    """value with every lone surrogate of its strings replaced by U+FFFD (YAML has none)."""
    if isinstance(value, str):
        return value if value.isascii() else _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_no_surrogates(k): _no_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_no_surrogates(v) for v in value]
    return value


def _block(fields: dict[str, Any]) -> bytes:
    """Top-level fields in block style with libyaml's C dumper, one key at a time: a mapping
    of scalars only would otherwise come out in flow style ({complete: true})."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    out = []
    for k, v in _no_surrogates(fields).items():
        out.append(yaml.dump({k: v}, Dumper=dumper, sort_keys=False, width=100,
                             default_flow_style=None if isinstance(v, (dict, list)) else False,
                             allow_unicode=False))
    return "".join(out).encode()


def _ending(footer: dict[str, Any] | None) -> dict[str, Any]:
    if footer is None:
        return {}
    return {"exit_status": footer.get("exit_status"), "processes": footer.get("processes") or []}


def _events(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """`events:` and its items, given some at a time (`events: []` for none)."""
    head = b"events:\n"
    for chunk in chunks:
        if chunk:
            yield head + chunk
            head = b""
    if head:
        yield b"events: []\n"


def stream_yaml(path: str | os.PathLike[str]) -> Iterator[bytes]:
    """The JSON Lines stream at path (a header line, events and records, a footer line) as
    one YAML document, piece by piece: the header's fields, `events:` (every line but the
    header and the footer, in order, whatever its keys), the footer's `exit_status` and
    `processes`, and `complete` (whether there was a footer). A last line cut off (no
    newline) ends the stream; a line that is not JSON is a TraceFileError naming it."""
    from harness.common.safefile import open_regular

    with os.fdopen(open_regular(path, TraceFileError), "rb") as f:
        first = f.readline()
        header = _decode(first, f"{path}: line 1") if first.endswith(b"\n") else None
        if not isinstance(header, dict) or header.get("type") != "header":
            raise TraceFileError(f"{path}: line 1: not a trace header")
        yield _block({k: v for k, v in header.items() if k != "type"})
        ends: list[dict[str, Any]] = []
        yield from _events(_stream_items(f, str(path), ends))
        footer = ends[-1] if ends else None
    yield _block({**_ending(footer), "complete": footer is not None})


def _stream_items(f: Any, path: str, footers: list[dict[str, Any]]) -> Iterator[bytes]:
    """The items of the lines of f after its header, BLOCK bytes of lines at a time;
    footers gets the footer (if any)."""
    items = _Items(path)
    n = 2  # the number of the first line of the block
    while lines := f.readlines(BLOCK):
        whole = items.block(lines)
        if whole is None:
            out = []
            for i, line in enumerate(lines, n):
                if not line.endswith(b"\n"):
                    break  # cut off while it was being written: the end of the stream
                if b'"footer"' in line:
                    doc = _decode(line, f"{path}: line {i}")
                    if isinstance(doc, dict) and doc.get("type") == "footer":
                        footers.append(doc)
                        continue
                out.append(items.item(line, i))
            whole = b"".join(out)
        yield whole
        n += len(lines)


def document_yaml(header: dict[str, Any], events: Iterable[Any],
                  footer: dict[str, Any]) -> Iterator[bytes]:
    """A whole trace (header fields, events, footer fields) as the YAML export, the footer's
    fields before the events: `schema_version`, `command`..., `exit_status`, `processes`,
    `events`, `complete: true`."""
    yield _block({**header, **_ending(footer)})
    yield from _events(f"- {flow(e)}\n".encode() for e in events)
    yield b"complete: true\n"
