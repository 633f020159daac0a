"""analysis.json: an Analysis (harness/compare/results.py) as a file, written by `harness compare`
beside report.md and read by `harness render`. The result classes are the format: msgspec
encodes them and decodes them back, checking every field's type on the way, so the writer and
the reader cannot drift apart.

    {"format": "harness-analysis", "version": 1, "analysis": {...}}

A file that is not one names itself and the field: `x.json: Expected `str`, got `int` - at
`$.analysis.reference``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from harness.common.errors import HarnessError
from harness.common.safefile import read_bytes
from harness.common.typedfile import decode_typed, write_typed
from harness.compare.results import Analysis

FORMAT = "harness-analysis"
VERSION = 1  # a change of the result classes that an older reader would misread bumps it
MAX_BYTES = 256 << 20  # a matrix of every sample is a few megabytes


class AnalysisFileError(HarnessError):
    """analysis.json cannot be read: one line naming the file and the field."""


@dataclass(frozen=True, slots=True)
class _Header:
    format: str
    version: int


@dataclass(frozen=True, slots=True)
class _File:
    format: str
    version: int
    analysis: Analysis


def save(analysis: Analysis, path: Path, follow: bool = True) -> None:
    """Write atomically: a reader never sees half an analysis. `follow`: see write_typed
    (False beside the traces: a link planted there is replaced, not written through)."""
    write_typed(_File(FORMAT, VERSION, analysis), path, follow=follow)


def load(path: Path) -> Analysis:
    data = read_bytes(path, MAX_BYTES, AnalysisFileError, "an analysis may be")
    header = decode_typed(data, _Header, path, AnalysisFileError, "not an analysis")
    if header.format != FORMAT:
        raise AnalysisFileError(f"{path}: format {header.format!r}, not {FORMAT!r} (a trace is "
                                f"read by `harness diff`, a traces folder by `compare --from`)")
    if header.version != VERSION:
        raise AnalysisFileError(f"{path}: analysis version {header.version}; this harness reads "
                                f"version {VERSION}: run `harness compare --from` on its traces "
                                "folder again")
    return decode_typed(data, _File, path, AnalysisFileError).analysis
