"""Trace files: a JSON Lines stream written as it goes and named when whole, a YAML export
holding the same document, load(save(t)) == t, a cut-off stream read up to its last whole line,
version 1 documents still read, unreadable files reported in one message naming the file."""

from __future__ import annotations

import json

import pytest

from harness.formats import tracefile
from harness.formats.model import ProcessInfo, SocketIdentity, SyscallEvent, Trace, TracerInfo
from harness.formats.trace_base import SCHEMA_VERSION, TraceFileError


def sample_trace() -> Trace:
    """A trace with the values that are easy to get wrong in YAML: strings that look like
    numbers, booleans, null or dates, escapes, big and negative integers, floats, None,
    empty collections, shared sub-objects."""
    local = {"family": "AF_INET", "address": "127.0.0.1", "port": 40123}
    peer = {"family": "AF_INET6", "address": "::ffff:127.0.0.1", "port": 5, "flowinfo": 0,
            "scope_id": 0, "v4mapped": "127.0.0.1"}
    conn = SocketIdentity(fd=5, family="AF_INET", type="SOCK_STREAM", local=local, peer=peer)
    events = (
        SyscallEvent(seq=1, ts_ns=10, pid=42, tid=42, syscall="execve",
                     args={"exe": "/usr/bin/python3.11", "argv": ["python3", "-c", "yes"]},
                     result=0, kind="process"),
        SyscallEvent(seq=2, ts_ns=11, pid=42, tid=42, syscall="socket",
                     args={"domain": "AF_INET", "type": "SOCK_STREAM",
                           "type_flags": ["SOCK_CLOEXEC", "0x100000"], "protocol": 0},
                     result=3, fds=(3,),
                     sock=SocketIdentity(fd=3, family="AF_INET", type="SOCK_STREAM")),
        SyscallEvent(seq=3, ts_ns=12, pid=42, tid=43, syscall="accept4",
                     args={"fd": 3, "addr": peer, "flags": []}, result=5, fds=(5,), sock=conn),
        SyscallEvent(seq=4, ts_ns=13, pid=42, tid=43, syscall="recvfrom",
                     args={"fd": 5, "size": 64, "flags": ["MSG_DONTWAIT"]}, result=-11,
                     errno="EAGAIN", sock=conn),
        SyscallEvent(seq=5, ts_ns=14, pid=42, tid=43, syscall="sendto",
                     args={"fd": 5, "size": 100, "flags": [],
                           "data": "yes\\n\\x00\\\\ 'no' \"null\" ~ 0x10 1e3 2026-01-01 #x: -",
                           "data_len": 100, "data_truncated": True},
                     result=100, sock=conn),
        SyscallEvent(seq=6, ts_ns=15, pid=42, tid=42, syscall="epoll_ctl",
                     args={"epfd": 8, "op": "EPOLL_CTL_ADD", "fd": 5, "events": ["EPOLLIN"],
                           "user_data": (1 << 64) - 1}, result=0),
        SyscallEvent(seq=7, ts_ns=16, pid=42, tid=42, syscall="pselect6",
                     args={"nfds": 7, "readfds": [4, 6], "writefds": None, "exceptfds": None,
                           "ready": [], "timeout_ms": 4999.995914}, result=0),
        SyscallEvent(seq=8, ts_ns=17, pid=42, tid=42, syscall="accept", args={"fd": 3,
                                                                              "addr": None},
                     result=None),
        SyscallEvent(seq=9, ts_ns=18, pid=42, tid=42, syscall="exit", args={"signal": "SIGKILL"},
                     result=137, kind="process"),
    )
    return Trace(command=["/usr/bin/python3.11", "client.py", "true", "007", ""],
                 cwd="/work/main", started_at="2026-11-23T18:40:00.123456+00:00",
                 tracer=TracerInfo(mode="seccomp", data_bytes=64, fallback_reason=None),
                 exit_status=137,
                 processes=(ProcessInfo(pid=42, parent=None, exe="/usr/bin/python3.11",
                                        argv=["python3", "-c", "yes"], threads=[42, 43],
                                        exit_code=None, exit_signal="SIGKILL"),
                            ProcessInfo(pid=44, parent=42, exe=None)),
                 events=events)


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".yaml", ".yml"])
def test_round_trip(tmp_path, suffix):
    t = sample_trace()
    path = tmp_path / f"trace{suffix}"
    tracefile.save(t, path)
    back = tracefile.load(path)
    assert back == t
    assert back.to_dict() == t.to_dict()
    assert back.schema_version == SCHEMA_VERSION and back.complete


def lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_format_from_suffix_or_request(tmp_path):
    t = sample_trace()
    tracefile.save(t, tmp_path / "a.json")  # JSON Lines: a header, the events, a footer
    got = lines(tmp_path / "a.json")
    assert [d.get("type") for d in (got[0], got[-1])] == ["header", "footer"]
    assert got[1:-1] == t.to_dict()["events"]
    tracefile.save(t, tmp_path / "b.yaml")
    assert not (tmp_path / "b.yaml").read_text().lstrip().startswith("{")
    tracefile.save(t, tmp_path / "c.yaml", "jsonl")
    assert lines(tmp_path / "c.yaml")[0]["type"] == "header"
    assert tracefile.load(tmp_path / "c.yaml") == t  # read by content, not by name
    with pytest.raises(ValueError, match="xml"):
        tracefile.save(t, tmp_path / "d.yaml", "xml")
    assert not (tmp_path / "d.yaml").exists()


def test_the_stream_and_the_yaml_export_hold_the_same_document(tmp_path):
    import yaml

    t = sample_trace()
    from_yaml = yaml.safe_load(tracefile.dumps(t, "yaml"))
    stream = [json.loads(line) for line in tracefile.dumps(t, "jsonl").splitlines()]
    header, events, footer = stream[0], stream[1:-1], stream[-1]
    assert header == {"type": "header", "schema_version": SCHEMA_VERSION, "command": t.command,
                      "cwd": t.cwd, "started_at": t.started_at,
                      "tracer": t.tracer.to_dict()}
    assert footer == {"type": "footer", "exit_status": 137,
                      "processes": [p.to_dict() for p in t.processes], "events": 9}
    assert from_yaml == {**t.to_dict(), "complete": True}
    assert events == from_yaml["events"]
    assert list(from_yaml) == ["schema_version", "command", "cwd", "started_at", "tracer",
                               "exit_status", "processes", "events", "complete"]
    # the export made from a stream, piece by piece, is the same document
    path = tmp_path / "t.yaml"
    tracefile.save(t, path)
    assert yaml.safe_load(path.read_text()) == from_yaml


def test_a_stream_is_written_as_it_goes_and_named_when_whole(tmp_path):
    path = tmp_path / "t.jsonl"
    w = tracefile.TraceWriter(path)
    header, events, footer = tracefile.trace_stream(sample_trace())
    w.start(header)
    w.write(events[:4])
    # while it runs: only the .partial file, holding what was written so far
    assert [p.name for p in tmp_path.iterdir()] == ["t.jsonl.partial"]
    w.file.flush()
    cut = tracefile.load(tmp_path / "t.jsonl.partial")
    assert not cut.complete and len(cut.events) == 4 and cut.exit_status is None
    w.write(events[4:])
    w.finish(footer)
    assert [p.name for p in tmp_path.iterdir()] == ["t.jsonl"]
    assert tracefile.load(path) == sample_trace()


def test_a_stream_cut_off_mid_line_reads_up_to_its_last_whole_line(tmp_path):
    text = tracefile.dumps(sample_trace(), "jsonl")
    whole = text.splitlines(keepends=True)
    path = tmp_path / "t.jsonl"
    path.write_text("".join(whole[:6]) + whole[6][:20])  # a crash in the middle of a write
    t = tracefile.load(path)
    assert not t.complete
    assert [e.seq for e in t.events] == [1, 2, 3, 4, 5]
    assert t.processes == () and t.exit_status is None


def test_version_1_documents_are_still_read(tmp_path):
    import yaml

    doc = {**sample_trace().to_dict(), "schema_version": 1}
    del doc["complete"]
    (tmp_path / "v1.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "v1.json").write_text(json.dumps(doc, indent=1))
    for name in ("v1.yaml", "v1.json"):
        t = tracefile.load(tmp_path / name)
        assert t.schema_version == 1 and t.complete
        assert t.events == sample_trace().events


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "t.yaml"
    tracefile.save(sample_trace(), path)
    tracefile.save(sample_trace(), path)  # replacing an existing file
    assert [p.name for p in tmp_path.iterdir()] == ["t.yaml"]
    # a write that fails half way leaves the old file as it was, and no temporary file
    before = path.read_bytes()
    with pytest.raises(UnicodeEncodeError):
        tracefile.write_atomic(path, "half a file, then \ud800")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["t.yaml"]


def test_write_creates_missing_folders(tmp_path):
    path = tmp_path / "a" / "b" / "t.json"
    tracefile.save(sample_trace(), path)
    assert tracefile.load(path) == sample_trace()


@pytest.mark.parametrize("content, words", [
    ("events: [", "not a valid trace file"),
    ("{\"schema_version\": 1,", "not a valid trace file"),
    ("- just\n- a list\n", "top level is not a mapping"),
    ("schema_version: 6\n", "schema_version is 6, this harness reads 1, 2, 3, 4 and 5"),
    ("command: [x]\n", "schema_version is None"),
    ("schema_version: 1\ncwd: /\n", "missing field 'events'"),
    ("schema_version: 1\ncwd: /\nevents: []\n", "missing field 'command'"),
])
def test_bad_files_are_reported_with_their_name(tmp_path, content, words):
    suffix = ".json" if content.startswith("{") else ".yaml"
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(TraceFileError) as e:
        tracefile.load(path)
    message = str(e.value)
    assert str(path) in message and words in message


def test_missing_file(tmp_path):
    with pytest.raises(TraceFileError, match="cannot read"):
        tracefile.load(tmp_path / "nope.yaml")


def test_missing_event_field_is_a_trace_file_error(tmp_path):
    stream = tracefile.dumps(sample_trace(), "jsonl").splitlines()
    event = json.loads(stream[2])
    del event["syscall"]
    stream[2] = json.dumps(event)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(stream) + "\n")
    with pytest.raises(TraceFileError, match="syscall"):
        tracefile.load(path)


def test_a_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes(b"schema_version: 1\ncwd: \xff\n")
    with pytest.raises(TraceFileError, match=f"{path}: not a valid trace file: not UTF-8"):
        tracefile.load(path)


def test_optional_keys_are_omitted():
    t = sample_trace()
    doc = {"events": [json.loads(line) for line in
                      tracefile.dumps(t, "jsonl").splitlines()[1:-1]]}
    execve = doc["events"][0]
    assert "errno" not in execve and "fds" not in execve and "sock" not in execve
    assert execve["kind"] == "process"
    socket_ev = doc["events"][1]
    assert "kind" not in socket_ev and socket_ev["fds"] == [3]
    assert doc["events"][3]["errno"] == "EAGAIN"
    assert doc["events"][7]["result"] is None


def trace_with_ids() -> Trace:
    """A socket made, then bound (its identity changes once), then used through a dup'd fd."""
    made = SocketIdentity(fd=3, family="AF_INET", type="SOCK_STREAM", id=1, inode=77)
    local = {"family": "AF_INET", "address": "127.0.0.1", "port": 40123}
    bound = SocketIdentity(fd=3, family="AF_INET", type="SOCK_STREAM", local=local, id=1,
                           inode=77)
    dup = SocketIdentity(fd=9, family="AF_INET", type="SOCK_STREAM", local=local, id=1,
                         inode=77)
    ev = [SyscallEvent(seq=1, ts_ns=1, pid=5, tid=5, syscall="socket", args={}, result=3,
                       fds=(3,), sock=made),
          SyscallEvent(seq=2, ts_ns=2, pid=5, tid=5, syscall="bind", args={"fd": 3},
                       result=0, sock=bound),
          SyscallEvent(seq=3, ts_ns=3, pid=5, tid=5, syscall="listen", args={"fd": 3},
                       result=0, sock=bound),
          SyscallEvent(seq=4, ts_ns=4, pid=5, tid=5, syscall="dup", args={"oldfd": 3},
                       result=9, fds=(9,), sock=dup, ids=((9, 1),)),
          SyscallEvent(seq=5, ts_ns=5, pid=5, tid=5, syscall="close", args={"fd": 9},
                       result=0, sock=dup)]
    return Trace(command=["x"], cwd="/", started_at="", tracer=TracerInfo("seccomp", 64),
                 exit_status=0, processes=(), events=tuple(ev))


@pytest.mark.parametrize("fmt", ["jsonl", "yaml"])
def test_a_sockets_identity_is_written_once_per_change(tmp_path, fmt):
    text = tracefile.dumps(trace_with_ids(), fmt)
    if fmt == "jsonl":
        lines = [json.loads(line) for line in text.splitlines()]
        assert lines[0]["schema_version"] == SCHEMA_VERSION == 5
        kinds = ["socket" if d.get("type") == "socket" else d.get("syscall", d.get("type"))
                 for d in lines[1:]]
        # the identity before the socket call, again once bound; the dup'd fd names it
        assert kinds == ["socket", "socket", "socket", "bind", "listen", "dup", "close",
                         "footer"]
        assert lines[4]["sock"] == [3, 1] and lines[7]["sock"] == [9, 1]
        assert lines[1]["socket"] == {"id": 1, "family": "AF_INET", "type": "SOCK_STREAM",
                                      "local": None, "peer": None, "inode": 77}
        assert lines[-1]["events"] == 5
    path = tmp_path / f"t.{fmt}"
    path.write_text(text)
    assert tracefile.load(path) == trace_with_ids()


@pytest.mark.parametrize("edit, words", [
    # an event naming a socket no record has described
    (lambda lines: lines.pop(1), "line 2: field 'sock' names socket 1, of which no socket "
                                 "record comes before it"),
    (lambda lines: lines.__setitem__(1, '{"type":"socket","socket":{"id":"one"}}'),
     "line 2: not a socket record: field 'socket.id': expected int, got str"),
    (lambda lines: lines.__setitem__(2, lines[2].replace('"sock":[3,1]', '"sock":[3]')),
     "line 3: field 'sock' must be a list of 2 values, got [3]"),
    (lambda lines: lines.__setitem__(
        3, lines[3].replace('"port":40123', '"port":"40123"')),
     "line 4: not a socket record: field 'socket.local.port': expected int, got str"),
])
def test_a_broken_socket_record_or_reference_is_named(tmp_path, edit, words):
    lines = tracefile.dumps(trace_with_ids(), "jsonl").splitlines()
    edit(lines)
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceFileError) as e:
        tracefile.load(path)
    assert f"{path}: {words}" in str(e.value)


def test_a_schema_4_trace_still_reads(tmp_path):
    """Schema 4 carried each event's socket whole: read as it was."""
    lines = tracefile.dumps(trace_with_ids(), "jsonl").splitlines()
    docs = [json.loads(line) for line in lines]
    docs[0]["schema_version"] = 4
    out = []
    for d, e in zip([d for d in docs[1:-1] if d.get("type") != "socket"],
                    trace_with_ids().events):
        d["sock"] = e.sock.to_dict()
        out.append(json.dumps(d))
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join([json.dumps(docs[0]), *out, lines[-1]]) + "\n")
    import dataclasses

    assert tracefile.load(path) == dataclasses.replace(trace_with_ids(), schema_version=4)


def test_a_name_that_is_not_utf8_is_written_in_a_big_batch_too(tmp_path):
    """A path of bytes that are not UTF-8 (Python decodes them to lone surrogates) in a batch
    long enough for msgspec's encoder: written escaped, read back the same."""
    path = tmp_path / "t.jsonl"
    writer = tracefile.TraceWriter(path)
    writer.start({"command": ["/tmp/a\udcffb"], "cwd": "/", "started_at": "",
                  "tracer": {"mode": "seccomp", "data_bytes": 64, "fallback_reason": None}})
    events = [{"seq": i, "ts_ns": i, "pid": 1, "tid": 1, "syscall": "execve",
               "args": {"exe": "/tmp/a\udcffb", "argv": []}, "result": 0, "kind": "process"}
              for i in range(1, 300)]
    writer.write(events)
    writer.finish({"exit_status": 0, "processes": []})
    assert writer.error is None
    t = tracefile.load(path)
    assert len(t.events) == 299 and t.events[0].args["exe"] == "/tmp/a\udcffb"
