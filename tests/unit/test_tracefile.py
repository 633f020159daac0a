"""Trace files: YAML and JSON hold the same document, load(save(t)) == t, writes are atomic,
and unreadable files are reported in one message naming the file."""

from __future__ import annotations

import json

import pytest

from harness import tracefile
from harness.model import ProcessInfo, SocketIdentity, SyscallEvent, Trace, TracerInfo
from harness.tracefile import TraceFileError


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


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".yml"])
def test_round_trip(tmp_path, suffix):
    t = sample_trace()
    path = tmp_path / f"trace{suffix}"
    tracefile.save(t, path)
    back = tracefile.load(path)
    assert back == t
    assert back.to_dict() == t.to_dict()


def test_format_from_suffix_or_request(tmp_path):
    t = sample_trace()
    tracefile.save(t, tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text()) == t.to_dict()
    tracefile.save(t, tmp_path / "b.yaml")
    assert not (tmp_path / "b.yaml").read_text().lstrip().startswith("{")
    tracefile.save(t, tmp_path / "c.yaml", "json")
    assert json.loads((tmp_path / "c.yaml").read_text()) == t.to_dict()
    assert tracefile.load(tmp_path / "c.yaml") == t
    with pytest.raises(ValueError, match="xml"):
        tracefile.save(t, tmp_path / "d.yaml", "xml")
    assert not (tmp_path / "d.yaml").exists()


def test_yaml_and_json_hold_the_same_document(tmp_path):
    import yaml

    t = sample_trace()
    from_yaml = yaml.safe_load(tracefile.dumps(t, "yaml"))
    from_json = json.loads(tracefile.dumps(t, "json"))
    assert from_yaml == from_json == t.to_dict()
    assert list(from_yaml) == ["schema_version", "command", "cwd", "started_at", "tracer",
                               "exit_status", "processes", "events"]


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
    ("schema_version: 2\n", "schema_version is 2"),
    ("command: [x]\n", "schema_version is None"),
    ("schema_version: 1\ncwd: /\n", "missing or malformed"),
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
    doc = sample_trace().to_dict()
    del doc["events"][1]["syscall"]
    path = tmp_path / "t.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(TraceFileError, match="syscall"):
        tracefile.load(path)


def test_optional_keys_are_omitted():
    t = sample_trace()
    doc = json.loads(tracefile.dumps(t, "json"))
    execve = doc["events"][0]
    assert "errno" not in execve and "fds" not in execve and "sock" not in execve
    assert execve["kind"] == "process"
    socket_ev = doc["events"][1]
    assert "kind" not in socket_ev and socket_ev["fds"] == [3]
    assert doc["events"][3]["errno"] == "EAGAIN"
    assert doc["events"][7]["result"] is None
