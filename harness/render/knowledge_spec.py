"""What a knowledge file (harness/render/knowledge.yaml) may say: the records it is checked
against field by field (a note, and its one selector: a difference, a dialect or an attribute),
and the vocabulary its selectors use: the changes a difference may be, the attribute rows and
the facts each row's items have (ROW_FACTS), the values a fact may take where they are few
(FACT_VALUES), and the wire rows one run's timing decides (RACE_ROWS).

Loading and checking a file is harness/render/knowledge.py; choosing notes by a run's facts is
harness/render/knowledge_match.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from harness.compare.align import CHANGED, EXTRA, MISSING, MOVED

CHANGES = {str(c): c for c in (EXTRA, MISSING, CHANGED, MOVED)}
TRANSPORTS = ("tcp", "udp", "unix")
SOCKET_TYPES = ("SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET", "SOCK_RAW")
FAMILIES = ("AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK")
SHUTDOWNS = ("SHUT_RD", "SHUT_WR", "SHUT_RDWR")
WIRE_ENDS = ("FIN", "RST", "none")
TCP_STATES = ("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT_1",
              "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT")

# each attribute row (as the tables name it) -> the facts its items have (the fields of
# AttributeSelector a note about that row may name); a row's items are made by
# harness/render/notes.py from the sample's typed attributes and wire summary
ROW_FACTS: dict[str, frozenset[str]] = {
    "I/O model": frozenset({"blocking", "partly", "waits", "uses"}),
    "readiness API": frozenset({"api", "waits"}),
    "readiness calls": frozenset(),
    "listen backlog": frozenset({"backlog_max"}),
    "address family": frozenset({"family", "mapped"}),
    "address": frozenset({"named"}),
    "socket type": frozenset({"socket_type"}),
    "addressing": frozenset({"addressing"}),
    "socket options": frozenset({"option", "enabled"}),
    "closing": frozenset({"shutdown", "released", "never_closed"}),
    "runtime probes": frozenset({"call", "detail", "none"}),
    "fd copies": frozenset({"call", "none"}),
    "EAGAIN failures": frozenset({"waits"}),
    "threads": frozenset({"forked", "threaded"}),
    "threads with echo calls": frozenset(),
    "echo socket calls": frozenset(),
    "unrelated sockets": frozenset({"socket_type", "family", "origin", "connected", "sends",
                                    "peer", "none"}),
    "closes first (wire)": frozenset({"closes_first", "close_in_three"}),
    "ends with (wire)": frozenset({"ends_with"}),
    "data after its FIN (wire)": frozenset({"after_fin"}),
    "segments sent (wire)": frozenset({"protocol"}),
    "last TCP state (wire)": frozenset({"last_state", "closes_first", "ends_with"}),
}
# the wire rows whose value one run's timing decides: two runs of the same programs may differ
RACE_ROWS = frozenset({"closes first (wire)", "last TCP state (wire)",
                       "segments sent (wire)"})
# the values a fact may take, where they are few
FACT_VALUES: dict[str, tuple[str, ...]] = {
    "transport": TRANSPORTS, "socket_type": SOCKET_TYPES, "family": FAMILIES,
    "shutdown": SHUTDOWNS, "closes_first": WIRE_ENDS, "ends_with": WIRE_ENDS,
    "last_state": TCP_STATES, "api": ("epoll", "poll", "select"),
    "addressing": ("sendto", "connect+send", "connect+sendto", "send", "never sends"),
    "uses": ("SOCK_NONBLOCK", "FIONBIO", "O_NONBLOCK", "MSG_DONTWAIT", "switch",
             "around connect", "signal-driven", "io_uring", "SQPOLL"),
    "origin": ("socket", "socketpair", "accept", "unknown"),
    "protocol": ("tcp", "udp"),
    "named": ("run", "every interface", "host name", "loopback", "other"),
}


# -- the file's records (checked field by field, unknown fields refused) ------------------------

@dataclass(frozen=True, slots=True)
class DifferenceSelector:
    STRICT: ClassVar[bool] = True
    step: str | list[str] = field(default_factory=list)  # canonical name of the step (the
    # sample's, or the missing one); empty: any step
    change: str | list[str] = field(default_factory=list)  # extra, missing, changed, moved
    qualifier: str = ""  # one of the step's compared arguments (SHUT_WR, MSG_PEEK)
    outcome: str | None = None  # EOF, an errno, "never returned"; "" for success
    socket: str = ""  # the socket it works on (listener, conn, sock, sock2)
    transport: str = ""  # the scenario's: tcp, udp, unix
    socket_type: str = ""  # the type of the step's socket (SOCK_STREAM, SOCK_DGRAM)
    family: str = ""  # the family of the step's socket (AF_INET, AF_INET6, AF_UNIX)
    killed: bool | None = None  # the sample's program was killed (by the harness, a signal)
    received_before: bool | None = None  # its socket received bytes before this step
    socket_made: bool | None = None  # the sample made a socket of the step's name
    same_socket: bool | None = None  # a changed step: on the socket the reference's is on
    # a changed step: the same call, socket and outcome; only its qualifiers otherwise
    qualifiers_only: bool | None = None
    echoed: bool | None = None  # the run passed its echo check (the message came back)
    empty: bool | None = None  # the step is a send that moved no bytes (it returned 0)


@dataclass(frozen=True, slots=True)
class DialectSelector:
    STRICT: ClassVar[bool] = True
    syscall: str | list[str] = field(default_factory=list)  # the sample's call (accept, write)
    step: str | list[str] = field(default_factory=list)  # canonical name of the step
    mark: str = ""  # a mark the sample's call has and the reference's lacks (MSG_NOSIGNAL)
    missing_mark: str = ""  # a mark of the reference's call the sample's lacks
    extra: str = ""  # a call folded into the sample's (SO_ERROR)


@dataclass(frozen=True, slots=True)
class AttributeSelector:
    """An attribute row and facts one of its items must have (ROW_FACTS says which)."""

    STRICT: ClassVar[bool] = True
    row: str  # the attribute, as the tables name it (listen backlog, I/O model)
    blocking: bool | None = None  # I/O model: the echo's sockets block
    partly: bool | None = None  # I/O model: not blocking, but some socket in blocking mode
    uses: str = ""  # I/O model: a way of not blocking, or of doing I/O (FACT_VALUES)
    api: str = ""  # readiness API: epoll, poll, select
    # readiness API: something waits on it (false: registered); I/O model, EAGAIN failures:
    # the program made a readiness call on the echo's sockets
    waits: bool | None = None
    backlog_max: bool | None = None  # listen backlog: the largest the kernel allows
    family: str = ""  # address family; unrelated sockets
    mapped: bool | None = None  # address family: IPv4 through v4-mapped IPv6 addresses
    named: str = ""  # address: what an address bound or connected to is (FACT_VALUES)
    socket_type: str = ""  # socket type; unrelated sockets
    addressing: str = ""  # addressing: how a datagram socket names its peer
    option: str = ""  # socket options: the option's name (SO_KEEPALIVE)
    enabled: bool | None = None  # socket options: set to a value that turns it on (not 0)
    shutdown: str = ""  # closing: a shutdown(how) before the end
    released: bool | None = None  # closing: its last reference went otherwise than a close
    never_closed: bool | None = None  # closing: nothing closed it while traced
    call: str = ""  # tallies: the call counted (getsockname, ioctl, dup2)
    detail: str = ""  # tallies: what it asked (TCGETS, F_GETFL, SO_ERROR)
    none: bool | None = None  # the row is empty (no probe, no unrelated socket)
    forked: bool | None = None  # threads: more than one process
    threaded: bool | None = None  # threads: a process with more than one thread
    origin: str = ""  # unrelated sockets: socket, socketpair, accept, unknown
    connected: bool | None = None  # unrelated sockets: connected somewhere
    sends: bool | None = None  # unrelated sockets: sent bytes
    peer: str = ""  # unrelated sockets: the address it connected to, exactly
    closes_first: str = ""  # wire: FIN, RST, none
    close_in_three: bool | None = None  # wire: this side's FIN carried the ACK of the peer's
    ends_with: str = ""  # wire: FIN, RST, none
    after_fin: bool | None = None  # wire: bytes received after its own FIN
    last_state: str = ""  # wire: its last TCP state
    protocol: str = ""  # wire: tcp or udp

    def facts(self) -> dict[str, Any]:
        """The facts it names: {field: value}, row left out."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "row" and getattr(self, f.name) not in ("", None)}


@dataclass(frozen=True, slots=True)
class NoteSpec:
    STRICT: ClassVar[bool] = True
    id: str
    title: str  # a few words: the one-line summaries show it
    text: str  # the general fact: two or three sentences, true of any program
    see: list[str]  # manual pages: shutdown(2)
    examples: list[str] = field(default_factory=list)  # runtimes that do it, shown as such
    difference: DifferenceSelector | None = None
    dialect: DialectSelector | None = None
    attribute: AttributeSelector | None = None


@dataclass(frozen=True, slots=True)
class KnowledgeFile:
    STRICT: ClassVar[bool] = True
    notes: list[NoteSpec]


def selector_names(value: str | list[str]) -> frozenset[str]:
    """A selector's field of one name or a list of them (`step`, `change`, `syscall`), as a
    set."""
    return frozenset([value] if isinstance(value, str) else value)
