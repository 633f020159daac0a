"""What the server's traced events tell the runner while it runs: that the server is ready
(its listen, or bind for UDP, succeeded on the run's address: the client starts), the port
it chose (`port: own`), and, once its client is done, whether it waits for the next peer
holding no connection (a server that serves forever: the harness stops it)."""

from __future__ import annotations

from typing import Any

from harness.formats.model import SyscallEvent
from harness.tables.scenario import Scenario


def ready_event(ev: SyscallEvent, scenario: Scenario, port: int, path: str | None) -> bool:
    """The server is ready once its `ready` call (listen, or bind for UDP) succeeded on the
    run's address (or on a socket whose address the tracer has not learned)."""
    if ev.syscall != scenario.ready or ev.result != 0:
        return False
    local = ev.sock.local if ev.sock is not None else None
    if not local:
        return True
    if path is not None:
        return local.get("path") == path
    return local.get("port") in (port, 0) if ev.syscall == "listen" else local.get("port") == port


def learned_port(ev: SyscallEvent, scenario: Scenario) -> int | None:
    """The port a server that chooses its own (`port: own`) is ready on: its `ready` call
    (listen; bind for UDP) succeeded on an IP socket of the scenario's kind; the port from
    the socket's address, or, for a listener never bound (the kernel gave it one), from the
    kernel's socket table by its inode."""
    if ev.syscall != scenario.ready or ev.result != 0 or ev.sock is None:
        return None
    if ev.sock.family not in ("AF_INET", "AF_INET6") or \
            ev.sock.type != ("SOCK_DGRAM" if scenario.port == "udp" else "SOCK_STREAM"):
        return None
    local = ev.sock.local or {}
    port = local.get("port") if ev.syscall == "listen" else \
        (ev.args.get("addr") or {}).get("port") or local.get("port")
    if isinstance(port, int) and port > 0:
        return port
    if ev.sock.inode:
        from harness.run.ports import port_of_inode

        return port_of_inode(ev.sock.inode, scenario.port or "tcp")
    return None


ACCEPTS = frozenset({"accept", "accept4"})


class Waiting:
    """What a server does once its client is done: is it waiting for the next peer (a
    `while True: accept` loop), so that the harness may stop it? Known from the tracer's
    calls in flight (a call whose exit it waits for) and the connections the server's
    events say it holds (accepted, their last reference not released)."""

    def __init__(self, forever: bool):
        self.forever = forever  # its manifest says `serves: forever`
        self.conns: set[int] = set()  # ids of the accepted sockets it holds
        self.calls: tuple[str, ...] = ()  # its calls in flight, at the last look
        self.looked = False

    def event(self, ev: SyscallEvent) -> None:
        if ev.syscall in ACCEPTS and not ev.failed and ev.sock is not None \
                and ev.sock.id is not None:
            self.conns.add(ev.sock.id)
        for i in ev.released:
            self.conns.discard(i)

    def look(self, tracer: Any, root: Any) -> bool:
        """Note the server's calls in flight (not once it is being killed: they are then
        the ones it was killed in); whether it waits for the next peer and holds no
        connection."""
        if root.done or root.timed_out:
            return False
        self.calls = tuple(tracer.names.get(t.nr, "?") for t in list(tracer.tasks.values())
                           if t.proc.root is root and t.nr >= 0)
        self.looked = True
        return self.waiting and not self.conns

    @property
    def waiting(self) -> bool:
        """Blocked in accept (or, `serves: forever`, every call in flight a wait for the next
        peer: an accept, a readiness wait, a datagram receive)."""
        if not self.calls:
            return False
        if not self.forever:
            return any(c in ACCEPTS for c in self.calls)
        from harness.normalize.syscalls import default_table

        table = default_table()
        return all(c in ACCEPTS or table.in_class(c, "readiness") or
                   table.in_class(c, "recv_like") for c in self.calls)
