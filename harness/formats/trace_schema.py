"""The lines of a trace file as msgspec Structs: an event, a socket's identity (schema 5), the
header's and the footer's parts. Reading a line through them parses and checks it in one pass
in C (harness/formats/trace_read.py); the hand-written checker (harness/common/validate.py
over harness/formats/model.py) is run only on a line these refuse, to say in one line which
field is wrong and why.

The argument shapes come from model.ARG_TYPES, the one list of the arguments the normalizer
reads: an argument it lists must have its type, any other may hold anything.
"""

from __future__ import annotations

from typing import Any, Union

import msgspec

from harness.formats.model import (ARG_TYPES, AddressShape, PollFdShape, ReadyShape,
                                   SocketIdentity, SyscallEvent)


def _struct_of(shape: type, name: str | None = None, drop: tuple[str, ...] = (),
               required: tuple[str, ...] = (), types: dict[str, Any] | None = None) -> Any:
    """The msgspec Struct of one of the model's dataclasses: the same fields, types and
    defaults (the dataclass stays the one definition; the hand-written checker reads it),
    but for the fields `drop`ped, those made `required` (and not null), and those whose type a
    line spells otherwise (`types`)."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(shape)
    fields: list[tuple[Any, ...]] = []
    for f in dataclasses.fields(shape):
        if f.name in drop:
            continue
        hint = (types or {}).get(f.name) or _doc_type(hints[f.name])
        if f.name in required:  # and not null
            args = [a for a in typing.get_args(hint) if a is not type(None)]
            fields.append((f.name, Union[tuple(args)] if args else hint))  # noqa: UP007
        elif f.default is not dataclasses.MISSING:
            fields.append((f.name, hint, f.default))
        elif f.default_factory is not dataclasses.MISSING:
            fields.append((f.name, hint, f.default_factory()))
        else:
            fields.append((f.name, hint))
    fields.sort(key=lambda f: len(f) == 3)  # the fields without a default first
    return msgspec.defstruct(name or shape.__name__.replace("Shape", "Doc"), fields,
                             frozen=True)


_SHAPES: dict[Any, Any] = {}


def _doc_type(hint: Any) -> Any:
    """A model type hint with its shape classes replaced by their Structs."""
    import types
    import typing

    if hint in _SHAPES:
        return _SHAPES[hint]
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        return Union[tuple(_doc_type(a) for a in typing.get_args(hint))]  # noqa: UP007
    if origin is list:
        return list[_doc_type(typing.get_args(hint)[0])]  # type: ignore[misc]
    return hint


AddressDoc = _SHAPES[AddressShape] = _struct_of(AddressShape)
_SHAPES.update({shape: _struct_of(shape) for shape in (PollFdShape, ReadyShape)})

# every argument the normalizer reads, each optional: converting an event's `args` to it checks
# those arguments' types and leaves the others alone (the event keeps its own dict)
ArgsDoc: Any = msgspec.defstruct(
    "ArgsDoc", [(name, _doc_type(hint), None) for name, hint in ARG_TYPES.items()],
    frozen=True)


# A socket's whole identity, as an event of schema 1 to 4 carries it (its addresses stay the
# dicts they are: each is checked against AddressDoc on its own).
SockDoc: Any = _struct_of(SocketIdentity, "SockDoc")
# A socket's identity in a socket record (schema 5): without an fd, with its id.
SocketDoc: Any = _struct_of(SocketIdentity, "SocketDoc", drop=("fd",), required=("id",))


class SocketRecord(msgspec.Struct, frozen=True):
    """`{"type":"socket","socket":{...}}`: a socket's identity, written before the first
    event on it and again whenever it changes (an address learned); events name it by id."""

    type: str
    socket: SocketDoc


# One event line: model.SyscallEvent's fields, but `sock`, which is the whole identity
# (schema 1 to 4) or `[fd, id]` (schema 5: the identity is the socket record of that id
# written last before the event).
EventDoc: Any = _struct_of(SyscallEvent, "EventDoc",
                           types={"sock": SockDoc | tuple[int, int] | None})


EVENT_DECODER = msgspec.json.Decoder(EventDoc)
