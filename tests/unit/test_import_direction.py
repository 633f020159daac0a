"""The tree shows the stages, and imports go one way: each folder of harness/ imports only
folders below it (README, "What a change touches"). A new edge upward is a design change, to be
made here first, on purpose."""

from __future__ import annotations

import ast
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "harness"

# lower first; two folders of one rank import neither of the other
RANK = {
    "common": 0,     # errors, checked input, atomic files, vocabulary
    "tables": 1,     # the syscall table, constants, scenarios
    "formats": 2,    # the files between stages
    "tracer": 3,     # command -> trace
    "normalize": 3,  # trace + run facts + rules -> steps
    "wire": 4,       # packets, and their calls (correlate reads steps)
    "compare": 5,    # steps -> analysis
    "run": 5,        # samples, pairs, the matrix (traces, captures, normalizes nothing)
    "render": 6,     # analysis -> terminal, Markdown, JSON
    "tools": 7,      # bench, scaffolding
    "commands": 8,   # cli.py, commands.py, diff.py: the top
}


def folder_of(module: str) -> str:
    """`harness.tracer.core` -> tracer; the package itself -> common; the top-level modules
    -> commands."""
    parts = module.split(".")
    if len(parts) == 1 or not ((HARNESS / parts[1]).is_dir()
                               or (HARNESS / f"{parts[1]}.py").exists()):
        return "common"  # the package's own constants (DEFAULT_REFERENCE, __version__)
    return parts[1] if (HARNESS / parts[1]).is_dir() else "commands"


def imports(path: Path, module: str) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "harness":
            if node.module == "harness":
                out |= {f"harness.{a.name}" for a in node.names}
            else:
                out.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: a relative import; name the module in full")
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == "harness"}
    return out


def modules() -> list[tuple[Path, str]]:
    return [(p, ".".join(p.relative_to(HARNESS.parent).with_suffix("").parts)
             .removesuffix(".__init__")) for p in sorted(HARNESS.rglob("*.py"))]


def test_every_folder_has_a_rank() -> None:
    folders = {p.name for p in HARNESS.iterdir() if p.is_dir() and p.name != "__pycache__"
               and (p / "__init__.py").exists()}
    assert folders | {"commands"} == set(RANK), folders ^ set(RANK)


def test_imports_go_down_only() -> None:
    upward = []
    for path, module in modules():
        mine = folder_of(module)
        for target in imports(path, module):
            theirs = folder_of(target)
            if theirs != mine and RANK[theirs] >= RANK[mine]:
                upward.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not upward, "\n".join(upward)


def test_no_module_is_over_400_lines() -> None:
    long = [f"{p.relative_to(HARNESS.parent)}: {n} lines" for p, _ in modules()
            if (n := len(p.read_text().splitlines())) > 400]
    assert not long, "\n".join(long)


def test_no_stage_takes_or_gives_any() -> None:
    """Each stage's entry point is typed through: no `Any` in what it takes or gives."""
    import typing

    from harness.compare import analysis_file, analyze, run_steps
    from harness.formats import tracefile
    from harness.normalize import engine, steps_file
    from harness import render, stages
    from harness.tracer import trace_command

    entries = [trace_command, tracefile.save, engine.normalize, run_steps.normalize_run,
               run_steps.run_steps, stages.normalize_run, steps_file.load, steps_file.save,
               analyze.analyze, analysis_file.load, analysis_file.save, render.render]

    def mentions_any(hint: object) -> bool:
        return hint is typing.Any or any(mentions_any(a) for a in typing.get_args(hint))

    # the names a module imports for its annotations only (under TYPE_CHECKING)
    from pathlib import Path as _Path

    from harness.compare.results import Analysis
    from harness.formats.model import RunRecord, Trace
    from harness.formats.store import TracesFolder
    from harness.normalize.engine import Normalized
    from harness.normalize.rules import RuleSet
    from harness.normalize.steps_file import StepsFile
    known = {"Path": _Path, "Analysis": Analysis, "RunRecord": RunRecord, "Trace": Trace,
             "TracesFolder": TracesFolder, "Normalized": Normalized, "RuleSet": RuleSet,
             "StepsFile": StepsFile}
    for fn in entries:
        hints = typing.get_type_hints(fn, globalns={**known, **fn.__globals__})
        bad = sorted(name for name, hint in hints.items() if mentions_any(hint))
        assert not bad, f"{fn.__module__}.{fn.__qualname__}: Any in {bad}"
