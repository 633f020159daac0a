"""The two sides of `harness diff` (harness/diff.py) as the command line gives them, and as
they are once read or run: `Spec` is one side given (a path, or a command to run), in the
order the command line gives them (`side_specs`); `Side` is one read, with its run's facts and
its traces; `DiffError` names a side that cannot be used (exit status 2).
"""

from __future__ import annotations

import argparse
import shlex
from dataclasses import dataclass, field

from harness.common.errors import HarnessError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from harness.formats.model import RunRecord, Trace
    from harness.formats.store import TracesFolder


class DiffError(HarnessError):
    """A side that cannot be used: names it (exit status 2)."""


@dataclass(frozen=True)
class Spec:
    """One side as the command line gives it."""

    label: str  # A | B
    kind: str  # path | command
    path: str = ""
    argv: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return self.path if self.kind == "path" else shlex.join(self.argv)


@dataclass
class Side:
    """One side, read (or run) and with its run's facts."""

    spec: Spec
    kind: str  # run folder | trace file | command
    name: str  # its column's name in the tables
    record: RunRecord  # the run's facts (made up from the trace for a lone trace)
    roles: tuple[str, ...]  # the roles it has traces of (a lone trace: its one role)
    how: str = ""  # how its facts were found, one line
    traces: dict[str, Trace] = field(default_factory=dict)  # a lone trace's, by role
    store: TracesFolder | None = None  # a run folder: its TracesFolder
    folder: str = ""  # a run folder: scenario/server--client in that store
    notes: list[str] = field(default_factory=list)  # said on stderr


def side_specs(args: argparse.Namespace, tokens: list[str] | None = None) -> list[Spec]:
    """The sides in the order the command line gives them: the paths and the --run commands
    as they come, then the command after `--`."""
    order: list[tuple[str, str]] = []
    paths = list(args.sides or [])
    runs = list(args.run or [])
    if tokens is not None:
        takes_value = {"--role", "--scenario", "--host", "--port", "--path", "--timeout",
                       "--format", "--level", "--width", "--run", "--client"}
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "--run" and i + 1 < len(tokens):
                order.append(("command", tokens[i + 1]))
                i += 2
                continue
            if tok.startswith("--run="):
                order.append(("command", tok[len("--run="):]))
            elif tok.startswith("-") and tok != "-":
                if tok in takes_value:
                    i += 1
            else:
                order.append(("path", tok))
            i += 1
        if sorted(v for k, v in order if k == "path") != sorted(paths) or \
                [v for k, v in order if k == "command"] != runs:
            order = []  # (not what argparse read: fall back on paths, then commands)
    if not order:
        order = [("path", p) for p in paths] + [("command", r) for r in runs]
    specs: list[tuple[str, str, tuple[str, ...]]] = []
    for kind, value in order:
        if kind == "path":
            specs.append(("path", value, ()))
        else:
            try:
                argv = tuple(shlex.split(value))
            except ValueError as e:
                raise DiffError(f"--run {value!r}: {e}") from None
            if not argv:
                raise DiffError("--run: an empty command")
            specs.append(("command", "", argv))
    if getattr(args, "command", None):
        specs.append(("command", "", tuple(args.command)))
    if len(specs) != 2:
        raise DiffError(f"two sides to compare, got {len(specs)} (usage: harness diff A B, "
                        f"harness diff A -- CMD ARGS..., harness diff --run 'CMD' --run 'CMD'; "
                        f"A and B: trace files or run folders)")
    return [Spec(label, kind, path, argv) for label, (kind, path, argv) in zip("AB", specs)]

