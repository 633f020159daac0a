"""wire.pcapng as Wireshark reads it: live runs of the reference (tcp-session, whose 1000 and
100000-byte messages make frames longer than the 256 bytes kept, and tcp6) read back with tshark
and capinfos when they are installed (CI installs tshark; the tests are skipped without it).

- no expert info says a packet is cut ("IPv4 total length exceeds packet length"): each
  frame's original length is its whole length, the IP header's, and its captured bytes its
  first 256;
- wire.jsonl's `length` is that whole length too;
- every packet's comment names the call it comes from (or, for the kernel's own ACK, the call
  it acknowledges);
- frame N of the file is the packet the --wire timeline, the Mermaid diagram and the JSON
  report number N.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.compare.analyze import analyze

from harness.compare.results import RunResult
from harness.render import render
from harness.render.wire import mermaid, timeline
from harness.wire.capture import SNAPLEN
from harness.wire.packets import Packet, flags_text
from harness.wire.pcapng import comment

from e2ehelp import PYTHON, REPO

RUNS = ("tcp-session/python-stdlib--python-stdlib", "tcp6/python-stdlib--python-stdlib")
ETH = 14
FLAG_BITS = (("FIN", 0x01), ("SYN", 0x02), ("RST", 0x04), ("PSH", 0x08), ("ACK", 0x10),
             ("URG", 0x20), ("ECE", 0x40), ("CWR", 0x80))


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install tshark)")
    return path


@pytest.fixture(scope="module")
def traces(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("pcapng")
    r = subprocess.run([PYTHON, "-m", "harness", "verify", "python-stdlib", "--scenario",
                        "tcp-session", "--scenario", "tcp6", "--traces", str(folder),
                        "--samples", str(REPO)], cwd=REPO, capture_output=True, text=True,
                       timeout=300, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stdout + r.stderr
    for run in RUNS:
        record = (folder / run / "run.yaml").read_text()
        if "CAP_NET_RAW" in record:
            pytest.skip("no capture rights here")
    return folder


@pytest.fixture(scope="module")
def runs(traces: Path) -> dict[str, RunResult]:
    analysis = analyze(traces)
    found = {r.folder: r for sc in analysis.scenarios for r in sc.runs}
    for name in RUNS:
        assert found[name].wire is not None, found[name].wire_note
    return {name: found[name] for name in RUNS}


def frames(path: Path) -> list[dict[str, str]]:
    """tshark's fields of each frame."""
    names = ["frame.number", "frame.len", "frame.cap_len", "ip.len", "ipv6.plen", "tcp.flags",
             "frame.comment", "_ws.expert.message"]
    r = subprocess.run([tool("tshark"), "-n", "-r", str(path), "-T", "fields",
                        "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|",
                        *(x for name in names for x in ("-e", name))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [dict(zip(names, line.split("\t"))) for line in r.stdout.splitlines()]


@pytest.mark.parametrize("run", RUNS)
def test_tshark_finds_no_packet_cut_short(traces: Path, runs, run: str) -> None:
    path = traces / run / "wire.pcapng"
    got = frames(path)
    assert len(got) == len(runs[run].wire.packets)
    for f in got:
        assert "exceeds packet length" not in f["_ws.expert.message"], f
        assert "alformed" not in f["_ws.expert.message"], f
    r = subprocess.run([tool("tshark"), "-n", "-r", str(path), "-q", "-z", "expert,error"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Errors" not in r.stdout and "exceeds" not in r.stdout, r.stdout


@pytest.mark.parametrize("run", RUNS)
def test_original_lengths_are_the_ip_lengths(traces: Path, run: str) -> None:
    path = traces / run / "wire.pcapng"
    got = frames(path)
    for f in got:
        whole = ETH + (int(f["ip.len"]) if f["ip.len"] else 40 + int(f["ipv6.plen"]))
        assert int(f["frame.len"]) == whole, f
        assert int(f["frame.cap_len"]) == min(whole, SNAPLEN), f  # the bytes kept
    if run.startswith("tcp-session"):  # its long messages: frames longer than what is kept
        assert any(int(f["frame.len"]) > SNAPLEN for f in got)
    # wire.jsonl says the same: `length` the whole frame, `frame` the bytes kept
    lines = [json.loads(line) for line in (traces / run / "wire.jsonl").read_text().splitlines()]
    kept = [d for d in lines if "frame" in d]
    assert [d["length"] for d in kept] == [int(f["frame.len"]) for f in got]
    assert [len(d["frame"]) // 2 for d in kept] == [int(f["frame.cap_len"]) for f in got]


@pytest.mark.parametrize("run", RUNS)
def test_capinfos_counts_every_byte_of_every_packet(traces: Path, runs, run: str) -> None:
    path = traces / run / "wire.pcapng"
    r = subprocess.run([tool("capinfos"), "-M", "-c", "-d", "-e", str(path)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    fields = dict(line.split(":", 1) for line in r.stdout.splitlines() if ":" in line)
    view = runs[run].wire
    assert int(fields["Number of packets"].strip()) == len(view.packets)
    assert fields["Data size"].split()[0] == str(sum(w.packet.frame_length
                                                     for w in view.packets))


@pytest.mark.parametrize("run", RUNS)
def test_every_comment_names_its_call(traces: Path, runs, run: str) -> None:
    got = frames(traces / run / "wire.pcapng")
    view = runs[run].wire
    for f, w in zip(got, view.packets, strict=True):
        note = f["frame.comment"]
        assert note == comment(w)
        if w.call is not None:
            assert note.startswith(f"{w.sender}: {w.call.label}"), note
        else:  # the kernel's own ACK: the call whose bytes (or FIN) it acknowledges
            assert note.startswith(f"{w.sender}'s kernel"), note
            if w.acks is not None:
                assert w.acks.label in note, note
    # every segment that carries data or opens or ends the connection is a call's
    assert all(w.call is not None for w in view.packets
               if w.packet.length or w.packet.has("SYN") or w.packet.has("FIN"))


def flag_names(value: str) -> tuple[str, ...]:
    """tshark's tcp.flags (0x012) as the decoder names them."""
    return tuple(name for name, bit in FLAG_BITS if int(value, 16) & bit)


def flags_of(value: str) -> str:
    """tshark's tcp.flags as the views write them: `SYN-ACK`."""
    return flags_text(Packet(ts_ns=0, proto="tcp", src=("", 0), dst=("", 0), length=0,
                             flags=flag_names(value)))


@pytest.mark.parametrize("run", RUNS)
def test_frame_numbers_tie_the_views_to_the_pcapng(traces: Path, runs, run: str) -> None:
    got = {int(f["frame.number"]): f for f in frames(traces / run / "wire.pcapng")}
    result = runs[run]
    numbers = list(range(1, len(got) + 1))
    # the --wire timeline: a `frame` column, then the packet (`→ SYN-ACK ...`)
    lines = timeline(result)
    header = lines[1]
    column = header.index(" frame ") + 1
    numbered = {}
    for line in lines[3:]:
        number = line[column:].split(" ", 1)[0]
        if number:
            numbered[int(number)] = line[column + len(number):].split()[1]
    assert sorted(numbered) == numbers
    for n, what in numbered.items():
        assert what == flags_of(got[n]["tcp.flags"]), (n, what, got[n])
    # the Mermaid diagram: an arrow from the sender, `frame N: WHAT (call)`
    arrows = [re.fullmatch(r"    ([CS])->>[CS]: frame (\d+): (\S+)(?:[^(]*\((?:of )?(.*)\))?",
                           line) for line in mermaid(result) if "->>" in line]
    assert all(arrows) and [int(m[2]) for m in arrows] == numbers
    for m in arrows:
        f = got[int(m[2])]
        assert f["frame.comment"].startswith("client" if m[1] == "C" else "server"), (m[0], f)
        assert m[3] == flags_of(f["tcp.flags"]), (m[0], f)
        if m[4]:
            assert m[4].replace("#59;", ";").replace("#35;", "#") in f["frame.comment"], \
                (m[0], f)
    # the JSON report: each packet's `frame`
    doc = json.loads(render(analyze(traces), "json"))
    packets = next(r["wire"]["packets"] for sc in doc["scenarios"] for r in sc["runs"]
                   if r["folder"] == run)
    assert [p["frame"] for p in packets] == numbers
    for p in packets:
        assert set(p["flags"]) == set(flag_names(got[p["frame"]]["tcp.flags"])), p


def test_a_wire_file_with_cut_lengths_reads_whole(traces: Path, runs, tmp_path: Path) -> None:
    """wire.jsonl files written before the harness read the kernel's length have `length`
    equal to the bytes kept: they are read with the IP header's length (no tshark needed)."""
    from harness.wire.wirefile import read_wire

    run = RUNS[0]
    old = tmp_path / "wire.jsonl"
    lines = []
    for line in (traces / run / "wire.jsonl").read_text().splitlines():
        doc = json.loads(line)
        if "frame" in doc:
            doc["length"] = len(doc["frame"]) // 2
        lines.append(json.dumps(doc))
    old.write_text("\n".join(lines) + "\n")
    whole = [w.packet.frame_length for w in runs[run].wire.packets]
    assert any(n > SNAPLEN for n in whole)
    assert [p.frame_length for p in read_wire(old).packets] == whole


@pytest.mark.parametrize("v6", [False, True])
def test_the_whole_length_of_a_cut_frame(v6: bool) -> None:
    """(No capture needed.) The IP header's length of a frame cut at SNAPLEN: what the capture
    falls back on without PACKET_AUXDATA, and what an old wire file is read with."""
    import struct

    from harness.wire.capture import whole_length
    from harness.wire.packets import decode

    payload = b"x" * 1000
    tcp = struct.pack("!HHIIHHHH", 40000, 40123, 1, 1, (5 << 12) | 0x18, 65535, 0, 0)
    if v6:
        ip = struct.pack("!IHBB", 6 << 28, len(tcp) + len(payload), 6, 64) + \
            b"\0" * 15 + b"\1" + b"\0" * 15 + b"\1"
        eth = b"\0" * 12 + b"\x86\xdd"
    else:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), 0, 0, 64, 6,
                         0, b"\x7f\0\0\1", b"\x7f\0\0\1")
        eth = b"\0" * 12 + b"\x08\x00"
    frame = eth + ip + tcp + payload
    cut = frame[:SNAPLEN]
    assert whole_length(cut) == len(frame)
    p = decode(0, cut, len(cut))  # a length that says no more than the bytes kept
    assert p.frame_length == len(frame) and p.length == len(payload) and p.frame == cut
    assert decode(0, cut, len(frame) + 4).frame_length == len(frame) + 4  # a length given
    assert whole_length(frame[:60]) == len(frame) and whole_length(b"\0" * 60) == 60
    if not v6:  # a GSO packet's IPv4 total length of 0 says nothing
        gso = cut[:16] + b"\0\0" + cut[18:]
        assert whole_length(gso) == len(gso) and decode(0, gso).frame_length == len(gso)
