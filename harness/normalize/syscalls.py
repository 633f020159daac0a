"""The syscall table the normalizer reads from syscalls.yaml: classes, aliases, fd arguments."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

DEFAULT_SYSCALLS = Path(__file__).with_name("syscalls.yaml")


class SyscallTableError(HarnessError, ValueError):
    """A syscalls file that cannot be used: names the file and the entry."""


@dataclass(frozen=True, slots=True)
class SyscallTable:
    """Syscall knowledge as data (see syscalls.yaml)."""

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


def _names(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SyscallTableError(f"{where}: expected a list of names")
    return frozenset(value)


def _groups(doc: Mapping[str, Any], key: str, source: str) -> dict[str, frozenset[str]]:
    raw = doc.get(key) or {}
    if not isinstance(raw, dict):
        raise SyscallTableError(f"{source}: {key}: expected a mapping of name -> list")
    return {str(k): _names(v, f"{source}: {key}.{k}") for k, v in raw.items()}


def parse_syscall_table(doc: Any, source: str) -> SyscallTable:
    if not isinstance(doc, dict):
        raise SyscallTableError(f"{source}: top level is not a mapping")
    classes = _groups(doc, "classes", source)
    aliases: dict[str, str] = {}
    for canonical, members in _groups(doc, "aliases", source).items():
        for m in members:
            if m in aliases:
                raise SyscallTableError(f"{source}: aliases: {m} is in both {aliases[m]} "
                                        f"and {canonical}")
            aliases[m] = canonical
    apis: dict[str, str] = {}
    for api, members in _groups(doc, "readiness_apis", source).items():
        for m in members:
            apis[m] = api
    fd_args = doc.get("fd_args") or []
    return SyscallTable(classes=classes, aliases=aliases, readiness_apis=apis,
                        fd_args=tuple(sorted(_names(fd_args, f"{source}: fd_args"),
                                             key=fd_args.index)),
                        errno_groups=_groups(doc, "errno_groups", source), source=source)


def load_syscall_table(path: Path = DEFAULT_SYSCALLS) -> SyscallTable:
    import yaml

    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SyscallTableError(f"{path}: cannot read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise SyscallTableError(f"{path}: not valid YAML: {e}") from None
    return parse_syscall_table(doc, str(path))
