"""Reading and writing trace files (YAML or JSON), atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from harness.model import SCHEMA_VERSION, Trace

FORMATS = ("yaml", "json")


class TraceFileError(Exception):
    """A trace file that cannot be read: names the file and what is wrong."""


def format_for(path: Path, requested: str | None = None) -> str:
    """The format to write: the one asked for, else the file's suffix, else YAML."""
    if requested:
        if requested not in FORMATS:
            raise ValueError(f"unknown trace format {requested!r} (choose from {', '.join(FORMATS)})")
        return requested
    return "json" if path.suffix == ".json" else "yaml"


def dumps(trace: Trace, fmt: str = "yaml") -> str:
    doc = trace.to_dict()
    if fmt == "json":
        return json.dumps(doc, indent=1) + "\n"
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=None, width=100,
                     allow_unicode=False)


def write_atomic(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and a rename, so that
    a reader never sees half a file and a crash leaves no partial file behind. A path that is
    a device or a fifo is written to directly."""
    path = Path(os.path.realpath(path))  # through a symlink: replace its target, not it
    if path.exists() and not path.is_file():  # a device or a fifo (-o /dev/null): write to it
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def save(trace: Trace, path: Path, fmt: str | None = None) -> None:
    write_atomic(Path(path), dumps(trace, format_for(Path(path), fmt)))


def load(path: Path) -> Trace:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TraceFileError(f"{path}: cannot read: {e.strerror}") from None
    try:
        if path.suffix == ".json":
            doc: Any = json.loads(text)
        else:
            import yaml

            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            doc = yaml.load(text, Loader=loader)
    except Exception as e:  # parser errors carry their own position
        raise TraceFileError(f"{path}: not a valid trace file: {e}") from None
    if not isinstance(doc, dict):
        raise TraceFileError(f"{path}: not a valid trace file: top level is not a mapping")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TraceFileError(
            f"{path}: schema_version is {version!r}, this harness reads {SCHEMA_VERSION}")
    try:
        return Trace.from_dict(doc)
    except (KeyError, TypeError) as e:
        raise TraceFileError(f"{path}: missing or malformed field {e}") from None
