"""Constant tables (xlat.yaml) and syscall classes (syscalls.yaml), loaded once per tracer."""

from __future__ import annotations

import errno as errno_module
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


class Table:
    """One table of named values: value -> name, and decoding of bit sets."""

    __slots__ = ("by_value", "items")

    def __init__(self, mapping: dict[str, int]):
        self.items: list[tuple[str, int]] = list(mapping.items())  # file order
        self.by_value: dict[int, str] = {}
        for name, value in self.items:
            self.by_value.setdefault(value, name)  # first name wins for aliases

    def name(self, value: int) -> str | int:
        """The symbolic name of value, or value itself when the table lacks it."""
        return self.by_value.get(value, value)

    def flags(self, value: int) -> list[str]:
        """Names of the bits set in value, in table order; leftover bits as one hex string."""
        names = []
        rest = value
        for name, bit in self.items:
            if bit and value & bit == bit:
                names.append(name)
                rest &= ~bit
        if rest:
            names.append(hex(rest))
        return names

    def value(self, name: str) -> int:
        for n, v in self.items:
            if n == name:
                return v
        raise KeyError(name)


@dataclass(frozen=True)
class Tables:
    """Every table the decoder uses."""

    tables: dict[str, Table]  # name in xlat.yaml -> table
    options: dict[str, Table]  # level name -> option table
    ioctl_int_arg: frozenset[int]  # ioctl requests whose argument points to an int
    errno_names: dict[int, str]  # positive errno -> name

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]


@cache
def load_tables() -> Tables:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc: dict[str, Any] = yaml.load((HERE / "xlat.yaml").read_text(), Loader=loader)
    options = {level: Table(t) for level, t in doc.pop("socket_options").items()}
    int_arg = doc.pop("ioctl_int_arg")
    extra = doc.pop("errno_extra")
    tables = {name: Table(t) for name, t in doc.items()}
    errno_names = dict(errno_module.errorcode)
    errno_names.update({v: k for k, v in extra.items()})
    errno_names[errno_module.EAGAIN] = "EAGAIN"  # not EWOULDBLOCK: one name for one value
    ioctl = tables["ioctl_requests"]
    return Tables(tables=tables, options=options,
                  ioctl_int_arg=frozenset(ioctl.value(n) for n in int_arg),
                  errno_names=errno_names)


@dataclass(frozen=True)
class SyscallSet:
    """The syscalls the tracer stops at: number -> name, name -> class."""

    names: dict[int, str]  # syscall number -> name, only for traced syscalls
    classes: dict[str, str]  # name -> class (net, io, fd, readiness, epoll_new)
    read_at_entry: frozenset[str]  # names whose arguments must be read when the call starts

    @property
    def numbers(self) -> list[int]:
        return sorted(self.names)


@cache
def load_syscalls() -> SyscallSet:
    import yaml

    from harness.tracer import kernel

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = yaml.load((HERE / "syscalls.yaml").read_text(), Loader=loader)
    by_name = kernel.syscall_numbers()
    by_name.update(doc.get("extra_numbers") or {})
    classes: dict[str, str] = {}
    for cls, names in doc["classes"].items():
        for name in names:
            classes[name] = cls
    missing = [n for n in classes if n not in by_name]
    if missing:
        raise RuntimeError(f"{HERE / 'syscalls.yaml'}: no syscall number known for {missing}")
    return SyscallSet(names={by_name[n]: n for n in classes}, classes=classes,
                      read_at_entry=frozenset(doc.get("read_at_entry") or ()))
