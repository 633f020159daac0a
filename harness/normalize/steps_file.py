"""steps.json: the normalize stage's output for one run, both sides' Normalized (harness/
normalize/engine.py) at one level. Those classes are the format: msgspec encodes them and
decodes them back checking every field, so writer and reader share one definition.

    {"format": "harness-steps", "version": 1, "run": "tcp/c--c", "level": "canonical",
     "sides": {"server": {...} | null, "client": {...} | null}}

Each step is written on a line of its own (as is each attribute), so that `diff` of two
steps files shows the steps that differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.common.errors import HarnessError
from harness.common.safefile import read_bytes
from harness.common.typedfile import decode_typed, encode_spread, write_typed
from harness.normalize.engine import Normalized

FORMAT = "harness-steps"
VERSION = 1
MAX_BYTES = 256 << 20


class StepsFileError(HarnessError):
    """steps.json cannot be read: one line naming the file and the field."""


@dataclass(frozen=True, slots=True)
class StepsFile:
    format: str
    version: int
    run: str  # the run folder it was made from (or the trace file)
    level: str  # raw | socket | canonical
    sides: dict[str, Normalized | None]  # server, client: None without a trace


# one line per step (and per attribute): the file's members down to the steps each on a line
SPREAD = 4


def encode(doc: StepsFile) -> bytes:
    """The file's bytes, as `save` writes them."""
    return encode_spread(doc, SPREAD)


def save(doc: StepsFile, path: Path) -> None:
    write_typed(doc, path, SPREAD)


def load(path: Path) -> StepsFile:
    data = read_bytes(path, MAX_BYTES, StepsFileError, "a steps file may be")
    doc = decode_typed(data, StepsFile, path, StepsFileError)
    if doc.format != FORMAT or doc.version != VERSION:
        raise StepsFileError(f"{path}: format {doc.format!r} version {doc.version}; this "
                             f"harness reads {FORMAT!r} version {VERSION}")
    return doc
