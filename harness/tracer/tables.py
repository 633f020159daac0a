"""Constant tables (xlat.yaml) and the syscall table (harness/tables/syscalls.yaml, which the
normalizer reads too), loaded once per tracer.

Parsing the YAML and python-ptrace's syscall table costs more than the rest of the tracer's
start, so what they hold is kept in a JSON file in the user's cache folder, keyed by a
checksum of the two YAML files: an edited YAML file makes a new key. Without a writable cache
folder the YAML is parsed every time.
"""

from __future__ import annotations

import errno as errno_module
from functools import cache
import os
import stat
import time
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
# the one syscall table
SYSCALLS_FILE = os.path.join(os.path.dirname(HERE), "tables", "syscalls.yaml")
SOURCES = (os.path.join(os.path.dirname(HERE), "tables", "xlat.yaml"), SYSCALLS_FILE)
CACHE_VERSION = 2  # of the cache file's layout
CACHE_LIMIT = 8 << 20  # bytes of a cache file read at most (it holds some hundred KB)
TRACE_CLASSES = ("net", "io", "fd", "desc", "readiness", "epoll_new", "uring", "new_fd")
# what a finished call does to the socket table (`effect`; harness/tracer/effects.py has one
# method for each); a row that names none has its class's (an fd or readiness row names one)
TRACE_EFFECTS = ("names_socket", "names_fd", "new_fd", "epoll_new", "uring", "new_socket",
                 "new_pair", "accept", "sets_local", "sets_peer", "learns_local", "learns_peer",
                 "sends_fds", "receives_fds", "close", "close_range", "dup", "fcntl", "ioctl",
                 "epoll_ctl", "epoll_wait", "poll", "select")
CLASS_EFFECTS = {"net": "names_socket", "io": "names_fd", "desc": "names_fd", "new_fd": "new_fd",
                 "epoll_new": "epoll_new", "uring": "uring"}


def cache_folder() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "sockettrace-harness")


@cache
def _docs() -> dict[str, Any]:
    """{"xlat": ..., "syscalls": ..., "numbers": name -> x86_64 number}: from the cache when
    it holds this version of the YAML files, else parsed (and cached)."""
    import json
    import zlib

    texts = []
    for name in SOURCES:
        with open(name, "rb") as f:
            texts.append(f.read())
    key = zlib.crc32(b"\0".join([str(CACHE_VERSION).encode(), *texts]))
    path = os.path.join(cache_folder(), f"tracer-tables-{key:08x}.json")
    try:  # a regular file of bounded size, never through a link
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            raw = f.read(CACHE_LIMIT + 1) if stat.S_ISREG(os.fstat(fd).st_mode) else b""
        doc = json.loads(raw) if 0 < len(raw) <= CACHE_LIMIT else None
        if isinstance(doc, dict) and doc.get("key") == key:
            return doc
    except (OSError, ValueError):
        pass
    import yaml

    from harness.tracer import kernel

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = {"key": key, "xlat": yaml.load(texts[0], Loader=loader),
           "syscalls": yaml.load(texts[1], Loader=loader), "numbers": kernel.syscall_numbers()}
    try:
        os.makedirs(cache_folder(), mode=0o700, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o644)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, path)
    except OSError:
        pass  # no cache: parsed again next time
    return doc


class Table:
    """One table of named values: value -> name, and decoding of bit sets."""

    __slots__ = ("by_value", "items", "_flags")

    def __init__(self, mapping: dict[str, int]):
        self.items: list[tuple[str, int]] = list(mapping.items())  # file order
        self._flags: dict[int, list[str]] = {}  # decoded bit sets, by value
        self.by_value: dict[int, str] = {}
        for name, value in self.items:
            self.by_value.setdefault(value, name)  # first name wins for aliases

    def name(self, value: int) -> str | int:
        """The symbolic name of value, or value itself when the table lacks it."""
        return self.by_value.get(value, value)

    def flags(self, value: int) -> list[str]:
        """Names of the bits set in value, in table order; leftover bits as one hex string.
        (A new list each time: callers may keep it in an event.)"""
        known = self._flags.get(value)
        if known is None:
            known = self._flags[value] = self._decode_flags(value)
        return list(known)

    def _decode_flags(self, value: int) -> list[str]:
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


class Tables:
    """Every table the decoder uses."""

    __slots__ = ("tables", "options", "ioctl_int_arg", "errno_names")

    def __init__(self, tables: dict[str, Table], options: dict[str, Table],
                 ioctl_int_arg: frozenset[int], errno_names: dict[int, str]):
        self.tables = tables  # name in xlat.yaml -> table
        self.options = options  # level name -> option table
        self.ioctl_int_arg = ioctl_int_arg  # ioctl requests whose argument points to an int
        self.errno_names = errno_names  # positive errno -> name

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]


@cache
def load_tables() -> Tables:
    doc: dict[str, Any] = dict(_docs()["xlat"])
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


class SyscallSet:
    """The syscalls the tracer stops at: number -> name, name -> class and effect."""

    __slots__ = ("names", "classes", "read_at_entry", "fd_args", "pass_when", "transfers",
                 "entry_when", "forgets", "effects", "decoders")

    def __init__(self, names: dict[int, str], classes: dict[str, str],
                 read_at_entry: frozenset[str], fd_args: dict[str, tuple[int, ...]],
                 pass_when: dict[str, tuple[tuple[int, int], ...]],
                 transfers: frozenset[str] = frozenset(),
                 entry_when: dict[str, int] | None = None,
                 forgets: dict[str, int] | None = None, effects: dict[str, str] | None = None,
                 decoders: dict[str, str] | None = None):
        self.names = names  # syscall number -> name, only for traced syscalls
        self.classes = classes  # name -> class (net, io, fd, desc, readiness, epoll_new)
        self.read_at_entry = read_at_entry  # names whose arguments are read at entry
        # name -> indexes of the arguments that are fds, for the calls recorded only when
        # one of them is a socket (io, fd, desc); (0,) unless syscalls.yaml says otherwise
        self.fd_args = fd_args
        # name -> ((argument, value), ...): the filter lets the call through when all hold
        self.pass_when = pass_when
        self.transfers = transfers  # data transfers whose decoding is deferred
        # name -> argument: read at entry only when that argument is not 0 (the filter marks
        # such a stop with ENTRY_FLAG in its data)
        self.entry_when = entry_when or {}
        self.forgets = forgets or {}  # name -> the argument whose fd number it closes
        self.effects = effects or {}  # name -> what its exit does to the socket table
        # name -> the decoder of its arguments (a method of tracer/decode.py's Decoder): its
        # `decode`, else `desc` for a desc call, else its own name; none for a uring call
        self.decoders = decoders or {}

    @property
    def numbers(self) -> list[int]:
        return sorted(self.names)

    def filter_rules(self) -> list[tuple[int, tuple[tuple[int, int], ...], int | None]]:
        """(number, pass conditions, argument whose being non-zero the stop says) of every
        traced syscall, by number, for the filter."""
        return [(nr, self.pass_when.get(name, ()), self.entry_when.get(name))
                for nr, name in sorted(self.names.items())]


@cache
def load_syscalls() -> SyscallSet:
    """The rows of harness/tables/syscalls.yaml the tracer uses: those with a `trace` class."""
    docs = _docs()
    return parse_syscalls(docs["syscalls"], docs["numbers"])


def parse_syscalls(doc: dict[str, Any], numbers: dict[str, int],
                   source: str = SYSCALLS_FILE) -> SyscallSet:
    """A syscall table's traced rows, given each call's x86_64 number; a RuntimeError of one
    line naming the file, the row and the field for a row the tracer cannot use."""

    def fail(message: str) -> RuntimeError:
        return RuntimeError(f"{source}: {message}")

    rows: dict[str, dict[str, Any]] = doc["syscalls"]
    by_name = dict(numbers)
    by_name.update({name: row["nr"] for name, row in rows.items() if "nr" in row})
    classes = {name: row["trace"] for name, row in rows.items() if "trace" in row}
    wrong = [n for n, c in classes.items() if c not in TRACE_CLASSES]
    if wrong:
        raise fail(f"syscalls.{wrong[0]}.trace: not one of {', '.join(TRACE_CLASSES)}")
    missing = [n for n in classes if n not in by_name]
    if missing:
        raise fail(f"no syscall number known for {missing}")
    untraced = {n for names in (doc.get("untraced") or {}).values() for n in names}
    both = sorted(untraced & set(classes))
    if both:
        raise fail(f"untraced: {both[0]} is also traced")
    fd_args: dict[str, tuple[int, ...]] = {
        name: (0,) for name, cls in classes.items() if cls in ("io", "fd", "desc")}
    for name, row in rows.items():
        if "fds" not in row:
            continue
        indexes = row["fds"]
        if fd_args.get(name) is None or not indexes or any(
                not isinstance(i, int) or i not in range(6) for i in indexes):
            raise fail(f"syscalls.{name}.fds: only for an io, fd or desc call, indexes 0..5")
        fd_args[name] = tuple(indexes)
    pass_when: dict[str, tuple[tuple[int, int], ...]] = {}
    for name, row in rows.items():
        if "pass" not in row:
            continue
        conditions = row["pass"]
        if name not in fd_args or not conditions or any(
                len(c) != 2 or c[0] not in fd_args[name] for c in conditions):
            raise fail(f"syscalls.{name}.pass: each condition must be [index, value] on "
                        "one of its fd arguments")
        pass_when[name] = tuple((int(i), int(v)) for i, v in conditions)
    entry_when: dict[str, int] = {}
    for name, row in rows.items():
        if "entry_when" in row:
            arg = row["entry_when"]
            if name not in classes or name in pass_when or not isinstance(arg, int) \
                    or arg not in range(6):
                raise fail(f"syscalls.{name}.entry_when: an argument index 0..5 of a traced "
                            "call without `pass`")
            entry_when[name] = arg
    forgets = {name: row["forgets"] for name, row in rows.items() if "forgets" in row}
    bad = [n for n, i in forgets.items() if i not in fd_args.get(n, ())]
    if bad:
        raise fail(f"syscalls.{bad[0]}.forgets: one of its fd arguments' indexes")
    effects: dict[str, str] = {}
    for name, cls in classes.items():
        effect = rows[name].get("effect", CLASS_EFFECTS.get(cls))
        if effect not in TRACE_EFFECTS:
            why = "not" if "effect" in rows[name] else f"missing (the {cls} class has no default):"
            raise fail(f"syscalls.{name}.effect: {why} one of {', '.join(TRACE_EFFECTS)}")
        effects[name] = effect
    stray = [n for n, row in rows.items() if "effect" in row and n not in classes]
    if stray:
        raise fail(f"syscalls.{stray[0]}.effect: only for a traced call (one with `trace`)")
    decoders = {name: rows[name].get("decode", "desc" if cls == "desc" else name)
                for name, cls in classes.items() if cls != "uring"}
    stray = [n for n, row in rows.items() if "decode" in row and n not in decoders]
    if stray:
        raise fail(f"syscalls.{stray[0]}.decode: only for a traced call (one with `trace`, "
                   "not uring)")
    return SyscallSet(names={by_name[n]: n for n in classes}, classes=classes,
                      read_at_entry=frozenset(n for n, r in rows.items() if r.get("entry")),
                      fd_args=fd_args, pass_when=pass_when,
                      transfers=frozenset(n for n, r in rows.items() if r.get("transfer")),
                      entry_when=entry_when, forgets=forgets, effects=effects,
                      decoders=decoders)
