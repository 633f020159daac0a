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
    from typing import Any

# 5: a socket's identity once, in a socket record, and events name it `[fd, id]`; 4: socket
# inodes, `released`, io_uring operations; 3: socket ids from the tracer (`sock.id`, `ids`);
# 2: the stream
SCHEMA_VERSION = 5
READABLE_VERSIONS = (1, 2, 3, 4, 5)
FORMATS = ("jsonl", "json", "yaml")  # json: the JSON Lines stream too
PARTIAL = ".partial"  # suffix of a trace still being written (or cut off by a crash)


class TraceFileError(HarnessError):
    """A trace file that cannot be read: names the file and what is wrong."""


class SocketRecords:
    """The socket records of one stream (schema 5): a socket's identity is written once,
    before the first event on it, and again only when it changes (an address learned); the
    events name it by `[fd, id]`."""

    __slots__ = ("written",)

    def __init__(self) -> None:
        self.written: dict[int, tuple[Any, ...]] = {}  # id -> (family, type, local, peer, inode)

    def changed(self, fd: int, family: Any, type: Any, local: Any, peer: Any, id: int,
                inode: int | None) -> dict[str, Any] | None:
        """The socket record to write before an event on this socket, or None when the last
        one written says the same."""
        ident = (family, type, local, peer, inode)
        if self.written.get(id) == ident:
            return None
        self.written[id] = ident
        sock: dict[str, Any] = {"id": id, "family": family, "type": type, "local": local,
                                "peer": peer}
        if inode is not None:
            sock["inode"] = inode
        return {"type": "socket", "socket": sock}


def format_for(path: Path | str, requested: str | None = None) -> str:
    """The format to write: the one asked for, else YAML for a .yaml/.yml name, else JSON
    Lines."""
    if requested:
        if requested not in FORMATS:
            raise ValueError(f"unknown trace format {requested!r} (choose from "
                             f"{', '.join(FORMATS)})")
        return "yaml" if requested == "yaml" else "jsonl"
    return "yaml" if os.path.splitext(str(path))[1] in (".yaml", ".yml") else "jsonl"
