"""`harness new NAME --language LANG`: a new sample's folders, servers/NAME and clients/NAME, each
with a manifest and one program skeleton per scenario program, from harness/tools/templates.yaml,
for the scenarios asked (`--scenario`, repeatable; tcp when none is).

A skeleton reads its arguments, says in comments what its scenario asks and which calls the
textbook makes, and exits 1 ("not written yet") until it is written; the manifest is complete
(build, run, scenarios). For a language without a template the manifest alone is written,
with the commands to fill in. Nothing that exists is overwritten.

`harness new NAME --language LANG --from PATH` wraps a program that exists instead: copied
unchanged, with a manifest that runs it as it is (wrap_program says what that manifest assumes).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.common.vocabulary import ROLES

TEMPLATES = Path(__file__).parent / "templates.yaml"
USAGE = {"host": "HOST", "port": "PORT", "message": "MESSAGE", "sizes": "SIZES", "path": "PATH"}
ALIASES = {"py": "python", "python3": "python", "js": "node", "javascript": "node",
           "nodejs": "node", "golang": "go", "rs": "rust", "rb": "ruby", "cc": "c"}


class ScaffoldError(HarnessError):
    """A sample that cannot be made: its name, an existing folder, an unknown scenario."""


@dataclass(frozen=True)
class Made:
    """What `new` wrote."""

    folders: tuple[Path, ...]
    programs: tuple[Path, ...]  # the skeletons to fill in (empty for a generic manifest)
    language: str  # the language's name, as manifests write it
    known: bool  # a template language (else: a generic manifest)


def _templates() -> dict[str, Any]:
    from harness.common.validate import read_yaml

    return read_yaml(TEMPLATES, ScaffoldError)


def languages() -> list[str]:
    return list(_templates()["languages"])


def _class_name(stem: str) -> str:
    return "".join(part.capitalize() for part in stem.split("_"))


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    return text


def _comments(lang: dict[str, Any], name: str, role: str, program: dict[str, Any],
              run: list[str]) -> str:
    from harness.normalize import default_rules

    c = lang["comment"]
    tasks = _templates()["tasks"]
    lines = [f"{name} ({role}): runs in scenario{'s' if len(program['scenarios']) > 1 else ''}"
             f" {', '.join(program['scenarios'])} as: {' '.join(run)}", ""]
    for scenario in program["scenarios"]:
        lines += textwrap.wrap(f"{scenario}: {tasks[scenario][role]}", 88)
        books = default_rules().textbooks
        book = books.get(scenario, role) if books is not None else None
        if book is not None and scenario == program["scenarios"][0]:
            lines += ["", "The textbook's calls, which the report sets yours beside:"]
            lines += [f"  {item}" for item in _textbook_lines(book)]
        lines.append("")
    lines.append("(docs/samples.md says it all; the harness checks the echo byte for byte.)")
    return "\n".join(f"{c} {line}".rstrip() for line in lines)


def _textbook_lines(book: Any) -> list[str]:
    from harness.normalize.textbook import Repeat

    out = []
    for item in book.items:
        if isinstance(item, Repeat):
            out.append(f"for each message: {', '.join(s.text for s in item.steps)}")
        else:
            out.append(item.text)
    return out


def new_sample(root: Path, name: str, language: str, roles: tuple[str, ...] = ROLES,
               scenarios: list[str] | None = None) -> Made:
    """Write servers/NAME and clients/NAME under root (the roles asked for)."""
    from harness.run.manifest import name_problem
    from harness.tables.scenario import load_scenarios

    problem = name_problem(name)
    if problem:
        raise ScaffoldError(f"{name!r}: {problem}")
    known_scenarios = list(load_scenarios())
    for s in scenarios or ():
        if s not in known_scenarios:
            raise ScaffoldError(f"no scenario named {s!r} (known: {', '.join(known_scenarios)})")
    folders = [root / f"{role}s" / name for role in roles]
    for folder in folders:
        if folder.exists():
            raise ScaffoldError(f"{folder}: already there (choose another name, or remove it)")
    templates = _templates()
    key = ALIASES.get(language.lower(), language.lower())
    lang = templates["languages"].get(key)
    wanted = list(dict.fromkeys(scenarios or ["tcp"]))  # only those asked; tcp by default
    programs: list[Path] = []
    for role, folder in zip(roles, folders):
        folder.mkdir(parents=True)
        if lang is None:
            (folder / "manifest.yaml").write_text(_generic_manifest(name, role, language,
                                                                    wanted))
            continue
        programs += _write_role(folder, name, role, lang, templates["programs"], wanted)
    return Made(folders=tuple(folders), programs=tuple(programs),
                language=lang["language"] if lang else language, known=lang is not None)


def wrap_program(root: Path, name: str, language: str, program: Path,
                 role: str | None = None, scenarios: list[str] | None = None) -> Made:
    """Write servers/NAME or clients/NAME around a program that exists (`new --from PATH`).

    The program is copied unchanged. Whether it takes host, port and message on its command
    line cannot be known, so its manifest runs it as it is, with no arguments, and says what it
    is then: a server chooses its own port (`port: own`, learned from its traced listen or
    bind), a client is ok when it exits 0 whatever it prints (`expect: any`). A comment in the
    manifest says what to change when the program does take arguments, or a fixed port.
    """
    import shutil

    from harness.run.manifest import name_problem
    from harness.tables.scenario import load_scenarios

    problem = name_problem(name)
    if problem:
        raise ScaffoldError(f"{name!r}: {problem}")
    if not program.is_file():
        raise ScaffoldError(f"{program}: no such file (--from names the program to wrap)")
    known_scenarios = list(load_scenarios())
    for s in scenarios or ():
        if s not in known_scenarios:
            raise ScaffoldError(f"no scenario named {s!r} (known: {', '.join(known_scenarios)})")
    if role is None:
        said = [r for r in ROLES if r in program.name.lower()]
        if len(said) != 1:
            raise ScaffoldError(f"{program.name}: is it a server or a client? say --role server "
                                f"or --role client (make new ... ARGS='--role server')")
        role = said[0]
    folder = root / f"{role}s" / name
    if folder.exists():
        raise ScaffoldError(f"{folder}: already there (choose another name, or remove it)")
    wanted = list(dict.fromkeys(scenarios or ["tcp"]))
    key = ALIASES.get(language.lower(), language.lower())
    lang = _templates()["languages"].get(key)
    values = {"STEM": program.stem, "CLASS": program.stem, "FILE": program.name}
    if lang is not None:
        run = [_fill(x, values) for x in lang["run"]]
        builds = [[_fill(x, values) for x in step] for step in lang["build"]]
        requires = lang["requires"]
        language = lang["language"]
    else:
        command = language.lower().replace(" ", "-")
        run, builds = [command, program.name], []
        requires = [{"command": command, "hint": f"how to install {language}"}]
    folder.mkdir(parents=True)
    shutil.copy2(program, folder / program.name)
    (folder / "manifest.yaml").write_text(_wrapped_manifest(
        name, role, language, program, run, builds, requires, wanted))
    return Made(folders=(folder,), programs=(folder / program.name,), language=language,
                known=lang is not None)


def _wrapped_manifest(name: str, role: str, language: str, program: Path, run: list[str],
                      builds: list[list[str]], requires: list[dict[str, str]],
                      scenarios: list[str]) -> str:
    import yaml

    manifest: dict[str, Any] = {
        "name": name, "role": role, "language": language,
        "api": "which API it uses",
        "description": f"{program.name}, as it was written (copied unchanged by harness new "
                       f"--from).",
        "requires": requires}
    if builds:
        manifest["build"] = builds
    manifest["run"] = run
    if role == "server":
        # run with no arguments, it binds a port of its own: the harness learns it
        manifest["scenarios"] = {s: ({} if s == "unix" else {"port": "own"}) for s in scenarios}
    else:
        manifest["expect"] = "any"  # it is not given the message: any output, exit 0, is ok
        manifest["scenarios"] = scenarios
    args = {"server": '"{host}", "{port}"', "client": '"{host}", "{port}", "{message}"'}[role]
    head = textwrap.dedent(f"""\
        # {name} {role}: {program.name} as it was written, copied unchanged by `harness new
        # --from` (docs/samples.md explains every field, and "Programs as they are written").
        # It is run as it is, with no arguments: harness new cannot know whether it takes any.
        """)
    if role == "server":
        head += textwrap.dedent(f"""\
            # So it binds a port of its own: `port: own` (the harness learns the port from its
            # traced listen, or bind for UDP, and gives it to the client). Write `port: 1234`
            # instead if it always binds 1234, and `serves: forever` if it never exits.
            # If it reads host and port from its command line, add {args} to `run`
            # and remove `port: own`: it then gets the run's own.
            """)
    else:
        head += textwrap.dedent(f"""\
            # So it is not given the message and its run is ok when it exits 0, whatever it
            # prints: `expect: any` (or `expect: {{text: ...}}` for what it must print).
            # If it connects to a fixed port, say it: `port: 1234` (the reference server is then
            # given 1234). If it reads host, port and message from its command line, add
            # {args} to `run` and remove `expect: any`: its output is then
            # checked against the echo.
            """)
    return head + yaml.safe_dump(manifest, sort_keys=False, width=100, default_flow_style=None)


def _write_role(folder: Path, name: str, role: str, lang: dict[str, Any],
                programs: list[dict[str, Any]], wanted: list[str]) -> list[Path]:
    import yaml

    runs: dict[str, list[str]] = {}
    builds: list[list[str]] = []
    written = []
    for program in programs:
        scenarios = [s for s in program["scenarios"] if s in wanted]
        if not scenarios:
            continue
        stem = f"{role}{program['suffix']}"
        values = {"STEM": stem, "CLASS": _class_name(stem)}
        values["FILE"] = _fill(lang["file"], values)
        args = program[role]
        run = [_fill(x, values) for x in lang["run"]] + [f"{{{a}}}" for a in args]
        for s in scenarios:
            runs[s] = run
        builds += [[_fill(x, values) for x in step] for step in lang["build"]]
        arg_lines = [_fill(lang["args"], {"VAR": a, "N": str(i + 1 + lang["arg_offset"])})
                     for i, a in enumerate(args)]
        text = _fill(lang["skeleton"], {
            **values, "NARGS": str(len(args)), "USAGE": " ".join(USAGE[a] for a in args),
            "ARGS": "\n".join(arg_lines),
            "COMMENTS": _comments(lang, name, role, {**program, "scenarios": scenarios}, run)})
        path = folder / values["FILE"]
        path.write_text(text)
        written.append(path)
    first = next(iter(runs.values()))
    manifest: dict[str, Any] = {
        "name": name, "role": role, "language": lang["language"],
        "api": f"{lang['api']} (say which calls and in which mode)",
        "description": "What is notable about this API, in one paragraph, for whoever reads this "
                       "manifest.",
        "requires": lang["requires"]}
    if builds:
        manifest["build"] = builds
    manifest["run"] = first
    manifest["scenarios"] = {s: ({} if run == first else {"run": run}) for s, run in runs.items()}
    (folder / "manifest.yaml").write_text(
        f"# {name} {role}, made by `harness new` (docs/samples.md explains every field)\n"
        + yaml.safe_dump(manifest, sort_keys=False, width=100, default_flow_style=None))
    return written


def _generic_manifest(name: str, role: str, language: str, scenarios: list[str]) -> str:
    command = language.lower().replace(" ", "-")
    args = {"server": '"{host}", "{port}"', "client": '"{host}", "{port}", "{message}"'}[role]
    return textwrap.dedent(f"""\
        # {name} {role}, made by `harness new` for a language it has no template of: write the
        # program, then fill in `requires`, `build` (if it is compiled: outputs go to {{build}})
        # and `run` (argv, no shell). docs/samples.md explains every field and scenario.
        name: {name}
        role: {role}
        language: {language}
        api: which API it uses
        requires:
          - command: {command}
            hint: how to install {language}
        run: [{command}, {role}, {args}]
        scenarios: [{", ".join(scenarios)}]
        """)


__all__ = ["Made", "ScaffoldError", "languages", "new_sample", "wrap_program"]
