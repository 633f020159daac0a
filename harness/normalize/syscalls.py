"""The syscall table as the normalizer reads it (harness/syscalls.yaml, the one table the
tracer reads too): classes, aliases, readiness APIs, the argument names that hold fds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

DEFAULT_SYSCALLS = Path(__file__).parents[1] / "syscalls.yaml"
ROW_KEYS = ("trace", "is", "as", "api", "fds", "pass", "transfer", "entry", "nr")


class SyscallTableError(HarnessError, ValueError):
    """A syscalls file that cannot be used: names the file and the entry."""


@dataclass(frozen=True, slots=True)
class SyscallTable:
    """Syscall knowledge as data (see harness/syscalls.yaml)."""

    classes: Mapping[str, frozenset[str]]  # class name -> syscall names
    aliases: Mapping[str, str]  # syscall name -> canonical name (only those that fold)
    readiness_apis: Mapping[str, str]  # syscall name -> readiness API (epoll, poll, select)
    fd_args: tuple[str, ...]  # argument names whose values are socket fds
    errno_groups: Mapping[str, frozenset[str]]  # group name -> errno names
    source: str = "syscalls.yaml"  # where the table came from, for messages

    def in_class(self, syscall: str, name: str) -> bool:
        return syscall in self.classes.get(name, frozenset())

    def canonical(self, syscall: str) -> str:
        return self.aliases.get(syscall, syscall)

    def errnos(self, names: tuple[str, ...]) -> frozenset[str]:
        """Errno names, with group names expanded."""
        out: set[str] = set()
        for name in names:
            out |= self.errno_groups.get(name, frozenset((name,)))
        return frozenset(out)


def _names(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SyscallTableError(f"{where}: expected a list of names")
    return list(value)


def parse_syscall_table(doc: Any, source: str) -> SyscallTable:
    if not isinstance(doc, dict):
        raise SyscallTableError(f"{source}: top level is not a mapping")
    rows = doc.get("syscalls") or {}
    if not isinstance(rows, dict):
        raise SyscallTableError(f"{source}: syscalls: expected a mapping of name -> row")
    classes: dict[str, set[str]] = {}
    aliases: dict[str, str] = {}
    apis: dict[str, str] = {}
    for name, row in rows.items():
        where = f"{source}: syscalls.{name}"
        if not isinstance(row, dict):
            raise SyscallTableError(f"{where}: expected a mapping with some of "
                                    f"{', '.join(ROW_KEYS)}")
        unknown = sorted(set(row) - set(ROW_KEYS))
        if unknown:
            raise SyscallTableError(f"{where}: unknown key '{unknown[0]}' (keys: "
                                    f"{', '.join(ROW_KEYS)})")
        for cls in _names(row.get("is", []), f"{where}.is"):
            classes.setdefault(cls, set()).add(str(name))
        for key, into in (("as", aliases), ("api", apis)):
            if key in row:
                if not isinstance(row[key], str):
                    raise SyscallTableError(f"{where}.{key}: expected a name")
                into[str(name)] = row[key]
    groups = doc.get("errno_groups") or {}
    if not isinstance(groups, dict):
        raise SyscallTableError(f"{source}: errno_groups: expected a mapping of name -> list")
    return SyscallTable(
        classes={k: frozenset(v) for k, v in classes.items()}, aliases=aliases,
        readiness_apis=apis,
        fd_args=tuple(dict.fromkeys(_names(doc.get("fd_arg_names") or [],
                                           f"{source}: fd_arg_names"))),
        errno_groups={str(k): frozenset(_names(v, f"{source}: errno_groups.{k}"))
                      for k, v in groups.items()},
        source=source)


def load_syscall_table(path: Path = DEFAULT_SYSCALLS) -> SyscallTable:
    from harness.validate import read_yaml

    path = Path(path)
    doc = read_yaml(path, SyscallTableError)
    return parse_syscall_table(doc, str(path))


@cache
def default_table() -> SyscallTable:
    return load_syscall_table()
