"""steps.json: the normalize stage's output for one run, both sides' Normalized (harness/
normalize/engine.py) at one level. Those classes are the format: msgspec encodes them and
decodes them back checking every field, so writer and reader share one definition.

    {"format": "harness-steps", "version": 1, "run": "tcp/c--c", "level": "canonical",
     "sides": {"server": {...} | null, "client": {...} | null}}

Each step is written on a line of its own (as is each attribute), so that `diff` of two
steps files shows the steps that differ. Beside the steps: when each step's calls returned
(`times`, for the wire view), and what the file was made from (`source`: the run's files by
size and modification time, and a fingerprint of the normalizer's code, rules and tables),
so that `compare --from` reads the file instead of normalizing again only while it still
stands for its run.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from harness.common.errors import HarnessError
from harness.common.safefile import read_bytes
from harness.common.typedfile import decode_typed, encode_spread, write_typed
from harness.normalize.engine import Normalized

FORMAT = "harness-steps"
VERSION = 2  # 2: times and source
MAX_BYTES = 256 << 20
DEFAULT_NAME = "steps.json"  # in its run's folder
# what the steps depend on besides the run's own files: the harness's code and tables that
# read a trace and normalize it (the renderers and the runner are not among them)
_MADE_BY = ("normalize", "tables", "formats", "common")


class StepsFileError(HarnessError):
    """steps.json cannot be read: one line naming the file and the field."""


@dataclass(frozen=True, slots=True)
class Source:
    """What a steps file was made from."""

    files: dict[str, tuple[int, int]]  # run.yaml and each trace, by name: (size, mtime_ns)
    normalizer: str  # normalizer_fingerprint() of the harness that made it


@dataclass(frozen=True, slots=True)
class StepsFile:
    format: str
    version: int
    run: str  # the run folder it was made from (or the trace file)
    level: str  # raw | socket | canonical
    sides: dict[str, Normalized | None]  # server, client: None without a trace
    # role -> event seq -> when it returned (ts_ns), for every seq of a step (the wire view)
    times: dict[str, dict[int, int]] = field(default_factory=dict)
    source: Source | None = None


@cache
def normalizer_fingerprint() -> str:
    """A digest of the harness's files a normalization depends on: a steps file made by
    another version of them is made again."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for part in _MADE_BY:
        for path in sorted((root / part).rglob("*")):
            if path.suffix in (".py", ".yaml") and path.is_file():
                digest.update(str(path.relative_to(root)).encode() + b"\0")
                digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def stamps(run_dir: Path, names: list[str]) -> dict[str, tuple[int, int]] | None:
    """Each file's (size, mtime_ns); None when one cannot be looked at."""
    out = {}
    for name in names:
        try:
            st = os.stat(run_dir / name)
        except OSError:
            return None
        out[name] = (st.st_size, st.st_mtime_ns)
    return out


def load_fresh(run_dir: Path, level: str, names: list[str]) -> StepsFile | None:
    """The run's steps file, when it holds `level` and still stands for the run: made by
    this normalizer from the files `names` as they are now. Otherwise None (a missing,
    broken or stale file is made again: it only ever holds what its run's files give)."""
    path = run_dir / DEFAULT_NAME
    if not path.is_file() or path.is_symlink():
        return None
    try:
        doc = load(path)
    except HarnessError:
        return None
    now = stamps(run_dir, names)
    if (doc.level != level or doc.source is None or now is None or doc.source.files != now
            or doc.source.normalizer != normalizer_fingerprint()):
        return None
    return doc


# one line per step (and per attribute): the file's members down to the steps each on a line
SPREAD = 4


def encode(doc: StepsFile) -> bytes:
    """The file's bytes, as `save` writes them."""
    return encode_spread(doc, SPREAD)


def save(doc: StepsFile, path: Path, follow: bool = True) -> None:
    """`follow`: see write_typed (False in a traces folder)."""
    write_typed(doc, path, SPREAD, follow)


def load(path: Path) -> StepsFile:
    data = read_bytes(path, MAX_BYTES, StepsFileError, "a steps file may be")
    doc = decode_typed(data, StepsFile, path, StepsFileError)
    if doc.format != FORMAT or doc.version != VERSION:
        raise StepsFileError(f"{path}: format {doc.format!r} version {doc.version}; this "
                             f"harness reads {FORMAT!r} version {VERSION}")
    return doc
