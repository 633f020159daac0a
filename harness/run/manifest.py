"""Samples: folders with a manifest.yaml (docs/samples.md). Loading and checking them: every
field known and of its type, the placeholders known, a role's own fields on that role only;
finding the sample folders under a root, and a requirement not on PATH. (Their argv templates
are expanded by harness.run.argv; they are built by harness.run.build.)"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.common.vocabulary import ROLES
from harness.tables.scenario import PLACEHOLDERS as RUN_PLACEHOLDERS

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
    # language, api, description: free text for whoever reads the manifest; checked to be
    # text, shown nowhere (docs/samples.md)
    language: str  # required
    api: str  # which API it uses; optional ("")
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
