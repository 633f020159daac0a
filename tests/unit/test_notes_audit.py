"""Every sentence true of the run it explains (issue 17).

First the examples seen when the tool was tried on programs it has no samples for, each on a
hand-built trace: every one printed a note that was false of its run. Then what keeps them
from coming back: every step kind, attribute row and syscall of the table has a general note;
and an audit of every recorded set, each note shown checked against its selector's facts.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import fixtures_traces as ft
import pytest

from harness.compare.analyze import analyze

from harness.compare.results import Analysis, SampleResult
from harness.compare.align import MISSING
from harness.render.knowledge import default_knowledge
from harness.render.knowledge_match import StepFacts
from harness.render.knowledge_spec import RACE_ROWS, ROW_FACTS, DifferenceSelector
from harness.normalize.attributes import IOModel, SocketOption, Switch
from harness.normalize.attributes_derive import connection_ends
from harness.normalize.steps import Step
from harness.normalize.syscalls import default_table
from harness.render import notes as why
from harness.render.attribute_rows import io_model, options, wire_rows
from harness.render.explain import explain
from harness.wire.correlate import WireSide, correlate
from harness.wire.packets import Packet
from harness.wire.wirefile import Wire

SETS = Path(__file__).resolve().parents[1] / "golden" / "sets"
PORT = 40900


# -- building one sample against the reference -----------------------------------------------------

def versus(tmp_path: Path, role: str, trace: Any, scenario: str = "tcp",
           **record: Any) -> tuple[SampleResult, SampleResult]:
    """(the sample, the reference) of one role, the sample named `x` run beside the
    reference pair."""
    make_ref = {("tcp", "server"): ft.python_stdlib_server,
                ("tcp", "client"): ft.python_stdlib_client,
                ("tcp6", "server"): ft.python_stdlib_server6,
                ("tcp6", "client"): ft.python_stdlib_client6,
                ("udp", "server"): ft.python_stdlib_server_udp,
                ("udp", "client"): ft.python_stdlib_client_udp}
    ref = ft.PlannedRun(ft.run_record("python-stdlib", "python-stdlib", PORT, scenario=scenario),
                        make_ref[(scenario, "server")](PORT), make_ref[(scenario, "client")](PORT))
    server, client = ("x", "python-stdlib") if role == "server" else ("python-stdlib", "x")
    other = make_ref[(scenario, "client" if role == "server" else "server")](PORT + 1)
    run = ft.PlannedRun(ft.run_record(server, client, PORT + 1, scenario=scenario, **record),
                        trace if role == "server" else other,
                        trace if role == "client" else other)
    analysis = analyze(ft.write_trace_set(tmp_path / "traces", [ref, run]))
    sc = analysis.scenarios[0]
    table = next(t for t in sc.tables if t.role == role)
    return (next(s for s in table.samples if s.sample == "x"),
            next(s for s in table.samples if s.sample == "python-stdlib"))


def difference_ids(pair: tuple[SampleResult, SampleResult]) -> list[str | None]:
    return [dn.note.id if dn.note else None for dn in why.differences(*pair)]


def attribute_ids(pair: tuple[SampleResult, SampleResult]) -> dict[str, list[str]]:
    return {a.row: [n.id for n in a.notes] for a in why.attributes(*pair)}


def server(build: Any, pid: int = 7001, command: list[str] | None = None) -> Any:
    """A C-like server whose connection `build(b)` ends (it gets the builder after the
    echo, with the listener on fd 3 and the connection on 4)."""
    b = ft.TraceBuilder(pid=pid, command=command or ["/usr/bin/x-server"])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, ft.inet(ft.HOST, PORT + 1))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_CLOEXEC"])
    b.getsockname(4)
    b.recv(4, ft.MESSAGE)
    b.send(4, ft.MESSAGE)
    build(b)
    return b.build()


# -- the examples of the issue, each a note that was false of its run ------------------------------

def test_a_tcp_client_bind_is_not_explained_as_a_datagram_one(tmp_path: Path) -> None:
    """Tcl and gawk bind their TCP client socket to 0.0.0.0:0 before connecting."""
    b = ft.TraceBuilder(pid=7101, command=["/usr/bin/tclsh", "client.tcl"])
    b.socket(3, flags=["SOCK_CLOEXEC"])
    b.bind(3, ft.inet("0.0.0.0", 0))
    b.connect(3, ft.inet(ft.HOST, PORT + 1))
    b.send(3, ft.MESSAGE)
    b.recv(3, ft.MESSAGE)
    b.close(3)
    ids = difference_ids(versus(tmp_path, "client", b.build()))
    assert ids == ["stream-client-bind"]


def test_an_option_set_to_0_is_turned_off(tmp_path: Path) -> None:
    """Erlang sets SO_KEEPALIVE=0 and TCP_NODELAY=0: both off, not keepalive probing and
    Nagle turned off."""
    def opts(b: ft.TraceBuilder) -> None:
        b.setsockopt(4, "SOL_SOCKET", "SO_KEEPALIVE", 0)
        b.setsockopt(4, "SOL_TCP", "TCP_NODELAY", 0)
        b.close(4)
        b.close(3)
    ids = attribute_ids(versus(tmp_path, "server", server(opts)))["socket options"]
    assert ids == ["option-nodelay-off", "option-keepalive-off"]
    k = default_knowledge()
    assert "15 s" not in k.note("option-keepalive").text  # Go's, an example only


def test_shutdown_rdwr_is_not_a_half_close(tmp_path: Path) -> None:
    def end(b: ft.TraceBuilder) -> None:
        b.shutdown(4, "SHUT_RDWR")
        b.close(4)
        b.close(3)
    pair = versus(tmp_path, "server", server(end))
    assert difference_ids(pair) == ["full-shutdown"]
    assert attribute_ids(pair)["closing"] == ["closing-full-shutdown"]


def test_tcp6_samples_get_no_ipv4_reference_note(tmp_path: Path) -> None:
    """The tcp6 reference makes AF_INET6 sockets too: no "where the reference makes an
    AF_INET one"."""
    sample, ref = versus(tmp_path, "server", ft.c_server6(PORT + 1), scenario="tcp6")
    ids = {n.id for d in why.dialects(sample, ref) for n in d.notes}
    assert "ipv6-socket" not in ids and "cloexec-missing" in ids


def test_forked_processes_are_not_runtime_threads(tmp_path: Path) -> None:
    """A prefork server, a shell pipeline: processes, not the JVM's threads."""
    def fork(b: ft.TraceBuilder) -> None:
        b.fork(7002)
        b.close(4)
        b.close(3)
    ids = attribute_ids(versus(tmp_path, "server", server(fork)))["threads"]
    assert ids == ["processes"]


def test_a_socketpair_is_not_said_to_be_asyncio_s(tmp_path: Path) -> None:
    def pair(b: ft.TraceBuilder) -> None:
        b.close(4)
        b.close(3)
        b.socketpair((5, 6))
        b.close(5)
        b.close(6)
    sample, ref = versus(tmp_path, "server", server(pair, command=["/usr/bin/socat"]))
    [note] = attribute_ids((sample, ref))["unrelated sockets"]
    assert note == "unrelated-socketpair"
    text = why.note_line(default_knowledge().note(note))
    # asyncio's self-pipe is an example, said to be one, not the general fact
    assert "asyncio" not in default_knowledge().note(note).text
    assert "Examples (not from this run): asyncio's self-pipe" in text


def test_a_udp_socket_that_never_sends_is_no_probe(tmp_path: Path) -> None:
    def udp(b: ft.TraceBuilder) -> None:
        b.close(4)
        b.close(3)
        b.socket(5, type="SOCK_DGRAM", protocol="IPPROTO_UDP")
        b.bind(5, ft.inet("0.0.0.0", 0))
        b.close(5)
    ids = attribute_ids(versus(tmp_path, "server", server(udp)))["unrelated sockets"]
    assert "unrelated-probe" not in ids and ids == ["unrelated"]


def test_a_connected_udp_socket_closed_unused_is_the_probe(tmp_path: Path) -> None:
    def probe(b: ft.TraceBuilder) -> None:
        b.close(4)
        b.close(3)
        b.socket(5, type="SOCK_DGRAM", protocol="IPPROTO_UDP")
        b.connect(5, ft.inet("8.8.8.8", 53))
        b.close(5)
    ids = attribute_ids(versus(tmp_path, "server", server(probe)))["unrelated sockets"]
    assert ids == ["unrelated-probe"]


def test_end_of_file_at_the_first_receive_is_not_a_read_once_more(tmp_path: Path) -> None:
    ids = difference_ids(versus(tmp_path, "client", ft.python_stdlib_client_no_echo(PORT + 1)))
    assert ids == ["eof-first"]


def test_the_tty_probe_note_claims_no_fstat() -> None:
    note = default_knowledge().note("probes-tty")
    assert "fstat" not in note.text and "Perl" not in note.text
    assert any("Perl" in e for e in note.examples)


def test_segments_say_how_many_of_how_many() -> None:
    side = WireSide(role="client", protocol="tcp", closes_first="", ends_with="FIN",
                    half_close=None, data_segments=1, segments=5, last_state="CLOSED")
    assert dict(wire_rows(side))["segments sent (wire)"] == "5 segments, 1 with data"


def test_options_count_each_socket_apart() -> None:
    opts = [SocketOption(fd="listener", level="SOL_IP", name="IP_TOS", value=0)] + \
        [SocketOption(fd="conn", level="SOL_IP", name="IP_TOS", value=0)] * 5
    assert options(opts) == "IP_TOS=0 (listener, conn x5)"


def test_a_switch_around_no_call_says_so() -> None:
    text = io_model(IOModel(lasting=(), switches=(Switch("fcntl(O_NONBLOCK)", ()),)))
    assert "nothing only" not in text
    assert text == "blocking (fcntl(O_NONBLOCK) on and off, no call between)"


def test_no_connection_end_has_an_empty_name() -> None:
    table = default_table()
    steps = (Step(seqs=(1,), pid=1, tid=1, syscall="accept4", name="accept", args={},
                  result=5, fd="listener", creates=""),
             Step(seqs=(2,), pid=1, tid=1, syscall="recvfrom", name="recv",
                  args={"fd": 5}, result=5, fd=""),
             Step(seqs=(3,), pid=1, tid=1, syscall="close", name="close", args={}, result=0,
                  fd="conn"))
    assert "" not in {e.socket for e in connection_ends(steps, table)}


def test_a_killed_program_is_not_said_to_leave_the_close_to_its_exit(tmp_path: Path) -> None:
    """The harness killed the server while it waited for a second connection."""
    def blocked(b: ft.TraceBuilder) -> None:
        b.close(4)
        b.accept(3, 5, flags=["SOCK_CLOEXEC"])
        b.events[-1] = replace(b.events[-1], result=None, fds=(), args={"fd": 3, "addr": None,
                                                                        "flags": ["SOCK_CLOEXEC"]})
    sample, ref = versus(tmp_path, "server", server(blocked), outcome="timeout",
                         server_exit=137, detail="server did not exit within 10 s")
    ids = difference_ids((sample, ref))
    assert "never-closed-killed" in ids and "never-closed" not in ids
    assert "leaves it to the end of the process" not in explain_text(sample, ref)


def explain_text(sample: SampleResult, ref: SampleResult) -> str:
    return "\n".join(why.note_line(dn.note) for dn in why.differences(sample, ref) if dn.note)


def test_no_sentence_for_developers(tmp_path: Path) -> None:
    """A bind to [::], a shutdown(SHUT_RD), an extra sendfile...: never "no note yet"."""
    analysis = analyze(ft.handbuilt_scenarios(tmp_path / "set"))
    for sample in analysis.samples():
        text = explain(analysis, sample)
        assert "no note yet" not in text and "knowledge.yaml" not in text, sample
    k = default_knowledge()
    from harness.compare.align import EXTRA, Difference
    d = Difference(step=3, kind=EXTRA, expected=None, got="x")
    rd = Step(seqs=(1,), pid=1, tid=1, syscall="shutdown", name="shutdown", args={},
              result=0, fd="conn", qualifiers=("SHUT_RD",))
    assert k.for_difference(d, None, rd).id == "read-shutdown"
    sendfile = Step(seqs=(1,), pid=1, tid=1, syscall="sendfile", name="send", args={},
                    result=5, fd="conn")
    assert k.for_difference(d, None, sendfile).id == "extra-send"


# -- the wire: no TCP story without TCP, causes tracked, races named -----------------------------

def packet(ts: int, sender: str, flags: tuple[str, ...], seq: int = 0, ack: int = 0,
           length: int = 0) -> Packet:
    client, srv = ("127.0.0.1", 52940), ("127.0.0.1", PORT)
    src, dst = (client, srv) if sender == "client" else (srv, client)
    return Packet(ts_ns=ts, proto="tcp", src=src, dst=dst, length=length, flags=flags,
                  seq=seq, ack=ack)


def step(name: str, fd: str, seq: int, syscall: str | None = None, **kw: Any) -> Step:
    return Step(seqs=(seq,), pid=1, tid=1, syscall=syscall or name, name=name,
                args=kw.pop("args", {}), result=kw.pop("result", 0), fd=fd, **kw)


def test_a_udp_server_in_the_tcp_scenario_gets_no_tcp_wire_story() -> None:
    """The client's SYN answered by the server kernel's RST: no connection, no wire rows, and
    "neither FIN nor RST" is not an RST."""
    wire = Wire(port=PORT, protocol="tcp", dropped=0, packets=(
        packet(1, "client", ("SYN",), seq=100),
        packet(2, "server", ("RST", "ACK"), ack=101)))
    view = correlate(wire, {"client": [step("connect", "sock", 1)]}, {"client": {1: 3}})
    assert not view.connected
    k = default_knowledge()
    assert [n.id for n in k.for_attribute("ends with (wire)", [{"ends_with": "none"}])] == \
        ["wire-open"]


def close_run(client_steps: list[Step], times: dict[int, int], fin_at: int) -> Any:
    wire = Wire(port=PORT, protocol="tcp", dropped=0, packets=(
        packet(10, "client", ("SYN",), seq=100),
        packet(11, "server", ("SYN", "ACK"), seq=500, ack=101),
        packet(12, "client", ("ACK",), seq=101, ack=501),
        packet(fin_at, "client", ("FIN", "ACK"), seq=101, ack=501),
        packet(fin_at + 1, "server", ("FIN", "ACK"), seq=501, ack=102),
        packet(fin_at + 2, "client", ("ACK",), seq=102, ack=502)))
    server_steps = [step("listen", "listener", 1), step("accept", "listener", 2,
                                                        creates="conn"),
                    step("close", "conn", 3, args={"released": "conn"})]
    return correlate(wire, {"client": client_steps, "server": server_steps},
                     {"client": times, "server": {1: 5, 2: 13, 3: fin_at + 1}})


def test_the_fin_is_the_release_of_the_last_reference() -> None:
    """ncat hands the socket to an exec'd cat: the FIN goes when cat exits, not at ncat's
    close of its copy."""
    steps = [step("connect", "sock", 1),
             step("close", "sock", 2, syscall="exit", marks=("cat",),
                  args={"released": "sock"})]
    view = close_run(steps, {1: 12, 2: 1000}, fin_at=990)
    fin = next(w for w in view.packets if w.packet.has("FIN") and w.sender == "client")
    assert fin.call is not None and fin.call.label == "exit(cat), the last holder of sock"
    synack = next(w for w in view.packets if w.packet.has("SYN") and w.packet.has("ACK"))
    assert synack.call is not None and synack.call.label == "kernel, for listen(listener)"


def test_a_fin_after_a_shutdown_is_the_shutdown_s() -> None:
    steps = [step("connect", "sock", 1), step("shutdown", "sock", 2, qualifiers=("SHUT_WR",)),
             step("close", "sock", 3, args={"released": "sock"})]
    view = close_run(steps, {1: 12, 2: 400, 3: 2000}, fin_at=399)
    fin = next(w for w in view.packets if w.packet.has("FIN") and w.sender == "client")
    assert fin.call is not None and fin.call.name == "shutdown"


def test_a_syn_with_data_is_the_fastopen_send() -> None:
    wire = Wire(port=PORT, protocol="tcp", dropped=0, packets=(
        packet(10, "client", ("SYN",), seq=100, length=14),))
    steps = [step("send", "sock", 1, syscall="sendto", result=14,
                  args={"flags": ["MSG_FASTOPEN"]})]
    view = correlate(wire, {"client": steps}, {"client": {1: 11}})
    assert view.packets[0].call is not None and view.packets[0].call.name == "send"


def test_what_cannot_be_tied_says_so() -> None:
    wire = Wire(port=PORT, protocol="tcp", dropped=0, packets=(
        packet(10, "client", ("SYN",), seq=100),))
    view = correlate(wire, {"client": []}, {"client": {}})
    assert view.packets[0].call is not None
    assert view.packets[0].call.label == "no call of the trace"


def test_the_close_in_three_segments_gets_its_note() -> None:
    steps = [step("connect", "sock", 1), step("close", "sock", 2, args={"released": "sock"})]
    view = close_run(steps, {1: 12, 2: 1000}, fin_at=990)
    assert view.facts["server"].close_in_three and not view.facts["client"].close_in_three
    k = default_knowledge()
    ids = [n.id for n in k.for_attribute("closes first (wire)", [
        {"closes_first": "none", "close_in_three": True}])]
    assert ids == ["wire-close-in-three"]


def test_races_do_not_make_identical_samples_differ(tmp_path: Path) -> None:
    analysis = analyze(ft.handbuilt_tcp(tmp_path / "set"))
    table = analysis.scenarios[0].tables[0]
    ref = next(s for s in table.samples if s.sample == table.reference)
    c = next(s for s in table.samples if s.sample == "c")
    side = WireSide(role="server", protocol="tcp", closes_first="FIN", ends_with="FIN",
                    half_close=0, data_segments=1, segments=6, last_state="TIME_WAIT")
    other = replace(side, closes_first="", segments=5, last_state="CLOSED")
    assert c.verdict.matches
    rows = {a.row for a in why.attributes(replace(c, wire=side), replace(ref, wire=other))}
    assert not rows & RACE_ROWS


# -- every step kind, attribute row and syscall has a general note -----------------------------

def test_every_step_kind_row_and_syscall_has_a_general_note() -> None:
    from harness.normalize.rules import default_rules
    from harness.render.attribute_rows import WIRE_ROWS, attribute_rows

    k = default_knowledge()
    table = default_table()
    from harness.common.validate import read_yaml
    from harness.render.knowledge import KnowledgeError, SYSCALLS_FILE

    names = list((read_yaml(SYSCALLS_FILE, KnowledgeError).get("syscalls") or {}))
    assert set(names) <= set(k.syscalls)
    for name in names:  # each step kind: a call's canonical name
        kind = table.canonical(name)
        assert kind in k.syscalls or any(
            n.spec is not None and n.spec.difference is not None and n.general
            and kind in ([n.spec.difference.step] if isinstance(n.spec.difference.step, str)
                         else n.spec.difference.step) for n in k.notes), kind
    rows = {label for label, _ in attribute_rows(_empty_attributes())} | set(WIRE_ROWS)
    rows |= {r.params["tally"] for r in default_rules().rules if r.params.get("tally")}
    assert rows <= set(ROW_FACTS), rows - set(ROW_FACTS)
    for row in rows:
        assert k.for_attribute(row, [{}]), row


def _empty_attributes() -> Any:
    from harness.normalize.attributes import Attributes

    return Attributes(io_model=IOModel(lasting=()), readiness=(), readiness_calls=0,
                      backlogs=(), families=(), v4_mapped=False, socket_types=(),
                      datagrams=(), options=(), ends=(), tallies=(), eagain=0, threads=1,
                      processes=1, socket_threads=1, echo_calls=0, unrelated=())


# -- the audit: each note shown in a recorded set, checked against its selector's facts ---------

def _sets() -> list[str]:
    return sorted(d.name for d in SETS.iterdir() if d.is_dir()) + sorted(ft.TRACE_SETS)


@pytest.fixture(scope="module", params=_sets())
def recorded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Analysis:
    """Every recorded set (the habit corpus among them), and the hand-built ones."""
    if request.param in ft.TRACE_SETS:
        return analyze(ft.TRACE_SETS[request.param](tmp_path_factory.mktemp(request.param)))
    return analyze(SETS / request.param)


def _holds_of_attributes(result: SampleResult, facts: dict[str, Any]) -> bool:
    """The facts an attribute note names, checked against the sample's typed attributes and
    wire summary themselves (not the items the notes module made of them)."""
    assert result.normalized is not None
    a, w = result.normalized.attributes, result.wire
    checks = []
    if "option" in facts:
        checks.append(any(o.name == facts["option"] and not o.failed
                          and ("enabled" not in facts
                               or (o.value not in (0, "0")) == facts["enabled"])
                          for o in a.options))
    if "shutdown" in facts:
        checks.append(any(("shutdown", facts["shutdown"]) == (str(k), h)
                          for e in a.ends for k, h in e.steps))
    if "forked" in facts:
        checks.append((a.processes > 1) == facts["forked"])
    if "threaded" in facts:
        checks.append((a.threads > a.processes) == facts["threaded"])
    for name in ("closes_first", "ends_with", "last_state"):
        if name in facts:
            checks.append(w is not None and (getattr(w, name) or "none") == facts[name])
    if "after_fin" in facts:
        checks.append(w is not None and bool(w.half_close) == facts["after_fin"])
    return all(checks)


def _holds(sel: DifferenceSelector, facts: StepFacts, step: Step) -> bool:
    """The facts a difference note names hold of its step (checked apart from the matcher:
    the run's own record and steps)."""
    checks = [sel.transport in ("", facts.transport), sel.socket_type in ("", facts.socket_type),
              sel.family in ("", facts.family),
              sel.killed is None or sel.killed == facts.killed,
              sel.received_before is None or sel.received_before == facts.received_before,
              sel.socket_made is None or sel.socket_made == facts.socket_made,
              sel.outcome is None or sel.outcome == step.outcome,
              not sel.qualifier or sel.qualifier in step.qualifiers,
              sel.qualifiers_only is None or sel.qualifiers_only == facts.qualifiers_only]
    return all(checks)


def test_every_note_shown_holds_of_its_run(recorded: Analysis) -> None:
    audit(recorded)


def audit(recorded: Analysis) -> None:
    """Each note the analysis shows holds of its run: checked against the facts its selector
    names (tests/live/test_habit_verdicts.py runs it on the habit corpus too)."""
    for sc in recorded.scenarios:
        for table in sc.tables:
            ref = next((s for s in table.samples if s.sample == table.reference), None)
            if ref is None or ref.normalized is None:
                continue
            for result in table.samples:
                if result is ref or result.normalized is None:
                    continue
                killed = why.killed(result)
                for dn in why.differences(result, ref):
                    assert dn.note is not None, (result.sample, dn.difference)
                    spec = dn.note.spec
                    if spec is None or spec.difference is None:
                        continue
                    expected, got = why.difference_steps(result, ref, dn.difference)
                    s = expected if dn.difference.kind == MISSING else got
                    assert s is not None
                    facts = why.step_facts(result, dn.difference, s,
                                           expected if s is got else None)
                    assert _holds(spec.difference, facts, s), (result.sample, dn.note.id)
                    # a step kind's general note says the programs make the call otherwise
                    # (whether, how often, on which socket): never of the same call, socket
                    # and outcome that differs in a compared argument only
                    if facts.qualifiers_only and expected is not None and got is not None:
                        assert (expected.name, expected.fd, expected.outcome) == \
                            (got.name, got.fd, got.outcome)
                        assert not dn.note.general, (result.sample, dn.note.id)
                    if spec.difference.killed is False or dn.note.id == "never-closed":
                        assert not killed, (result.sample, dn.note.id)
                items = why.row_items(result)
                for an in why.attributes(result, ref):
                    for note in an.notes:
                        sel = note.spec.attribute if note.spec is not None else None
                        assert sel is not None and sel.row == an.row, note.id
                        if sel.facts():
                            assert any(note.about_item(an.row, item)
                                       for item in items.get(an.row, [])), \
                                (result.sample, an.row, note.id)
                        assert _holds_of_attributes(result, sel.facts()), \
                            (result.sample, an.row, note.id)
                        # the value printed agrees with the facts the note names
                        for name, want in sel.facts().items():
                            if name in ("option",):
                                assert want in an.value, (result.sample, note.id)
                            if name == "shutdown":
                                assert f"shutdown({want})" in an.value, (result.sample, note.id)
                    if an.row in RACE_ROWS:  # a race is no difference, unless an RST ended it
                        assert not result.verdict.matches or why._reset(result) \
                            or why._reset(ref), (result.sample, an.row)


def last_state_note(view: Any, role: str) -> tuple[str, list[str]]:
    """A side's last TCP state and the notes its row gets, from its items as the report
    builds them."""
    w = view.sides[role]
    items = [{"last_state": w.last_state, "closes_first": w.closes_first or "none",
              "ends_with": w.ends_with or "none"}]
    return w.last_state, [n.id for n in default_knowledge().for_attribute(
        "last TCP state (wire)", items)]


def test_a_side_that_ends_closed_is_told_how_it_got_there() -> None:
    """CLOSED comes three ways, and each note says only its own: closing second, an abort of
    its own (SO_LINGER 0, a close with unread bytes), the peer's reset."""
    handshake = (packet(10, "client", ("SYN",), seq=100),
                 packet(11, "server", ("SYN", "ACK"), seq=500, ack=101),
                 packet(12, "client", ("ACK",), seq=101, ack=501))
    server = [step("listen", "listener", 1), step("accept", "listener", 2, creates="conn"),
              step("close", "conn", 3, args={"released": "conn"})]
    client = [step("connect", "sock", 1), step("close", "sock", 2, args={"released": "sock"})]

    def view(*ending: Packet) -> Any:
        wire = Wire(port=PORT, protocol="tcp", dropped=0, packets=handshake + ending)
        return correlate(wire, {"client": client, "server": server},
                         {"client": {1: 12, 2: 50}, "server": {1: 5, 2: 13, 3: 40}})

    # the client closes first: the server closes second and ends CLOSED, the client TIME_WAIT
    v = view(packet(40, "client", ("FIN", "ACK"), seq=101, ack=501),
             packet(41, "server", ("FIN", "ACK"), seq=501, ack=102),
             packet(42, "client", ("ACK",), seq=102, ack=502))
    assert last_state_note(v, "server") == ("CLOSED", ["wire-closed"])
    assert last_state_note(v, "client")[0] == "TIME_WAIT"
    # the server aborts (RST): its own reset for it, the peer's for the client
    v = view(packet(40, "server", ("RST", "ACK"), seq=501, ack=101))
    assert last_state_note(v, "server") == ("CLOSED", ["wire-closed-abort"])
    assert last_state_note(v, "client") == ("CLOSED", ["wire-closed-reset"])
    # the client's FIN first, answered by the server's RST
    v = view(packet(40, "client", ("FIN", "ACK"), seq=101, ack=501),
             packet(41, "server", ("RST", "ACK"), seq=501, ack=102))
    assert last_state_note(v, "client") == ("CLOSED", ["wire-closed-reset-after-fin"])
    assert last_state_note(v, "server") == ("CLOSED", ["wire-closed-abort"])


def _nonblocking_server(wait: bool) -> Any:
    """A server whose sockets are SOCK_NONBLOCK: its accept and recv fail with EAGAIN once
    each, then succeed; with `wait` it polls before each retry, without it only retries."""
    b = ft.TraceBuilder(pid=7301, command=["/usr/bin/spin-server"])
    b.socket(3, flags=["SOCK_NONBLOCK"])
    b.bind(3, ft.inet(ft.HOST, PORT + 1))
    b.listen(3, 128)
    b.accept(3, 4, flags=["SOCK_NONBLOCK"], errno="EAGAIN")
    if wait:
        b.poll([3], ready=[3])
    b.accept(3, 4, flags=["SOCK_NONBLOCK"])
    b.recv(4, "", errno="EAGAIN")
    if wait:
        b.poll([4], ready=[4])
    b.recv(4, ft.MESSAGE)
    b.send(4, ft.MESSAGE)
    b.close(4)
    b.close(3)
    return b.build()


def test_a_non_blocking_program_is_said_to_wait_for_readiness_only_when_it_does(
        tmp_path: Path) -> None:
    """A non-blocking server that retries without epoll, poll or select (a sleep between)
    must not be told to wait in a readiness call, by the I/O model's note nor by the EAGAIN
    count's."""
    spins = attribute_ids(versus(tmp_path / "spin", "server", _nonblocking_server(False)))
    assert spins["I/O model"] == ["io-nonblocking-nowait"]
    assert spins["EAGAIN failures"] == ["eagain-nowait"]
    waits = attribute_ids(versus(tmp_path / "wait", "server", _nonblocking_server(True)))
    assert waits["I/O model"] == ["io-nonblocking"]
    assert waits["EAGAIN failures"] == ["eagain"]
    # the note on the dialect (socket(SOCK_NONBLOCK)) is chosen for both: it claims neither
    assert "the program waits" not in default_knowledge().note("nonblocking-socket").text


def test_a_send_made_from_another_socket_is_not_said_to_be_lost(tmp_path: Path) -> None:
    """A UDP server that answers from a second socket (as TFTP does): its echo socket never
    sends, but the run passed its echo check, so no note may say its peer got fewer bytes;
    when the echo check failed, that is what the note says."""
    b = ft.TraceBuilder(pid=7401, command=["/usr/bin/python3", "server.py"])
    b.socket(3, type="SOCK_DGRAM", flags=["SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.bind(3, ft.inet(ft.HOST, PORT + 1))
    b.recv(3, ft.MESSAGE, size=65536, addr=ft.inet(ft.HOST, 52940))
    b.socket(4, type="SOCK_DGRAM", flags=["SOCK_CLOEXEC"], protocol="IPPROTO_IP")
    b.send(4, ft.MESSAGE, addr=ft.inet(ft.HOST, 52940))
    b.close(4)
    b.close(3)
    trace = b.build()
    ok = versus(tmp_path / "ok", "server", trace, scenario="udp")
    assert difference_ids(ok) == ["missing-transfer-echoed"]
    lost = versus(tmp_path / "lost", "server", trace, scenario="udp", outcome="echo-mismatch",
                  client_stdout="")
    assert difference_ids(lost) == ["missing-transfer"]


@pytest.mark.parametrize("scenario, sent, note", [
    ("tcp", "", "extra-send-empty"), ("tcp", "x", "extra-send"),
    ("udp", "", "extra-send-empty-datagram")])
def test_an_extra_send_of_nothing_is_not_said_to_send_more_bytes(
        tmp_path: Path, scenario: str, sent: str, note: str) -> None:
    """A send of zero bytes before the echo (a keep-alive habit): on a stream socket nothing
    reaches the peer, on a datagram socket an empty datagram does; only a send of bytes
    makes its peer receive more than it sent."""
    dgram = scenario == "udp"
    b = ft.TraceBuilder(pid=7501, command=["/usr/bin/python3", "server.py"])
    b.socket(3, type="SOCK_DGRAM" if dgram else "SOCK_STREAM", flags=["SOCK_CLOEXEC"])
    b.bind(3, ft.inet(ft.HOST, PORT + 1))
    peer = ft.inet(ft.HOST, 52940)
    if dgram:
        b.recv(3, ft.MESSAGE, size=65536, addr=peer)
        b.send(3, ft.MESSAGE, addr=peer)
        b.send(3, sent, addr=peer)  # after the echo: the extra one is this
        b.close(3)
    else:
        b.listen(3, 128)
        b.accept(3, 4, flags=["SOCK_CLOEXEC"])
        b.getsockname(4)
        b.send(4, sent)
        b.recv(4, ft.MESSAGE)
        b.send(4, ft.MESSAGE)
        b.close(4)
        b.close(3)
    assert difference_ids(versus(tmp_path, "server", b.build(), scenario=scenario)) == [note]


def test_options_that_change_timing_have_notes_of_their_own(tmp_path: Path) -> None:
    """A receive timeout (as the kernel names it on x86-64: SO_RCVTIMEO_OLD) and a cork set and
    taken out each get their own note, not only the general one on options."""
    def opts(b: ft.TraceBuilder) -> None:
        b.setsockopt(4, "SOL_SOCKET", "SO_RCVTIMEO_OLD", {"sec": 5, "usec": 0})
        b.setsockopt(4, "SOL_TCP", "TCP_CORK", 1)
        b.setsockopt(4, "SOL_TCP", "TCP_CORK", 0)
        b.setsockopt(4, "SOL_SOCKET", "SO_LINGER", {"onoff": 1, "linger": 0})
        b.close(4)
        b.close(3)
    ids = attribute_ids(versus(tmp_path, "server", server(opts)))["socket options"]
    assert sorted(ids) == ["option-cork", "option-cork-off", "option-linger", "option-rcvtimeo"]
