"""The one syscall table (harness/tables/syscalls.yaml): the tracer and the normalizer read the same
rows, and what one knows of a syscall the other can use."""

from __future__ import annotations

import pytest

from harness.normalize.syscalls import DEFAULT_SYSCALLS, default_table
from harness.tracer.effects import HANDLER, Effects
from harness.tracer.tables import SYSCALLS_FILE, TRACE_EFFECTS, load_syscalls, parse_syscalls


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


# -- the tracer's `effect` column ----------------------------------------------------------------

def test_every_effect_has_its_method_and_every_method_is_named_by_a_row() -> None:
    """The tracer calls one method per effect (Effects._effect_NAME): each effect a row names
    (or its class gives it) has one, the loader knows no other, and no method is left over."""
    methods = {n.removeprefix(HANDLER) for n in dir(Effects) if n.startswith(HANDLER)}
    table = load_syscalls()
    named = set(table.effects.values())
    assert named == methods, named ^ methods
    assert set(TRACE_EFFECTS) == methods, set(TRACE_EFFECTS) ^ methods
    assert set(table.effects) == set(table.classes)


def test_the_tracer_finishes_each_call_with_the_method_of_its_effect() -> None:
    from harness.tracer.core import Tracer

    tracer = Tracer()
    assert set(tracer.finishers) == set(tracer.classes)
    assert tracer.finishers["accept4"] == tracer._effect_accept
    assert tracer.finishers["epoll_pwait2"] == tracer._effect_epoll_wait
    assert tracer.finishers["fstat"] == tracer._effect_names_fd  # desc: its class's
    assert tracer.finishers["listen"] == tracer._effect_names_socket  # net: its class's


def test_a_row_without_effect_has_its_class_s() -> None:
    rows = {"read": {"trace": "io"}, "listen": {"trace": "net"}, "dup": {"trace": "fd",
                                                                          "effect": "dup"}}
    table = parse_syscalls({"syscalls": rows}, {"read": 0, "listen": 50, "dup": 32})
    assert table.effects == {"read": "names_fd", "listen": "names_socket", "dup": "dup"}


@pytest.mark.parametrize("row, message", [
    ({"trace": "fd", "effect": "shut"}, "t.yaml: syscalls.close.effect: not one of names_socket, "),
    ({"trace": "fd"}, "t.yaml: syscalls.close.effect: missing (the fd class has no default): "
                      "one of names_socket, "),
    ({"effect": "close"}, "t.yaml: syscalls.close.effect: only for a traced call (one with "
                          "`trace`)"),
])
def test_the_tracer_refuses_an_effect_it_has_no_method_for(row: dict, message: str) -> None:
    with pytest.raises(RuntimeError) as e:
        parse_syscalls({"syscalls": {"close": row}}, {"close": 3}, source="t.yaml")
    assert str(e.value).startswith(message) and "\n" not in str(e.value), str(e.value)


# -- the tracer's `decode` column ----------------------------------------------------------------

def test_every_traced_call_but_a_rings_has_the_decoder_its_row_names() -> None:
    import functools

    from harness.tracer.decode import Decoder
    from harness.tracer.tables import load_tables

    table = load_syscalls()
    decoder = Decoder(load_tables(), 64, table)
    uring = {n for n, c in table.classes.items() if c == "uring"}
    assert set(decoder.decoders) == set(table.classes) - uring
    assert decoder.decoders["bind"] == decoder.fd_addr  # named: `decode: fd_addr`
    assert decoder.decoders["accept4"] == decoder.accept4  # its own name
    fstat = decoder.decoders["fstat"]  # a desc call: the generic decoder
    assert isinstance(fstat, functools.partial) and fstat.func == decoder.desc


@pytest.mark.parametrize("method", ["fd_adr", "errno_name", "_words"])
def test_a_row_naming_no_decoder_is_refused_in_one_line(method: str) -> None:
    from harness.common.errors import HarnessError
    from harness.tracer.decode import Decoder
    from harness.tracer.tables import load_tables

    rows = {"bind": {"trace": "net", "decode": method}}
    table = parse_syscalls({"syscalls": rows}, {"bind": 49})
    with pytest.raises(HarnessError) as e:
        Decoder(load_tables(), 64, table)
    assert str(e.value) == (f"{SYSCALLS_FILE}: syscalls.bind.decode: no decoder {method!r} "
                            "(tracer/decode*.py)")


def test_decode_is_only_for_a_traced_call() -> None:
    with pytest.raises(RuntimeError) as e:
        parse_syscalls({"syscalls": {"gettid": {"decode": "rw"}}}, {"gettid": 186},
                       source="t.yaml")
    assert str(e.value).startswith("t.yaml: syscalls.gettid.decode: only for a traced call")
