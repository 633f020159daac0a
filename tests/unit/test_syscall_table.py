"""The one syscall table (harness/tables/syscalls.yaml): the tracer and the normalizer read the same
rows, and what one knows of a syscall the other can use."""

from __future__ import annotations

from harness.normalize.syscalls import DEFAULT_SYSCALLS, default_table
from harness.tracer.tables import SYSCALLS_FILE, load_syscalls


def test_both_read_the_same_file() -> None:
    assert DEFAULT_SYSCALLS.resolve() == __import__("pathlib").Path(SYSCALLS_FILE).resolve()


def test_every_call_the_normalizer_classes_is_recorded_by_the_tracer() -> None:
    tracer, normalizer = load_syscalls(), default_table()
    process = normalizer.classes["process"]
    named = {name for names in normalizer.classes.values() for name in names}
    assert named - process <= set(tracer.classes), named - process - set(tracer.classes)
    # transfers carry data: each is a receive or a send
    for name in tracer.transfers:
        assert normalizer.in_class(name, "recv_like") or normalizer.in_class(name, "send_like")
    # every alias folds a recorded call into a canonical name the textbooks use
    assert set(normalizer.aliases) <= set(tracer.classes)
    assert set(normalizer.aliases.values()) == {"accept", "recv", "send"}
    # the readiness calls of the two views are the same calls
    assert normalizer.classes["readiness"] == {
        n for n, c in tracer.classes.items() if c == "readiness"}
