"""Each scenario on real programs: python-stdlib (the reference) and c at least, and the
negative controls of each scenario reported as different where they deviate."""

from __future__ import annotations

import os

import pytest
import yaml

from harness.formats.model import RunRecord
from harness.compare.analyze import analyze as build_report
from harness.render.explain import explain

SCENARIOS = ["tcp", "tcp-session", "udp", "unix", "tcp6", "udp-broadcast", "icmp-echo"]
# the scenarios with a server program (icmp-echo's server is the kernel)
SERVED = [s for s in SCENARIOS if s != "icmp-echo"]


def verdicts(traces, sample: str) -> dict[tuple[str, str], str]:
    """(scenario, role) -> the verdict line explain() gives for that sample."""
    out = {}
    for line in explain(build_report(traces), sample).splitlines():
        if ", scenario " in line and ", run " in line:
            head, verdict = line.split(": ", 1)
            role = head.split("(")[1].split(")")[0]
            scenario = head.split(", scenario ")[1].split(",")[0]
            out[(scenario, role)] = verdict
    return out


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("sample", ["python-stdlib", "c"])
def test_each_scenario_runs_and_echoes(matrix, scenario, sample):
    traces, _ = matrix
    if scenario == "icmp-echo" and os.geteuid() != 0:
        pytest.skip("a raw ICMP socket needs CAP_NET_RAW (root)")
    server = "kernel" if scenario == "icmp-echo" else sample
    record = RunRecord.from_dict(yaml.safe_load(
        (traces / scenario / f"{server}--{sample}" / "run.yaml").read_text()))
    assert record.outcome == "ok", record
    if scenario == "unix":
        assert record.path and record.port == 0
    if scenario == "tcp6":
        assert record.host == "::1"
    if scenario == "tcp-session":
        assert record.expected_len == sum(record.sizes) > 65536


def test_the_reference_follows_the_textbook_in_every_scenario(matrix):
    traces, r = matrix
    report = (traces / "report.md").read_text()
    for scenario in SCENARIOS:
        role = "servers" if scenario in SERVED else "clients"
        block = report.split(f"\n## {scenario}: {role}\n", 1)[1].split("\n## ", 1)[0]
        assert "python-stdlib (reference) against the textbook: identical" in block, scenario


def test_c_matches_the_reference_in_every_scenario(matrix):
    traces, _ = matrix
    got = verdicts(traces, "c")
    assert sorted(got) == sorted([(s, role) for s in SERVED for role in ("server", "client")]
                                 + [("icmp-echo", "client")])
    assert set(got.values()) == {"identical"}, got


def test_a_udp_client_that_never_waits_misses_its_recv(matrix):
    traces, _ = matrix
    assert verdicts(traces, "udp-no-wait") == {
        ("udp", "client"): "differs at step 3 (missing recv(sock))"}


def test_a_unix_server_without_listen_differs(matrix):
    traces, _ = matrix
    verdict = verdicts(traces, "unix-socketpair")[("unix", "server")]
    assert verdict.startswith("differs at step 1")
    assert "missing listen(listener)" in verdict


def test_a_session_client_that_sends_everything_first_differs_where_it_deviates(matrix):
    traces, _ = matrix
    verdict = verdicts(traces, "session-batch")[("tcp-session", "client")]
    # steps 1-3: socket, connect, send(message 1); the reference then receives
    assert verdict.startswith("differs at step 4 (missing recv(sock)"), verdict


def test_the_verdict_grid_shows_not_implemented_as_na(matrix):
    traces, r = matrix
    grid = r.stdout.split("\nVerdicts\n", 1)[1].split("\n\n\n", 1)[0]
    row = next(line for line in grid.splitlines() if line.startswith("udp-no-wait"))
    assert row.split()[2:] == ["n/a", "n/a", "failed", "(echo-mismatch);", "differs",
                               "(step", "3)", "n/a", "n/a", "n/a", "n/a"]
