"""Runtime habits the report once showed wrongly, on traces the habit controls recorded
(tests/samples, recorded in tests/golden/sets/recorded-habits with the reference alone): a
lookup probe socket, a datagram socket in the tcp scenario, a call still blocked when its
process was killed, a build that fails, terminal and seek probes, epoll registered and never
waited on, options set again and again, a listener closed early, a peek and a two-way
shutdown. Each verdict is what a reader must see; none of these held before the fixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.render import render
from harness.compare.results import Analysis
from harness.compare.analyze import exit_code
from harness.compare.results import SampleResult
from harness.render.attribute_rows import attribute_rows
from harness.compare.analyze import analyze as build_report
from harness.render import words

SET = Path(__file__).resolve().parents[1] / "golden" / "sets" / "recorded-habits"


@pytest.fixture(scope="module")
def report() -> Analysis:
    return build_report(SET)


def result(report: Analysis, sample: str, role: str = "server") -> SampleResult:
    return next(r for r in report.results() if r.sample == sample and r.role == role
                and sample in r.run.split("/")[1].split("--"))


def attributes(r: SampleResult) -> dict[str, str]:
    assert r.normalized is not None
    return dict(attribute_rows(r.normalized.attributes))


def table(report: Analysis, scenario: str, role: str = "server"):
    sc = next(s for s in report.scenarios if s.name == scenario)
    return next(t for t in sc.tables if t.role == role)


def column(report: Analysis, scenario: str, sample: str, role: str = "server") -> list[str]:
    t = table(report, scenario, role)
    i = [s.sample for s in t.samples].index(sample)
    return [words.cell(row.cells[i]) for row in t.rows]


def test_a_lookup_probe_socket_is_not_an_echo_socket(report: Analysis) -> None:
    for role in ("server", "client"):
        r = result(report, "probe-first", role)
        assert r.verdict.status == "identical", words.verdict_summary(r.verdict)
        attrs = attributes(r)
        assert attrs["addressing"] == "—"
        assert "SOCK_DGRAM socket connected to" in attrs["unrelated sockets"]
    server = attributes(result(report, "probe-first"))["unrelated sockets"]
    assert server == "AF_INET6 SOCK_DGRAM socket connected to [::]:PORT, AF_UNSPEC, " \
        "0.0.0.0:PORT: 1 socket, 7 calls"
    # the client's probe names the very address of the run, yet carries no bytes
    assert attributes(result(report, "probe-first", "client"))["unrelated sockets"] == \
        "AF_INET SOCK_DGRAM socket connected to 127.0.0.1:PORT: 1 socket, 4 calls"


def test_the_socket_type_is_shown_and_compared(report: Analysis) -> None:
    r = result(report, "udp-in-tcp")
    first = r.verdict.differences[0]
    assert first.step == 1
    assert words.difference(first) == "expected listener = socket(), got sock = socket(SOCK_DGRAM)"
    assert column(report, "tcp", "udp-in-tcp")[0] == \
        "≠ sock = socket(SOCK_DGRAM) (socket(SOCK_DGRAM, SOCK_CLOEXEC))"
    assert attributes(r)["socket type"] == "SOCK_DGRAM"
    assert attributes(result(report, "python-stdlib"))["socket type"] == "SOCK_STREAM"


def test_a_call_that_never_returned_is_a_difference(report: Analysis) -> None:
    r = result(report, "udp-waits-again")
    assert r.record.outcome == "timeout"
    assert r.verdict.status == "differs"
    assert "extra recv(sock) … never returned" in [words.difference(d) for d in r.verdict.differences]
    waiting, last = r.steps[-2:]
    assert (waiting.label, waiting.dialect, waiting.result) == ("recv(sock) … never returned",
                                                             "recvfrom", None)
    # the kill closed its socket: the trace says the process's exit released it
    assert (last.label, last.dialect) == ("close(sock)", "exit(python3.11)")
    # the completed receive before it is still the reference's recv
    assert [s.label for s in r.steps[:4]] == ["sock = socket(SOCK_DGRAM)",
                                              "bind(sock, 127.0.0.1:PORT)", "recv(sock)",
                                              "send(sock)"]


def test_a_failed_build_is_a_failure_not_a_skip(report: Analysis) -> None:
    assert [s.name for s in report.skipped] == []
    [failed] = report.failed
    assert (failed.name, failed.role) == ("build-fails", "server")
    assert failed.reason.startswith("build failed with exit status 1 (cc ")
    assert "error: expected" in failed.output
    row = next(r for r in report.grid.rows if r.sample == "build-fails")
    assert [words.grid_cell(c) for c in row.cells] == ["failed (build)", "n/a"]
    assert exit_code(report) == 1
    text = render(report, "terminal")
    assert "Samples that failed to build" in text and "error: expected" in text
    assert "1 failed to build" in text.splitlines()[3]


def test_terminal_and_seek_probes_fold_into_an_attribute(report: Analysis) -> None:
    r = result(report, "tty-probe")
    assert r.verdict.status == "identical", words.verdict_summary(r.verdict)
    assert attributes(r)["runtime probes"] == \
        "ioctl(TCGETS) → ENOTTY x2, lseek → ESPIPE x2, newfstatat x2"
    assert r.normalized is not None
    seen = [s.syscall for s in r.normalized.socket_view]
    assert seen.count("lseek") == 2 and seen.count("newfstatat") == 2 and \
        seen.count("ioctl") == 2
    assert attributes(result(report, "python-stdlib"))["runtime probes"] == "getsockname"


def test_epoll_never_waited_on_and_options_set_again(report: Analysis) -> None:
    r = result(report, "epoll-registered")
    assert r.verdict.status == "identical", words.verdict_summary(r.verdict)
    attrs = attributes(r)
    assert attrs["readiness API"] == "epoll: registered, never waited"
    assert attrs["I/O model"] == "blocking"
    assert attrs["socket options"] == "IP_RECVTTL=1 (listener); TCP_NODELAY=1 (conn x3)"


def test_a_listener_closed_early_is_a_move(report: Analysis) -> None:
    r = result(report, "listener-closed-early")
    assert [words.difference(d) for d in r.verdict.differences] == [
        "close(listener) moved from step 8 to step 5"]
    assert r.verdict.first_step == 5
    t = table(report, "tcp")
    cells = column(report, "tcp", "listener-closed-early")
    moved = next(i for i, c in enumerate(cells) if c.startswith("close (moved"))
    assert cells[moved] == "close (moved from 8)"
    assert t.rows[moved].label == "close(listener)" and t.rows[moved].step is None
    left = next(i for i, row in enumerate(t.rows) if row.step == 8)
    assert cells[left] == "moved ↑"


def test_peek_and_two_way_shutdown_are_steps(report: Analysis) -> None:
    r = result(report, "peek-shutdown")
    assert [words.difference(d) for d in r.verdict.differences] == [
        "extra recv(conn, MSG_PEEK)", "extra shutdown(conn, SHUT_RDWR)"]
    assert "recvfrom(MSG_PEEK)" in column(report, "tcp", "peek-shutdown")
    assert "shutdown(SHUT_RDWR)" in column(report, "tcp", "peek-shutdown")
    assert attributes(r)["closing"] == "shutdown(SHUT_RDWR), close"
    # the peeked bytes are read again by the recv after it: that recv is the whole message
    recv = next(s for s in r.steps if s.label == "recv(conn)")
    assert (recv.result, recv.count) == (14, 1)


def test_the_negative_controls_keep_their_verdicts(report: Analysis) -> None:
    assert words.verdict_summary(result(report, "echo-twice").verdict) == \
        "differs at step 7 (extra send(conn))"
    assert words.verdict_summary(result(report, "close-before-echo").verdict) == \
        "differs at step 6 (missing send(conn))"
    assert words.verdict_summary(result(report, "go-copy").verdict) == \
        "differs at step 7 (extra recv(conn) → EOF)"
    assert words.verdict_summary(result(report, "udp-no-wait", "client").verdict) == \
        "differs at step 3 (missing recv(sock))"
