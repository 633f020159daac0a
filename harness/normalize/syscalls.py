"""The syscall table as the normalizer reads it (harness/tables/syscalls.yaml, the one table the
tracer reads too): classes, aliases, readiness APIs, the argument names that hold fds, and what
each call does to a socket (its effects: binds, connects, sends, receives, releases, waits...),
which the normalizer's steps and attributes are read from. io_uring operations (`uring_ops`)
are read as the call each is `like`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError

DEFAULT_SYSCALLS = Path(__file__).parents[1] / "tables" / "syscalls.yaml"
# `effect` (what a call does to the tracer's socket table) and `decode` (its arguments'
# decoder) are the tracer's columns, read by harness/tracer/tables.py; the normalizer only
# lets them be
ROW_KEYS = ("trace", "is", "as", "api", "fds", "pass", "transfer", "entry", "entry_when", "nr",
            "does", "count", "forgets", "effect", "decode")
EFFECTS = ("bind", "listen", "connect", "shutdown", "send", "receive", "release", "wait",
           "register")
COUNTS = ("bytes", "msgs")
URING_KEYS = ("like",)
# what a transfer is called by the socket end it moves bytes at
DIRECTIONS = {"receive": "recv", "send": "send"}


class SyscallTableError(HarnessError, ValueError):
    """A syscalls file that cannot be used: names the file and the entry."""


@dataclass(frozen=True, slots=True)
class SyscallTable:
    """Syscall knowledge as data (see harness/tables/syscalls.yaml)."""

    classes: Mapping[str, frozenset[str]]  # class name -> syscall names
    aliases: Mapping[str, str]  # syscall name -> canonical name (only those that fold)
    readiness_apis: Mapping[str, str]  # syscall name -> readiness API (epoll, poll, select)
    fd_args: tuple[str, ...]  # argument names whose values are socket fds
    errno_groups: Mapping[str, frozenset[str]]  # group name -> errno names
    source: str = "syscalls.yaml"  # where the table came from, for messages
    # syscall -> ((effect, argument names), ...), in the row's order (see EFFECTS)
    effects: Mapping[str, tuple[tuple[str, tuple[str, ...]], ...]] = field(default_factory=dict)
    counts: Mapping[str, str] = field(default_factory=dict)  # syscall -> msgs (default bytes)
    likes: Mapping[str, str] = field(default_factory=dict)  # io_uring op -> the call it mirrors
    # answers already worked out, by question: what a long trace asks of every event once per
    # rule is looked up once per syscall name (the table never changes)
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def base(self, syscall: str) -> str:
        """The call whose row describes syscall: itself, or for an io_uring operation the
        call it mirrors (IORING_OP_ACCEPT -> accept4)."""
        return self.likes.get(syscall, syscall)

    def in_class(self, syscall: str, name: str) -> bool:
        key = ("class", syscall, name)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self.base(syscall) in self.classes.get(name, frozenset())
        return bool(got)

    def canonical(self, syscall: str) -> str:
        base = self.base(syscall)
        return self.aliases.get(base, base)

    def does(self, syscall: str, effect: str) -> bool:
        """Whether the call has this effect on a socket (send, release, wait...)."""
        key = ("does", syscall, effect)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = any(e == effect for e, _ in
                                        self.effects.get(self.base(syscall), ()))
        return bool(got)

    def effect_args(self, syscall: str, effect: str) -> tuple[str, ...]:
        """The argument names that may hold the fd an effect acts on."""
        key = ("args", syscall, effect)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = next((args for e, args in
                                          self.effects.get(self.base(syscall), ())
                                          if e == effect), ())
        return got  # type: ignore[no-any-return]

    def effect_arg(self, syscall: str, effect: str, args: Mapping[str, Any]) -> str | None:
        """The argument of this event that holds the fd the effect acts on."""
        return next((a for a in self.effect_args(syscall, effect) if a in args), None)

    def counts_messages(self, syscall: str) -> bool:
        """Whether a transfer's result counts messages (args.msgs), not bytes."""
        return self.counts.get(self.base(syscall)) == "msgs"

    def direction(self, syscall: str, args: Mapping[str, Any],
                  is_socket: Callable[[Any], bool]) -> str | None:
        """recv or send: what a transfer is at its socket end (a call between a socket and a
        pipe or a file is named by the end that is a socket; is_socket tells of an argument's
        value); None for a call that moves no bytes, or none through a socket."""
        key = ("directions", syscall)
        rows = self._memo.get(key)
        if rows is None:
            rows = self._memo[key] = [(effect, names) for effect, names in
                                      self.effects.get(self.base(syscall), ())
                                      if effect in DIRECTIONS]
        for effect, names in rows:
            arg = next((a for a in names if a in args), None)
            if arg is not None and is_socket(args[arg]):
                return DIRECTIONS[effect]
        return None

    def transfers(self, syscall: str) -> bool:
        """Whether the call moves bytes through an fd (send or receive)."""
        key = ("transfers", syscall)
        got = self._memo.get(key)
        if got is None:
            got = self._memo[key] = self.does(syscall, "send") or self.does(syscall, "receive")
        return bool(got)

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
    counts: dict[str, str] = {}
    effects: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {}
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
        for key, into in (("as", aliases), ("api", apis), ("count", counts)):
            if key in row:
                if not isinstance(row[key], str):
                    raise SyscallTableError(f"{where}.{key}: expected a name")
                into[str(name)] = row[key]
        if row.get("count", "bytes") not in COUNTS:
            raise SyscallTableError(f"{where}.count: one of {', '.join(COUNTS)}")
        effects[str(name)] = _effects(row.get("does") or {}, f"{where}.does")
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
        source=source, effects={k: v for k, v in effects.items() if v}, counts=counts,
        likes=_likes(doc.get("uring_ops") or {}, rows, source))


def _effects(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(value, dict):
        raise SyscallTableError(f"{where}: expected a mapping of effect -> argument name(s)")
    out = []
    for effect, args in value.items():
        if effect not in EFFECTS:
            raise SyscallTableError(f"{where}: unknown effect '{effect}' (effects: "
                                    f"{', '.join(EFFECTS)})")
        names = [args] if isinstance(args, str) else _names(args, f"{where}.{effect}")
        out.append((str(effect), tuple(names)))
    return tuple(out)


def _likes(value: Any, rows: Mapping[str, Any], source: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise SyscallTableError(f"{source}: uring_ops: expected a mapping of name -> row")
    likes = {}
    for name, row in value.items():
        where = f"{source}: uring_ops.{name}"
        if not isinstance(row, dict) or set(row) != set(URING_KEYS):
            raise SyscallTableError(f"{where}: expected {{like: a syscall of the table}}")
        if row["like"] not in rows:
            raise SyscallTableError(f"{where}.like: '{row['like']}' is no row of syscalls")
        likes[str(name)] = str(row["like"])
    return likes


def load_syscall_table(path: Path = DEFAULT_SYSCALLS) -> SyscallTable:
    from harness.common.validate import read_yaml

    path = Path(path)
    doc = read_yaml(path, SyscallTableError)
    return parse_syscall_table(doc, str(path))


@cache
def default_table() -> SyscallTable:
    return load_syscall_table()
