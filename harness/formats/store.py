"""The traces folder: what `compare` writes and `compare --from` reads, in one place.

    traces/index.yaml                         MatrixIndex: what one matrix ran
    traces/<scenario>/<server>--<client>/
        run.yaml                              RunRecord: how the run went
        server.jsonl, client.jsonl            the traces (harness/formats/tracefile.py)
        wire.jsonl, wire.pcapng               the packets (harness/wire/)
        steps.json                            both sides normalized (harness/normalize/
                                              steps_file.py)
    traces/analysis.json                      the analysis (harness/compare/analysis_file.py)
    traces/report.md                          the last report

Every file is checked field by field when it is read, against the types of the record it holds
(harness/formats/model.py), and an error names the file and the field; it is read only if it is a
regular file, and never more of it than its limit (harness/common/safefile.py). Writes are atomic: a
reader never sees half a file. One harness writes a folder at a time (its `.lock`), and
only into files and folders of its own: a symbolic link planted inside is replaced, never
written through, and refused when another user owns it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import DEFAULT_REFERENCE
from harness.formats.model import FailedSample, MatrixIndex, RunRecord, SkippedSample
from harness.common.validate import ValidationError, at, check_record, read_yaml

INDEX_FILE = "index.yaml"
RUN_FILE = "run.yaml"
REPORT_FILE = "report.md"
LOCK_FILE = ".lock"  # held (flock) by the harness writing the folder
TRACE_FILES = {"server": "server.jsonl", "client": "client.jsonl"}  # in each run's folder
WIRE_FILE = "wire.jsonl"  # the run's captured packets (harness/wire/wirefile.py)

MAX_RECORD_BYTES = 1 << 20  # index.yaml and run.yaml are a few kilobytes


class StoreError(ValidationError):
    """A file of the traces folder that cannot be read: names the file and the field."""


class FolderBusy(StoreError):
    """Another harness holds the traces folder's lock."""


# -- the folder --------------------------------------------------------------------------------

def _load_yaml(path: Path) -> Any:
    return read_yaml(path, StoreError, MAX_RECORD_BYTES)


def _dump_yaml(doc: dict[str, Any]) -> str:
    from harness.common.validate import dump_yaml

    return dump_yaml(doc)


def _checked(doc: Any, cls: type, file: str) -> None:
    try:
        check_record(doc, cls, file)
    except ValidationError as e:
        raise StoreError(str(e)) from None


def safe_folder(folder: str, where: str) -> str:
    """A run folder as the index names it: `scenario/server--client`, relative, inside the
    traces folder."""
    parts = folder.split("/")
    if len(parts) != 2 or os.path.isabs(folder) or any(p in ("", ".", "..") for p in parts) \
            or "--" not in parts[1]:
        raise StoreError(f"{where}: {folder!r} is not a run folder (scenario/server--client)")
    return folder


def write_run_file(run_dir: Path, record: RunRecord) -> None:
    """A run's run.yaml, in the run's folder (atomically; a link there is replaced, never
    followed)."""
    _write(Path(run_dir) / RUN_FILE, _dump_yaml(record.to_dict()))


def _write(path: Path, text: str) -> None:
    from harness.common.safefile import UnsafeFile
    from harness.formats.tracefile import write_atomic

    try:
        write_atomic(path, text, follow=False)
    except OSError as e:
        raise StoreError(f"{path}: cannot write: {e.strerror}") from None
    except UnsafeFile as e:  # a link of another user there
        raise StoreError(str(e)) from None


def trace_writer_in(run_dir: Path, role: str) -> Any:
    """Where the runner streams one side's trace (a TraceWriter) in a run's folder: a new
    file, never written through a link."""
    from harness.formats.tracefile import TraceWriter

    return TraceWriter(Path(run_dir) / TRACE_FILES[role], follow=False)


class TracesFolder:
    """One traces folder: the index, the runs and their traces."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    @classmethod
    def of_run(cls, run_dir: Path) -> tuple[TracesFolder, str]:
        """The traces folder a run folder (`traces/tcp/c--c`) is in, and its name there; the
        caller checks it holds a run.yaml."""
        p = run_dir.resolve() if not run_dir.name else run_dir
        return cls(p.parent.parent), f"{p.parent.name}/{p.name}"

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
        _checked(doc, MatrixIndex, str(path))
        for i, folder in enumerate(doc["runs"]):
            safe_folder(folder, at(str(path), f"runs[{i}]"))
        for role in doc.get("implements") or {}:
            if role not in TRACE_FILES:
                raise StoreError(f"{path}: field 'implements': unknown role {role!r} (roles: "
                                 f"{', '.join(TRACE_FILES)})")
        return MatrixIndex.from_dict(doc)

    def write_index(self, index: MatrixIndex) -> None:
        _write(self.index_path, _dump_yaml(index.to_dict()))

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
        _checked(doc, RunRecord, str(path))
        for role in (*TRACE_FILES, "wire"):
            name = doc.get(f"{role}_trace")
            if name is not None and (os.path.basename(name) != name or name in ("", ".", "..")):
                raise StoreError(f"{path}: field '{role}_trace': {name!r} is not a file name")
        return RunRecord.from_dict(doc)

    def write_run(self, folder: str, record: RunRecord) -> None:
        write_run_file(self.run_folder(folder), record)

    # -- traces ------------------------------------------------------------------------------
    def trace_file(self, folder: str, record: RunRecord, role: str) -> tuple[str | None,
                                                                             Path | None]:
        """(the trace's name relative to the folder, its path if it is there): the file
        run.yaml names, else what a harness that died left of it (FILE.partial)."""
        from harness.formats.trace_base import PARTIAL

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

    def wire_file(self, folder: str, record: RunRecord) -> Path | None:
        """The run's wire file, when it has one."""
        if not record.wire_trace:
            return None
        path = self.run_folder(folder) / record.wire_trace
        return path if path.exists() else None

    def write_report(self, text: str) -> Path:
        path = self.root / REPORT_FILE
        _write(path, text)
        return path

    # -- writing runs: one harness at a time, only into folders of its own -------------------
    def _make_root(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"{self.root}: cannot create the traces folder: "
                             f"{e.strerror}") from None
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreError(f"{self.root}: not writable")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock (an flock on .lock, released when the process ends however
        it ends): a second harness writing the same folder is refused, naming the first."""
        import fcntl

        self._make_root()
        path = self.root / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        except OSError as e:
            raise StoreError(f"{path}: cannot open the lock: {e.strerror}") from None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 20, 0).decode(errors="replace").strip() or "?"
                raise FolderBusy(f"{self.root}: another harness (pid {holder}) is writing "
                                 f"this traces folder; wait for it to end, or give this one "
                                 f"its own (--traces DIR)") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            yield
        finally:
            os.close(fd)

    def prepare_run(self, folder: str) -> Path:
        """The run's folder, made ready for a new run: every part of it a real folder inside
        the traces folder (a symbolic link there is refused: the harness, often root, never
        writes through one), the files of an earlier run in it removed."""
        from harness.formats.trace_base import PARTIAL

        self._make_root()
        path = self.root
        for part in safe_folder(folder, str(self.root)).split("/"):
            path = path / part
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                try:
                    os.mkdir(path)
                except OSError as e:
                    raise StoreError(f"{path}: cannot create: {e.strerror}") from None
                continue
            if stat.S_ISLNK(st.st_mode):
                raise StoreError(f"{path}: a symbolic link inside the traces folder; the "
                                 f"harness writes only into folders of its own there "
                                 f"(remove the link)")
            if not stat.S_ISDIR(st.st_mode):
                raise StoreError(f"{path}: not a folder (remove it)")
        if not os.access(path, os.W_OK | os.X_OK):
            raise StoreError(f"{path}: not writable")
        from harness.common.safefile import UnsafeFile, check_link

        for name in (RUN_FILE, WIRE_FILE, *TRACE_FILES.values()):
            for stale in (name, name + PARTIAL):
                try:
                    check_link(str(path / stale))  # another user's link: refused
                    os.unlink(path / stale)  # a link is removed, its target left alone
                except FileNotFoundError:
                    pass
                except IsADirectoryError:
                    raise StoreError(f"{path / stale}: a folder where the run writes a file "
                                     f"(remove it)") from None
                except UnsafeFile as e:
                    raise StoreError(str(e)) from None
        return path


__all__ = ["FailedSample", "FolderBusy", "MatrixIndex", "RunRecord", "SkippedSample",
           "StoreError", "TracesFolder"]
