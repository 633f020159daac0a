"""Samples: folders with a manifest.yaml (docs/samples.md). Loading, checking, building."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from harness.scenario import PLACEHOLDERS as RUN_PLACEHOLDERS

ROLES = ("server", "client")
# what a manifest may write in braces: the sample's own, then what each run fills in
PLACEHOLDERS = ("python", "src", "build", *RUN_PLACEHOLDERS)


class ManifestError(HarnessError):
    """A manifest that cannot be used: the message names the file and the field."""


@dataclass(frozen=True)
class Requirement:
    command: str  # executable that must be on PATH ("{python}" is always there)
    hint: str | None  # how to install it


@dataclass(frozen=True)
class Sample:
    """One sample program, as its manifest describes it."""

    name: str  # folder name
    role: str  # server | client
    folder: Path  # absolute path of the sample folder
    language: str  # shown in tables
    api: str  # which API it uses
    run: list[str]  # argv template
    scenarios: list[str]  # scenarios it implements
    scenario_runs: dict[str, list[str]] = field(default_factory=dict)  # per-scenario argv
    requires: list[Requirement] = field(default_factory=list)
    build: list[list[str]] = field(default_factory=list)  # argv templates run once
    description: str = ""
    env: dict[str, str] = field(default_factory=dict)  # added to the environment

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.yaml"

    def implements(self, scenario: str) -> bool:
        return scenario in self.scenarios

    def run_for(self, scenario: str) -> list[str]:
        """The argv template for one scenario (its own, else the sample's)."""
        return self.scenario_runs.get(scenario, self.run)


MANIFEST_FIELDS = ("name", "role", "language", "api", "description", "requires", "build",
                   "run", "scenarios", "env")
MAX_MANIFEST_BYTES = 1 << 20
# a sample's name is its folder's: it names run folders (scenario/SERVER--CLIENT), build
# folders and `make verify SAMPLE=...`, so it is plain, and never holds the pair separator
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-")


def name_problem(name: str) -> str | None:
    """Why name cannot be a sample's name (None when it can)."""
    if not name or not name[0].isalnum() or not name.isascii() or set(name) - NAME_CHARS:
        return "a sample's name is letters, digits and . _ + - (starting with a letter or digit)"
    if "--" in name:
        return "a sample's name may not hold '--' (it joins a pair's names in run folders)"
    return None


def _str_list(value: Any, path: Path, key: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(
            isinstance(x, (str, int, float)) and not isinstance(x, bool) for x in value):
        raise ManifestError(f"{path}: field '{key}' must be a non-empty list of strings, got "
                            f"{value!r:.60}")
    return [str(x) for x in value]


def _text(doc: dict[str, Any], key: str, path: Path, default: str | None = None) -> str:
    value = doc.get(key, default)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ManifestError(f"{path}: field '{key}' must be text, got {value!r:.60}")
    return str(value)


def _unknown_field(path: Path, key: Any, known: tuple[str, ...], where: str = "") -> ManifestError:
    from harness.validate import unknown_field

    return ManifestError(unknown_field(str(path), key, known, where))


def load_sample(folder: Path, role: str) -> Sample:
    """Read and check folder/manifest.yaml: every field known, of its type, named when not."""
    from harness.validate import read_yaml

    folder = folder.resolve()
    path = folder / "manifest.yaml"
    problem = name_problem(folder.name)
    if problem:
        raise ManifestError(f"{folder}: {problem}")
    if not path.is_file():
        raise ManifestError(f"{path}: missing (every sample folder needs a manifest.yaml)")
    doc = read_yaml(path, ManifestError, MAX_MANIFEST_BYTES)
    if not isinstance(doc, dict):
        raise ManifestError(f"{path}: must be a mapping of fields")
    for key in doc:
        if key not in MANIFEST_FIELDS:
            raise _unknown_field(path, key, MANIFEST_FIELDS)
    for key in ("name", "role", "language", "run", "scenarios"):
        if key not in doc:
            raise ManifestError(f"{path}: field '{key}' is missing")
    if doc["name"] != folder.name:
        raise ManifestError(f"{path}: field 'name' is {doc['name']!r:.60}, the folder is "
                            f"{folder.name!r}")
    if doc["role"] != role:
        raise ManifestError(f"{path}: field 'role' is {doc['role']!r:.60}, expected {role!r} "
                            f"for a folder under {role}s/")
    run = _str_list(doc["run"], path, "run")
    scenario_runs: dict[str, list[str]] = {}
    if isinstance(doc["scenarios"], dict):
        scenarios = [str(k) for k in doc["scenarios"]]
        for name, override in doc["scenarios"].items():
            if override is None:
                continue
            if not isinstance(override, dict):
                raise ManifestError(f"{path}: field 'scenarios.{name}' must be a mapping "
                                    f"(with 'run'), got {override!r:.60}")
            for key in override:
                if key != "run":
                    raise _unknown_field(path, key, ("run",), f"scenarios.{name}.")
            if "run" in override:
                scenario_runs[str(name)] = _str_list(override["run"], path,
                                                     f"scenarios.{name}.run")
        if not scenarios:
            raise ManifestError(f"{path}: field 'scenarios' is empty")
    else:
        scenarios = _str_list(doc["scenarios"], path, "scenarios")
    requires = []
    requires_raw = doc.get("requires") or []
    if not isinstance(requires_raw, list):
        raise ManifestError(f"{path}: field 'requires' must be a list of {{command, hint}}, "
                            f"got {requires_raw!r:.60}")
    for i, req in enumerate(requires_raw):
        if not isinstance(req, dict) or not isinstance(req.get("command"), str):
            raise ManifestError(f"{path}: field 'requires[{i}].command' must be a string")
        for key in req:
            if key not in ("command", "hint"):
                raise _unknown_field(path, key, ("command", "hint"), f"requires[{i}].")
        hint = req.get("hint")
        if hint is not None and not isinstance(hint, str):
            raise ManifestError(f"{path}: field 'requires[{i}].hint' must be text, got "
                                f"{hint!r:.60}")
        requires.append(Requirement(command=req["command"], hint=hint))
    build_raw = doc.get("build") or []
    if not isinstance(build_raw, list):
        raise ManifestError(f"{path}: field 'build' must be a list of argv lists")
    build = [_str_list(step, path, f"build[{i}]") for i, step in enumerate(build_raw)]
    env = doc.get("env") or {}
    if not isinstance(env, dict):
        raise ManifestError(f"{path}: field 'env' must be a mapping")
    for key, value in env.items():
        if not isinstance(key, str) or not key or "=" in key or \
                not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ManifestError(f"{path}: field 'env.{key}' must be a variable name with a "
                                f"text value, got {value!r:.60}")
    every_run = run + [x for argv in scenario_runs.values() for x in argv]
    for item in every_run + [x for step in build for x in step]:
        _check_placeholders(item, path)
    return Sample(name=folder.name, role=role, folder=folder,
                  language=_text(doc, "language", path), api=_text(doc, "api", path, ""),
                  run=run, scenarios=scenarios, scenario_runs=scenario_runs,
                  requires=requires, build=build,
                  description=_text(doc, "description", path, "").strip(),
                  env={str(k): str(v) for k, v in env.items()})


def _check_placeholders(item: str, path: Path) -> None:
    import string

    try:
        parsed = list(string.Formatter().parse(item))
    except ValueError as e:  # a lone brace: `{port`, `}`
        raise ManifestError(f"{path}: {item!r}: {e} (write a brace as {{{{ or }}}})") from None
    for _, field_name, spec, conversion in parsed:
        if field_name is not None and (spec or conversion):
            raise ManifestError(f"{path}: placeholder {{{field_name}}} in {item!r} takes no "
                                f"format (known: {', '.join(PLACEHOLDERS)})")
        if field_name is not None and field_name not in PLACEHOLDERS:
            raise ManifestError(f"{path}: unknown placeholder {{{field_name}}} in {item!r} "
                                f"(known: {', '.join(PLACEHOLDERS)})")


def sample_folders(*roots: Path) -> list[tuple[str, Path]]:
    """(role, folder) of every sample folder under each root's servers/ and clients/."""
    folders = []
    for root in roots:
        for role in ROLES:
            base = root / f"{role}s"
            if base.is_dir():
                folders += [(role, p) for p in sorted(base.iterdir())
                            if p.is_dir() and not p.name.startswith((".", "_"))]
    return folders


def discover(*roots: Path, names: set[str] | None = None) -> dict[str, dict[str, Sample]]:
    """{"server": {name: Sample}, "client": {...}} from each root's servers/ and clients/;
    with `names`, only the samples of those names are loaded (a broken manifest elsewhere
    does not stop `verify` of another sample)."""
    found: dict[str, dict[str, Sample]] = {role: {} for role in ROLES}
    for role, folder in sample_folders(*roots):
        if names is None or folder.name in names:
            found[role][folder.name] = load_sample(folder, role)
    return found


def missing_requirement(sample: Sample) -> Requirement | None:
    for req in sample.requires:
        if req.command == "{python}":
            continue
        if shutil.which(req.command) is None:
            return req
    return None


def expand(template: list[str], values: dict[str, str]) -> list[str]:
    return [item.format_map(values) for item in template]


def base_values(sample: Sample, build_dir: Path | None) -> dict[str, str]:
    return {"python": real_python(), "src": str(sample.folder),
            "build": str(build_dir) if build_dir else ""}


def real_python() -> str:
    """The interpreter running the harness, never a PATH shim that forks first."""
    return os.path.realpath(sys.executable)


BUILD_OUTPUT_LINES = 20  # lines of a failed build's output kept


class BuildError(HarnessError):
    """A sample's build could not run (`missing`: its command is not on PATH, a toolchain
    the manifest did not list) or failed (`output`: the last lines it printed)."""

    def __init__(self, message: str, output: str = "", missing: str | None = None):
        super().__init__(message)
        self.output = output
        self.missing = missing


def source_hash(sample: Sample) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in sample.folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(sample.folder)).encode() + b"\0")
        h.update(path.read_bytes())
    h.update(repr(sample.build).encode())
    return h.hexdigest()[:16]


def _tail_lines(text: str, n: int = BUILD_OUTPUT_LINES) -> str:
    return "\n".join(text.rstrip().splitlines()[-n:])


BUILD_TIMEOUT = 300.0  # seconds one build command may take


def build(sample: Sample, cache: Path,
          log: Callable[[str], None] | None = None) -> Path | None:
    """Run the sample's build once per content hash; returns its build folder. One harness
    builds a sample at a time (a lock beside the folder; another waits, then finds it
    built). A build that fails, times out or is interrupted leaves no folder and no process:
    each command runs in a process group of its own, killed whole when it must stop. Files a
    build writes beside the sources are moved into the build folder (and said so): left
    there, they would change the sources' hash, so the next run would build again, and
    show as untracked files."""
    if not sample.build:
        return None
    import fcntl
    import time

    say = log or (lambda line: None)
    who = f"{sample.role} {sample.name}"
    cache = cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    out = cache / f"{sample.role}-{sample.name}-{source_hash(sample)}"
    with open(cache / f".{sample.role}-{sample.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when the process ends
        if (out / ".built").exists():
            say(f"build {who}: up to date ({out.name})")
            return out
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        start = time.monotonic()
        before = _files(sample.folder)
        strays: list[str] = []
        try:
            for i, step in enumerate(sample.build, 1):
                argv = expand(step, base_values(sample, out))
                say(f"build {who} [{i}/{len(sample.build)}]: {' '.join(argv)}")
                _build_step(sample, argv)
                strays += _move_strays(sample.folder, before, out)
        except BaseException:  # a failure, a timeout, Ctrl-C, SIGTERM: no half-built folder
            _move_strays(sample.folder, before, out)
            shutil.rmtree(out, ignore_errors=True)
            raise
        (out / ".built").touch()
        say(f"build {who}: done in {time.monotonic() - start:.1f} s")
        if strays:
            say(f"build {who}: the build wrote {', '.join(strays)} beside the sources; moved "
                f"into the build folder (write build outputs to {{build}})")
    return out


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def _move_strays(folder: Path, before: set[Path], out: Path) -> list[str]:
    """Move the files that appeared in folder into out, at the same relative paths (so that a
    run naming {build}/NAME finds them); their names."""
    moved = []
    for path in sorted(_files(folder) - before):
        rel = path.relative_to(folder)
        target = out / rel
        if target.exists():  # the build wrote it where it belongs too
            path.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        moved.append(str(rel))
    for d in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        try:
            if not any(d.iterdir()) and not any(b.is_relative_to(d) for b in before):
                d.rmdir()  # a folder the build made, empty now
        except OSError:
            pass
    return moved


def _build_step(sample: Sample, argv: list[str]) -> None:
    import signal
    import tempfile

    from harness.tracer import kernel

    harness = os.getpid()
    with tempfile.TemporaryFile() as output:
        try:
            # SIGKILL to the build command when the harness ends (its own children go with
            # their process group)
            proc = subprocess.Popen(argv, cwd=sample.folder, stdin=subprocess.DEVNULL,
                                    stdout=output, stderr=subprocess.STDOUT,
                                    start_new_session=True,
                                    preexec_fn=lambda: kernel.parent_death_signal(
                                        signal.SIGKILL, harness))
        except FileNotFoundError:
            raise BuildError(f"{argv[0]} not found on PATH (a build command of "
                             f"{sample.manifest})", missing=argv[0]) from None
        except PermissionError:
            raise BuildError(f"{argv[0]}: permission denied (a build command of "
                             f"{sample.manifest})") from None
        try:
            status = proc.wait(timeout=BUILD_TIMEOUT)
        except BaseException as e:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the compiler and everything it started
            except ProcessLookupError:
                pass
            proc.wait()
            if isinstance(e, subprocess.TimeoutExpired):
                raise BuildError(f"build timed out after {BUILD_TIMEOUT:g} s "
                                 f"({' '.join(argv)})", output=_read_tail(output)) from None
            raise
        if status != 0:
            raise BuildError(f"build failed with exit status {status} ({' '.join(argv)})",
                             output=_read_tail(output))


def _read_tail(output: Any) -> str:
    output.seek(0)
    return _tail_lines(output.read()[-(1 << 16):].decode("utf-8", errors="replace"))


