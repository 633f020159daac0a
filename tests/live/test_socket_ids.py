"""The tracer names each socket by an id that every event on it carries (through dup, fork,
threads, exec); the normalizer's walk over those ids must find what its walk over the fds
finds in a trace without them (the older trace files), call for call."""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.formats.model import Trace
from harness.normalize.sockets_walk import walk_sockets_by_fd, walk_sockets_by_id
from harness.normalize.syscalls import default_table
from livehelp import python_program, trace

pytestmark = pytest.mark.live


def without_ids(t: Trace) -> Trace:
    """The trace as a schema version 2 file holds it: no socket ids."""
    return replace(t, events=tuple(
        replace(e, ids=(), sock=replace(e.sock, id=None) if e.sock else None)
        for e in t.events))


def without_references(t: Trace) -> Trace:
    """The trace as a schema version 3 file holds it: no `released` (the walk by fds knows
    nothing of references)."""
    return replace(t, events=tuple(replace(e, released=()) for e in t.events))


@pytest.mark.parametrize("name", ["tcp_flags", "fds", "forksrv", "execfd", "closerange",
                                  "splice", "threaded.py", "data.py", "spawn.py"])
def test_the_walk_by_ids_is_the_walk_by_fds(cbin, scratch, name):
    if name.endswith(".py"):
        argv = python_program(name)
    else:
        args = {"fds": [scratch / "file"], "execfd": [scratch / "file"],
                "closerange": [scratch / "file"], "splice": [scratch / "file"]}.get(name, [])
        (scratch / "file").write_text("some bytes of a file\n" * 10)
        argv = [cbin[name], *args]
    t = trace(argv, cwd=scratch)
    assert t.exit_status == 0
    assert any(e.sock is not None and e.sock.id is not None for e in t.events)
    table = default_table()
    assert walk_sockets_by_id(without_references(t), table) == \
        walk_sockets_by_fd(without_ids(t), table)


def test_a_forked_child_keeps_the_socket_ids(cbin, scratch):
    """forksrv: the handler child echoes on the connection its parent accepted and closes
    its copy of the listener: the same two ids as in the parent, not new sockets."""
    t = trace([cbin["forksrv"]], cwd=scratch)
    parent, _client, handler = [p.pid for p in t.processes]
    listener = next(e.sock.id for e in t.events if e.pid == parent and e.syscall == "listen")
    accepted = next(e.sock.id for e in t.events if e.pid == parent and e.syscall == "accept")
    echoed = {e.sock.id for e in t.events if e.pid == handler
              and e.syscall in ("recvfrom", "sendto")}
    closed = {e.sock.id for e in t.events if e.pid == handler and e.syscall == "close"}
    assert echoed == {accepted} and closed == {listener, accepted}
    assert len({e.sock.id for e in t.events if e.sock is not None}) == 3  # and the client's
