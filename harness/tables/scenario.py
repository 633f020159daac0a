"""A scenario: how it is run (the `run` part of harness/tables/scenarios.yaml) and what it puts in a
run's placeholders. Its textbook sequence, in the same file, is read by
harness/normalize/textbook.py.

One scenario is one entry of that one file; adding one touches nothing else in the harness.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.common.errors import HarnessError

SCENARIOS_FILE = Path(__file__).with_name("scenarios.yaml")
READY_CALLS = ("listen", "bind")
PORT_KINDS = ("tcp", "udp")
RUN_FIELDS = ("host", "port", "path", "ready", "sizes", "server", "client_host")
# who answers the client: a server sample (the default), or the kernel itself (icmp-echo: the
# kernel answers an ICMP echo request; only the clients run, the server side has no trace)
SERVER_KINDS = ("program", "kernel")
KERNEL = "kernel"  # the name a kernel-served scenario's server side is shown by
# the placeholders a run fills in (a sample's own: python, src, build, are
# harness/run/manifest.py's)
PLACEHOLDERS = ("host", "port", "message", "path", "sizes", "scenario")


class ScenarioError(HarnessError):
    """A scenarios file that cannot be used: names the file, the scenario and the field."""


@dataclass(frozen=True)
class Scenario:
    """How one scenario is run."""

    name: str  # tcp, tcp-session, udp, unix, tcp6
    ready: str  # server syscall that signals readiness: listen | bind ("" for the kernel)
    host: str | None = None  # {host}; None: the scenario has none (unix)
    port: str | None = None  # tcp | udp: kind of free port to pick; None: no port
    path: bool = False  # a fresh socket path in a per-run folder is passed as {path}
    sizes: tuple[int, ...] = ()  # tcp-session: the message sizes, passed as {sizes}
    server: str = "program"  # program | kernel: who answers the client
    # the client's {host} when it is not the run's host: the address it sends to
    # (udp-broadcast: loopback's broadcast address; the run's address stays `host`, which
    # the server's socket, bound to 0.0.0.0, is reached on)
    client_host: str | None = None

    def client_placeholders(self) -> dict[str, str]:
        """What the client's placeholders have that the server's have not."""
        return {"host": self.client_host} if self.client_host else {}

    @property
    def kernel_served(self) -> bool:
        """The kernel answers the client (no server program runs)."""
        return self.server == KERNEL

    def expected_output(self, message: str) -> bytes:
        """What the client must print."""
        data = message.encode()
        if not self.sizes:
            return data
        if not data:
            raise ValueError("the message must not be empty")
        return b"".join((data * (n // len(data) + 1))[:n] for n in self.sizes)

    def placeholders(self, host: str, port: int, message: str, path: str | None) -> dict[str, str]:
        """The values of a run's placeholders (docs/samples.md); those the scenario lacks
        are empty."""
        values = {"host": host, "port": str(port) if port else "", "message": message,
                  "path": path or "", "sizes": ",".join(map(str, self.sizes)),
                  "scenario": self.name}
        assert tuple(values) == PLACEHOLDERS
        return values


def parse_run(name: str, spec: Any, where: str) -> Scenario:
    at = f"{where}: scenario '{name}', field 'run'"
    if not isinstance(spec, dict):
        raise ScenarioError(f"{at}: expected a mapping with {', '.join(RUN_FIELDS)}")
    unknown = sorted(set(spec) - set(RUN_FIELDS))
    if unknown:
        from harness.common.validate import unknown_field

        raise ScenarioError(unknown_field(at, unknown[0], RUN_FIELDS))
    server = spec.get("server", "program")
    if server not in SERVER_KINDS:
        raise ScenarioError(f"{at}.server: expected one of {', '.join(SERVER_KINDS)}, "
                            f"got {server!r}")
    ready = spec.get("ready", "" if server == KERNEL else None)
    if server == KERNEL and ready:
        raise ScenarioError(f"{at}.ready: a scenario the kernel serves has no server to wait "
                            f"for (no 'ready')")
    if server != KERNEL and ready not in READY_CALLS:
        raise ScenarioError(f"{at}.ready: expected one of {', '.join(READY_CALLS)}, "
                            f"got {ready!r}")
    host = spec.get("host")
    if host is not None and not isinstance(host, str):
        raise ScenarioError(f"{at}.host: expected an address, got {host!r}")
    port = spec.get("port")
    if port is not None and port not in PORT_KINDS:
        raise ScenarioError(f"{at}.port: expected one of {', '.join(PORT_KINDS)}, got {port!r}")
    path = spec.get("path", False)
    if not isinstance(path, bool):
        raise ScenarioError(f"{at}.path: expected true or false, got {path!r}")
    sizes = spec.get("sizes") or []
    if not isinstance(sizes, list) or not all(isinstance(n, int) and not isinstance(n, bool)
                                              and n > 0 for n in sizes):
        raise ScenarioError(f"{at}.sizes: expected a list of positive byte counts, "
                            f"got {sizes!r}")
    if host is None and not path:
        raise ScenarioError(f"{at}: a scenario needs a host or a path")
    client_host = spec.get("client_host")
    if client_host is not None and (not isinstance(client_host, str) or host is None):
        raise ScenarioError(f"{at}.client_host: expected an address (with a 'host'), got "
                            f"{client_host!r}")
    if server == KERNEL and (host is None or port is not None or path):
        raise ScenarioError(f"{at}: a scenario the kernel serves needs a host and no port "
                            f"or path")
    return Scenario(name=name, ready=str(ready), host=host, port=port, path=path,
                    sizes=tuple(sizes), server=server, client_host=client_host)


def load_scenarios(path: Path | None = None) -> dict[str, Scenario]:
    """Every scenario's run settings, in file order."""
    from harness.common.validate import read_yaml

    path = path or SCENARIOS_FILE
    doc = read_yaml(path, ScenarioError)
    scenarios = doc.get("scenarios") if isinstance(doc, dict) else None
    if not isinstance(scenarios, dict) or not scenarios:
        raise ScenarioError(f"{path}: expected a mapping 'scenarios:' of scenario name -> "
                            "{run: ..., server: [...], client: [...]}")
    out = {}
    for name, spec in scenarios.items():
        if not isinstance(spec, dict) or "run" not in spec:
            raise ScenarioError(f"{path}: scenario '{name}': missing field 'run'")
        out[str(name)] = parse_run(str(name), spec["run"], str(path))
    return out
