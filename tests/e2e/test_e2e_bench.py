"""`harness bench` runs end to end (a smoke run, one round of each configuration: what it
prints is a measurement only in a real `make bench`, so no time is asserted here)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from e2ehelp import PYTHON, REPO


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_bench_prints_every_configuration_and_the_targets() -> None:
    r = subprocess.run([PYTHON, "-m", "harness", "bench", "--runs", "1", "--n", "50",
                        "--mem-n", "10", "100", "--from-n", "500"], cwd=REPO,
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert r.returncode == 0, r.stderr
    rows = [line.split("|")[1].strip() for line in r.stdout.splitlines()
            if line.startswith("| ") and not line.startswith(("| configuration", "| command",
                                                              "| figure"))]
    assert rows[:12] == ["untraced", "strace -f -o FILE",
                    "strace -f --seccomp-bpf -o FILE (same syscalls)",
                    "harness trace -o FILE.jsonl", "harness trace -o FILE.yaml",
                    "untraced", "strace -f -e trace=%network,%desc",
                    "strace -f --seccomp-bpf (same syscalls)", "harness trace (seccomp)",
                    "harness trace --no-seccomp", "harness trace (seccomp), stops only",
                    "harness trace (seccomp), no kernel identity"]
    assert "peak MB N=10" in r.stdout and "peak MB N=100" in r.stdout
    # the echo client makes one send and one receive per round trip, recorded by the tracer
    assert "socket calls in the loop: 98 (2.00 per round trip)" in r.stdout
    assert "sockets known by their inodes (unknown fds asked of the kernel once)" in r.stdout
    # the stages after tracing, and every target beside what this run measured
    assert "harness compare --from DIR" in rows[12]
    assert "| figure " in r.stdout and "trace file (.jsonl) at N=100" in r.stdout
    assert "`harness compare --from` of one 1,00" in r.stdout  # (some 1,000 events)
