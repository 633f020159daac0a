"""What `harness trace` shows: strace's `-e trace=SET` (names and classes, `!` to negate),
and the `-c` summary of the calls (calls, errors, time per syscall)."""

from __future__ import annotations

from collections.abc import Callable

from harness.common.errors import HarnessError

# strace's class names -> the tracer's classes (harness/tables/syscalls.yaml `trace`) they hold
CLASSES = {
    "%network": ("net",), "%net": ("net",),
    "%desc": ("io", "fd", "desc", "readiness", "epoll_new", "new_fd"),
    "%uring": ("uring",),
    "%process": (),  # the process records: fork, vfork, clone, execve, exit
}
PROCESS_RECORDS = frozenset({"fork", "vfork", "clone", "execve", "exit"})
URING_OP = "IORING_OP_"


class SelectError(HarnessError):
    """A -e expression that names no call or class the tracer knows."""


def event_filter(exprs: list[str], classes: dict[str, str]
                 ) -> Callable[[str, str], bool] | None:
    """A predicate (syscall, kind) -> shown, from -e expressions (`trace=a,%net`, `!b`); None
    when every event is shown. `classes` maps each traced syscall to its tracer class."""
    keep: Callable[[str, str], bool] | None = None
    for expr in exprs:
        text = expr.split("=", 1)[1] if expr.startswith("trace=") else expr
        if "=" in text:
            raise SelectError(f"-e {expr}: only trace=SET is known (as strace's -e trace=)")
        negate = text.startswith("!")
        names: set[str] = set()
        kinds: set[str] = set()
        wanted: set[str] = set()
        for item in filter(None, (t.strip() for t in text.lstrip("!").split(","))):
            if item in CLASSES:
                wanted.update(CLASSES[item])
                if item == "%process":
                    kinds.add("process")
                if item == "%uring":
                    kinds.add("uring")
            elif item in classes or item in PROCESS_RECORDS or item.startswith(URING_OP):
                names.add(item)
            else:
                known = ", ".join(sorted(CLASSES))
                raise SelectError(f"-e {expr}: {item!r} is no syscall the tracer records, nor "
                                  f"a class ({known})")

        def match(name: str, kind: str, names: set[str] = names, kinds: set[str] = kinds,
                  wanted: set[str] = wanted) -> bool:
            return name in names or kind in kinds or classes.get(name) in wanted \
                and kind == "syscall"

        one = (lambda n, k, m=match: not m(n, k)) if negate else match
        keep = one if keep is None else (lambda n, k, a=keep, b=one: a(n, k) or b(n, k))
    return keep


class Summary:
    """strace -c: per syscall, calls, errors and the time spent in them."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = {}  # name -> [calls, errors, ns]

    def add(self, name: str, failed: bool, ns: int | None) -> None:
        row = self.rows.setdefault(name, [0, 0, 0])
        row[0] += 1
        row[1] += failed
        row[2] += ns or 0

    def text(self) -> str:
        total = sum(r[2] for r in self.rows.values()) or 1
        lines = ["% time     seconds  usecs/call     calls    errors syscall",
                 "------ ----------- ----------- --------- --------- ----------------"]
        for name, (calls, errors, ns) in sorted(self.rows.items(),
                                                key=lambda kv: (-kv[1][2], -kv[1][0], kv[0])):
            lines.append(f"{100 * ns / total:6.2f} {ns / 1e9:11.6f} {ns / 1e3 / calls:11.0f} "
                         f"{calls:9d} {errors or '':>9} {name}")
        calls = sum(r[0] for r in self.rows.values())
        errors = sum(r[1] for r in self.rows.values())
        lines.append("------ ----------- ----------- --------- --------- ----------------")
        lines.append(f"100.00 {sum(r[2] for r in self.rows.values()) / 1e9:11.6f} "
                     f"{(sum(r[2] for r in self.rows.values()) / 1e3 / calls) if calls else 0:11.0f} "
                     f"{calls:9d} {errors or '':>9} total")
        return "\n".join(lines)
