"""Alignment, verdicts, table rows; negative controls built by hand at the normalized level."""

from __future__ import annotations

from harness.render import words  # noqa: E402

import fixtures_traces as ft
import pytest

from harness.compare.align import (CHANGED, EXTRA, MATCH, MISSING, Pair, align, compare,
                                   merge_alignments)
from harness.normalize import Step, normalize


def kinds(pairs: tuple[Pair, ...]) -> str:
    return "".join({MATCH: "=", CHANGED: "~", EXTRA: "+", MISSING: "-"}[p.kind] for p in pairs)


# -- align -------------------------------------------------------------------------------------

@pytest.mark.parametrize("ref,got,expected", [
    ("", "", ""),
    ("abc", "abc", "==="),
    ("abc", "", "---"),
    ("", "ab", "++"),
    ("abc", "abxc", "==+="),
    ("abxc", "abc", "==-="),
    ("abc", "axc", "=-+="),  # unlike steps never pair up without `similar`
    ("abc", "ac", "=-="),
    ("ab", "ba", "-=+"),
])
def test_align_shapes(ref: str, got: str, expected: str) -> None:
    assert kinds(align(list(ref), list(got))) == expected


def test_align_is_a_true_edit_distance() -> None:
    ref, got = list("kitten"), list("sitting")
    pairs = align(ref, got, similar=lambda a, b: True)
    assert sum(p.kind != MATCH for p in pairs) == 3  # Levenshtein distance
    # every element appears once, in order
    assert [p.ref for p in pairs if p.ref is not None] == list(range(len(ref)))
    assert [p.got for p in pairs if p.got is not None] == list(range(len(got)))


def test_align_earliest_match_wins_so_the_second_copy_is_extra() -> None:
    pairs = align(list("rsc"), list("rssc"))
    assert kinds(pairs) == "==+="
    assert pairs[2] == Pair(None, 2, EXTRA)


def test_align_changed_only_for_similar_keys() -> None:
    ref = [("recv", "conn", ""), ("close", "conn", "")]
    got = [("recv", "conn", "EOF"), ("close", "conn", "")]
    assert kinds(align(ref, got, similar=lambda a, b: a[0] == b[0])) == "~="
    assert kinds(align(ref, got)) == "-+="


def test_align_long_sequences_quickly() -> None:
    ref = [i % 7 for i in range(1500)]
    got = ref[:700] + [99] + ref[700:]
    pairs = align(ref, got)
    assert sum(p.kind == EXTRA for p in pairs) == 1


# -- compare on hand-built canonical steps -----------------------------------------------------

def st(label: str, dialect: str | None = None) -> Step:
    """A canonical step from a short spec: 'accept listener>conn', 'recv conn !EOF'."""
    parts = label.split()
    name, fd = parts[0], parts[1] if len(parts) > 1 else ""
    creates, outcome = "", ""
    if ">" in fd:
        fd, creates = fd.split(">")
    for p in parts[2:]:
        if p.startswith("!"):
            outcome = p[1:]
    return Step(seqs=(1,), pid=1, tid=1, syscall=dialect or name, name=name, args={},
                result=0, fd=fd, creates=creates, outcome=outcome)


SERVER = [st("socket listener>listener"), st("bind listener"), st("listen listener"),
          st("accept listener>conn"), st("recv conn"), st("send conn"), st("close conn"),
          st("close listener")]
CLIENT = [st("socket sock>sock"), st("connect sock"), st("send sock"), st("recv sock"),
          st("close sock")]


def test_identical_despite_dialects() -> None:
    other = [st("socket listener>listener", "socket"), st("bind listener"),
             st("listen listener"), st("accept listener>conn", "accept4"),
             st("recv conn", "read"), st("send conn", "write"), st("close conn"),
             st("close listener")]
    v = compare(SERVER, other)
    assert v.status == "identical" and words.verdict_summary(v) == "identical" and v.matches


def test_negative_control_server_echoes_twice() -> None:
    got = SERVER[:6] + [st("send conn")] + SERVER[6:]
    v = compare(SERVER, got)
    assert v.status == "differs"
    assert words.verdict_summary(v) == "differs at step 7 (extra send(conn))"
    assert [(d.kind, d.got) for d in v.differences] == [("extra", "send(conn)")]


def test_negative_control_server_closes_before_echo() -> None:
    got = SERVER[:5] + SERVER[6:]
    v = compare(SERVER, got)
    assert words.verdict_summary(v) == "differs at step 6 (missing send(conn))"


def test_negative_control_client_connects_twice() -> None:
    got = [st("socket sock>sock"), st("connect sock"), st("close sock"),
           st("socket sock2>sock2"), st("connect sock2 !ECONNREFUSED"), st("close sock2")]
    v = compare(CLIENT, got)
    assert v.status == "differs"
    assert v.first_step is not None and v.first_step <= 3
    texts = [words.difference(d) for d in v.differences]
    assert "missing send(sock)" in texts
    assert "extra sock2 = socket()" in texts
    assert "extra connect(sock2) → ECONNREFUSED" in texts


def test_changed_step_reads_expected_got() -> None:
    got = CLIENT[:3] + [st("recv sock !EOF")] + CLIENT[4:]
    v = compare(CLIENT, got)
    assert words.verdict_summary(v) == "differs at step 4 (expected recv(sock), got recv(sock) → EOF)"


# -- negative controls from whole traces -------------------------------------------------------

def canonical(trace, role: str) -> tuple[Step, ...]:
    return normalize(trace, ft.run_record("x", "x"), role).steps


def test_negative_controls_from_traces() -> None:
    ref_s = canonical(ft.python_stdlib_server(), "server")
    ref_c = canonical(ft.python_stdlib_client(), "client")
    twice = compare(ref_s, canonical(ft.echo_twice_server(), "server"))
    assert words.verdict_summary(twice) == "differs at step 7 (extra send(conn))"
    early = compare(ref_s, canonical(ft.close_before_echo_server(), "server"))
    assert words.verdict_summary(early) == "differs at step 6 (missing send(conn))"
    connect2 = compare(ref_c, canonical(ft.connect_twice_client(), "client"))
    assert connect2.first_step == 3
    assert compare(ref_s, canonical(ft.c_server(), "server")).status == "identical"


# -- rows of a table ---------------------------------------------------------------------------

def test_merge_alignments_shares_rows_of_equal_extras() -> None:
    ref = list("abc")
    a, b, c = list("abxc"), list("axbc"), list("abxyc")
    alignments = [align(ref, g) for g in (a, b, c)]
    rows = merge_alignments(len(ref), alignments, [a, b, c])
    shape = [(r.ref, r.cells) for r in rows]
    assert shape == [(0, (0, 0, 0)), (None, (None, 1, None)), (1, (1, 2, 1)),
                     (None, (2, None, 2)), (None, (None, None, 3)), (2, (3, 3, 4))]


def test_merge_alignments_missing_steps_are_gaps() -> None:
    rows = merge_alignments(2, [align(list("ab"), list("b"))], [list("b")])
    assert [(r.ref, r.cells, r.kinds) for r in rows] == [(0, (None,), (None,)),
                                                         (1, (0,), (MATCH,))]


# -- negative controls of the other scenarios, at the normalized level -------------------------

def scenario_canonical(trace, scenario: str, role: str) -> tuple[Step, ...]:
    return normalize(trace, ft.run_record("x", "x", scenario=scenario), role).steps


def test_udp_client_that_never_waits_for_the_reply() -> None:
    ref = scenario_canonical(ft.python_stdlib_client_udp(), "udp", "client")
    v = compare(ref, scenario_canonical(ft.no_wait_client_udp(), "udp", "client"))
    assert words.verdict_summary(v) == "differs at step 3 (missing recv(sock))"


def test_udp_client_that_connects_first_differs_by_the_connect_only() -> None:
    ref = scenario_canonical(ft.python_stdlib_client_udp(), "udp", "client")
    v = compare(ref, scenario_canonical(ft.c_client_udp_connected(), "udp", "client"))
    assert words.verdict_summary(v) == "differs at step 2 (extra connect(sock, 127.0.0.1:PORT))"


def test_unix_server_that_never_listens_and_echoes_over_a_socketpair() -> None:
    ref = scenario_canonical(ft.python_stdlib_server_unix(), "unix", "server")
    v = compare(ref, scenario_canonical(ft.no_listen_server_unix(), "unix", "server"))
    assert v.first_step == 3
    assert [words.difference(d) for d in v.differences] == [
        "missing listen(listener)", "missing conn = accept(listener)", "missing recv(conn)",
        "missing send(conn)", "missing close(conn)"]


def test_session_client_that_sends_everything_before_reading() -> None:
    """Interleaved reference: send, recv, send, recv, send, recv. The batch client's second
    step after connect is a send where the reference receives: it differs there (step 4),
    and its first read holds the echoes of two messages."""
    ref = scenario_canonical(ft.python_stdlib_client_session(), "tcp-session", "client")
    got = scenario_canonical(ft.batch_client_session(), "tcp-session", "client")
    assert [s.label for s in got][2:5] == ["send(sock)"] * 3
    assert got[5].dialect == "recvfrom(messages 1-2)"
    v = compare(ref, got)
    assert v.first_step == 4
    # which of the receives went where cannot be told: missing and extra, not moves
    assert words.difference(v.differences[0]) == "missing recv(sock)"
    # the alignment puts the batch's second send against the reference's second send (step 5)
    assert v.alignment[4] == Pair(4, 3, MATCH)


def steps_of(*labels: str) -> list[Step]:
    """Canonical steps from labels `name(fd)`, enough for the alignment."""
    out = []
    for label in labels:
        name, fd = label.rstrip(")").split("(")
        out.append(Step(seqs=(len(out) + 1,), pid=1, tid=1, syscall=name, name=name, args={},
                        result=0, fd=fd))
    return out


def test_a_step_made_elsewhere_is_a_move_not_an_extra_and_a_missing() -> None:
    """Tcl closes its listener right after accept: the same calls as the reference, one of
    them earlier."""
    ref = steps_of("socket(listener)", "bind(listener)", "listen(listener)", "accept(listener)",
                   "recv(conn)", "send(conn)", "close(conn)", "close(listener)")
    got = steps_of("socket(listener)", "bind(listener)", "listen(listener)", "accept(listener)",
                   "close(listener)", "recv(conn)", "send(conn)", "close(conn)")
    v = compare(ref, got)
    assert v.status == "differs"
    assert [words.difference(d) for d in v.differences] == ["close(listener) moved from step 8 to step 5"]
    assert v.first_step == 5
    moved = [p for p in v.alignment if p.kind in ("moved", "moved away")]
    assert moved == [Pair(None, 4, "moved", partner=7), Pair(7, None, "moved away", partner=4)]
    # a step that is only extra, or only missing, is not a move
    v = compare(ref, got[:4] + got[5:])
    assert [words.difference(d) for d in v.differences] == ["missing close(listener)"]
    # nor one of several like steps: the second of two sends made later is an extra send
    v = compare(ref[:5] + [ref[5], ref[5]] + ref[6:], ref[:5] + [ref[5]] + ref[6:7]
                + [ref[5]] + ref[7:])
    assert {d.kind for d in v.differences} <= {"extra", "missing"}


def test_session_implementations_with_other_pieces_are_identical() -> None:
    for scenario_role, ref_builder, other in (
            ("server", ft.python_stdlib_server_session, ft.c_server_session),
            ("client", ft.python_stdlib_client_session, ft.c_client_session)):
        ref = scenario_canonical(ref_builder(), "tcp-session", scenario_role)
        assert compare(ref, scenario_canonical(other(), "tcp-session",
                                               scenario_role)).status == "identical"


def test_tcp6_wildcard_bind_is_the_same_step_its_dialect_shows_the_address() -> None:
    """A bind of every interface ([::]) on the run's port is the run's address's step
    (issue 19): the dialect shows the address named, the "address" attribute what it is."""
    ref = scenario_canonical(ft.python_stdlib_server6(), "tcp6", "server")
    got = scenario_canonical(ft.c_server6(), "tcp6", "server")
    v = compare(ref, got)
    assert v.status == "identical"
    bind = next(s for s in got if s.name == "bind")
    assert bind.label == "bind(listener, [::1]:PORT)"
    assert bind.dialect == "bind([::]:PORT)"
