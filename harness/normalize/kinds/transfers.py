"""The rule kinds of the canonical level that fold transfers: consecutive sends or receives of
one message are one step, and a message received and echoed piece by piece is one receive
and one send.

How many calls move a message changes from run to run (TCP delivers bytes in pieces of its
own); what is echoed, message by message, does not. `Messages` knows where the run's
messages begin and end in each byte stream, so that `merge_transfers` and `fold_interleaved`
merge only within one message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from harness.normalize.kinds.match import Match, _when
from harness.normalize.kinds.params import Steps
from harness.normalize.steps import Step

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule


def _mergeable(a: Step, b: Step) -> bool:
    return (a.name, a.fd, a.qualifiers, a.outcome, a.errno, a.aside) == \
        (b.name, b.fd, b.qualifiers, b.outcome, b.errno, b.aside) and not a.errno


def _merge(a: Step, b: Step) -> Step:
    same = (a.syscall, a.marks, a.extras) == (b.syscall, b.marks, b.extras)
    total = (a.result or 0) + (b.result or 0)
    if same:
        return replace(a, seqs=a.seqs + b.seqs, result=total, count=a.count + b.count)
    return replace(a, seqs=a.seqs + b.seqs, result=total, syscall=f"{a.dialect}+{b.dialect}",
                   marks=(), extras=(), count=1)


class Messages:
    """Where the run's messages begin and end in each byte stream of a socket (its sends,
    its receives). Message sizes are the run's (RunRecord.sizes for tcp-session, else the one
    message); past the last message, further messages of the last size are assumed (a
    second echo of the whole message is a second message)."""

    def __init__(self, sizes: Sequence[int]):
        self.sizes = [n for n in sizes if n > 0]
        self.ends: list[int] = []
        total = 0
        for n in self.sizes:
            total += n
            self.ends.append(total)

    def end(self, offset: int) -> int | None:
        """The stream offset where the message holding byte `offset` ends (None: no limit)."""
        if not self.sizes:
            return None
        for end in self.ends:
            if offset < end:
                return end
        last, total = self.sizes[-1], self.ends[-1]
        return total + ((offset - total) // last + 1) * last

    def index(self, offset: int) -> int | None:
        """1-based number of the message holding byte `offset`; None past the last one."""
        return next((k for k, end in enumerate(self.ends, 1) if offset < end), None)

    def fits(self, start: int, moved: int, more: int) -> bool:
        """Whether `more` bytes after `moved` bytes from `start` stay in the message that
        began the step, and that message was not complete yet."""
        end = self.end(start)
        return end is None or (start + moved < end and start + moved + more <= end)


def _stream_starts(steps: Steps, when: Callable[[Step], bool],
                   peek: Callable[[Step], bool] = lambda s: False) -> list[int | None]:
    """For each step: the offset of its first byte in its stream (its socket, its direction);
    None for steps that move no data. A peek (recv with MSG_PEEK) reads bytes without taking
    them: the stream does not move on."""
    moved: dict[tuple[str, str], int] = {}
    starts: list[int | None] = []
    for s in steps:
        if not when(s):
            starts.append(None)
            continue
        key = (s.fd, s.name)
        starts.append(moved.get(key, 0))
        if not s.errno and (s.result or 0) > 0 and not peek(s):
            moved[key] = moved.get(key, 0) + (s.result or 0)
    return starts


def _peek(rule: Rule, ctx: Context) -> Callable[[Step], bool]:
    match: Match | None = rule.params.get("peek")
    if match is None:
        return lambda step: False
    return lambda step: match(step, ctx.syscalls)


def _datagram(step: Step, ctx: Context) -> bool:
    event = ctx.events.get(step.seqs[0]) if step.seqs else None
    return event is not None and event.sock is not None and event.sock.type == "SOCK_DGRAM"


def _messages(rule: Rule, ctx: Context) -> Messages:
    return Messages(ctx.messages if rule.params["split_at_message"] else ())


def merge_transfers(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """Consecutive transfers of one direction on one socket are one step (`recvfrom x7`)
    while they carry one message: with split_at_message, they merge only while the bytes
    add up to no more than the message the step began in (the run's message sizes: several
    for tcp-session), so a second full echo stays a second send, and a send per message stays
    a step per message. A step that holds bytes of more than one message (TCP is a stream:
    two echoes read at once) says so in its dialect (`recvfrom(messages 1-2)`). Datagrams
    never merge: each call is one datagram."""
    when = _when(rule, ctx)
    messages = _messages(rule, ctx)
    starts = _stream_starts(steps, when, _peek(rule, ctx))
    out: list[Step] = []
    out_starts: list[int | None] = []
    for s, start in zip(steps, starts):
        prev = out[-1] if out else None
        prev_start = out_starts[-1] if out_starts else None
        if (prev is not None and prev_start is not None and start is not None
                and when(prev) and _mergeable(prev, s)
                and (rule.params["merge_datagrams"] or not _datagram(s, ctx))
                and messages.fits(prev_start, prev.result or 0, s.result or 0)):
            out[-1] = _merge(prev, s)
            continue
        out.append(s)
        out_starts.append(start)
    if len(messages.sizes) < 2:
        return tuple(out)
    return tuple(_mark_spanned(s, start, messages) for s, start in zip(out, out_starts))


def _mark_spanned(s: Step, start: int | None, messages: Messages) -> Step:
    if start is None or s.errno or (s.result or 0) <= 0:
        return s
    first, last = messages.index(start), messages.index(start + (s.result or 0) - 1)
    if first is None or first == last:
        return s
    span = f"messages {first}-{last if last is not None else f'{len(messages.sizes)}+'}"
    return replace(s, marks=s.marks + (span,))


def fold_interleaved(steps: Steps, rule: Rule, ctx: Context) -> Steps:
    """A message received in pieces and echoed piece by piece (recv, send, recv, send on one
    socket, every piece within the same message of its stream) is one recv and one send step,
    marked in the dialect: `recvfrom(interleaved) x2`, `sendto(interleaved) x2`. How many
    pieces TCP delivers changes from run to run; what is echoed, message by message, does
    not. The same for a client that sends a message in pieces and reads each piece's echo."""
    when = _when(rule, ctx)
    messages = _messages(rule, ctx)
    mark = rule.params["mark"]
    starts = _stream_starts(steps, when, _peek(rule, ctx))
    out: list[Step] = []
    i = 0

    def pair(a: Step, b: Step) -> bool:
        return (when(a) and when(b) and a.fd == b.fd and a.name != b.name
                and not a.errno and not b.errno and not a.outcome and not b.outcome
                and not _datagram(a, ctx))

    while i < len(steps):
        a = steps[i]
        b = steps[i + 1] if i + 1 < len(steps) else None
        if b is None or not pair(a, b):
            out.append(a)
            i += 1
            continue
        x, y = a, b
        x_start, y_start = starts[i], starts[i + 1]
        j = i + 2
        while j + 1 < len(steps):
            nx, ny = steps[j], steps[j + 1]
            if not (_mergeable(x, nx) and _mergeable(y, ny) and when(nx) and when(ny)
                    and x_start is not None and y_start is not None
                    and messages.fits(x_start, x.result or 0, nx.result or 0)
                    and messages.fits(y_start, y.result or 0, ny.result or 0)):
                break
            x, y = _merge(x, nx), _merge(y, ny)
            j += 2
        if j == i + 2:
            out.append(a)
            i += 1
            continue
        out += [x if mark in x.marks else replace(x, marks=x.marks + (mark,)),
                y if mark in y.marks else replace(y, marks=y.marks + (mark,))]
        i = j
    return tuple(out)
