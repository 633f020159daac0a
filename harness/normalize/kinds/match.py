"""The condition language of the rules file: which steps a rule applies to.

A condition (`when`, `check`, `until`, `peek`) is a mapping of keys that must all hold (syscall,
name, class, does, errno, outcome, args), or a list of such mappings, any of which may hold;
`parse_match` checks one against the syscall table and makes it a `Match`, a predicate on a
step. What a step is at its socket's end (a send, a receive) is read here too, for `does` and
for the kinds and attributes that ask it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.normalize.kinds.params import ParamError, _as_tuple, _str_set
from harness.normalize.steps import Step
from harness.normalize.syscalls import SyscallTable

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule

MAYBE = object()  # a condition the recorded syscall alone does not decide
MATCH_KEYS = ("syscall", "name", "class", "does", "errno", "outcome", "args")


@dataclass(frozen=True, slots=True)
class Match:
    """A condition on a step: every given key must hold (AND). A list of conditions in the
    rules file means any of them (OR)."""

    syscalls: frozenset[str] | None = None  # recorded syscall name (or the call an io_uring
    # operation is like) in this set
    names: frozenset[str] | None = None  # current (canonical) name in this set
    classes: tuple[str, ...] | None = None  # recorded syscall in one of these classes
    # has one of these effects (syscalls.yaml `does`); send and receive at a socket's end
    effects: tuple[str, ...] | None = None
    errnos: frozenset[str] | None = None  # failed with one of these errno names
    outcomes: frozenset[str] | None = None  # outcome in this set ("" for success, EOF, ...)
    args: tuple[tuple[str, tuple[Any, ...]], ...] = ()  # arg equals (or contains) one value
    alternatives: tuple[Match, ...] = ()  # when set, any of these (this one's fields unused)
    # (syscall, the table's id) -> what the recorded syscall alone decides of the condition
    # (True, False, or MAYBE): worked out once per name, not once per step and rule
    _by_syscall: dict[tuple[str, int], bool | object] = field(
        default_factory=dict, compare=False, repr=False)

    def __call__(self, step: Step, table: SyscallTable) -> bool:
        key = (step.syscall, id(table))
        fits = self._by_syscall.get(key)
        if fits is None:
            fits = self._by_syscall[key] = self._fits(step.syscall, table)
        if fits is not MAYBE:
            return fits is True
        if self.alternatives:
            return any(alt(step, table) for alt in self.alternatives)
        if self.names is not None and step.name not in self.names:
            return False
        if self.effects is not None and not any(has_effect(step, e, table)
                                                for e in self.effects):
            return False
        if self.errnos is not None and step.errno not in self.errnos:
            return False
        if self.outcomes is not None and step.outcome not in self.outcomes:
            return False
        for key_, wanted in self.args:
            value = step.args.get(key_)
            if isinstance(value, list):
                if not any(v in wanted for v in value):
                    return False
            elif value not in wanted:
                return False
        return True

    def _fits(self, syscall: str, table: SyscallTable) -> bool | object:
        """What the recorded syscall alone decides: True or False, or MAYBE when the step's
        other fields must be looked at."""
        if self.alternatives:
            each = [alt._fits(syscall, table) for alt in self.alternatives]
            return True if True in each else MAYBE if MAYBE in each else False
        if self.syscalls is not None and syscall not in self.syscalls \
                and table.base(syscall) not in self.syscalls:
            return False
        if self.classes is not None and not any(table.in_class(syscall, c)
                                                for c in self.classes):
            return False
        effects_left = self.effects is not None
        if self.effects is not None and not {"send", "receive"} & set(self.effects):
            if not any(table.does(syscall, e) for e in self.effects):
                return False
            effects_left = False  # (no send or receive: the syscall's row decides)
        if self.names is None and not effects_left and self.errnos is None \
                and self.outcomes is None and not self.args:
            return True
        return MAYBE


def transfer_direction(step: Step, table: SyscallTable) -> str | None:
    """recv or send: what a step is at its socket's end, by the table's effects. Once the
    socket rules ran, an fd argument that names a socket holds its name (conn), any other fd
    its number: sendfile(out_fd=conn, in_fd=5) is a send."""
    return table.direction(step.syscall, step.args, lambda v: isinstance(v, str))


def has_effect(step: Step, effect: str, table: SyscallTable) -> bool:
    """Whether the step's call has the effect; send and receive only at a socket's end."""
    if effect == "send" or effect == "receive":
        return transfer_direction(step, table) == {"send": "send", "receive": "recv"}[effect]
    return table.does(step.syscall, effect)


def parse_match(value: Any, table: SyscallTable) -> Match:
    if isinstance(value, list):
        if not value:
            raise ParamError("an empty list of conditions")
        return Match(alternatives=tuple(parse_match(v, table) for v in value))
    if not isinstance(value, dict) or not value:
        raise ParamError(f"expected a condition mapping with some of {', '.join(MATCH_KEYS)}")
    unknown = sorted(set(value) - set(MATCH_KEYS))
    if unknown:
        raise ParamError(f"unknown condition '{unknown[0]}' (known: {', '.join(MATCH_KEYS)})")
    classes = None
    if "class" in value:
        classes = tuple(sorted(_str_set(value["class"], "class")))
        missing = [c for c in classes if c not in table.classes]
        if missing:
            raise ParamError(f"unknown syscall class '{missing[0]}' (classes in "
                             f"{table.source}: {', '.join(sorted(table.classes))})")
    effects = None
    if "does" in value:
        effects = tuple(sorted(_str_set(value["does"], "does")))
        from harness.normalize.syscalls import EFFECTS

        unknown_effects = [e for e in effects if e not in EFFECTS]
        if unknown_effects:
            raise ParamError(f"unknown effect '{unknown_effects[0]}' (effects in "
                             f"{table.source}: {', '.join(EFFECTS)})")
    args: list[tuple[str, tuple[Any, ...]]] = []
    if "args" in value:
        if not isinstance(value["args"], dict) or not value["args"]:
            raise ParamError("args: expected a mapping of argument name -> value(s)")
        args = [(str(k), _as_tuple(v, f"args.{k}")) for k, v in value["args"].items()]
    outcomes = None
    if "outcome" in value:
        raw = value["outcome"]
        outcomes = frozenset("" if v is None else str(v)
                             for v in (raw if isinstance(raw, list) else [raw]))
    return Match(
        syscalls=_str_set(value["syscall"], "syscall") if "syscall" in value else None,
        names=_str_set(value["name"], "name") if "name" in value else None,
        classes=classes, effects=effects,
        errnos=(table.errnos(tuple(_str_set(value["errno"], "errno")))
                if "errno" in value else None),
        outcomes=outcomes, args=tuple(args))


def _when(rule: Rule, ctx: Context) -> Callable[[Step], bool]:
    match: Match | None = rule.params.get("when")
    if match is None:
        return lambda step: True
    return lambda step: match(step, ctx.syscalls)
