"""A stage's file as JSON of its own typed classes (dataclasses, msgspec Structs): encoded by
msgspec and decoded back with every field's type checked in the same pass, a broken file one
line naming the file and the field (`x.json: Expected `str`, got `int` - at `$.level``)."""

from __future__ import annotations

import os
from typing import Any, TypeVar

import msgspec

from harness.common.errors import HarnessError
from harness.common.safefile import write_chunks_atomic

T = TypeVar("T")


def write_typed(value: object, path: str | os.PathLike[str], spread: int = 0,
                follow: bool = True) -> None:
    """Written atomically: a reader never sees half a file. `spread`: see `encode_spread`.
    `follow`: a link at path leads to its target (a path the user gave); without, the link is
    replaced (a file of the harness's own, in a traces folder)."""
    data = encode_spread(value, spread) if spread else msgspec.json.encode(value)
    write_chunks_atomic(path, [data], binary=True, follow=follow)


def encode_spread(value: object, spread: int) -> bytes:
    """JSON whose objects and lists down to depth `spread` hold one member per line, and
    whose deeper values are each one compact line: with spread 4, a steps.json has one line
    per step, so that `diff` of two files shows the steps that changed. Decodes to what
    msgspec.json.encode gives."""
    out: list[str] = []
    _spread(msgspec.to_builtins(value), spread, "", out)
    out.append("\n")
    return "".join(out).encode()


def _spread(value: Any, depth: int, indent: str, out: list[str]) -> None:
    if depth <= 0 or not isinstance(value, (dict, list, tuple)) or not value:
        out.append(msgspec.json.encode(value).decode())
        return
    inner = indent + " "
    opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
    out.append(opening)
    items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
    for k, (key, item) in enumerate(items):
        out.append(",\n" + inner if k else "\n" + inner)
        if key is not None:  # a key that is no text (an int) is written as JSON writes it
            out.append(msgspec.json.encode(key if isinstance(key, str) else str(key)).decode()
                       + ": ")
        _spread(item, depth - 1, inner, out)
    out.append("\n" + indent + closing)


def decode_typed(data: bytes, kind: type[T], path: str | os.PathLike[str],
                 error: type[HarnessError], context: str = "") -> T:
    """`data` as a `kind`; `error` names the file and the field. `context` goes after the
    file's name (`not an analysis`)."""
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.DecodeError as e:
        raise error(f"{path}: not JSON: {e}") from None
    except msgspec.ValidationError as e:
        raise error(f"{path}: {context} ({e})" if context else f"{path}: {e}") from None
