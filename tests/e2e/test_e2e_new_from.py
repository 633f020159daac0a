"""`harness new --from PATH` (`make new ... FROM=path`): a program that exists, a tutorial's,
wrapped as it is: copied unchanged, its manifest running it with no arguments (a server on a
port of its own, a client whose output is not checked), and the pair runs and compares."""

from __future__ import annotations

import os
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml

from harness.run.matrix import plan, run_all
from harness.run.options import RunOptions
from harness.run.manifest import load_sample
from harness.tools.scaffold import ScaffoldError, wrap_program

from e2ehelp import REPO

SERVER = """\
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", {port}))
s.listen(5)
c, addr = s.accept()
data = c.recv(128)
c.send(data.upper())
c.close()
s.close()
"""
CLIENT = """\
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", {port}))
s.send(b"client")
print(s.recv(128).decode())
s.close()
"""


def prose(manifest: Path) -> str:
    """The manifest's comments, as one line."""
    return " ".join(line.lstrip("# ") for line in manifest.read_text().splitlines()
                    if line.startswith("#"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_wrapped_pair_is_copied_unchanged_and_runs_as_it_is(tmp_path: Path) -> None:
    port = free_port()
    tutorial = tmp_path / "tutorial"
    tutorial.mkdir()
    (tutorial / "tut_server.py").write_text(SERVER.format(port=port))
    (tutorial / "tut_client.py").write_text(CLIENT.format(port=port))
    root = tmp_path / "samples"
    server = wrap_program(root, "tut", "python", tutorial / "tut_server.py")
    client = wrap_program(root, "tut", "py", tutorial / "tut_client.py")
    assert server.folders == (root / "servers/tut",) and client.folders == (root / "clients/tut",)
    for made, name in ((server, "tut_server.py"), (client, "tut_client.py")):
        assert made.programs[0].read_bytes() == (tutorial / name).read_bytes()
    s = load_sample(root / "servers/tut", "server")
    c = load_sample(root / "clients/tut", "client")
    assert s.run == ["{python}", "tut_server.py"] and c.run == ["{python}", "tut_client.py"]
    assert s.scenarios == c.scenarios == ["tcp"]
    assert s.scenario_ports == {"tcp": "own"} and c.expect.kind == "any"
    text = prose(root / "servers/tut/manifest.yaml")
    assert 'add "{host}", "{port}" to `run`' in text and "`port: 1234`" in text
    assert 'add "{host}", "{port}", "{message}" to `run`' in prose(
        root / "clients/tut/manifest.yaml")
    # the pair runs as it is: the server's port is learned, the client connects there itself
    p = plan([root, REPO], scenarios=["tcp"], reference="python-stdlib", cross=False,
             only="tut", build_cache=tmp_path / "build", log=lambda line: None)
    records = run_all(p, tmp_path / "traces", RunOptions(), "python-stdlib",
                      log=lambda line: None)
    mine = next(r for r in records if r.server == "tut" and r.client == "tut")
    assert mine.outcome == "ok", mine
    assert mine.port == port and mine.port_from == "learned"
    assert mine.client_stdout.strip() == "CLIENT"


def test_wrapping_says_what_it_cannot_guess(tmp_path: Path) -> None:
    program = tmp_path / "echo.php"
    program.write_text("<?php\n")
    with pytest.raises(ScaffoldError, match="is it a server or a client\\? say --role server"):
        wrap_program(tmp_path, "x", "php", program)
    with pytest.raises(ScaffoldError, match="no such file"):
        wrap_program(tmp_path, "x", "php", tmp_path / "nope.php", "server")
    with pytest.raises(ScaffoldError, match="no scenario named 'tpc'"):
        wrap_program(tmp_path, "x", "php", program, "server", ["tpc"])
    made = wrap_program(tmp_path, "x", "php", program, "server", ["tcp", "unix"])
    sample = load_sample(made.folders[0], "server")
    assert sample.run == ["php", "echo.php"] and sample.scenario_ports == {"tcp": "own"}
    with pytest.raises(ScaffoldError, match="already there"):
        wrap_program(tmp_path, "x", "php", program, "server")
    # a language without a template: its command runs the file
    made = wrap_program(tmp_path, "y", "Lua", program, "client")
    sample = load_sample(made.folders[0], "client")
    assert sample.run == ["lua", "echo.php"] and sample.requires[0].command == "lua"
    # a compiled one is built from the file as it is named
    c_program = tmp_path / "my_server.c"
    c_program.write_text("int main(void) { return 0; }\n")
    made = wrap_program(tmp_path, "z", "c", c_program)
    sample = load_sample(made.folders[0], "server")
    assert sample.build == [["cc", "-O2", "-Wall", "-o", "{build}/my_server", "my_server.c"]]
    assert sample.run == ["{build}/my_server"]


def test_make_new_from(tmp_path: Path) -> None:
    program = tmp_path / "prog.py"
    program.write_text("print('hello')\n")
    env = {**os.environ, "LANG": "C.UTF-8"}
    r = subprocess.run(["make", "-s", "-C", str(REPO), "new", "NAME=wrapped", "LANG=python",
                        f"FROM={program}", "ROLE=client", f"ARGS=--samples {tmp_path}"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"made {tmp_path}/clients/wrapped/ with prog.py, copied unchanged" in r.stdout
    assert "then: make verify SAMPLE=wrapped SCENARIO=tcp" in r.stdout
    assert sorted(p.name for p in (tmp_path / "clients/wrapped").iterdir()) == [
        "manifest.yaml", "prog.py"]
    assert not (tmp_path / "servers/wrapped").exists()
    doc = yaml.safe_load((tmp_path / "clients/wrapped/manifest.yaml").read_text())
    assert doc["run"] == ["{python}", "prog.py"] and doc["expect"] == "any"
    r = subprocess.run(["make", "-s", "-C", str(REPO), "new", "NAME=w2", "LANG=python",
                        f"FROM={program}", f"ARGS=--samples {tmp_path}"],
                       env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "say --role server or --role client" in r.stderr
