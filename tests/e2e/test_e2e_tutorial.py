"""The README's "Check your tutorial's programs", followed literally in a copy of the project:
the tutorials' programs in tests/samples/tutorial/ as they are written, each `make` line of the
section run in order, and what the section says the tables show found in what they print."""

from __future__ import annotations

import errno
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

import yaml

from e2ehelp import REPO, VENV, copy_project

TUTORIAL = REPO / "tests/samples/tutorial"
PORTS = (1234, 12345, 65432)  # the tutorials' own: the servers bind them whatever they are given


def section(text: str) -> str:
    start = text.index("## Check your tutorial's programs")
    return text[start:text.index("\n## ", start + 5)]


def make_lines(text: str) -> list[str]:
    return [line.strip() for body in re.findall(r"```sh\n(.*?)```", text, re.S)
            for line in body.splitlines() if line.strip().startswith("make ")]


def wait_for_ports(limit: float = 75.0) -> None:
    """A port an earlier run left in TIME_WAIT binds again within a minute; one held by
    another program never does (then the test says which)."""
    deadline = time.monotonic() + limit
    for port in PORTS:
        while True:
            with socket.socket() as s:
                try:
                    s.bind(("0.0.0.0", port))
                    break
                except OSError as e:
                    if e.errno != errno.EADDRINUSE or time.monotonic() > deadline:
                        raise AssertionError(f"the tutorial's port {port} is taken: {e}") from e
            time.sleep(1)


def test_the_tutorials_programs_as_the_readme_says(tmp_path: Path) -> None:
    raw = section((REPO / "README.md").read_text())
    lines = make_lines(raw)
    text = " ".join(raw.split())  # its prose, line ends aside
    news = [line for line in lines if line.startswith("make new ")]
    verifies = [line for line in lines if line.startswith("make verify ")]
    assert lines == news + verifies and len(news) == 6 and len(verifies) == 3, lines
    # every program the section wraps is one kept here, and each is there as written
    wrapped = sorted(re.search(r"FROM=(\S+)", line).group(1) for line in news)
    assert wrapped == sorted(f"tests/samples/tutorial/{p.name}" for p in TUTORIAL.iterdir())
    work = tmp_path / "project"
    copy_project(work)
    wait_for_ports()
    out: dict[str, str] = {}
    for line in lines:
        argv = shlex.split(line)
        r = subprocess.run(["make", "-s", f"VENV={VENV}", *argv[1:]], cwd=work,
                           capture_output=True, text=True, timeout=600)
        assert "Traceback" not in r.stderr, r.stderr
        out[line] = r.stdout + r.stderr
        if argv[1] == "new":
            assert "copied unchanged" in out[line], out[line]
    for line in news:  # copied byte for byte
        source = REPO / re.search(r"FROM=(\S+)", line).group(1)
        name = re.search(r"NAME=(\S+)", line).group(1)
        role = "servers" if "server" in source.name else "clients"
        assert (work / role / name / source.name).read_bytes() == source.read_bytes()
    php, hello, upper = (out[line] for line in verifies)

    # the PHP pair makes the reference's calls, in its own dialect
    assert "harness verify: exit status 0" in php, php
    assert "tut-php (server), scenario tcp, run tcp/tut-php--tut-php: identical" in php
    assert "tut-php (client), scenario tcp, run tcp/tut-php--tut-php: identical" in php
    for shown in ("bind(0.0.0.0:PORT)", "listen(5)", "listen backlog: 5 (reference: 128)",
                  "address: binds every interface (0.0.0.0)"):
        assert shown in php and f"`{shown}" in text, shown
    assert re.search(r"6\s+send\(conn\)\s+sendto\s+send\(conn\)\s+write\b", php), php
    assert re.search(r"4\s+conn = accept\(listener\)\s+accept4\(SOCK_CLOEXEC\)\s+"
                     r"conn = accept\(listener\)\s+accept\b", php), php

    # the hello pair differs where the section says, and its server was stopped, not failed
    for shown in ("differs at step 5 (missing recv(conn); extra accept(listener) … never "
                  "returned)", "missing send(sock)", "serves forever: stopped by the harness "
                  "once its client was done", "unrelated sockets"):
        assert shown in hello, shown
        assert shown in text, shown
    assert "bind(listener, 127.0.0.1:PORT)" in hello
    hosts = [a for a in socket.gethostbyname_ex(socket.gethostname())[2]]
    if hosts and hosts[0] != "127.0.0.1":
        assert f"binds the host name's address {hosts[0]}" in hello, hello

    # the upper-casing pair: one read more, and the wire rows that follow from it
    assert "tut-upper (client), scenario tcp, run tcp/tut-upper--tut-upper: identical" in upper
    shown = "differs at step 7 (extra recv(conn) → EOF)"
    assert shown in upper and shown in text, shown
    # the server reads to EOF: it closes second, and ends CLOSED. (The rows are shown when the
    # reference's run differs, and the reference's server closes right after its send, racing
    # its client: which of the two closed first is timing's, so the rows may not be there.)
    server = upper[upper.index("tut-upper (server)"):]
    server = server[:server.index("tut-upper (client)")] if "tut-upper (client)" in server \
        else server
    wire = [line.strip() for line in server.splitlines() if "(wire):" in line]
    for row, value in (("closes first (wire):", "closes first (wire): no"),
                       ("last TCP state (wire):", "last TCP state (wire): CLOSED")):
        for line in wire:
            if line.startswith(row):
                assert line.startswith(value), (line, wire)
                assert value in text, value

    # every client's run was ok: what each printed is in the section
    for name, printed in (("tut-php", "Reply From Server  :hi"),
                          ("tut-hello", "b'Thank you for connecting'"),
                          ("tut-upper", "Received b'HELLO, WORLD'")):
        run = yaml.safe_load((work / f"traces/verify/{name}/tcp/{name}--{name}/run.yaml")
                             .read_text())
        assert run["outcome"] == "ok" and run["client_stdout"].strip() == printed, run
        assert " ".join(printed.split()) in text
