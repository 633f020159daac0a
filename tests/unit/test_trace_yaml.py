"""The YAML export (harness/formats/trace_yaml.py): the document made from a JSON Lines stream
loads, with PyYAML's safe loaders (libyaml's and the pure Python one) and with the harness's
reader, to the same data as the stream: the values YAML 1.1 reads otherwise than JSON
(strings like yes, null, 1e3, 0x1F, ~; floats with exponents; escapes, characters out of
ASCII, line separators, DEL; very long keys) included, whichever encoder wrote the stream.
Every line but the header and the footer is one item of `events:`, whatever its keys; each
item is one line; the document is made a piece at a time."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any
from unittest import mock

import msgspec
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.formats import trace_yaml, tracefile
from harness.formats.model import ARG_TYPES
from harness.formats.trace_base import SCHEMA_VERSION, TraceFileError

LOADERS = [loader for loader in (getattr(yaml, "CSafeLoader", None), yaml.SafeLoader)
           if loader is not None]
SETTINGS = settings(max_examples=200, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

HEADER = {"type": "header", "schema_version": SCHEMA_VERSION, "command": ["prog", "yes", "1e3"],
          "cwd": "/tmp", "started_at": "2026-01-02T03:04:05+00:00",
          "tracer": {"mode": "seccomp", "data_bytes": 64, "fallback_reason": None}}
FOOTER = {"type": "footer", "exit_status": 0,
          "processes": [{"pid": 5, "parent": None, "exe": "/bin/x", "argv": ["x", "on"],
                         "threads": [5], "exit_code": 0, "exit_signal": None}], "events": 0}

# strings that a YAML 1.1 reader could take for something else, or that need an escape
TRICKY = [
    "", " ", "yes", "Yes", "YES", "no", "No", "NO", "y", "n", "on", "On", "off", "OFF",
    "true", "True", "false", "FALSE", "null", "Null", "NULL", "~", "1e3", "1E3", "1.5e-7",
    "0x1F", "0o17", "017", "0b101", "1_000", "+1", "-1", "1.0", ".5", "1:20", "190:20:30",
    ".inf", "-.inf", ".nan", "NaN", "Infinity", "-Infinity", "=", "<<", "2001-12-14",
    "2001-12-14t21:59:43.10-05:00", "- a", "? b", ": c", "#x", "a #b", "a: b", "{a: b}",
    "[1, 2]", "&anchor", "*alias", "!tag", "!!str", "|", ">", "'", '"', "\\", "\\\\",
    '\\"', "\\u0041", "\\x41", "\\ud83d", "%YAML 1.1", "---", "...", "@", "`", " lead",
    "trail ", "\t", "\n", "\r\n", "a\nb", "\x00", "\x01", "\x08", "\x0c", "\x1b", "\x1f",
    "\x7f", "\x80", "\x85", "\x9f", "\xa0", "\xff", "é", "naïve", "\u2028", "\u2029",
    "\ufeff", "\ufffd", "\ufffe", "\uffff", "\U0001f600", "\U0010ffff", "日本語", "x/y",
    "</script>", "a,b", "a, b", "}", "]", "{", "[", ",", "footer", "header", "\\x1e5", "1e",
]
ENCODERS = {
    # the writer's two encoders (harness/formats/tracefile.py) and a JSON of UTF-8 text
    # with spaces after its separators
    "stdlib": lambda e: json.dumps(e, ensure_ascii=True, separators=(",", ":")).encode(),
    "msgspec": msgspec.json.encode,
    "utf8": lambda e: json.dumps(e, ensure_ascii=False).encode(),
}


def write_stream(path: Path, events: list[Any], encoder: str = "stdlib",
                 footer: dict[str, Any] | None = FOOTER) -> list[bytes]:
    """A stream file of these events; returns its event lines as written."""
    encode = ENCODERS[encoder]
    lines = [encode(e) + b"\n" for e in events]
    head = json.dumps(HEADER).encode() + b"\n"
    tail = (json.dumps({**footer, "events": len(events)}).encode() + b"\n"
            if footer is not None else b"")
    path.write_bytes(head + b"".join(lines) + tail)
    return lines


def export(stream: Path) -> str:
    return b"".join(tracefile.yaml_chunks(stream)).decode("utf-8")


def expected(lines: list[bytes], footer: bool = True) -> dict[str, Any]:
    """The document the stream holds, as the JSON reader reads it."""
    doc = {k: v for k, v in HEADER.items() if k != "type"}
    doc["events"] = [json.loads(line) for line in lines]
    if footer:
        doc["exit_status"] = FOOTER["exit_status"]
        doc["processes"] = FOOTER["processes"]
    doc["complete"] = footer
    return doc


def tagged(x: Any) -> Any:
    """x with every scalar's type kept, so that 1, 1.0 and True, or 0.0 and -0.0, differ."""
    if isinstance(x, dict):
        return {"dict": [(tagged(k), tagged(v)) for k, v in x.items()]}
    if isinstance(x, list):
        return {"list": [tagged(v) for v in x]}
    if isinstance(x, float):
        return ("float", "nan" if math.isnan(x) else repr(x))
    return (type(x).__name__, x)


def assert_loads_as(text: str, doc: dict[str, Any]) -> None:
    for loader in LOADERS:
        assert tagged(yaml.load(text, Loader=loader)) == tagged(doc), loader.__name__


@pytest.mark.parametrize("encoder", ["stdlib", "msgspec", "utf8"])
def test_tricky_strings_as_values_and_keys(tmp_path, encoder):
    events = [{"seq": i, "value": s, s: [s, {s: s}], "args": {"data": s}}
              for i, s in enumerate(TRICKY)]
    events.append({"all": TRICKY, "keys": dict.fromkeys(TRICKY, "v")})
    lines = write_stream(tmp_path / "t.jsonl", events, encoder)
    text = export(tmp_path / "t.jsonl")
    assert_loads_as(text, expected(lines))
    assert text.isascii()  # every character out of ASCII as an escape
    # one item a line: no string in it breaks a line
    items = text.split("events:\n", 1)[1].split("exit_status:", 1)[0].splitlines()
    assert len(items) == len(events) and all(i.startswith("- {") for i in items)


@pytest.mark.parametrize("encoder", ["stdlib", "msgspec", "utf8"])
def test_numbers(tmp_path, encoder):
    numbers = [0, -0, 1, -1, 7, 2**31, 2**63 - 1, -(2**63), 2**64 - 1, 0.0, -0.0, 1.0, -1.5,
               0.1, 1e15, 1e16, 1.5e16, 123456789012345678.0, 1e-7, 2.5e-10, 1e300, 1.5e300,
               -1e300, 5e-324, 1.7976931348623157e308, 2.2250738585072014e-308, True, False,
               None, 2**64, 10**30, -(10**40)]
    events = [{"n": n, "list": [n, [n]], "args": {"x": n}} for n in numbers]
    lines = write_stream(tmp_path / "t.jsonl", events, encoder)
    assert_loads_as(export(tmp_path / "t.jsonl"), expected(lines))


def test_infinity_and_nan_as_the_standard_library_writes_them(tmp_path):
    # json.dumps writes Infinity, -Infinity and NaN (not JSON, but what it reads back)
    events = [{"a": math.inf, "b": -math.inf, "c": [math.nan]}]
    lines = write_stream(tmp_path / "t.jsonl", events, "stdlib")
    assert b"Infinity" in lines[0] and b"NaN" in lines[0]
    for loader in LOADERS:
        doc = yaml.load(export(tmp_path / "t.jsonl"), Loader=loader)
        event = doc["events"][0]
        assert event["a"] == math.inf and event["b"] == -math.inf
        assert math.isnan(event["c"][0])


def test_flow_writes_yaml_1_1_scalars():
    assert trace_yaml.flow(1e16) == "1.0e+16"
    assert trace_yaml.flow(1.5e-7) == "1.5e-07"
    assert trace_yaml.flow(0.1) == "0.1"
    assert trace_yaml.flow(-0.0) == "-0.0"
    assert trace_yaml.flow(math.inf) == ".inf" and trace_yaml.flow(-math.inf) == "-.inf"
    assert trace_yaml.flow(math.nan) == ".nan"
    assert trace_yaml.flow(True) == "true" and trace_yaml.flow(None) == "null"
    assert trace_yaml.flow("yes") == '"yes"'
    assert trace_yaml.flow("é\u2028\U0001f600\x7f\x00\n\"\\") == \
        '"\\xe9\\u2028\\U0001f600\\x7f\\0\\n\\"\\\\"'
    assert trace_yaml.flow({"a": [1, {}], "b": []}) == '{"a": [1, {}], "b": []}'
    with pytest.raises(TypeError):
        trace_yaml.flow({1: 2})
    with pytest.raises(TypeError):
        trace_yaml.flow(b"bytes")


@pytest.mark.parametrize("encoder", ["stdlib", "msgspec", "utf8"])
def test_long_keys_around_the_limit(tmp_path, encoder):
    # YAML ends an implicit key after 1024 characters: a longer one is written as `? key`
    limit = trace_yaml.LONG_KEY
    keys = ["k" * n for n in (limit - 3, limit - 2, limit - 1, limit, limit + 30, 5000)]
    keys += ['"' * 500, "\\" * 499 + "x", "é" * 200, "\x01" * 170, '\\"' * 340]
    events = [{k: 1, "nested": {k: [k], "short": 2}} for k in keys]
    events.append({"data": "v" * 100_000})  # a long value is no long key
    lines = write_stream(tmp_path / "t.jsonl", events, encoder)
    text = export(tmp_path / "t.jsonl")
    assert_loads_as(text, expected(lines))
    items = text.split("events:\n", 1)[1].splitlines()
    assert "? " not in items[0] and "? " not in items[1]  # a quoted key of limit characters
    assert '? "kkk' in items[2] and '? "kkk' in items[5]
    assert "? " not in items[-1]


def test_lone_surrogates_are_written_as_the_replacement_character(tmp_path):
    # a name that is not UTF-8 reaches Python as lone surrogates (surrogateescape); YAML has
    # no way to hold one (libyaml refuses the escape), so the export writes U+FFFD
    events = [{"exe": "/tmp/\udcff\udc80x", "\udcfe": ["\ud800"]}]
    write_stream(tmp_path / "t.jsonl", events, "stdlib")
    text = export(tmp_path / "t.jsonl")
    for loader in LOADERS:
        doc = yaml.load(text, Loader=loader)
        assert doc["events"] == [{"exe": "/tmp/\ufffd\ufffdx", "\ufffd": ["\ufffd"]}]
    # in the header and the footer (small: written by libyaml's dumper) too
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({**HEADER, "command": ["./\udcff"]}) + "\n"
                    + json.dumps({**FOOTER, "processes": [{"exe": "\udcff"}]}) + "\n")
    doc = yaml.safe_load(export(path))
    assert doc["command"] == ["./\ufffd"] and doc["processes"] == [{"exe": "\ufffd"}]


def test_every_line_but_header_and_footer_is_an_event_unchanged(tmp_path):
    events = [
        {"seq": 1, "syscall": "socket", "args": {"type": "SOCK_STREAM"}},
        {"type": "socket", "socket": {"id": 1, "family": "AF_INET", "local": None}},
        {"type": "header", "late": True},  # a header after the first line is no header
        {"seq": 2, "args": {"type": "footer"}, "data": "footer", '"footer"': "\"footer\""},
        {"type": "something-new", "x": [1, 2]},
        [1, "a list"], "a string", 3, None,
    ]
    lines = write_stream(tmp_path / "t.jsonl", events)
    text = export(tmp_path / "t.jsonl")
    assert_loads_as(text, expected(lines))
    assert list(yaml.safe_load(text)) == ["schema_version", "command", "cwd", "started_at",
                                          "tracer", "events", "exit_status", "processes",
                                          "complete"]


def test_an_event_is_one_line_as_msgspec_lays_it_out(tmp_path):
    events = [{"seq": 1, "ts_ns": 2, "pid": 3, "tid": 3, "syscall": "sendto",
               "args": {"fd": 3, "flags": [], "data": "GET / HTTP/1.1\\r\\n"}, "result": 16,
               "sock": [3, 1]}]
    write_stream(tmp_path / "t.jsonl", events, "msgspec")
    text = export(tmp_path / "t.jsonl")
    assert ('events:\n- {"seq": 1, "ts_ns": 2, "pid": 3, "tid": 3, "syscall": "sendto", '
            '"args": {"fd": 3, "flags": [], "data": "GET / HTTP/1.1\\\\r\\\\n"}, '
            '"result": 16, "sock": [3, 1]}\nexit_status: 0\n') in text
    assert text.startswith("schema_version: ") and text.endswith("complete: true\n")


def test_no_events_and_no_footer(tmp_path):
    write_stream(tmp_path / "t.jsonl", [])
    doc = yaml.safe_load(export(tmp_path / "t.jsonl"))
    assert doc["events"] == [] and doc["complete"] is True
    lines = write_stream(tmp_path / "t.jsonl", [{"a": 1}, {"b": 2}], footer=None)
    # a last line cut off by a crash ends the stream
    with open(tmp_path / "t.jsonl", "ab") as f:
        f.write(b'{"seq": 3, "cut')
    text = export(tmp_path / "t.jsonl")
    assert_loads_as(text, expected(lines, footer=False))
    assert "exit_status" not in text


def test_a_line_that_is_not_json_is_named(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(json.dumps(HEADER).encode() + b'\n{"a": 1}\n{"a": tru}\n')
    with pytest.raises(TraceFileError, match=f"{path}: line 3: not JSON"):
        export(path)
    path.write_bytes(json.dumps(HEADER).encode() + b'\n{"a": "\xff"}\n')
    with pytest.raises(TraceFileError, match=f"{path}: line 2: not UTF-8"):
        export(path)
    path.write_bytes(b'{"a": 1}\n')
    with pytest.raises(TraceFileError, match="line 1: not a trace header"):
        export(path)


@pytest.mark.parametrize("block", [1, 300, 1 << 18])
def test_made_a_piece_at_a_time_the_same_whatever_the_pieces(tmp_path, block):
    events: list[Any] = [{"seq": i, "data": "0123456789abcdef", "args": {"fd": 3}}
                         for i in range(3000)]
    events[1000] = {"seq": 1000, "data": "é1e5\x7f", "x": 1e300}  # written again
    events[2000] = {"seq": 2000, "x": math.inf}  # Infinity: not JSON to msgspec
    lines = write_stream(tmp_path / "t.jsonl", events)
    with mock.patch.object(trace_yaml, "BLOCK", block):
        chunks = list(tracefile.yaml_chunks(tmp_path / "t.jsonl"))
    if block < 1 << 18:
        assert len(chunks) > 10 and max(map(len, chunks)) < 20_000
    text = b"".join(chunks).decode()
    assert_loads_as(text, expected(lines))
    with mock.patch.object(trace_yaml, "BLOCK", 1 << 18):
        assert text == export(tmp_path / "t.jsonl")


def test_the_writer_exports_what_the_stream_holds(tmp_path):
    header, events, footer = HEADER, [{"seq": i, "ts_ns": i, "pid": 1, "tid": 1,
                                       "syscall": "write", "args": {"fd": 1, "data": s},
                                       "result": 0} for i, s in enumerate(TRICKY, 1)], FOOTER
    fields = {k: v for k, v in header.items() if k not in ("type", "schema_version")}
    for big in (False, True):  # the standard library's encoder, then msgspec's
        with mock.patch.object(tracefile, "BIG_BATCH", 1 if big else 10**9):
            for name in ("t.jsonl", "t.yaml"):
                w = tracefile.TraceWriter(tmp_path / name)
                w.start(fields)
                w.write(events)
                w.finish({k: footer[k] for k in ("exit_status", "processes")})
                assert w.error is None
        assert sorted(p.name for p in tmp_path.iterdir()) == ["t.jsonl", "t.yaml"]
        stream = (tmp_path / "t.jsonl").read_bytes().splitlines(keepends=True)
        assert_loads_as((tmp_path / "t.yaml").read_text(), expected(stream[1:-1]))
        assert tracefile.load(tmp_path / "t.yaml") == tracefile.load(tmp_path / "t.jsonl")


# -- generated documents -------------------------------------------------------------------

texts = st.text() | st.sampled_from(TRICKY)  # no lone surrogates (st.text() makes none)
keys = texts | st.integers(trace_yaml.LONG_KEY - 4, trace_yaml.LONG_KEY + 4).map(
    lambda n: "\\" + "k" * (n - 3))
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=16)
events = st.dictionaries(keys, values, max_size=6).filter(lambda e: e.get("type") != "footer")


@SETTINGS
@given(events=st.lists(events, max_size=5), encoder=st.sampled_from(sorted(ENCODERS)))
def test_generated_events_load_back_equal(tmp_path_factory, events, encoder):
    tmp = tmp_path_factory.mktemp("g")
    lines = write_stream(tmp / "t.jsonl", events, encoder)
    assert_loads_as(export(tmp / "t.jsonl"), expected(lines))


args = st.dictionaries(keys.filter(lambda k: k not in ARG_TYPES), values, max_size=5)


@settings(SETTINGS, max_examples=60)
@given(all_args=st.lists(args, min_size=1, max_size=4), big=st.booleans())
def test_generated_traces_read_back_equal(tmp_path_factory, all_args, big):
    tmp = tmp_path_factory.mktemp("t")
    events = [{"seq": i, "ts_ns": 100 + i, "pid": 7, "tid": 7, "syscall": "write",
               "args": a, "result": 0} for i, a in enumerate(all_args, 1)]
    fields = {k: v for k, v in HEADER.items() if k not in ("type", "schema_version")}
    paths = [tmp / "t.jsonl", tmp / "t.yaml"]
    with mock.patch.object(tracefile, "BIG_BATCH", 1 if big else 10**9):
        for path in paths:
            w = tracefile.TraceWriter(path)
            w.start(fields)
            w.write(events)
            w.finish({"exit_status": 0, "processes": []})
            assert w.error is None
    from_stream, from_yaml = (tracefile.load(p) for p in paths)
    assert from_yaml == from_stream
    assert tagged(from_yaml.to_dict()) == tagged(from_stream.to_dict())
