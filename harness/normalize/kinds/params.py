"""Rule kinds' parameters: the checkers that turn a value from the rules file into what a kind
reads, and the records the loader checks rules against.

`Param` is one parameter of a kind (its checker, whether the rule must give it, its default);
`Kind` is a kind's function and its parameter table. `ParamError` is what a checker raises on
a value that does not fit (the loader adds the file and the rule). `Steps` and `KindFunction`
are the one signature every kind has: `(steps, rule, ctx) -> steps`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.normalize.steps import Step
from harness.normalize.syscalls import SyscallTable

if TYPE_CHECKING:
    from harness.normalize.rules import Context, Rule

Steps = tuple[Step, ...]
KindFunction = Callable[[Steps, "Rule", "Context"], Steps]


class ParamError(ValueError):
    """A parameter value that does not fit its kind (the loader adds file and rule)."""


def _as_tuple(value: Any, what: str) -> tuple[Any, ...]:
    if isinstance(value, list):
        if not value:
            raise ParamError(f"{what}: empty list")
        return tuple(value)
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return (value,)
    raise ParamError(f"{what}: expected a name or a list of names, got {value!r}")


def _str_set(value: Any, what: str) -> frozenset[str]:
    items = _as_tuple(value, what)
    if not all(isinstance(v, str) for v in items):
        raise ParamError(f"{what}: expected names, got {value!r}")
    return frozenset(items)


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a rule kind."""

    parse: Callable[[Any, SyscallTable], Any]  # checks and converts the value from the file
    required: bool = False  # the rule must give it
    default: Any = None  # used when the rule leaves it out


def p_str(value: Any, table: SyscallTable) -> str:
    if not isinstance(value, str):
        raise ParamError(f"expected a string, got {value!r}")
    return value


def p_bool(value: Any, table: SyscallTable) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"expected true or false, got {value!r}")
    return value


def p_names(value: Any, table: SyscallTable) -> tuple[str, ...]:
    return tuple(sorted(_str_set(value, "names")))


def p_values(value: Any, table: SyscallTable) -> tuple[Any, ...]:
    return _as_tuple(value, "values")


def p_name_map(value: Any, table: SyscallTable) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise ParamError(f"expected a mapping of role -> name, got {value!r}")
    unknown = sorted(set(value) - {"listener", "conn", "sock"})
    if unknown:
        raise ParamError(f"unknown socket role '{unknown[0]}' (roles: listener, conn, sock)")
    return {"listener": "listener", "conn": "conn", "sock": "sock", **value}


def p_arg_names(value: Any, table: SyscallTable) -> Mapping[str, str]:
    if not isinstance(value, dict) or not value or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ParamError(f"expected a mapping of argument -> name, got {value!r}")
    return dict(value)


@dataclass(frozen=True, slots=True)
class Kind:
    """A rule kind: its function and the parameters a rule of this kind may give."""

    function: KindFunction
    params: Mapping[str, Param] = field(default_factory=dict)
    doc: str = ""
