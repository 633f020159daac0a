"""The two walks over a trace agree: the one by the tracer's socket ids (what every trace the
harness writes carries) and the one that follows fds (kept to read traces of schema versions 1
and 2, which carry no ids). Every hand-built trace is walked both ways: with its ids, and with
them taken away as an old tracer would have written it."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable

import fixtures_traces as ft
import pytest

from harness.formats.model import SyscallEvent, Trace
from harness.normalize.sockets_walk import SocketWalk, walk_sockets_by_fd, walk_sockets_by_id
from harness.normalize.syscalls import default_table

BUILDERS: dict[str, Callable[[], Trace]] = {
    name: fn for name, fn in vars(ft).items()
    if inspect.isfunction(fn) and fn.__module__ == ft.__name__
    and inspect.signature(fn).return_annotation in ("Trace", Trace)
}


def without_ids(trace: Trace) -> Trace:
    """The trace as a tracer of schema version 2 wrote it: no ids, no inodes, no `released`."""
    def old(ev: SyscallEvent) -> SyscallEvent:
        sock = ev.sock and dataclasses.replace(ev.sock, id=None, inode=None)
        return dataclasses.replace(ev, sock=sock, ids=(), released=())
    return dataclasses.replace(trace, events=tuple(old(e) for e in trace.events))


def facts(walk: SocketWalk) -> tuple[object, ...]:
    """What the normalizer reads of a walk, but which reference released a socket (schema 4's
    `released`, which only the ids carry)."""
    return (walk.sockets, dict(walk.named), dict(walk.created), dict(walk.touched))


def test_every_builder_is_walked() -> None:
    assert len(BUILDERS) >= 25, sorted(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_the_walk_by_id_and_the_walk_by_fd_agree(name: str) -> None:
    trace = BUILDERS[name]()
    table = default_table()
    assert any(e.sock is not None and e.sock.id is not None for e in trace.events)
    by_id = walk_sockets_by_id(trace, table)
    by_fd = walk_sockets_by_fd(without_ids(trace), table)
    assert facts(by_id) == facts(by_fd)
    assert by_id.references and not by_fd.references
