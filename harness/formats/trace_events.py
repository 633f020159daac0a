"""A trace's events read and checked in one pass: each line parsed into the Structs of
harness/formats/trace_schema.py (in C), its arguments converted to ArgsDoc to check their
types, and the model's SyscallEvent built from it. A socket record (schema 5) sets the identity
that the events after it name by id; an event of an older schema carries the identity whole.

A line the Structs refuse is read again the slow way (json, then the hand-written checker of
harness/common/validate.py) only to say which field is wrong, in the one line every trace
error is: `FILE: line 5: field 'args.fd' must be an integer or null, got '3'`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from harness.formats.model import SocketIdentity, SyscallEvent
from harness.formats.trace_base import TraceFileError
from harness.formats.trace_schema import (EVENT_DECODER, AddressDoc, ArgsDoc,
                                          EventDoc, SockDoc, SocketRecord)

_EVENT_START = b'{"seq":'  # how the writer starts every event line: parsed as an event first
_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, TypeError)


class EventReader:
    """Reads the events of one trace, line by line or mapping by mapping, keeping the socket
    identities its socket records set."""

    def __init__(self, path: str) -> None:
        self.path = path
        # socket id -> (family, type, local, peer, inode), from its last socket record
        self.sockets: dict[int, tuple[Any, ...]] = {}
        # (fd, id) -> (the identity it was made from, the SocketIdentity): events on the same
        # socket through the same fd share one object while the identity holds
        self._shared: dict[tuple[int, int], tuple[tuple[Any, ...], SocketIdentity]] = {}

    def line(self, data: bytes, file: str) -> SyscallEvent | None:
        """The event on one line (None: a socket record); file names it in errors
        (`FILE: line 5`)."""
        if data.startswith(_EVENT_START):
            try:
                return self._event(EVENT_DECODER.decode(data), file, "")
            except _ERRORS:
                pass  # said below, field by field
        from harness.formats.trace_read import decode_json

        return self.mapping(decode_json(data, file), file, "")

    def mapping(self, doc: Any, file: str, where: str) -> SyscallEvent | None:
        """The event in a decoded mapping (an item of a document's `events`, or a line the
        fast path refused); where is its field prefix (`events[3]`) or empty."""
        if isinstance(doc, dict) and doc.get("type") == "socket":
            self._socket(doc, file, where)
            return None
        try:
            event = msgspec.convert(doc, EventDoc)
        except _ERRORS as e:
            self._explain(doc, file, where, e)
        return self._event(event, file, where)

    def _socket(self, doc: dict[str, Any], file: str, where: str) -> None:
        prefix = "socket"
        try:
            rec = msgspec.convert(doc, SocketRecord)
            for prefix, addr in (("socket.local", rec.socket.local),
                                 ("socket.peer", rec.socket.peer)):
                if addr is not None:
                    msgspec.convert(addr, AddressDoc)
        except _ERRORS as e:
            raise TraceFileError(f"{_at(file, where)}: not a socket record: "
                                 f"{_said(e, '' if prefix == 'socket' else prefix)}") from None
        s = rec.socket
        self.sockets[s.id] = (s.family, s.type, s.local, s.peer, s.inode)

    def _event(self, e: EventDoc, file: str, where: str) -> SyscallEvent:
        if e.args:
            try:
                msgspec.convert(e.args, ArgsDoc)
            except _ERRORS as err:
                self._explain(_plain(e), file, where, err)
        sock = e.sock
        identity: SocketIdentity | None = None
        if type(sock) is tuple:
            fd, sid = sock
            known = self.sockets.get(sid)
            if known is None:
                raise TraceFileError(f"{_at(file, where, 'sock')} names socket {sid}, of which "
                                     f"no socket record comes before it")
            shared = self._shared.get((fd, sid))
            if shared is not None and shared[0] is known:
                identity = shared[1]
            else:
                identity = SocketIdentity(fd, known[0], known[1], known[2], known[3], sid,
                                          known[4])
                self._shared[(fd, sid)] = (known, identity)
        elif sock is not None:
            assert isinstance(sock, SockDoc)
            for end, addr in (("local", sock.local), ("peer", sock.peer)):
                if addr is not None:
                    try:
                        msgspec.convert(addr, AddressDoc)
                    except _ERRORS as err:
                        self._explain(_plain(e), file, where, err)
            identity = SocketIdentity(sock.fd, sock.family, sock.type, sock.local, sock.peer,
                                      sock.id, sock.inode)
        return SyscallEvent(e.seq, e.ts_ns, e.pid, e.tid, e.syscall, e.args, e.result,
                            e.errno, e.kind, tuple(e.fds), identity, tuple(e.ids),
                            tuple(e.released), e.dur_ns)

    def _explain(self, doc: Any, file: str, where: str, error: Exception) -> Any:
        """Raise the one-line error for an event the Structs refused: the hand-written
        checker's (which names the field as every file's errors do), else msgspec's own."""
        from harness.formats.trace_read import check_event

        check_event(doc, file, where)
        raise TraceFileError(f"{_at(file, where)}: not a valid event: {_said(error)}")


def _plain(e: EventDoc) -> Any:
    """The event as the line held it (lists, not the tuples it was decoded into), for the
    hand-written checker."""
    return msgspec.json.decode(msgspec.json.encode(e))


def _at(file: str, where: str, field: str = "") -> str:
    from harness.common.validate import at

    return at(file, ".".join(p for p in (where, field) if p))


def _said(error: Exception, prefix: str = "") -> str:
    """msgspec's message in the words of the harness's others: `Expected `int`, got `str` -
    at `$.socket.id`` is `field 'socket.id': expected int, got str`."""
    text, _, at = str(error).partition(" - at `$")
    text = text.replace("`", "")
    field = ".".join(p for p in (prefix, at.rstrip("`").lstrip(".")) if p)
    text = text[:1].lower() + text[1:]
    return f"field '{field}': {text}" if field else text
