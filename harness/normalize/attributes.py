"""A sample's attributes: what the canonical level folds away, kept visible, as values.

They are read off the socket view (every call on the echo's sockets, nothing folded), what the
socket rules set aside and the trace's process list: I/O model, readiness API, backlog,
address family and socket type, how datagrams are addressed, socket options, how each
connection ends, the calls rules counted (runtime probes), EAGAIN and readiness counts,
threads, unrelated socket activity. Counts such as EAGAIN vary from run to run: they are
metrics, never compared. This module holds what they are (`Attributes` and its parts); how
each is read off a trace is harness/normalize/attributes_derive.py. What they are called in a
report is harness/render/attribute_rows.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from harness.normalize.sockets import SocketDescription


@dataclass(frozen=True, slots=True)
class SocketOption:
    """One setsockopt on an echo socket."""

    fd: str  # symbolic socket name (listener, conn, sock)
    level: str  # SOL_SOCKET, SOL_TCP, ... (or the number)
    name: str  # SO_REUSEADDR, TCP_NODELAY, ... (or the number)
    value: Any  # as decoded: an int, {onoff, linger}, escaped bytes
    failed: str | None = None  # errno name when the call failed
    # Who set it: "sample" (its own code) or "runtime" (its library, by itself), known only
    # when the sample's manifest lists the options it sets (see declare_own_options);
    # "unknown" until then: the trace alone cannot tell.
    origin: str = "unknown"


@dataclass(frozen=True, slots=True)
class CallCount:
    """Calls of one kind that a rule folded away and counted (a tally: "runtime probes")."""

    call: str  # syscall name
    detail: str | None  # what it asked (ioctl TCGETS, fcntl F_GETFL, getsockopt SO_TYPE)
    errno: str | None  # how it failed, when it did
    count: int  # how many such calls


@dataclass(frozen=True, slots=True)
class UnrelatedSocket:
    """Socket activity that is not the echo's (self-pipes, probe sockets, resolvers)."""

    what: SocketDescription  # what the sockets are
    sockets: int  # how many sockets of that description
    calls: int  # how many calls were made on them
    call_counts: tuple[tuple[str, int], ...]  # which calls: (socketpair, 1), (ioctl, 2)...


@dataclass(frozen=True, slots=True)
class Switch:
    """A socket made non-blocking and blocking again (PHP's streams connect that way)."""

    how: str  # ioctl(FIONBIO) | fcntl(O_NONBLOCK)
    around: tuple[str, ...]  # the calls made while it was non-blocking


@dataclass(frozen=True, slots=True)
class IOModel:
    """How the echo sockets avoid blocking, if they do."""

    lasting: tuple[str, ...]  # ways they stay non-blocking, in order of first use
    switches: tuple[Switch, ...] = ()  # non-blocking for a few calls only
    # signal-driven I/O (SIGIO when a socket is ready): the calls that asked for it, in order
    # of first use (fcntl(F_SETOWN), fcntl(O_ASYNC), ioctl(FIOASYNC)); () when none did
    signal_driven: tuple[str, ...] = ()
    # by socket (its name in the steps): those made non-blocking for good, and those that
    # accepted, connected or moved data blocking (a listener non-blocking for an event loop's
    # accept, its connections blocking)
    nonblocking: tuple[str, ...] = ()
    blocking_sockets: tuple[str, ...] = ()

    @property
    def blocking(self) -> bool:
        return not self.lasting

    @property
    def partly(self) -> bool:
        """Not blocking, yet some of the echo's sockets accepted, connected or moved data in
        blocking mode (a non-blocking listener's connections; MSG_DONTWAIT on some calls of
        a blocking socket)."""
        return not self.blocking and bool(self.blocking_sockets)


@dataclass(frozen=True, slots=True)
class ReadinessUse:
    """One readiness API the echo sockets were given to."""

    api: str  # epoll | poll | select
    waits: tuple[str, ...]  # the calls that waited (epoll_wait, ppoll...); () registered only
    edge_triggered: bool | None = None  # epoll: EPOLLET on the sockets added


@dataclass(frozen=True, slots=True)
class UringUse:
    """The echo's calls made through io_uring (trace schema 4: `kind: uring` events)."""

    operations: int  # io_uring operations on the echo's sockets
    enters: int  # io_uring_enter calls on the rings that carried them
    # rings set up with IORING_SETUP_SQPOLL: a kernel thread takes their submissions, without
    # an io_uring_enter, so what they do is not seen
    unseen_rings: int = 0


class EndStep(StrEnum):
    """One thing that happened to a connection as it ended."""

    SHUTDOWN = "shutdown"  # shutdown(how)
    READS_TO_EOF = "reads to EOF"  # a receive returned end of file
    WAITS_FOR_EOF = "waits for EOF"  # ... after its own shutdown(SHUT_WR): the peer's
    EOF_AT_ONCE = "EOF at once"  # ... after its own SHUT_RD/SHUT_RDWR: at once
    CLOSE = "close"
    # the last reference went otherwise (trace schema 4 says which event released it)
    EXITED = "exited"  # with the exit of the last process that held it (its program)
    EXEC = "exec"  # at an exec, close-on-exec (the program exec'd)
    REPLACED = "replaced"  # its last fd replaced by a dup2/dup3 (the call)
    NEVER_CLOSED = "never closed"


@dataclass(frozen=True, slots=True)
class ConnectionEnd:
    """How one connection (accepted, connected, or carrying data) was given up."""

    socket: str  # conn, sock ...
    steps: tuple[tuple[EndStep, str | None], ...]  # (what, shutdown's how or None), in order


class Addressing(StrEnum):
    """How a datagram socket names its peer."""

    SENDTO = "sendto"  # an address on every sendto
    CONNECT_SEND = "connect+send"  # connect once, then plain sends
    CONNECT_SENDTO = "connect+sendto"  # connect, and addresses anyway
    SEND_WITHOUT_ADDRESS = "send"  # sends without address and no connect
    NEVER_SENDS = "never sends"


@dataclass(frozen=True, slots=True)
class DatagramSocket:
    socket: str  # sock ...
    addressing: Addressing


class AddressKind(StrEnum):
    """What the address an echo socket binds or connects to is, beside the run's."""

    RUN = "run"  # the run's address (its host, or its socket path)
    EVERY_INTERFACE = "every interface"  # 0.0.0.0, [::]: a bind of every address
    HOST_NAME = "host name"  # what the host name resolves to (127.0.1.1 on Debian)
    LOOPBACK = "loopback"  # another loopback address (127.0.0.0/8)
    OTHER = "other"  # another address of this machine


@dataclass(frozen=True, slots=True)
class NamedAddress:
    """An address an echo socket was bound or connected to on the run's port."""

    socket: str  # listener, sock ...
    call: str  # bind | connect
    kind: AddressKind
    address: str  # the address as it was named, without its port (0.0.0.0, ::, 127.0.1.1)


@dataclass(frozen=True, slots=True)
class Attributes:
    """What a sample's canonical sequence leaves out."""

    io_model: IOModel
    readiness: tuple[ReadinessUse, ...]  # by API, in order of first use
    readiness_calls: int  # readiness calls that involved an echo socket (a metric)
    backlogs: tuple[Any, ...]  # listen backlogs, each once (ints as the program gave them)
    families: tuple[str, ...]  # address families of the echo sockets
    v4_mapped: bool  # IPv4 reached through v4-mapped IPv6 addresses
    socket_types: tuple[str, ...]  # SOCK_STREAM, SOCK_DGRAM ...
    datagrams: tuple[DatagramSocket, ...]  # how each datagram echo socket is addressed
    options: tuple[SocketOption, ...]  # every setsockopt on the echo sockets, in order
    ends: tuple[ConnectionEnd, ...]  # how each connection ended
    tallies: tuple[tuple[str, tuple[CallCount, ...]], ...]  # calls rules folded and counted
    eagain: int  # calls on echo sockets that failed with EAGAIN (a metric)
    threads: int  # threads seen in all traced processes
    processes: int  # traced processes
    socket_threads: int  # threads that made calls on the echo sockets
    echo_calls: int  # calls on the echo sockets (the socket view's length)
    unrelated: tuple[UnrelatedSocket, ...]  # other socket activity, by kind of socket
    uring: UringUse | None = None  # the echo's io_uring operations, when it made any
    # the addresses the echo's sockets bound or connected to, each once (empty without the
    # run, or for a datagram client that only sends to its peer)
    addresses: tuple[NamedAddress, ...] = ()


def declare_own_options(attrs: Attributes, own: Iterable[str]) -> Attributes:
    """The hook for a sample manifest that lists the options its own code sets: those become
    origin "sample", every other option "runtime"."""
    own = set(own)
    options = tuple(replace(o, origin="sample" if o.name in own else "runtime")
                    for o in attrs.options)
    return replace(attrs, options=options)
