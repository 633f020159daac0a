"""`compare --format json --status-line` (what `make compare ARGS="--format json"` runs) on live
runs: stdout is one JSON document, whatever else the command says (a build's progress, the runs'
progress, the status line) is on stderr."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import yaml

from harness.render.json import SCHEMA_VERSION

from e2ehelp import PYTHON, REPO


def test_stdout_is_the_json_document_alone(tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    for role in ("server", "client"):
        shutil.copytree(REPO / f"{role}s" / "python-stdlib",
                        samples / f"{role}s" / "python-stdlib")
    # a sample with a build step: the build says what it does
    built = samples / "servers" / "built"
    shutil.copytree(REPO / "servers" / "python-stdlib", built)
    manifest = yaml.safe_load((built / "manifest.yaml").read_text())
    manifest.update(name="built", scenarios={"tcp": {}}, build=[
        ["{python}", "-c", "open('{build}/stamp', 'w').write('x')"]])
    (built / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    r = subprocess.run([PYTHON, "-m", "harness", "compare", "--status-line", "--format", "json",
                        "--samples", str(samples), "--scenario", "tcp", "--traces",
                        str(tmp_path / "traces")], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300, stdin=subprocess.DEVNULL)
    doc = json.loads(r.stdout)  # the whole of stdout
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["exit_code"] == r.returncode == 0, r.stderr
    assert "tcp/built--python-stdlib" in {run["folder"] for sc in doc["scenarios"]
                                          for run in sc["runs"]}
    assert "build server built" in r.stderr
    assert r.stderr.splitlines()[-1] == "harness compare: exit status 0"
