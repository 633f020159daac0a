"""Runs several at a time (harness/run/parallel.py), on stub work in forked workers: the
results are released in the items' order whatever order they end in, a fixed port is held by
one run at a time, a run that must run alone does, an item's error is raised in its turn, and
a stop is passed on to the running workers, none of which is left behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from harness.common.errors import HarnessError
from harness.run.manifest import Sample
from harness.run.parallel import ALONE, claim_of, ephemeral_ports, fits, open_stop_signals, \
    run_ordered
from harness.run.stopping import Terminated, install_stop_handlers
from harness.tables.scenario import load_scenarios

SCENARIOS = load_scenarios()


def children() -> list[int]:
    """The pids of this process's children still there (zombies included)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
                found.append(int(entry))
    return found


def sample(name: str, role: str, port: int | str | None = None) -> Sample:
    return Sample(name=name, role=role, folder=Path("/nonexistent"), language="none", api="",
                  run=["true"], scenarios=list(SCENARIOS), port=port)


def interval(i: int, seconds: float) -> tuple[int, int, float, float]:
    """Stub work: sleep, and say which process ran it, and when (CLOCK_MONOTONIC is one
    clock for every process)."""
    t0 = time.monotonic()
    time.sleep(seconds)
    return i, os.getpid(), t0, time.monotonic()


def overlap(a: tuple[int, int, float, float], b: tuple[int, int, float, float]) -> bool:
    return a[2] < b[3] and b[2] < a[3]


def test_results_are_released_in_order_whatever_order_they_end_in() -> None:
    n = 8
    started: list[int] = []
    released: list[tuple[int, int, float, float]] = []

    def release(i: int, value: tuple[int, int, float, float]) -> None:
        assert value[0] == i
        released.append(value)

    # each item ends before the one before it, if they run side by side
    run_ordered(n, lambda i: interval(i, 0.03 * (n - i)), jobs=3, claim=lambda i: frozenset(),
                start=started.append, release=release)
    assert started == list(range(n))
    assert [v[0] for v in released] == list(range(n))
    assert len({v[1] for v in released}) == 3  # three workers ran them
    assert os.getpid() not in {v[1] for v in released}
    assert any(overlap(released[i], released[i + 1]) for i in range(n - 1))
    assert children() == []


def test_one_job_at_a_time_never_overlaps() -> None:
    released: list[tuple[int, int, float, float]] = []
    run_ordered(4, lambda i: interval(i, 0.02), jobs=1, claim=lambda i: frozenset(),
                start=lambda i: None, release=lambda i, v: released.append(v))
    assert not any(overlap(a, b) for a in released for b in released if a is not b)


def test_claims_of_pairs() -> None:
    tcp, unix, icmp = SCENARIOS["tcp"], SCENARIOS["unix"], SCENARIOS["icmp-echo"]
    free, client = sample("a", "server"), sample("a", "client")
    assert claim_of(free, client, tcp) == frozenset()
    assert claim_of(free, client, unix) == frozenset()
    assert claim_of(sample("k", "server"), client, icmp) == {ALONE}
    assert claim_of(sample("s", "server", 1234), client, tcp) == {"port 1234"}
    assert claim_of(free, sample("c", "client", 1234), tcp) == {"port 1234"}  # its client's
    assert claim_of(sample("s", "server", "own"), client, tcp) == {ALONE}
    inside = ephemeral_ports()[10]  # another run's free port or client could take it first
    assert claim_of(sample("s", "server", inside), client, tcp) == {ALONE}
    assert claim_of(sample("s", "server", 1234), client, unix) == frozenset()  # no port


def test_fits() -> None:
    assert fits(frozenset({ALONE}), [])
    assert not fits(frozenset({ALONE}), [frozenset()])
    assert not fits(frozenset(), [frozenset({ALONE})])
    assert not fits(frozenset({"port 1234"}), [frozenset(), frozenset({"port 1234"})])
    assert fits(frozenset({"port 1234"}), [frozenset({"port 1235"}), frozenset()])


def test_a_fixed_port_is_held_by_one_run_at_a_time_and_alone_is_alone() -> None:
    tcp, icmp = SCENARIOS["tcp"], SCENARIOS["icmp-echo"]
    client = sample("c", "client")
    pairs = [(sample("p1", "server", 1234), tcp), (sample("free1", "server"), tcp),
             (sample("p2", "server", 1234), tcp), (sample("p3", "server", 1235), tcp),
             (sample("free2", "server"), tcp), (sample("p4", "server", 1234), tcp),
             (sample("kernel", "server"), icmp), (sample("free3", "server"), tcp),
             (sample("own", "server", "own"), tcp), (sample("free4", "server"), tcp)]
    claims = [claim_of(server, client, scenario) for server, scenario in pairs]
    ran: list[tuple[int, int, float, float]] = []
    run_ordered(len(pairs), lambda i: interval(i, 0.05), jobs=3, claim=lambda i: claims[i],
                start=lambda i: None, release=lambda i, v: ran.append(v))
    assert [v[0] for v in ran] == list(range(len(pairs)))
    fixed = [ran[i] for i in (0, 2, 5)]  # port 1234
    assert not any(overlap(a, b) for a in fixed for b in fixed if a is not b)
    for alone in (6, 8):
        assert not any(overlap(ran[alone], other) for other in ran if other is not ran[alone])
    assert overlap(ran[0], ran[1])  # the others do run side by side
    assert overlap(ran[2], ran[3]) or overlap(ran[2], ran[4])
    assert children() == []


class Failed(HarnessError):
    pass


def fails_at(k: int):
    def work(i: int) -> tuple[int, int, float, float]:
        if i == k:
            raise Failed(f"item {i} failed")
        return interval(i, 0.1 if i < k else 0.01)
    return work


def test_an_error_is_raised_in_its_turn_and_nothing_starts_after_it() -> None:
    started: list[int] = []
    released: list[int] = []
    with pytest.raises(Failed, match="item 3 failed"):
        run_ordered(10, fails_at(3), jobs=2, claim=lambda i: frozenset(),
                    start=started.append, release=lambda i, v: released.append(i))
    assert released == [0, 1, 2]  # the items before it, those that ended before it did too
    assert max(started) <= 4  # (the one beside it may have started)
    assert children() == []


def test_a_bug_in_a_worker_is_raised_here_with_its_traceback() -> None:
    def work(i: int) -> int:
        return {}["missing"]  # type: ignore[no-any-return]

    with pytest.raises(KeyError) as raised:
        run_ordered(3, work, jobs=2, claim=lambda i: frozenset(), start=lambda i: None,
                    release=lambda i, v: None)
    assert "return {}[\"missing\"]" in str(raised.value.__cause__)
    assert children() == []


def test_an_error_of_start_is_raised_in_its_turn() -> None:
    released: list[int] = []

    def start(i: int) -> None:
        if i == 2:
            raise Failed("cannot prepare item 2")

    with pytest.raises(Failed, match="cannot prepare item 2"):
        run_ordered(5, lambda i: interval(i, 0.05), jobs=2, claim=lambda i: frozenset(),
                    start=start, release=lambda i, v: released.append(i))
    assert released == [0, 1]
    assert children() == []


@pytest.fixture
def stop_handlers():
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    install_stop_handlers()
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_is_passed_on_to_the_running_workers(stop_handlers, tmp_path, signum) -> None:
    """Item 1 stops the harness (as a Ctrl-C or a SIGTERM would) while item 0 sleeps: item 0
    is stopped by the same signal (its work says so), the stop is raised here, and no worker
    is left."""
    def work(i: int) -> int:
        open_stop_signals()
        if i == 1:
            time.sleep(0.2)
            os.kill(os.getppid(), signum)
            time.sleep(30)
        try:
            time.sleep(30)
        except BaseException as e:
            (tmp_path / f"stopped-{i}").write_text(type(e).__name__)
            raise
        return i

    t0 = time.monotonic()
    expected = KeyboardInterrupt if signum == signal.SIGINT else Terminated
    with pytest.raises(expected):
        run_ordered(4, work, jobs=2, claim=lambda i: frozenset(), start=lambda i: None,
                    release=lambda i, v: None)
    assert time.monotonic() - t0 < 10
    assert (tmp_path / "stopped-0").read_text() == expected.__name__
    assert not (tmp_path / "stopped-2").exists()  # never started
    assert children() == []
