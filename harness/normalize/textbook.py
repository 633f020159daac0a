"""The textbook sequences of the scenarios (harness/tables/scenarios.yaml): what a program written
from the man pages does, step by step, in the notation of the report's tables (the canonical level).

    books = load_textbooks(path, syscall_table)
    book = books.get("tcp-session", "server")
    steps = book.steps(run, address="127.0.0.1:PORT")   # canonical Steps, loops unrolled

The report shows them beside the reference, so that where the reference itself departs from
the textbook is visible. A step is written as the tables write it:

    [CREATED = ]CALL(SOCKET[, QUALIFIER...])[ → OUTCOME]

`ADDR` in a qualifier stands for the run's address as the canonical level shows it
(127.0.0.1:PORT, [::1]:PORT, unix:PATH). A `repeat` block is written once and unrolled for
the run: `repeat: messages` once per message (tcp-session), a number that many times.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.common.vocabulary import ROLES
from harness.formats.model import RunRecord
from harness.normalize.steps import Step, format_addr
from harness.normalize.syscalls import SyscallTable

# the one scenarios file
DEFAULT_TEXTBOOKS = Path(__file__).parents[1] / "tables" / "scenarios.yaml"
ADDRESS = "ADDR"  # the placeholder for the run's address
PER_MESSAGE = "messages"  # repeat once per message of the run
SCENARIO_FIELDS = (*ROLES, "note", "run")  # run: how it is run (harness/tables/scenario.py)

_STEP = re.compile(r"""^\s*(?:(?P<creates>[A-Za-z_][\w]*)\s*=\s*)?
                       (?P<name>[A-Za-z_][\w]*)\s*\((?P<args>[^()]*)\)
                       \s*(?:(?:→|->)\s*(?P<outcome>\S+))?\s*$""", re.VERBOSE)


class TextbookError(HarnessError, ValueError):
    """A textbook file that cannot be used: names the file, the scenario, role and step."""


@dataclass(frozen=True, slots=True)
class TextbookStep:
    """One step as the file writes it."""

    text: str  # as written
    name: str  # canonical call name
    fd: str  # the socket it works on
    creates: str  # the socket it makes ("" for none)
    qualifiers: tuple[str, ...]  # compared arguments; ADDR for the run's address
    outcome: str  # "" (success), EOF, or an errno name

    def step(self, address: str, marks: tuple[str, ...] = ()) -> Step:
        quals = tuple(address if q == ADDRESS else q for q in self.qualifiers)
        return Step(seqs=(), pid=0, tid=0, syscall=self.name, name=self.name, args={},
                    result=None, fd=self.fd, creates=self.creates, outcome=self.outcome,
                    qualifiers=quals, marks=marks)


@dataclass(frozen=True, slots=True)
class Repeat:
    """Steps written once, made several times: once per message, or a fixed number."""

    times: str | int  # PER_MESSAGE or a count
    steps: tuple[TextbookStep, ...]  # the body, in order

    def count(self, run: RunRecord | None) -> int:
        if isinstance(self.times, int):
            return self.times
        return len(run.sizes) if run is not None and run.sizes else 1


@dataclass(frozen=True, slots=True)
class Textbook:
    """The textbook sequence of one role in one scenario."""

    scenario: str  # scenario name
    role: str  # server | client
    items: tuple[TextbookStep | Repeat, ...]  # in order
    note: str  # the file's note on the scenario ("" if none)
    where: str  # "FILE: scenario 'S', role 'R'", for messages

    def steps(self, run: RunRecord | None, address: str) -> tuple[Step, ...]:
        """The sequence for one run: ADDR filled in, repeats unrolled; each repeated step
        says which time it is in its dialect (`recv(message 2 of 3)`)."""
        out: list[Step] = []
        for item in self.items:
            if isinstance(item, TextbookStep):
                out.append(item.step(address))
                continue
            n = item.count(run)
            what = "message" if item.times == PER_MESSAGE else "time"
            for k in range(1, n + 1):
                marks = (f"{what} {k} of {n}",) if n > 1 else ()
                out += [s.step(address, marks) for s in item.steps]
        return tuple(out)

    def loops(self, run: RunRecord | None) -> tuple[Loop, ...]:
        """What the repeats stand for in this run (the renderers say it in words)."""
        out = []
        for item in self.items:
            if isinstance(item, Repeat):
                per_message = item.times == PER_MESSAGE
                out.append(Loop(steps=tuple(s.text for s in item.steps),
                                per_message=per_message, times=item.count(run),
                                sizes=tuple(run.sizes) if run is not None and per_message
                                else ()))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Loop:
    """A repeated block of a textbook, for one run."""

    steps: tuple[str, ...]  # the steps repeated, as written
    per_message: bool  # once per message of the run (else a fixed number of times)
    times: int  # how many times in this run
    sizes: tuple[int, ...]  # the run's message sizes (per_message only)


@dataclass(frozen=True, slots=True)
class Textbooks:
    """Every scenario's textbook sequences, from one file."""

    books: Mapping[tuple[str, str], Textbook]  # (scenario, role) -> textbook
    source: str  # the file

    def get(self, scenario: str, role: str) -> Textbook | None:
        return self.books.get((scenario, role))

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(s for s, _ in self.books))


def run_address(run: RunRecord, port_name: str = "PORT", path_name: str = "PATH") -> str:
    """The run's address as the canonical level shows it: 127.0.0.1:PORT, [::1]:PORT,
    unix:PATH."""
    if run.path:
        return format_addr({"family": "AF_UNIX", "path": path_name})
    return format_addr({"family": "AF_INET6" if ":" in run.host else "AF_INET",
                        "address": run.host, "port": port_name})


def known_calls(table: SyscallTable) -> tuple[set[str], dict[str, str]]:
    """(canonical call names a textbook may use, dialect -> its canonical name)."""
    members = {m for names in table.classes.values() for m in names}
    dialects = {d: c for d, c in table.aliases.items() if d != c}
    return (members | set(table.aliases.values())) - set(dialects), dialects


def parse_step(raw: Any, where: str, table: SyscallTable, made: list[str],
               repeated: bool) -> TextbookStep:
    if not isinstance(raw, str):
        raise TextbookError(f"{where}: expected a step written as in the tables "
                            f"(`conn = accept(listener)`), got {raw!r}")
    m = _STEP.match(raw)
    if m is None:
        raise TextbookError(f"{where}: cannot read {raw!r}: expected "
                            "[CREATED = ]CALL(SOCKET[, QUALIFIER...])[ → OUTCOME]")
    name = m["name"]
    known, dialects = known_calls(table)
    if name in dialects:
        raise TextbookError(f"{where}: {name!r} is a dialect of {dialects[name]!r}: a textbook "
                            f"step uses the canonical name")
    if name not in known:
        raise TextbookError(f"{where}: unknown call {name!r} (known: "
                            f"{', '.join(sorted(known))})")
    args = [a.strip() for a in m["args"].split(",")] if m["args"].strip() else []
    if any(not a for a in args):
        raise TextbookError(f"{where}: an empty argument in {raw!r}")
    creates = m["creates"] or ""
    if creates:
        if repeated:
            raise TextbookError(f"{where}: a repeated step cannot make a socket ({creates!r})")
        # socket() and socketpair() work on what they make, their arguments are qualifiers
        # (`sock = socket(SOCK_DGRAM)`); accept works on the socket named first
        if table.in_class(name, "socket_create"):
            fd = creates
        else:
            fd = args.pop(0) if args else creates
    else:
        if not args:
            raise TextbookError(f"{where}: {raw!r} names no socket")
        fd = args.pop(0)
    if fd not in made and fd != creates:
        raise TextbookError(f"{where}: socket {fd!r} is not made by an earlier step "
                            f"(made so far: {', '.join(made) or 'none'})")
    if creates:
        made.append(creates)
    return TextbookStep(text=raw.strip(), name=name, fd=fd, creates=creates,
                        qualifiers=tuple(args), outcome=m["outcome"] or "")


def parse_textbook(raw: Any, scenario: str, role: str, note: str, source: str,
                   table: SyscallTable) -> Textbook:
    where = f"{source}: scenario '{scenario}', role '{role}'"
    if not isinstance(raw, list) or not raw:
        raise TextbookError(f"{where}: expected a non-empty list of steps")
    made: list[str] = []
    items: list[TextbookStep | Repeat] = []
    for i, item in enumerate(raw, 1):
        at = f"{where}, step #{i}"
        if not isinstance(item, dict):
            items.append(parse_step(item, at, table, made, repeated=False))
            continue
        unknown = sorted(set(item) - {"repeat", "steps"})
        if unknown or "repeat" not in item or "steps" not in item:
            raise TextbookError(f"{at}: a repeated block is a mapping with 'repeat' and "
                                f"'steps'" + (f" (unknown field '{unknown[0]}')" if unknown
                                              else ""))
        times = item["repeat"]
        if not (times == PER_MESSAGE or isinstance(times, int) and not isinstance(times, bool)
                and times > 0):
            raise TextbookError(f"{at}: field 'repeat': expected {PER_MESSAGE!r} or a "
                                f"positive number, got {times!r}")
        body = item["steps"]
        if not isinstance(body, list) or not body:
            raise TextbookError(f"{at}: field 'steps': expected a non-empty list of steps")
        steps = tuple(parse_step(s, f"{at}.{j}", table, made, repeated=True)
                      for j, s in enumerate(body, 1))
        items.append(Repeat(times=times, steps=steps))
    return Textbook(scenario=scenario, role=role, items=tuple(items), note=note, where=where)


def parse_textbooks(doc: Any, source: str, table: SyscallTable) -> Textbooks:
    scenarios = doc.get("scenarios") if isinstance(doc, dict) else None
    if not isinstance(scenarios, dict) or not scenarios:
        raise TextbookError(f"{source}: expected a mapping 'scenarios:' of scenario name -> "
                            "{server: [...], client: [...]}")
    books: dict[tuple[str, str], Textbook] = {}
    for name, spec in scenarios.items():
        where = f"{source}: scenario '{name}'"
        if not isinstance(spec, dict):
            raise TextbookError(f"{where}: expected a mapping with {', '.join(SCENARIO_FIELDS)}")
        unknown = sorted(set(spec) - set(SCENARIO_FIELDS))
        if unknown:
            from harness.common.validate import unknown_field

            raise TextbookError(unknown_field(where, unknown[0], SCENARIO_FIELDS))
        if not any(role in spec for role in ROLES):
            raise TextbookError(f"{where}: no 'server' and no 'client' sequence")
        note = spec.get("note") or ""
        if not isinstance(note, str):
            raise TextbookError(f"{where}: field 'note' must be text")
        for role in ROLES:
            if role in spec:
                books[(str(name), role)] = parse_textbook(spec[role], str(name), role,
                                                          " ".join(note.split()), source, table)
    return Textbooks(books=books, source=source)


def load_textbooks(path: Path | str, table: SyscallTable) -> Textbooks:
    from harness.common.validate import read_yaml

    path = Path(path)
    doc = read_yaml(path, TextbookError)
    return parse_textbooks(doc, str(path), table)
