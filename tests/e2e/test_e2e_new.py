"""`harness new` on real toolchains: every template's skeletons build and run, saying they are
not written yet; a language without a template gets a manifest that loads; nothing is
overwritten. And the build's progress lines, outputs written beside the sources, make deps."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.run.argv import base_values, expand
from harness.run.build import build
from harness.run.manifest import discover, load_sample, \
    missing_requirement
from harness.tools.scaffold import ScaffoldError, languages, new_sample

from e2ehelp import PYTHON, REPO

EVERY = ["tcp", "tcp6", "tcp-session", "udp", "unix"]  # the scenarios with a template program
VALUES = {"host": "127.0.0.1", "port": "1", "message": "m", "sizes": "1", "path": "/tmp/x",
          "scenario": "tcp"}


@pytest.mark.parametrize("language", languages())
def test_each_template_builds_and_says_it_is_not_written(tmp_path: Path, language: str) -> None:
    made = new_sample(tmp_path, f"t-{language}", language, scenarios=EVERY)
    assert made.known and len(made.programs) == 8  # four programs a role
    found = discover(tmp_path)
    for role in ("server", "client"):
        sample = found[role][f"t-{language}"]
        assert sample.scenarios == ["tcp", "tcp6", "tcp-session", "udp", "unix"]
        if missing_requirement(sample) is not None:
            pytest.skip(f"{missing_requirement(sample).command} not installed")
        folder = build(sample, tmp_path / "build")
        for scenario in sample.scenarios:
            argv = expand(sample.run_for(scenario), {**base_values(sample, folder), **VALUES})
            r = subprocess.run(argv, cwd=sample.folder, capture_output=True, text=True,
                               timeout=60)
            assert r.returncode == 1 and "not written yet" in r.stderr, (scenario, r.stderr)
    # the tcp server's skeleton says what its scenario asks and lists the textbook's calls
    main = next(p for p in made.programs if p.parent.parent.name == "servers"
                and p.stem.lower() == "server")
    body = main.read_text()
    assert "accept ONE connection" in body and "conn = accept(listener)" in body


def test_new_writes_only_the_scenarios_asked_and_tcp_by_default(tmp_path: Path) -> None:
    made = new_sample(tmp_path, "plain", "python")
    assert sorted(p.name for p in made.programs) == ["client.py", "server.py"]
    for role in ("server", "client"):
        sample = load_sample(tmp_path / f"{role}s" / "plain", role)
        assert sample.scenarios == ["tcp"]
        assert sorted(p.name for p in sample.folder.iterdir()) == sorted(
            ["manifest.yaml", f"{role}.py"])
    made = new_sample(tmp_path, "two", "c", scenarios=["udp", "tcp-session", "udp"])
    assert sorted(p.name for p in made.programs) == [
        "client_session.c", "client_udp.c", "server_session.c", "server_udp.c"]
    sample = load_sample(tmp_path / "servers/two", "server")
    assert sample.scenarios == ["tcp-session", "udp"]  # (in the templates' order)
    new_sample(tmp_path, "gen", "COBOL")
    assert load_sample(tmp_path / "clients/gen", "client").scenarios == ["tcp"]


def test_a_language_without_a_template_gets_a_manifest_that_loads(tmp_path: Path) -> None:
    made = new_sample(tmp_path, "my-cobol", "COBOL", scenarios=["tcp"])
    assert not made.known and made.programs == ()
    for role in ("server", "client"):
        sample = load_sample(tmp_path / f"{role}s" / "my-cobol", role)
        assert sample.language == "COBOL" and sample.scenarios == ["tcp"]
        req = missing_requirement(sample)
        assert req is not None and req.hint == "how to install COBOL"


def test_new_never_overwrites_and_checks_what_it_is_given(tmp_path: Path) -> None:
    new_sample(tmp_path, "mine", "python", scenarios=["tcp"])
    before = (tmp_path / "servers/mine/server.py").read_text()
    with pytest.raises(ScaffoldError, match="servers/mine: already there"):
        new_sample(tmp_path, "mine", "c")
    assert (tmp_path / "servers/mine/server.py").read_text() == before
    with pytest.raises(ScaffoldError, match="may not hold '--'"):
        new_sample(tmp_path, "a--b", "python")
    with pytest.raises(ScaffoldError, match="no scenario named 'tpc'"):
        new_sample(tmp_path, "other", "python", scenarios=["tpc"])
    assert not (tmp_path / "servers/other").exists()


def test_make_new_takes_its_language_from_the_command_line_only(tmp_path: Path) -> None:
    """LANG is the locale's variable too: a LANG from the environment names no language."""
    env = {**os.environ, "LANG": "C.UTF-8"}
    r = subprocess.run(["make", "-s", "-C", str(REPO), "new", "NAME=x"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "usage: make new NAME=name LANG=language" in r.stdout
    r = subprocess.run(["make", "-s", "-C", str(REPO), "new", "NAME=made-by-make", "LANG=ruby",
                        "SCENARIO=udp", f"ARGS=--samples {tmp_path}"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "then: make verify SAMPLE=made-by-make SCENARIO=udp" in r.stdout
    assert sorted(p.name for p in (tmp_path / "servers/made-by-make").iterdir()) == [
        "manifest.yaml", "server_udp.rb"]
    # without SCENARIO: tcp alone; with several, each
    r = subprocess.run(["make", "-s", "-C", str(REPO), "new", "NAME=by-make-tcp", "LANG=python",
                        f"ARGS=--samples {tmp_path}"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "then: make verify SAMPLE=by-make-tcp SCENARIO=tcp" in r.stdout
    assert sorted(p.name for p in (tmp_path / "clients/by-make-tcp").iterdir()) == [
        "client.py", "manifest.yaml"]
    r = subprocess.run(["make", "-s", "-C", str(REPO), "new", "NAME=by-make-two", "LANG=python",
                        "SCENARIO=tcp unix", f"ARGS=--samples {tmp_path}"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "then: make verify SAMPLE=by-make-two\n" in r.stdout
    assert sorted(p.name for p in (tmp_path / "servers/by-make-two").iterdir()) == [
        "manifest.yaml", "server.py", "server_unix.py"]


def test_builds_say_what_they_do_and_move_what_they_write_beside_the_sources(tmp_path: Path
                                                                             ) -> None:
    folder = tmp_path / "servers" / "messy"
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump({
        "name": "messy", "role": "server", "language": "Python",
        "build": [["{python}", "-c", "import os; os.makedirs('obj', exist_ok=True); "
                   "open('obj/a.o', 'w').write('x'); open('{build}/server', 'w').write('y')"]],
        "run": ["{python}", "server.py"], "scenarios": ["tcp"]}))
    (folder / "server.py").write_text("")
    sample = load_sample(folder, "server")
    said: list[str] = []
    out = build(sample, tmp_path / "build", said.append)
    assert said[0].startswith("build server messy [1/1]: ") and PYTHON.split("/")[-1] in said[0]
    assert re.match(r"build server messy: done in \d+\.\d s", said[1])
    assert said[2] == ("build server messy: the build wrote obj/a.o beside the sources; moved "
                       "into the build folder (write build outputs to {build})")
    assert (out / "obj" / "a.o").read_text() == "x" and (out / "server").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.yaml", "server.py"]
    said.clear()
    assert build(sample, tmp_path / "build", said.append) == out  # the sources are unchanged
    assert said == [f"build server messy: up to date ({out.name})"]


def test_make_deps_installs_every_toolchain_a_manifest_names() -> None:
    r = subprocess.run(["make", "-s", "-n", "-C", str(REPO), "deps"], capture_output=True,
                       text=True, timeout=60)
    install = next(line for line in r.stdout.splitlines() if "apt-get install" in line)
    packages = set(install.split("--no-install-recommends", 1)[1].split())
    hinted = set()
    for manifest in REPO.glob("*/*/manifest.yaml"):
        for req in yaml.safe_load(manifest.read_text()).get("requires") or []:
            hinted |= set(re.findall(r"apt-get install ([\w.+-]+)", req.get("hint") or ""))
    assert hinted and hinted <= packages, hinted - packages
    if shutil.which("apt-get") is None:
        pytest.skip("no apt-get here")
