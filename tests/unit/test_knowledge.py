"""The why notes: the knowledge file checked field by field, and the notes the reports attach to
differences, dialects and attributes of recorded runs (a difference no note fits says so)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.compare.analyze import analyze

from harness.compare.results import Analysis, SampleResult
from harness.render.knowledge import KnowledgeError, default_knowledge, load_knowledge
from harness.render import notes as why
from harness.render.explain import explain

SETS = Path(__file__).resolve().parents[1] / "golden" / "sets"


@pytest.fixture(scope="module")
def habits() -> Analysis:
    return analyze(SETS / "recorded-habits")


@pytest.fixture(scope="module")
def matrix() -> Analysis:
    return analyze(SETS / "recorded-matrix")


def pair(analysis: Analysis, sample: str, role: str = "server",
         scenario: str = "tcp") -> tuple[SampleResult, SampleResult]:
    sc = next(s for s in analysis.scenarios if s.name == scenario)
    table = next(t for t in sc.tables if t.role == role)
    ref = next(s for s in table.samples if s.sample == table.reference)
    return next(s for s in table.samples if s.sample == sample), ref


def difference_ids(analysis: Analysis, sample: str, role: str = "server",
                   scenario: str = "tcp") -> list[str | None]:
    return [dn.note.id if dn.note else None
            for dn in why.differences(*pair(analysis, sample, role, scenario))]


def test_the_packaged_notes_load_and_each_has_pages() -> None:
    k = default_knowledge()
    assert len(k.notes) >= 40
    assert all(n.see and n.text.count(".") >= 1 and len(n.title) < 60 for n in k.notes)


@pytest.mark.parametrize("sample, scenario, ids", [
    ("listener-closed-early", "tcp", ["listener-closed-early"]),
    ("peek-shutdown", "tcp", ["peek", "full-shutdown"]),
    # the harness killed it at the time limit, waiting for a second datagram (the kill
    # closed its socket: a close by exit, no difference)
    ("udp-waits-again", "udp", ["never-returned-killed"]),
    # bind and close on another socket than the reference's: the general notes of the step;
    # the listener it never made has nothing to close
    ("udp-in-tcp", "tcp", ["datagram-socket", "step-bind", "no-listen", "no-listen",
                           "missing-transfer", "missing-transfer", "step-close",
                           "never-made"]),
])
def test_each_habit_difference_gets_its_note(habits: Analysis, sample: str, scenario: str,
                                             ids: list[str | None]) -> None:
    assert difference_ids(habits, sample, scenario=scenario) == ids


def test_the_first_note_that_fits_wins(matrix: Analysis) -> None:
    """shutdown(listener, SHUT_WR) is the listener's note, not the half-close's."""
    from harness.compare.align import EXTRA, Difference
    from harness.normalize.steps import Step

    listener = Step(seqs=(1,), pid=1, tid=1, syscall="shutdown", name="shutdown", args={},
                    result=0, fd="listener", qualifiers=("SHUT_WR",))
    conn = Step(seqs=(1,), pid=1, tid=1, syscall="shutdown", name="shutdown", args={},
                result=0, fd="conn", qualifiers=("SHUT_WR",))
    d = Difference(step=7, kind=EXTRA, expected=None, got="x")
    k = default_knowledge()
    assert k.for_difference(d, None, listener).id == "shutdown-listener"
    assert k.for_difference(d, None, conn).id == "half-close"


def test_dialects_and_attributes_get_their_notes(matrix: Analysis) -> None:
    c, ref = pair(matrix, "c")
    dialects = {d.sample: {n.id for n in d.notes} for d in why.dialects(c, ref)}
    assert dialects["accept"] == {"accept-plain", "cloexec-missing"}
    assert dialects["socket"] == {"cloexec-missing"}
    attrs = {a.row: [n.id for n in a.notes] for a in why.attributes(c, ref)}
    assert attrs["listen backlog"] == ["backlog-max"]  # 4096, not the generic backlog note
    php, ref = pair(matrix, "php")
    assert "read-write" in {n.id for d in why.dialects(php, ref) for n in d.notes}


def test_no_difference_is_left_without_a_note(matrix: Analysis, habits: Analysis) -> None:
    """No sentence for developers: a difference without a note of its own gets its step's
    general note, or the general fact of its call from the syscall table."""
    text = explain(matrix, "connect-twice")
    assert "extra connect(sock2, 127.0.0.1:PORT)" in text
    assert "one more connect: The sample connects where the reference does not" in text
    assert "a second socket: The sample makes one more socket" in text
    for analysis in (matrix, habits):
        for sample in analysis.samples():
            out = explain(analysis, sample)
            assert why.NO_NOTE not in out and "knowledge.yaml" not in out, sample


def test_a_note_is_printed_once_then_named(matrix: Analysis) -> None:
    text = explain(matrix, "c")
    assert text.count("no close-on-exec flag: The descriptor is made") == 1
    assert "no close-on-exec flag (see above)" in text


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "knowledge.yaml"
    path.write_text(text)
    return path


NOTE = "  - {id: x, title: t, text: 'Some words.', see: [tcp(7)], %s}\n"


@pytest.mark.parametrize("selector, message", [
    ("difference: {step: recv, outcom: EOF}", "unknown field 'notes[0].difference.outcom'"),
    ("difference: {step: recv}, attribute: {row: x}", "needs one of difference, dialect, "
                                                      "attribute (has difference, attribute)"),
    ("colour: red, dialect: {mark: X}", "unknown field 'notes[0].colour'"),
    ("attribute: {row: x}", "field 'attribute.row': unknown row 'x'"),
    ("attribute: {row: closing, option: SO_LINGER}", "field 'attribute.option': the row "
                                                     "'closing' has no such fact"),
    ("attribute: {row: closing, value: 'RST'}", "unknown field 'notes[0].attribute.value'"),
    ("attribute: {row: closing, shutdown: SHUT_XX}", "field 'attribute.shutdown': 'SHUT_XX' "
                                                     "is not one of"),
    ("difference: {step: bind, socket_type: SOCK_DRAM}", "'SOCK_DRAM' is not one of"),
    ("difference: {step: bind, killed: yes please}", "difference.killed"),
    ("difference: {step: recv, change: vanished}", "unknown change 'vanished'"),
    ("dialect: {mark: [X]}", "field 'notes[0].dialect.mark' must be text"),
])
def test_a_broken_knowledge_file_names_the_file_and_the_field(tmp_path: Path, selector: str,
                                                              message: str) -> None:
    path = write(tmp_path, "notes:\n" + NOTE % selector)
    with pytest.raises(KnowledgeError) as e:
        load_knowledge(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value), str(e.value)


def test_manual_pages_and_ids_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "notes:\n" + NOTE % "dialect: {mark: X}" + NOTE % "dialect: {mark: Y}")
    with pytest.raises(KnowledgeError, match="id 'x' used twice"):
        load_knowledge(path)
    path = write(tmp_path, "notes:\n" + (NOTE % "dialect: {mark: X}").replace("tcp(7)", "tcp"))
    with pytest.raises(KnowledgeError, match=r"'tcp' is not a manual page"):
        load_knowledge(path)
