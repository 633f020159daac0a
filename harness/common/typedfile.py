"""A stage's file as JSON of its own typed classes (dataclasses, msgspec Structs): encoded by
msgspec and decoded back with every field's type checked in the same pass, a broken file one
line naming the file and the field (`x.json: Expected `str`, got `int` - at `$.level``)."""

from __future__ import annotations

import os
from typing import TypeVar

import msgspec

from harness.common.errors import HarnessError
from harness.common.safefile import write_chunks_atomic

T = TypeVar("T")


def write_typed(value: object, path: str | os.PathLike[str]) -> None:
    """Written atomically: a reader never sees half a file."""
    write_chunks_atomic(path, [msgspec.json.encode(value)], binary=True)


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
