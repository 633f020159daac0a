"""What every trace-file module shares: the schema version written and the ones read, the
formats, the suffix of a trace still being written, the error a bad file gives, and the choice
of a format by a file's name.

It is the bottom of the trace-file modules (harness/formats/tracefile.py writes,
harness/formats/trace_read.py reads and checks), and harness/formats/model.py takes the
schema version from here: importing it costs nothing (no YAML, no model classes), so that the
tracer, which imports the writer, pays for nothing it does not use.
"""

from __future__ import annotations

import os

from harness.common.errors import HarnessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

# 4: socket inodes, `released`, io_uring operations; 3: socket ids from the tracer (`sock.id`,
# `ids`); 2: the stream
SCHEMA_VERSION = 4
READABLE_VERSIONS = (1, 2, 3, 4)
FORMATS = ("jsonl", "json", "yaml")  # json: the JSON Lines stream too
PARTIAL = ".partial"  # suffix of a trace still being written (or cut off by a crash)


class TraceFileError(HarnessError):
    """A trace file that cannot be read: names the file and what is wrong."""


def format_for(path: Path | str, requested: str | None = None) -> str:
    """The format to write: the one asked for, else YAML for a .yaml/.yml name, else JSON
    Lines."""
    if requested:
        if requested not in FORMATS:
            raise ValueError(f"unknown trace format {requested!r} (choose from "
                             f"{', '.join(FORMATS)})")
        return "yaml" if requested == "yaml" else "jsonl"
    return "yaml" if os.path.splitext(str(path))[1] in (".yaml", ".yml") else "jsonl"
