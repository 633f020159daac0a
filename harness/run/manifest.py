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

from harness.common.errors import HarnessError
from harness.tables.scenario import PLACEHOLDERS as RUN_PLACEHOLDERS

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
    # a client: what it must print (Expect: the echo, a fixed text, anything); per scenario
    # when its `scenarios` entry says
    expect: Expect = field(default_factory=lambda: Expect())
    scenario_expects: dict[str, Expect] = field(default_factory=dict)
    # a server's own port: a number it binds whatever the harness passes, or OWN_PORT (it
    # chooses, the harness learns it from the traced bind/listen); None: the harness picks
    # a free one and passes it as {port}. A client's: the port it connects to, whatever it
    # is passed (the run uses it when its server has none of its own)
    port: int | str | None = None
    scenario_ports: dict[str, int | str] = field(default_factory=dict)
    serves: str = "once"  # a server: once (exits after its client) | forever (accept loop)

    @property
    def manifest(self) -> Path:
        return self.folder / "manifest.yaml"

    def implements(self, scenario: str) -> bool:
        return scenario in self.scenarios

    def run_for(self, scenario: str) -> list[str]:
        """The argv template for one scenario (its own, else the sample's)."""
        return self.scenario_runs.get(scenario, self.run)

    def expect_for(self, scenario: str) -> Expect:
        """What a client must print in one scenario (its own, else the sample's)."""
        return self.scenario_expects.get(scenario, self.expect)

    def port_for(self, scenario: str) -> int | str | None:
        """Its own port in one scenario (its own, else the sample's), or None."""
        return self.scenario_ports.get(scenario, self.port)


EXPECT_KINDS = ("echo", "any", "text")
OWN_PORT = "own"  # `port: own`: the server chooses its port; the harness learns it
SERVES = ("once", "forever")


@dataclass(frozen=True)
class Expect:
    """What a client must print for its run to be ok (docs/samples.md, `expect`): `echo`
    (what the scenario sent: the message, or tcp-session's messages), `any` (anything, the
    client's exit status 0 is enough), or `text` (exactly that text, UTF-8, or that text
    and one line end: a `print` adds one)."""

    kind: str = "echo"  # one of EXPECT_KINDS
    text: str = ""


MANIFEST_FIELDS = ("name", "role", "language", "api", "description", "requires", "build",
                   "run", "scenarios", "env", "expect", "port", "serves")
SCENARIO_FIELDS = ("run", "expect", "port")  # what a `scenarios` entry may override
# the fields only one role has
ROLE_FIELDS = {"expect": "client", "serves": "server"}
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
    from harness.common.validate import unknown_field

    return ManifestError(unknown_field(str(path), key, known, where))


def load_sample(folder: Path, role: str) -> Sample:
    """Read and check folder/manifest.yaml: every field known, of its type, named when not."""
    from harness.common.validate import read_yaml

    folder = folder.resolve()
    path = folder / "manifest.yaml"
    problem = name_problem(folder.name)
    if problem:
        raise ManifestError(f"{folder}: {problem}")
    if not os.path.lexists(path):  # (a link, a FIFO, a folder there: refused as it is read)
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
    for key, only in ROLE_FIELDS.items():
        if key in doc and role != only:
            raise ManifestError(f"{path}: field '{key}' is a {only}'s (this is a {role})")
    run = _str_list(doc["run"], path, "run")
    scenario_runs: dict[str, list[str]] = {}
    scenario_expects: dict[str, Expect] = {}
    scenario_ports: dict[str, int | str] = {}
    if isinstance(doc["scenarios"], dict):
        scenarios = [str(k) for k in doc["scenarios"]]
        for name, override in doc["scenarios"].items():
            if override is None:
                continue
            if not isinstance(override, dict):
                raise ManifestError(f"{path}: field 'scenarios.{name}' must be a mapping "
                                    f"(with 'run'), got {override!r:.60}")
            for key in override:
                mine = tuple(k for k in SCENARIO_FIELDS if ROLE_FIELDS.get(k, role) == role)
                if key not in mine:
                    raise _unknown_field(path, key, mine, f"scenarios.{name}.")
            if "run" in override:
                scenario_runs[str(name)] = _str_list(override["run"], path,
                                                     f"scenarios.{name}.run")
            if "expect" in override:
                scenario_expects[str(name)] = _expect(override["expect"], path,
                                                      f"scenarios.{name}.expect")
            if "port" in override:
                scenario_ports[str(name)] = _port(override["port"], path,
                                                  f"scenarios.{name}.port", role)
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
    serves = doc.get("serves", "once")
    if serves not in SERVES:
        raise ManifestError(f"{path}: field 'serves' must be one of {', '.join(SERVES)}, got "
                            f"{serves!r:.60}")
    every_run = run + [x for argv in scenario_runs.values() for x in argv]
    for item in every_run + [x for step in build for x in step]:
        _check_placeholders(item, path)
    return Sample(name=folder.name, role=role, folder=folder,
                  language=_text(doc, "language", path), api=_text(doc, "api", path, ""),
                  run=run, scenarios=scenarios, scenario_runs=scenario_runs,
                  requires=requires, build=build,
                  description=_text(doc, "description", path, "").strip(),
                  env={str(k): str(v) for k, v in env.items()},
                  expect=_expect(doc.get("expect", "echo"), path, "expect"),
                  scenario_expects=scenario_expects,
                  port=_port(doc["port"], path, "port", role) if "port" in doc else None,
                  scenario_ports=scenario_ports, serves=serves)


def _expect(value: Any, path: Path, key: str) -> Expect:
    """`echo`, `any`, or `{text: TEXT}`."""
    if value in ("echo", "any"):
        return Expect(kind=value)
    if isinstance(value, dict) and set(value) == {"text"} and isinstance(value["text"], str):
        if "\0" in value["text"]:
            raise ManifestError(f"{path}: field '{key}.text' holds a NUL byte")
        return Expect(kind="text", text=value["text"])
    if isinstance(value, dict) and set(value) - {"text"}:
        raise _unknown_field(path, sorted(map(str, set(value) - {"text"}))[0], ("text",),
                             f"{key}.")
    raise ManifestError(f"{path}: field '{key}' must be echo, any, or {{text: TEXT}} (what the "
                        f"client prints), got {value!r:.60}")


def _port(value: Any, path: Path, key: str, role: str) -> int | str:
    """A port number (1-65535), or, for a server, `own`."""
    if value == OWN_PORT and role == "server":
        return OWN_PORT
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    what = "a port number (1-65535)" + (" or own (the server chooses it)"
                                        if role == "server" else "")
    raise ManifestError(f"{path}: field '{key}' must be {what}, got {value!r:.60}")


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


# shells whose `-c` argument is a script (by the program's name): placeholders in it are
# never text of the script (docs/samples.md, "Placeholders in a shell script")
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "ash",
                    "yash", "posh", "busybox"})
SHELL_OPTIONS_WITH_VALUE = frozenset({"-o", "+o", "-O", "+O"})


def shell_script_index(argv: list[str]) -> int | None:
    """Where in argv the script of a shell's -c is (`[sh, -c, SCRIPT, ...]`, `[bash, -e, -c,
    SCRIPT]`, `[bash, -ec, SCRIPT]`, `[env, A=1, sh, -c, SCRIPT]`, `[busybox, sh, -c, ...]`);
    None when argv runs no shell script."""
    i = 0
    if i < len(argv) and os.path.basename(argv[i]) == "env":  # env [-opts] [VAR=value] PROG
        i += 1
        while i < len(argv) and (argv[i].startswith("-") or "=" in argv[i]):
            i += 1
    if i >= len(argv) or os.path.basename(argv[i]) not in SHELLS:
        return None
    if os.path.basename(argv[i]) == "busybox":
        i += 1
        if i >= len(argv) or argv[i] not in SHELLS:
            return None
    i += 1
    command = False
    while i < len(argv):
        item = argv[i]
        if item == "--":
            i += 1
            break
        if item in SHELL_OPTIONS_WITH_VALUE:
            i += 2
            continue
        if len(item) > 1 and item[0] in "-+" and not item.startswith("--"):
            command = command or (item[0] == "-" and "c" in item[1:])
            i += 1
            continue
        if item.startswith("--"):  # bash's long options (--norc, --posix)
            i += 1
            continue
        break
    return i if command and i < len(argv) else None


def _quoting(text: str) -> str:
    """The quoting in force at the end of text, a piece of a POSIX shell script: "" (none),
    "'" (single quotes) or '"' (double quotes)."""
    state = ""
    i = 0
    while i < len(text):
        c = text[i]
        if state == "'":
            if c == "'":
                state = ""
        elif c == "\\":
            i += 1  # the next character is quoted by the backslash
        elif state == '"':
            if c == '"':
                state = ""
        elif c in "'\"":
            state = c
        i += 1
    return state


def _script(script: str, values: dict[str, str], first: int) -> tuple[str, list[str]]:
    """A shell script whose placeholders become references to positional parameters
    (numbered from first), and the values to pass as those parameters. Each reference is
    written for the quoting it stands in: "${N}" outside quotes, ${N} inside double quotes,
    '"${N}"' inside single quotes (the quotes closed, then opened again): the shell takes
    the value as one word, whatever it holds, and never reads it as script."""
    import string

    out: list[str] = []
    params: list[str] = []
    numbers: dict[str, int] = {}
    for literal, name, _, _ in string.Formatter().parse(script):
        out.append(literal)
        if name is None:
            continue
        if name not in numbers:
            numbers[name] = first + len(params)
            params.append(values[name])
        ref = f"${{{numbers[name]}}}"
        quoting = _quoting("".join(out))
        out.append(f'"{ref}"' if quoting == "" else ref if quoting == '"' else f"'\"{ref}\"'")
    return "".join(out), params


def expand(template: list[str], values: dict[str, str]) -> list[str]:
    """argv from a template: each placeholder replaced by its value, an argv item of its
    own or part of one; never interpreted by a shell. In the script of a shell's -c
    (`[sh, -c, "exec ./prog {port} {message}"]`) a placeholder becomes a positional
    parameter instead ("${1}"), its value passed after the script (_script)."""
    at = shell_script_index(template)
    if at is None or "{" not in template[at]:
        return [item.format_map(values) for item in template]
    before = [item.format_map(values) for item in template[:at]]
    after = [item.format_map(values) for item in template[at + 1:]]
    if not after:  # $0, the name the shell gives itself in its messages
        shells = [os.path.basename(x) for x in before if os.path.basename(x) in SHELLS]
        after = [shells[-1] if shells else "sh"]
    script, params = _script(template[at], values, len(after))
    return [*before, script, *after, *params]


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
    """A hash of the sample's files, each read a piece at a time; a link counts as its text
    and, when it leads to a regular file, that file's bytes. Anything else (a FIFO, a
    device, a socket) is never opened: it would block, or never end."""
    import stat

    h = hashlib.sha256()
    for path in sorted(sample.folder.rglob("*")):
        try:
            st = os.lstat(path)
        except OSError:
            continue
        name = str(path.relative_to(sample.folder)).encode()
        if stat.S_ISLNK(st.st_mode):
            h.update(name + b"\0->" + os.fsencode(os.readlink(path)) + b"\0")
        elif stat.S_ISREG(st.st_mode):
            h.update(name + b"\0")
        else:
            continue
        try:  # (O_NONBLOCK: a link to a FIFO does not block the open; it is no regular file)
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            continue  # a dangling link
        with os.fdopen(fd, "rb") as f:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
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
    lock_path = cache / f".{sample.role}-{sample.name}.lock"
    try:  # (never through a link planted there: the harness often runs as root)
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                          0o666)
    except OSError as e:
        raise ManifestError(f"{lock_path}: cannot open the build's lock: {e.strerror}") \
            from None
    with os.fdopen(lock_fd, "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when the process ends
        if not out.is_symlink() and (out / ".built").exists():
            say(f"build {who}: up to date ({out.name})")
            return out
        if out.is_symlink():  # a link planted as the build folder: removed, never followed
            out.unlink()
        elif out.exists():
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


