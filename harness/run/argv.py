"""Argv templates: a manifest's `run` and `build` items made into a program's argv. Each
placeholder is replaced by its value, an argv item of its own or part of one, never read by a
shell; in the script of a shell's -c a placeholder becomes a positional parameter instead
(docs/samples.md, "Placeholders in a shell script"). And the values every sample has of its
own: {python}, {src}, {build}."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from harness.run.manifest import Sample

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
