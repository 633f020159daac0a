"""Programs as tutorials write them (issue 19), on hand-built traces and fake /proc trees: what a
client must print (`expect`), output shown as text, ports and addresses a program chooses, and
a server that serves forever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import fixtures_traces as ft
from fixtures_traces import HOST, PORT, inet, inet6

from harness.run import runner
from harness.run.outcome import _shown, quoted
from harness.compare.analyze import analyze
from harness.compare.align import compare
from harness.formats.model import SocketIdentity, SyscallEvent
from harness.normalize.attributes import AddressKind
from harness.normalize.engine import normalize
from harness.run.ports import port_holder, port_of_inode
from harness.render import notes as why
from harness.render.attribute_rows import attribute_rows
from harness.run.manifest import OWN_PORT, Expect, ManifestError, Sample, load_sample
from harness.tables.scenario import load_scenarios

# -- the manifest's fields -----------------------------------------------------------------------


def write_manifest(tmp_path: Path, role: str, text: str, name: str = "s") -> Path:
    folder = tmp_path / f"{role}s" / name
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(
        f"name: {name}\nrole: {role}\nlanguage: x\nrun: [x]\n" + text)
    return folder


@pytest.mark.parametrize("text, expect", [
    ("scenarios: [tcp]\n", Expect("echo")),
    ("scenarios: [tcp]\nexpect: echo\n", Expect("echo")),
    ("scenarios: [tcp]\nexpect: any\n", Expect("any")),
    ("scenarios: [tcp]\nexpect: {text: \"你好\"}\n", Expect("text", "你好")),
])
def test_a_clients_expect(tmp_path: Path, text: str, expect: Expect) -> None:
    sample = load_sample(write_manifest(tmp_path, "client", text), "client")
    assert sample.expect_for("tcp") == expect


def test_expect_and_port_per_scenario(tmp_path: Path) -> None:
    client = load_sample(write_manifest(tmp_path, "client", (
        "scenarios:\n  tcp: {expect: {text: hi}, port: 1234}\n  udp: {}\nexpect: any\n")),
        "client")
    assert client.expect_for("tcp") == Expect("text", "hi")
    assert client.expect_for("udp") == Expect("any")
    assert (client.port_for("tcp"), client.port_for("udp")) == (1234, None)
    server = load_sample(write_manifest(tmp_path, "server", (
        "scenarios: [tcp, udp]\nport: own\nserves: forever\n")), "server")
    assert (server.port_for("tcp"), server.serves) == (OWN_PORT, "forever")


@pytest.mark.parametrize("role, text, message", [
    ("client", "expect: upper\n", "field 'expect' must be echo, any, or {text: TEXT}"),
    ("client", "expect: {txt: hi}\n", "unknown field 'expect.txt' (fields: text)"),
    ("client", "port: own\n", "field 'port' must be a port number (1-65535), got 'own'"),
    ("client", "serves: forever\n", "field 'serves' is a server's (this is a client)"),
    ("server", "port: 0\n", "field 'port' must be a port number (1-65535) or own"),
    ("server", "scenarios: {tcp: {expect: any}}\n", "unknown field 'scenarios.tcp.expect' (fields: run, port)"),
])
def test_a_wrong_field_is_named(tmp_path: Path, role: str, text: str, message: str) -> None:
    if "scenarios" not in text:
        text = "scenarios: [tcp]\n" + text
    with pytest.raises(ManifestError) as e:
        load_sample(write_manifest(tmp_path, role, text), role)
    assert message in str(e.value)


def sample(role: str, **kw: Any) -> Sample:
    return Sample(name="s", role=role, folder=Path("/"), language="x", api="", run=["x"],
                  scenarios=["tcp", "unix"], **kw)


def test_which_port_a_run_uses() -> None:
    tcp, unix = load_scenarios()["tcp"], load_scenarios()["unix"]
    assert runner.own_port(sample("server"), sample("client"), tcp) == (None, None)
    assert runner.own_port(sample("server", port=1234), sample("client", port=99), tcp) == \
        (1234, "server")
    assert runner.own_port(sample("server"), sample("client", port=99), tcp) == (99, "client")
    assert runner.own_port(sample("server", port=OWN_PORT), sample("client"), tcp) == \
        (OWN_PORT, "learned")
    assert runner.own_port(sample("server", port=1234), sample("client"), unix) == (None, None)


# -- what the client printed, and what it had to ------------------------------------------------

class Root:
    exec_error = None
    timed_out = False
    exit_status = 0
    procs: list = []


def judge(stdout: bytes, expected: bytes, expect: Expect, **kw: Any) -> tuple[str, Any]:
    record = ft.run_record("s", "c", client_exit=0, server_exit=kw.pop("server_exit", 0))
    return runner.judge(record, kw.pop("srv", Root()), Root(), [], runner.RunOptions(),
                        stdout, expected, len(stdout), expect=expect, **kw)


def test_expect_text_takes_the_text_or_the_text_and_one_line_end() -> None:
    text = Expect("text", "HÉLLO")
    for printed in ("HÉLLO", "HÉLLO\n", "HÉLLO\r\n"):
        assert judge(printed.encode(), "HÉLLO".encode(), text) == ("ok", None)
    assert judge("HÉLLO\n\n".encode(), "HÉLLO".encode(), text) == (
        "echo-mismatch", "client printed 'HÉLLO\\n\\n', expected 'HÉLLO' (its manifest's "
                         "`expect`)")


def test_expect_any_takes_anything_but_a_failure() -> None:
    assert judge(b"\xff whatever", b"", Expect("any")) == ("ok", None)
    assert judge(b"", b"", Expect("any"), server_exit=1) == (
        "server-failed", "server exited with status 1")


def test_output_is_shown_as_text_when_it_is_utf8() -> None:
    assert judge("你好".encode(), b"hello", Expect()) == (
        "echo-mismatch", "client printed '你好', expected 'hello'")
    assert judge(b"\xe6\x9c", b"hello", Expect()) == (
        "echo-mismatch", "client printed b'\\xe6\\x9c', expected 'hello'")
    # cut inside a character: the character is left out, the rest is text
    long = ("é" * 40).encode()  # 80 bytes: cut at 60, inside no character
    assert _shown(long[:61], 80) == repr("é" * 30) + "… (80 bytes)"
    assert quoted("aé".encode()[:2], cut=True) == "'a'"


def test_a_server_stopped_after_its_client_is_no_failure() -> None:
    srv = type("Srv", (Root,), {"timed_out": True, "exit_status": 137})()
    assert judge(b"hi", b"hi", Expect(), srv=srv, server_exit=137)[0] == "timeout"
    assert judge(b"hi", b"hi", Expect(), srv=srv, server_exit=137, stopped=True) == ("ok", None)


def test_a_server_ready_elsewhere_is_told_its_port() -> None:
    srv = type("Srv", (Root,), {"timed_out": True})()
    record = ft.run_record("s", "c", port=40000)
    outcome, detail = runner.judge(record, srv, None, [], runner.RunOptions(timeout=2), b"",
                                   b"hi", 0, elsewhere=[1234])
    assert outcome == "timeout"
    assert detail == ("server never listened on the run's port 40000 within 2 s (killed); it "
                      "listened on 1234, a port of its own: its manifest can say `port: 1234` "
                      "(or `port: own`)")


# -- who holds a port: /proc/net/tcp and /proc/*/fd -------------------------------------------------

TCP_HEADER = ("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
              "timeout inode\n")


def fake_proc(tmp_path: Path, tcp: list[str], tcp6: list[str] = (),
              fds: dict[int, dict[int, str]] | None = None) -> Path:
    proc = tmp_path / "proc"
    (proc / "net").mkdir(parents=True)
    (proc / "net" / "tcp").write_text(TCP_HEADER + "".join(tcp))
    (proc / "net" / "tcp6").write_text(TCP_HEADER + "".join(tcp6))
    for pid, table in (fds or {}).items():
        (proc / str(pid) / "fd").mkdir(parents=True)
        (proc / str(pid) / "cmdline").write_bytes(b"php\0server.php\0")
        for fd, target in table.items():
            (proc / str(pid) / "fd" / str(fd)).symlink_to(target)
    return proc


def line(local: str, state: str, inode: int) -> str:
    return (f"   0: {local} 00000000:0000 {state} 00000000:00000000 00:00000000 00000000     0"
            f"        0 {inode} 1 0000000000000000 100 0 0 10 0\n")


def test_a_port_held_by_a_process_names_it(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, [line("00000000:04D2", "0A", 777)],
                     fds={4242: {3: "socket:[777]", 4: "/dev/null"}})
    assert port_holder(1234, proc=str(proc)) == \
        "held by pid 4242 (php server.php), listening on 0.0.0.0:1234"
    assert port_of_inode(777, proc=str(proc)) == 1234


def test_a_port_in_time_wait_says_so(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, [line("0100007F:04D2", "06", 0)])
    assert port_holder(1234, proc=str(proc)).startswith(
        "in TIME_WAIT: a connection on it closed less than a minute ago")


def test_a_port_held_where_the_harness_cannot_see(tmp_path: Path) -> None:
    ipv6_loopback = "00000000000000000000000001000000"
    proc = fake_proc(tmp_path, [], [line(f"{ipv6_loopback}:04D2", "0A", 778)])
    assert port_holder(1234, proc=str(proc)).startswith(
        "held by a socket of a process the harness cannot see (inode 778")
    assert port_holder(1235, proc=str(proc)) == "taken by another program (gone since)"


# -- any address of this machine on the run's port ----------------------------------------------

def server_bound_to(addr: dict[str, Any], domain: str = "AF_INET") -> Any:
    """The reference server's calls, bound to another address."""
    return ft.python_stdlib_server(addr=addr, domain=domain)


def client_connected_to(addr: dict[str, Any]) -> Any:
    return ft.python_stdlib_client(addr=addr)


DEBIAN = ft.run_record("s", "s", host_addresses=["127.0.1.1"])


@pytest.mark.parametrize("trace, row", [
    (server_bound_to(inet("0.0.0.0")), "binds every interface (0.0.0.0)"),
    (server_bound_to(inet6("::"), "AF_INET6"), "binds every interface ([::])"),
    (server_bound_to(inet("127.0.1.1")), "binds the host name's address 127.0.1.1"),
    (server_bound_to(inet("127.0.0.2")), "binds another loopback address 127.0.0.2"),
])
def test_a_server_bound_to_any_address_of_this_machine_makes_the_runs_steps(trace: Any,
                                                                            row: str) -> None:
    ref = normalize(ft.python_stdlib_server(), DEBIAN, "server")
    got = normalize(trace, DEBIAN, "server")
    assert compare(ref.steps, got.steps).status == "identical"
    assert dict(attribute_rows(got.attributes))["address"] == row
    assert dict(attribute_rows(ref.attributes))["address"] == "the run's address"


def test_a_client_connected_to_another_loopback_address_makes_the_runs_steps() -> None:
    ref = normalize(ft.python_stdlib_client(), DEBIAN, "client")
    for address, row in (("127.0.1.1", "connects to the host name's address 127.0.1.1"),
                         ("127.0.0.2", "connects to another loopback address 127.0.0.2")):
        got = normalize(client_connected_to(inet(address)), DEBIAN, "client")
        assert compare(ref.steps, got.steps).status == "identical"
        assert got.steps[1].dialect == f"connect({address}:PORT)"
        assert dict(attribute_rows(got.attributes))["address"] == row
    # a connect to a wildcard, or to another machine, on the run's port is not the run's
    for address in ("0.0.0.0", "192.0.2.1"):
        got = normalize(client_connected_to(inet(address)), DEBIAN, "client")
        assert got.steps == ()


def test_without_the_host_names_addresses_127_0_1_1_is_another_loopback_address() -> None:
    got = normalize(server_bound_to(inet("127.0.1.1")), ft.run_record("s", "s"), "server")
    assert [(n.kind, n.address) for n in got.attributes.addresses] == [
        (AddressKind.LOOPBACK, "127.0.1.1")]


def test_a_server_that_bound_port_0_is_found_by_its_learned_port() -> None:
    learned = ft.run_record("s", "s", port_from="learned")
    got = normalize(server_bound_to(inet(HOST, 0)), learned, "server")
    ref = normalize(ft.python_stdlib_server(), learned, "server")
    assert compare(ref.steps, got.steps).status == "identical"
    assert got.steps[1].dialect == "bind(127.0.0.1:0)"
    # not learned: port 0 is not the run's, the calls are another socket's
    assert normalize(server_bound_to(inet(HOST, 0)), ft.run_record("s", "s"),
                     "server").steps == ()


@pytest.mark.parametrize("address, note", [
    ("0.0.0.0", "address-every-interface"), ("127.0.1.1", "address-host-name"),
    ("127.0.0.2", "address-loopback")])
def test_the_address_row_gets_its_note(tmp_path: Path, address: str, note: str) -> None:
    runs = [ft.PlannedRun(ft.run_record("python-stdlib", "python-stdlib", 40901,
                                        host_addresses=["127.0.1.1"]),
                          ft.python_stdlib_server(40901), ft.python_stdlib_client(40901)),
            ft.PlannedRun(ft.run_record("tutorial", "tutorial", 40902,
                                        host_addresses=["127.0.1.1"]),
                          server_bound_to(inet(address, 40902)),
                          client_connected_to(inet(HOST, 40902)))]
    analysis = analyze(ft.write_trace_set(tmp_path / "t", runs))
    table = next(t for t in analysis.scenarios[0].tables if t.role == "server")
    ref = next(s for s in table.samples if s.sample == "python-stdlib")
    mine = next(s for s in table.samples if s.sample == "tutorial")
    found = {an.row: [n.id for n in an.notes] for an in why.attributes(mine, ref)}
    assert found["address"] == [note]


# -- a server that serves forever: what the runner looks at ------------------------------------------

def event(syscall: str, result: int = 0, sock_id: int = 1, released: tuple[int, ...] = ()
          ) -> SyscallEvent:
    return SyscallEvent(seq=1, ts_ns=0, pid=1, tid=1, syscall=syscall, args={}, result=result,
                        sock=SocketIdentity(fd=4, family="AF_INET", type="SOCK_STREAM",
                                            id=sock_id), released=released)


class FakeTracer:
    def __init__(self, root: Any, calls: list[str]):
        self.names = {i: name for i, name in enumerate(calls)}
        proc = type("Proc", (), {"root": root})()
        self.tasks = {i: type("Task", (), {"proc": proc, "nr": i})() for i in range(len(calls))}


def test_waiting_for_the_next_peer() -> None:
    root = type("R", (), {"done": False, "timed_out": False})()
    w = runner.Waiting(forever=False)
    w.event(event("accept4", 4, sock_id=2))
    assert not w.look(FakeTracer(root, ["accept4"]), root)  # still holds its connection
    w.event(event("close", released=(2,)))
    assert w.look(FakeTracer(root, ["accept4"]), root)
    assert not w.look(FakeTracer(root, ["epoll_wait"]), root)  # an event loop: say so
    assert runner.Waiting(forever=True).look(FakeTracer(root, ["epoll_wait"]), root)
    assert not runner.Waiting(forever=True).look(FakeTracer(root, ["epoll_wait", "sendto"]),
                                                 root)
    # once the server is being killed its calls are kept as they were
    w.look(FakeTracer(root, ["accept4"]), root)
    root.timed_out = True
    assert not w.look(FakeTracer(root, []), root) and w.waiting


def test_learned_port_from_a_listen_or_a_bind() -> None:
    tcp, udp = load_scenarios()["tcp"], load_scenarios()["udp"]
    listen = SyscallEvent(seq=1, ts_ns=0, pid=1, tid=1, syscall="listen", args={}, result=0,
                          sock=SocketIdentity(fd=3, family="AF_INET", type="SOCK_STREAM",
                                              local=inet(HOST, 1234)))
    assert runner.learned_port(listen, tcp) == 1234
    assert runner.learned_port(listen, udp) is None
    bind = SyscallEvent(seq=1, ts_ns=0, pid=1, tid=1, syscall="bind",
                        args={"addr": inet(HOST, 5678)}, result=0,
                        sock=SocketIdentity(fd=3, family="AF_INET", type="SOCK_DGRAM"))
    assert runner.learned_port(bind, udp) == 5678
    assert PORT != 1234  # (the fixtures' run port is none of these)
