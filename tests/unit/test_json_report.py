"""The JSON report for machines: its schema_version, the shape docs/json-report.md documents, the
jq one-liners of that page run on a recorded set (tests/golden/sets/recorded-matrix), and a
stdout that holds the JSON document alone when make's status line is asked for."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.compare.analyze import analyze
from harness.render import render
from harness.render.json import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "json-report.md"
RECORDED = REPO / "tests" / "golden" / "sets" / "recorded-matrix"
# what the two one-liners answer on the recorded set, as the traces show it: python-asyncio's
# event loop waits in epoll_wait; socketserver's StreamRequestHandler ends with shutdown(SHUT_WR)
EPOLL = ["python-asyncio"]
SHUTDOWN_BEFORE_CLOSE = ["python-socketserver"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, dict[str, Any]]:
    """recorded-matrix rendered to JSON (read only: the set is not written to)."""
    text = render(analyze(RECORDED), "json")
    path = tmp_path_factory.mktemp("json") / "results.json"
    path.write_text(text, encoding="utf-8")
    return path, json.loads(text)


def jq(query: str, path: Path) -> str:
    exe = shutil.which("jq")
    if exe is None:
        pytest.skip("jq is not installed (apt-get install jq)")
    r = subprocess.run([exe, "-r", query, str(path)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, f"{query}: {r.stderr}"
    return r.stdout


def one_liner(question: str) -> str:
    """The jq program of the ```sh block that follows the question in the page."""
    text = DOC.read_text(encoding="utf-8")
    at = text.index(question)
    block = re.search(r"```sh\n(.*?)\n```", text[at:], re.S)
    assert block, f"no jq block after {question!r}"
    m = re.fullmatch(r"jq -r '(.*)' results\.json", block[1].strip())
    assert m, block[1]
    return m[1]


def test_the_report_starts_with_its_schema_version(report) -> None:
    _, doc = report
    assert SCHEMA_VERSION == 1
    assert next(iter(doc)) == "schema_version" and doc["schema_version"] == SCHEMA_VERSION
    assert f"# The JSON report (schema version {SCHEMA_VERSION})" in DOC.read_text()


def test_which_samples_use_epoll(report) -> None:
    path, _ = report
    answer = jq(one_liner("Which samples use epoll?"), path).split()
    assert answer == EPOLL
    # the same question asked of the analysis itself
    analysis = analyze(RECORDED)
    assert answer == sorted({r.sample for r in analysis.results() if r.normalized and any(
        u.api == "epoll" for u in r.normalized.attributes.readiness)})


def test_which_servers_shut_down_before_close(report) -> None:
    path, _ = report
    answer = jq(one_liner("Which servers shut down before close?"), path).split()
    assert answer == SHUTDOWN_BEFORE_CLOSE

    def shuts_down_first(steps) -> bool:
        names = [str(what) for what, _how in steps]
        return "shutdown" in names and "close" in names[names.index("shutdown"):]

    analysis = analyze(RECORDED)
    assert answer == sorted({r.sample for r in analysis.results() if r.role == "server" and
                             r.normalized and any(shuts_down_first(e.steps) for e in
                                                  r.normalized.attributes.ends)})


def test_every_query_of_the_page_runs(report) -> None:
    """The table of more questions: each jq program runs on the recorded set."""
    path, _ = report
    queries = re.findall(r"^\| [^|]*? \| `(.*)` \|$", DOC.read_text(), re.M)
    assert len(queries) >= 5
    for query in queries:
        jq(query.replace(r"\|", "|"), path)


def test_the_path_users_ask_for(report) -> None:
    _, doc = report
    apis = [u["api"] for sc in doc["scenarios"] for run in sc["runs"]
            for u in run["server"]["attributes"]["readiness"]]
    assert "epoll" in apis and "poll" in apis
    assert ".scenarios[].runs[]" in DOC.read_text() and "readiness[]" in DOC.read_text()


# maps whose keys are data (sample or scenario names), not fields
MAPS = {"grid.rows.cells", "scenarios.tables.rows.cells", "scenarios.tables.verdicts"}


def keys(value: Any, at: str = "") -> set[str]:
    """Every field name of the document (not the keys of maps of samples or scenarios)."""
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if at in MAPS:
                out |= keys(v, at + ".*")
            else:
                out.add(k)
                out |= keys(v, f"{at}.{k}".lstrip("."))
    elif isinstance(value, list):
        for v in value:
            out |= keys(v, at)
    return out


def test_every_field_is_documented(report) -> None:
    """A field added to the report is added to the page (in backquotes, or in its shape)."""
    _, doc = report
    text = DOC.read_text()
    wire = json.loads(render(analyze(REPO / "tests" / "golden" / "sets" / "recorded-wire"),
                             "json"))
    missing = sorted(k for k in keys(doc) | keys(wire)
                     if not re.search(rf"`\.?{re.escape(k)}(\[\])?`|\"{re.escape(k)}\""
                                      rf"|[{{ ]{re.escape(k)}[,}}]", text))
    assert not missing, f"fields of the JSON report not in {DOC.name}: {missing}"


# -- stdout holds the document alone ------------------------------------------------------------

def test_the_status_line_goes_to_stderr_with_json(tmp_path: Path, capsys) -> None:
    from harness.cli import main

    traces = tmp_path / "traces"
    shutil.copytree(RECORDED, traces)
    code = main(["compare", "--from", str(traces), "--format", "json", "--status-line"])
    out, err = capsys.readouterr()
    assert json.loads(out)["exit_code"] == code == 1
    assert err.splitlines()[-1] == "harness compare: exit status 1"
    # other formats keep it on stdout, where make's users read it
    main(["compare", "--from", str(traces), "--format", "markdown", "--status-line"])
    out, err = capsys.readouterr()
    assert out.splitlines()[-1] == "harness compare: exit status 1"


def test_make_compare_format_json_prints_json(tmp_path: Path) -> None:
    """`make compare ARGS="--format json"`: valid JSON on stdout, make's status on stderr."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    traces = tmp_path / "traces"
    shutil.copytree(RECORDED, traces)
    r = subprocess.run(["make", "-s", "compare", f"ARGS=--format json --from {traces}"],
                       cwd=REPO, capture_output=True, text=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == SCHEMA_VERSION
    assert "harness compare: exit status 1" in r.stderr
    assert r.returncode == 2  # (make reports the harness's status 1 as its own 2)
