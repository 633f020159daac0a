"""The traces folder: what `compare` writes and `compare --from` reads, in one place.

    traces/index.yaml                         MatrixIndex: what one matrix ran
    traces/<scenario>/<server>--<client>/
        run.yaml                              RunRecord: how the run went
        server.jsonl, client.jsonl            the traces (harness/tracefile.py)
    traces/report.md                          the last report

Every file is checked field by field when it is read, against the types of the record it
holds (harness/model.py), and an error names the file and the field. Writes are atomic: a
reader never sees half a file.
"""

from __future__ import annotations

import os
import types
import typing
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, get_args, get_origin, get_type_hints

from harness import DEFAULT_REFERENCE
from harness.errors import HarnessError
from harness.model import FailedSample, MatrixIndex, RunRecord, SkippedSample

INDEX_FILE = "index.yaml"
RUN_FILE = "run.yaml"
REPORT_FILE = "report.md"
TRACE_FILES = {"server": "server.jsonl", "client": "client.jsonl"}  # in each run's folder

T = typing.TypeVar("T")


class StoreError(HarnessError):
    """A file of the traces folder that cannot be read: names the file and the field."""


# -- checking a document against a record's field types -----------------------------------------

def _type_name(hint: Any) -> str:
    origin = get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(a) for a in get_args(hint) if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in get_args(hint) else "")
    if origin is list:
        item = get_args(hint)[0]
        plural = {str: "texts", int: "integers", float: "numbers", bool: "booleans"}
        return "a list of " + plural.get(item, f"{getattr(item, '__name__', item)} records")
    if origin is dict:
        return "a mapping"
    return {str: "text", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, getattr(hint, "__name__", str(hint)))


def _at(file: str, path: str) -> str:
    return f"{file}: field '{path}'" if path else file


def check_value(value: Any, hint: Any, file: str, path: str = "") -> None:
    """Raise StoreError unless value fits the type hint (str, int, float, bool, None, list,
    dict of those, a union of them, or a record class); the error names file and field
    (`runs[2]`, `implements.server.c`, `skipped[0].reason`)."""
    origin = get_origin(hint)
    where = _at(file, path)
    if origin in (typing.Union, types.UnionType):
        for option in get_args(hint):
            try:
                check_value(value, option, file, path)
                return
            except StoreError:
                pass
        raise StoreError(f"{where} must be {_type_name(hint)}, got {value!r:.60}")
    if hint is type(None):
        if value is not None:
            raise StoreError(f"{where} must be null, got {value!r:.60}")
        return
    if origin is list or origin is tuple:
        if not isinstance(value, list):
            raise StoreError(f"{where} must be {_type_name(hint)}, got {value!r:.60}")
        item = get_args(hint)[0] if get_args(hint) else Any
        for i, x in enumerate(value):
            check_value(x, item, file, f"{path}[{i}]")
        return
    if origin is dict:
        if not isinstance(value, dict):
            raise StoreError(f"{where} must be a mapping, got {value!r:.60}")
        key_type, value_type = get_args(hint) or (Any, Any)
        for k, v in value.items():
            if not isinstance(k, key_type if key_type is not Any else object):
                raise StoreError(f"{where}: key {k!r} must be {_type_name(key_type)}")
            check_value(v, value_type, file, f"{path}.{k}" if path else str(k))
        return
    if hint is Any:
        return
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        check_record(value, hint, file, path)
        return
    ok = (isinstance(value, hint) and not (isinstance(value, bool) and hint is not bool)) or \
        (hint is float and isinstance(value, int) and not isinstance(value, bool))
    if not ok:
        raise StoreError(f"{where} must be {_type_name(hint)}, got {value!r:.60}")


def check_record(doc: Any, cls: type, file: str, path: str = "") -> None:
    """doc must be a mapping holding every field of cls that has no default, each of its
    type; fields cls does not have are left alone (written by a newer harness)."""
    if not isinstance(doc, dict):
        what = f"{_at(file, path)} must be" if path else f"{file}: the top level must be"
        raise StoreError(f"{what} a mapping of fields, got {doc!r:.60}")
    hints = get_type_hints(cls)
    for f in fields(cls):  # type: ignore[arg-type]
        name = f"{path}.{f.name}" if path else f.name
        if f.name not in doc:
            if f.default is MISSING and f.default_factory is MISSING:  # type: ignore[misc]
                raise StoreError(f"{file}: missing field '{name}'")
            continue
        check_value(doc[f.name], hints[f.name], file, name)


# -- the folder --------------------------------------------------------------------------------

def _load_yaml(path: Path) -> Any:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise StoreError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from None
    except OSError as e:
        raise StoreError(f"{path}: cannot read: {e.strerror}") from None
    try:
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise StoreError(f"{path}: not valid YAML: {e}") from None


def _dump_yaml(doc: dict[str, Any]) -> str:
    import yaml

    return yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                     sort_keys=False, allow_unicode=False, width=100)


def safe_folder(folder: str, where: str) -> str:
    """A run folder as the index names it: `scenario/server--client`, relative, inside the
    traces folder."""
    parts = folder.split("/")
    if len(parts) != 2 or os.path.isabs(folder) or any(p in ("", ".", "..") for p in parts) \
            or "--" not in parts[1]:
        raise StoreError(f"{where}: {folder!r} is not a run folder (scenario/server--client)")
    return folder


def write_run_file(run_dir: Path, record: RunRecord) -> None:
    """A run's run.yaml, in the run's folder (atomically)."""
    from harness.tracefile import write_atomic

    write_atomic(Path(run_dir) / RUN_FILE, _dump_yaml(record.to_dict()))


def trace_writer_in(run_dir: Path, role: str) -> Any:
    """Where the runner streams one side's trace (a TraceWriter) in a run's folder."""
    from harness.tracefile import TraceWriter

    return TraceWriter(Path(run_dir) / TRACE_FILES[role])


class TracesFolder:
    """One traces folder: the index, the runs and their traces."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    # -- the index ---------------------------------------------------------------------------
    @property
    def index_path(self) -> Path:
        return self.root / INDEX_FILE

    def read_index(self) -> MatrixIndex:
        """index.yaml, checked; without one, an index made up from the run folders."""
        path = self.index_path
        if not path.exists():
            if not self.root.is_dir():
                raise StoreError(f"{self.root}: no such folder")
            runs = sorted(str(p.parent.relative_to(self.root))
                          for p in self.root.glob(f"*/*/{RUN_FILE}"))
            return MatrixIndex(reference=DEFAULT_REFERENCE,
                               scenarios=list(dict.fromkeys(r.split("/")[0] for r in runs)),
                               runs=runs)
        doc = _load_yaml(path)
        check_record(doc, MatrixIndex, str(path))
        for i, folder in enumerate(doc["runs"]):
            safe_folder(folder, _at(str(path), f"runs[{i}]"))
        for role in doc.get("implements") or {}:
            if role not in TRACE_FILES:
                raise StoreError(f"{path}: field 'implements': unknown role {role!r} (roles: "
                                 f"{', '.join(TRACE_FILES)})")
        return MatrixIndex.from_dict(doc)

    def write_index(self, index: MatrixIndex) -> None:
        from harness.tracefile import write_atomic

        write_atomic(self.index_path, _dump_yaml(index.to_dict()))

    # -- runs --------------------------------------------------------------------------------
    def run_folder(self, folder: str) -> Path:
        return self.root / safe_folder(folder, str(self.root))

    def read_run(self, folder: str) -> RunRecord:
        """A run's run.yaml, checked; a missing one (the run never finished) is a run that
        failed."""
        path = self.run_folder(folder) / RUN_FILE
        if not path.exists():
            scenario, _, pair = folder.partition("/")
            server, _, client = pair.partition("--")
            return RunRecord(scenario=scenario, server=server, client=client, host="", port=0,
                             message="", outcome="error",
                             detail=f"{RUN_FILE} missing: the run did not finish",
                             server_trace=None, client_trace=None)
        doc = _load_yaml(path)
        check_record(doc, RunRecord, str(path))
        for role in TRACE_FILES:
            name = doc.get(f"{role}_trace")
            if name is not None and (os.path.basename(name) != name or name in ("", ".", "..")):
                raise StoreError(f"{path}: field '{role}_trace': {name!r} is not a file name")
        return RunRecord.from_dict(doc)

    def write_run(self, folder: str, record: RunRecord) -> None:
        write_run_file(self.run_folder(folder), record)

    # -- traces ------------------------------------------------------------------------------
    def trace_writer(self, folder: str, role: str) -> Any:
        return trace_writer_in(self.run_folder(folder), role)

    def trace_file(self, folder: str, record: RunRecord, role: str) -> tuple[str | None,
                                                                             Path | None]:
        """(the trace's name relative to the folder, its path if it is there): the file
        run.yaml names, else what a harness that died left of it (FILE.partial)."""
        from harness.tracefile import PARTIAL

        name = record.server_trace if role == "server" else record.client_trace
        if not name:
            return None, None
        rel = f"{folder}/{name}"
        path = self.run_folder(folder) / name
        if path.exists():
            return rel, path
        partial = path.with_name(path.name + PARTIAL)
        if partial.exists():  # read as far as it goes, marked incomplete
            return rel + PARTIAL, partial
        return rel, None

    def write_report(self, text: str) -> Path:
        from harness.tracefile import write_atomic

        path = self.root / REPORT_FILE
        write_atomic(path, text)
        return path


__all__ = ["FailedSample", "MatrixIndex", "RunRecord", "SkippedSample", "StoreError",
           "TracesFolder", "check_record", "check_value"]
