"""One test per renderer, the format table, and what every format must show."""

from __future__ import annotations

import json
from pathlib import Path

import fixtures_traces as ft
import pytest

from harness.render import FORMATS, RENDERERS, render
from harness.render.json import JsonRenderer
from harness.render.markdown import MarkdownRenderer
from harness.render.terminal import TerminalRenderer
from harness.compare.results import Analysis
from harness.compare.analyze import analyze as build_report


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    return build_report(ft.handbuilt_tcp(tmp_path_factory.mktemp("traces")))


def test_formats_come_from_a_table() -> None:
    assert FORMATS == ("summary", "terminal", "markdown", "json")
    assert RENDERERS["terminal"] is TerminalRenderer
    with pytest.raises(ValueError, match="unknown format 'html'.*summary, terminal, markdown"):
        render(None, "html")  # type: ignore[arg-type]


def test_terminal_renderer(report: Analysis) -> None:
    text = TerminalRenderer().render(report)
    lines = text.splitlines()
    assert lines[0] == "Socket syscalls compared"
    header = next(line for line in lines if line.startswith("#") and "step" in line)
    assert "python-stdlib (ref)" in header and "node" in header
    assert any(line.startswith("+") and "shutdown(conn, SHUT_WR)" in line for line in lines)
    assert any("verdict" in line and "differs at step 7" in line for line in lines)
    assert "node: differs at step 7 (extra shutdown(conn, SHUT_WR); extra recv(conn) → EOF)" \
        in text
    assert "tcp: server attributes" in text and "listen backlog" in text
    assert "tcp/java--java failed:" in text and "Read timed out" in text
    assert "php not found on PATH" in text
    assert "|" not in header  # a plain table, not Markdown


@pytest.mark.parametrize("width", [100, 130])
def test_terminal_tables_fit_a_width_and_keep_every_cell(report: Analysis, width: int) -> None:
    """Cut into pieces of fewer sample columns, wrapped at spaces: every line fits (a piece
    holds at least one sample column, and these are narrow enough), and every word of every
    sample column is still there, beside the row names repeated in each piece."""
    whole = TerminalRenderer().render(report)
    fitted = TerminalRenderer(width).render(report)
    assert max(len(line) for line in whole.splitlines()) > width  # something to fit
    assert max(len(line) for line in fitted.splitlines()) <= width
    words = {w for w in whole.split() if w.strip("-")}  # not the rules under the headers
    assert {w for w in fitted.split() if w.strip("-")} == words
    assert len(fitted.split()) > len(whole.split())  # key columns repeated
    steps = [line for line in fitted.splitlines() if line.startswith("#") and "step" in line]
    assert len(steps) > len([line for line in whole.splitlines()
                             if line.startswith("#") and "step" in line])
    assert render(report, "terminal", width) == fitted
    assert render(report, "terminal", 0) == whole


def test_markdown_renderer(report: Analysis) -> None:
    text = MarkdownRenderer().render(report)
    assert text.startswith("# Socket syscalls compared\n")
    assert "## tcp: servers" in text and "### tcp: server attributes" in text
    # pipes inside cells are escaped so the table keeps its columns
    assert "socket(SOCK_NONBLOCK\\|SOCK_CLOEXEC)" in text
    row = next(line for line in text.splitlines() if line.startswith("| 4 "))
    assert row.count(" | ") == 7  # 8 columns: #, step, textbook, 5 samples
    # each sample's socket view and unrelated activity
    assert "### tcp: server python-asyncio (tcp/python-asyncio--python-asyncio)" in text
    assert "accept4(listener, addr=127.0.0.1:*, flags=SOCK_CLOEXEC) = conn" in text
    assert "- AF_UNIX SOCK_STREAM socketpair: 2 sockets, 8 calls (socketpair" in text
    assert "No trace: tcp/java--java/client.yaml missing" in text
    # the skipped samples with their install hints
    assert "| php      | server | php not found on PATH | apt-get install php-cli |" in text


def test_json_renderer(report: Analysis) -> None:
    doc = json.loads(JsonRenderer().render(report))
    assert doc["exit_code"] == 1 and doc["reference"] == "python-stdlib"
    [sc] = doc["scenarios"]
    server = sc["tables"][0]
    assert server["samples"][0] == "python-stdlib"
    # values, not sentences: the renderers say "differs at step 7"
    assert server["verdicts"]["node"] == {"status": "differs", "first_step": 7,
                                          "run_outcome": "ok", "incomplete": False}
    assert server["rows"][3]["cells"]["c"] == {"change": "match",
                                               "step": "conn = accept(listener)",
                                               "dialect": "accept", "moved_from": None,
                                               "moved_up": None}
    node_run = next(r for r in sc["runs"] if r["folder"] == "tcp/node--node")
    diffs = node_run["server"]["verdict"]["differences"]
    assert [d["kind"] for d in diffs] == ["extra", "extra"]
    assert node_run["server"]["attributes"]["backlogs"] == [511]
    assert node_run["server"]["attributes"]["readiness"] == [
        {"api": "epoll", "waits": ["epoll_pwait"], "edge_triggered": False}]
    assert node_run["server"]["steps"][3]["dialect"] == "accept4(SOCK_NONBLOCK|SOCK_CLOEXEC)"
    java = next(r for r in sc["runs"] if r["folder"] == "tcp/java--java")
    assert java["record"]["outcome"] == "timeout" and "steps" not in java["client"]
    assert java["client"]["verdict"]["why"]["trace_file"] == "tcp/java--java/client.yaml"
    assert doc["skipped"][0]["hint"] == "apt-get install php-cli"


def test_every_format_renders_an_empty_report(tmp_path: Path) -> None:
    empty = build_report(tmp_path)
    for fmt in FORMATS:
        assert render(empty, fmt).endswith("\n")


# -- the verdict grid and the textbook, in every format ----------------------------------------

@pytest.fixture(scope="module")
def scenarios_report(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    return build_report(ft.handbuilt_scenarios(tmp_path_factory.mktemp("scenarios")))


def test_text_formats_show_the_grid_first(scenarios_report: Analysis) -> None:
    for renderer, heading in ((TerminalRenderer(), "Verdicts\n--------"),
                              (MarkdownRenderer(), "## Verdicts")):
        text = renderer.render(scenarios_report)
        assert text.index(heading) < text.index("tcp: servers")
        grid = text[text.index(heading):text.index("tcp: servers")]
        header = next(line for line in grid.splitlines()
                      if line.lstrip("| ").startswith("sample "))
        assert [c for c in ("tcp", "tcp-session", "udp", "unix", "tcp6") if c in header] == [
            "tcp", "tcp-session", "udp", "unix", "tcp6"]
        batch = next(line for line in grid.splitlines() if line.lstrip("| ").startswith("batch"))
        assert "differs (step 4)" in batch and "n/a" in batch
        assert "n/a: the sample does not implement the scenario" in grid


def test_text_formats_show_the_textbook_beside_the_reference(scenarios_report: Analysis) -> None:
    text = TerminalRenderer().render(scenarios_report)
    header = next(line for line in text.splitlines() if line.startswith("#") and "step" in line)
    assert header.split()[:4] == ["#", "step", "textbook", "python-stdlib"]
    assert "python-stdlib (reference) against the textbook: identical" in text
    assert ("textbook: recv(conn), send(conn) once per message (3 in this run: 14, 1000, "
            "100000 bytes)") in text
    assert "recv(message 3 of 3)" in text and "recvfrom(interleaved) x2" in text
    assert "recvfrom(messages 1-2)" in text
    assert "addressing" in text and "connect + send" in text
    # the attribute row is left out of tables where no socket is a datagram socket
    tcp = text[text.index("tcp: server attributes"):text.index("tcp: clients")]
    assert "addressing" not in tcp


def test_json_has_the_grid_and_the_textbook(scenarios_report: Analysis) -> None:
    doc = json.loads(JsonRenderer().render(scenarios_report))
    assert doc["grid"]["scenarios"] == ["tcp", "tcp-session", "udp", "unix", "tcp6"]
    batch = next(r for r in doc["grid"]["rows"] if r["sample"] == "batch")
    assert batch["cells"]["tcp-session"] == {"status": "differs", "verdict": "differs",
                                             "run": "tcp-session/python-stdlib--batch",
                                             "first_step": 4, "failure": None}
    assert batch["cells"]["udp"]["status"] == "n/a"
    session = next(sc for sc in doc["scenarios"] if sc["name"] == "tcp-session")
    client = session["tables"][1]
    assert client["textbook"]["base_verdict"]["status"] == "identical"
    assert client["textbook"]["steps"][2:4] == ["send(sock)", "recv(sock)"]
    assert client["rows"][2]["textbook"]["dialect"] == "send(message 1 of 3)"
    udp = next(sc for sc in doc["scenarios"] if sc["name"] == "udp")
    c_run = next(r for r in udp["runs"] if r["folder"] == "udp/c--c")
    assert c_run["client"]["attributes"]["datagrams"] == [{"socket": "sock",
                                                          "addressing": "connect+send"}]


def test_no_format_shows_the_temporary_socket_path(scenarios_report: Analysis) -> None:
    for fmt in FORMATS:
        text = render(scenarios_report, fmt)
        assert ft.RUN_DIR not in text, fmt
        if fmt != "summary":  # (which shows no addresses but those of its differences)
            assert "unix:PATH" in text
