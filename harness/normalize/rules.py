"""Normalization rules as data: loading and checking rules.yaml.

A rules file is an ordered list. Each rule names one kind (a function in kinds/, all of one
signature), the level from which it applies and the kind's own parameters. The file decides
which rules run and in what order; every mistake in it is reported with the file and the rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError
from harness.formats.model import RunRecord, SyscallEvent, Trace
from harness.normalize.syscalls import (DEFAULT_SYSCALLS, SyscallTable, SyscallTableError,
                                        load_syscall_table)
from harness.normalize.textbook import Textbooks, TextbookError, load_textbooks

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")

# Normalization levels, from the least to the most folded. Raw runs no rule.
LEVELS = ("raw", "socket", "canonical")
RULE_LEVELS = LEVELS[1:]

# Keys every rule may have besides its kind's parameters.
COMMON_KEYS = ("id", "kind", "level", "why")


class RuleError(HarnessError, ValueError):
    """A rules file that cannot be used: the message names the file and the rule."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One checked rule of a rules file."""

    id: str  # the rule's id in the file (unique there)
    kind: str  # the rule kind: a key of kinds.KINDS
    level: str  # socket | canonical: the first level at which it runs
    params: Mapping[str, Any]  # the kind's parameters, parsed (defaults filled in)
    where: str  # "FILE: rule #N (ID)", for messages
    why: str = ""  # the file's own explanation of the rule


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A loaded rules file with the syscall table its rules refer to."""

    rules: tuple[Rule, ...]  # in file order
    syscalls: SyscallTable  # classes and aliases the rules refer to
    source: str  # path of the rules file
    textbooks: Textbooks | None = None  # the textbook sequences (`textbook:`), when named

    def at(self, level: str) -> tuple[Rule, ...]:
        """The rules of exactly this level, in file order."""
        return tuple(r for r in self.rules if r.level == level)

    def param(self, kind: str, name: str, default: Any) -> Any:
        """A parameter of the first rule of a kind (the PORT and PATH placeholders), else
        the default."""
        rule = next((r for r in self.rules if r.kind == kind), None)
        return rule.params.get(name, default) if rule is not None else default


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may look at besides the steps: the run, the trace, the syscall table."""

    trace: Trace  # the whole trace (processes, original events)
    run: RunRecord  # the run: its host, port, message (sizes for tcp-session), unix path
    role: str  # server | client
    syscalls: SyscallTable  # classes, aliases, fd argument names
    events: Mapping[int, SyscallEvent]  # seq -> original event

    @property
    def message_bytes(self) -> int:
        """Length of the run's message as the client sends it (its argv bytes)."""
        return len(os.fsencode(self.run.message)) if self.run.message else 0

    @property
    def messages(self) -> tuple[int, ...]:
        """Sizes of the messages of the run, in order: RunRecord.sizes (tcp-session), else the
        one message; empty when the run has no message."""
        if self.run.sizes:
            return tuple(self.run.sizes)
        return (self.message_bytes,) if self.message_bytes else ()


def _rule_where(source: str, index: int, raw: Any) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"{source}: rule #{index}" + (f" ({rid})" if rid else "")


def parse_rule(raw: Any, index: int, source: str, syscalls: SyscallTable) -> Rule:
    from harness.normalize.kinds import KINDS
    from harness.normalize.kinds.params import ParamError

    where = _rule_where(source, index, raw)
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule must be a mapping, got {type(raw).__name__}")
    for key in ("id", "kind", "level"):
        if key not in raw:
            raise RuleError(f"{where}: missing field '{key}'")
        if not isinstance(raw[key], str):
            raise RuleError(f"{where}: field '{key}' must be a string")
    kind = raw["kind"]
    if kind not in KINDS:
        raise RuleError(f"{where}: unknown kind '{kind}' (known kinds: "
                        f"{', '.join(sorted(KINDS))})")
    level = raw["level"]
    if level not in RULE_LEVELS:
        raise RuleError(f"{where}: level '{level}' is not one of {', '.join(RULE_LEVELS)}")
    spec = KINDS[kind]
    params_raw = {k: v for k, v in raw.items() if k not in COMMON_KEYS}
    unknown = sorted(set(params_raw) - set(spec.params))
    if unknown:
        raise RuleError(f"{where}: unknown field '{unknown[0]}' for kind '{kind}' "
                        f"(its fields: {', '.join(spec.params) or 'none'})")
    params: dict[str, Any] = {}
    for name, param in spec.params.items():
        if name not in params_raw:
            if param.required:
                raise RuleError(f"{where}: missing field '{name}' (kind '{kind}')")
            params[name] = param.default
            continue
        try:
            params[name] = param.parse(params_raw[name], syscalls)
        except ParamError as e:
            raise RuleError(f"{where}: field '{name}': {e}") from None
    why = raw.get("why", "")
    return Rule(id=raw["id"], kind=kind, level=level, params=params, where=where,
                why=why if isinstance(why, str) else str(why))


def parse_rules(doc: Any, source: str, syscalls: SyscallTable) -> RuleSet:
    items = doc.get("rules") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise RuleError(f"{source}: expected a list of rules (or a mapping with 'rules:')")
    rules = tuple(parse_rule(raw, i, source, syscalls) for i, raw in enumerate(items, 1))
    seen: dict[str, Rule] = {}
    canonical_seen: Rule | None = None
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"{rule.where}: id '{rule.id}' already used by {seen[rule.id].where}")
        seen[rule.id] = rule
        # The socket view is what the socket rules make; canonical rules build on it.
        if rule.level == "canonical":
            canonical_seen = canonical_seen or rule
        elif canonical_seen is not None:
            raise RuleError(f"{rule.where}: a socket-level rule must come before the "
                            f"canonical rules (first one: {canonical_seen.where})")
    return RuleSet(rules=rules, syscalls=syscalls, source=source)


def load_rules(path: Path | str = DEFAULT_RULES) -> RuleSet:
    """Read and check a rules file. Its optional `syscalls:` key names the syscall table,
    relative to the rules file (else harness/tables/syscalls.yaml); its optional `textbook:` key
    the textbook sequences of the scenarios (scenarios.yaml), relative to it too."""
    from harness.common.validate import read_yaml

    path = Path(path)
    doc = read_yaml(path, RuleError)
    table_path = DEFAULT_SYSCALLS
    if isinstance(doc, dict) and doc.get("syscalls"):
        table_path = (path.parent / str(doc["syscalls"])).resolve()
    try:
        syscalls = load_syscall_table(table_path)
    except SyscallTableError as e:
        raise RuleError(f"{path}: syscall table: {e}") from None
    ruleset = parse_rules(doc, str(path), syscalls)
    if isinstance(doc, dict) and doc.get("textbook"):
        try:
            textbooks = load_textbooks((path.parent / str(doc["textbook"])).resolve(), syscalls)
        except TextbookError as e:
            raise RuleError(f"{path}: textbook: {e}") from None
        ruleset = RuleSet(rules=ruleset.rules, syscalls=syscalls, source=ruleset.source,
                          textbooks=textbooks)
    return ruleset


@lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The packaged rules.yaml, loaded once."""
    return load_rules(DEFAULT_RULES)
