"""`harness new NAME --language LANG`: a new sample's folders, servers/NAME and clients/NAME,
each with a manifest and one program skeleton per scenario program, from harness/templates.yaml.

A skeleton reads its arguments, says in comments what its scenario asks and which calls the
textbook makes, and exits 1 ("not written yet") until it is written; the manifest is complete
(build, run, scenarios). For a language without a template the manifest alone is written,
with the commands to fill in. Nothing that exists is overwritten.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

TEMPLATES = Path(__file__).parent / "templates.yaml"
ROLES = ("server", "client")
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
    from harness.validate import read_yaml

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
        book = default_rules().textbooks.get(scenario, role)
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
    from harness.samples import name_problem
    from harness.scenario import load_scenarios

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
    wanted = scenarios or known_scenarios
    programs: list[Path] = []
    for role, folder in zip(roles, folders):
        folder.mkdir(parents=True)
        if lang is None:
            (folder / "manifest.yaml").write_text(_generic_manifest(name, role, language,
                                                                    scenarios or ["tcp"]))
            continue
        programs += _write_role(folder, name, role, lang, templates["programs"], wanted)
    return Made(folders=tuple(folders), programs=tuple(programs),
                language=lang["language"] if lang else language, known=lang is not None)


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
        "description": "What is notable about this API, in one paragraph: the report shows it.",
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


__all__ = ["Made", "ScaffoldError", "languages", "new_sample"]
