"""The textbook sequences (harness/tables/scenarios.yaml): loading, every mistake named by file,
scenario, role and step, unrolling for a run, and agreement with the reference samples."""

from __future__ import annotations

from pathlib import Path

import fixtures_traces as ft
import pytest
import yaml

from harness.tables.scenario import SCENARIOS_FILE
from harness.render import words
from harness.normalize import DEFAULT_RULES, RuleError, load_rules, normalize
from harness.normalize.rules import default_rules
from harness.normalize.textbook import (DEFAULT_TEXTBOOKS, TextbookError, load_textbooks,
                                        run_address)

TABLE = default_rules().syscalls
RUNNER_SCENARIOS = SCENARIOS_FILE.resolve()


def books_file_is_the_scenarios_file() -> bool:
    """One file holds how each scenario is run and its textbook."""
    return DEFAULT_TEXTBOOKS.resolve() == RUNNER_SCENARIOS


def write(tmp_path: Path, text: str, name: str = "books.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_packaged_textbooks_come_with_the_rules() -> None:
    books = load_rules(DEFAULT_RULES).textbooks
    assert books is not None and books.source == str(DEFAULT_TEXTBOOKS)


def test_every_scenario_the_runner_knows_has_both_textbooks() -> None:
    """Both, except the server's of a scenario the kernel serves (icmp-echo): no program."""
    from harness.tables.scenario import load_scenarios

    runner = load_scenarios()
    assert books_file_is_the_scenarios_file()
    books = default_rules().textbooks
    assert books is not None
    for scenario, how in runner.items():
        for role in ("server", "client"):
            if role == "server" and how.kernel_served:
                assert books.get(scenario, role) is None, scenario
                continue
            assert books.get(scenario, role) is not None, (scenario, role)


def test_tcp_textbook_for_a_run() -> None:
    book = default_rules().textbooks.get("tcp", "server")  # type: ignore[union-attr]
    run = ft.run_record("x", "x")
    steps = book.steps(run, run_address(run))
    assert [s.label for s in steps] == [
        "listener = socket()", "bind(listener, 127.0.0.1:PORT)", "listen(listener)",
        "conn = accept(listener)", "recv(conn)", "send(conn)", "close(conn)", "close(listener)"]
    assert [s.dialect for s in steps][:4] == ["socket", "bind", "listen", "accept"]
    assert words.loops(book.loops(run)) == ""


@pytest.mark.parametrize("scenario,address", [("tcp", "127.0.0.1:PORT"),
                                              ("tcp6", "[::1]:PORT"), ("unix", "unix:PATH"),
                                              ("udp", "127.0.0.1:PORT")])
def test_run_address_as_the_tables_show_it(scenario: str, address: str) -> None:
    assert run_address(ft.run_record("x", "x", scenario=scenario)) == address


def test_session_textbook_repeats_once_per_message() -> None:
    book = default_rules().textbooks.get("tcp-session", "client")  # type: ignore[union-attr]
    run = ft.run_record("x", "x", scenario="tcp-session")
    steps = book.steps(run, run_address(run))
    assert [s.label for s in steps] == ["sock = socket()", "connect(sock, 127.0.0.1:PORT)",
                                        *["send(sock)", "recv(sock)"] * 3, "close(sock)"]
    assert [s.dialect for s in steps][2:4] == ["send(message 1 of 3)", "recv(message 1 of 3)"]
    assert words.loops(book.loops(run)) == ("send(sock), recv(sock) once per message (3 in this run: "
                                            "14, 1000, 100000 bytes); how many rows depends on the "
                                            "messages")
    one = ft.run_record("x", "x", scenario="tcp-session", sizes=[])
    assert len(book.steps(one, "A")) == 5
    assert [s.dialect for s in book.steps(one, "A")][2] == "send"


@pytest.mark.parametrize("scenario,builder,role", [
    ("tcp", ft.python_stdlib_server, "server"), ("tcp", ft.python_stdlib_client, "client"),
    ("tcp6", ft.python_stdlib_server6, "server"), ("tcp6", ft.python_stdlib_client6, "client"),
    ("udp", ft.python_stdlib_server_udp, "server"), ("udp", ft.python_stdlib_client_udp, "client"),
    ("unix", lambda port: ft.python_stdlib_server_unix(), "server"),
    ("unix", lambda port: ft.python_stdlib_client_unix(), "client"),
    ("tcp-session", ft.python_stdlib_server_session, "server"),
    ("tcp-session", ft.python_stdlib_client_session, "client"),
])
def test_the_reference_samples_follow_the_textbook(scenario, builder, role) -> None:
    run = ft.run_record("x", "x", scenario=scenario)
    book = default_rules().textbooks.get(scenario, role)  # type: ignore[union-attr]
    steps = normalize(builder(ft.PORT), run, role).steps
    assert [s.key for s in steps] == [s.key for s in book.steps(run, run_address(run))]


# -- mistakes --------------------------------------------------------------------------------

GOOD = """
scenarios:
  tcp:
    server: ["listener = socket()", "bind(listener, ADDR)", "close(listener)"]
"""


def test_a_small_file_loads(tmp_path: Path) -> None:
    books = load_textbooks(write(tmp_path, GOOD), TABLE)
    assert books.scenarios == ["tcp"] and books.get("tcp", "client") is None


@pytest.mark.parametrize("server,message", [
    ('["listener = socket()", "recvfrom(listener)"]',
     r"scenario 'tcp', role 'server', step #2: 'recvfrom' is a dialect of 'recv'"),
    ('["listener = socket()", "recieve(listener)"]',
     r"step #2: unknown call 'recieve' \(known: .*accept"),
    ('["listener = socket()", "conn = accept(listnr)"]',
     r"step #2: socket 'listnr' is not made by an earlier step \(made so far: listener\)"),
    ('["listener = socket(", "close(listener)"]',
     r"step #1: cannot read 'listener = socket\(': expected \[CREATED = \]CALL"),
    ('["listener = socket()", "close()"]', r"step #2: 'close\(\)' names no socket"),
    ('["listener = socket()", {repeat: sometimes, steps: ["recv(listener)"]}]',
     r"step #2: field 'repeat': expected 'messages' or a positive number"),
    ('["listener = socket()", {repeat: 2, steps: []}]',
     r"step #2: field 'steps': expected a non-empty list"),
    ('["listener = socket()", {repeat: 2, stpes: ["recv(listener)"]}]',
     r"step #2: a repeated block is a mapping with 'repeat' and 'steps' \(unknown field "
     r"'stpes'\)"),
    ('["listener = socket()", {repeat: 2, steps: ["recv(listener)", "c = accept(listener)"]}]',
     r"step #2\.2: a repeated step cannot make a socket \('c'\)"),
    ('[3]', r"step #1: expected a step written as in the tables"),
    ('[]', r"scenario 'tcp', role 'server': expected a non-empty list of steps"),
])
def test_malformed_steps_name_file_scenario_role_and_step(tmp_path: Path, server: str,
                                                          message: str) -> None:
    path = write(tmp_path, f"scenarios:\n  tcp:\n    server: {server}\n")
    with pytest.raises(TextbookError, match=message) as e:
        load_textbooks(path, TABLE)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("text,message", [
    ("scenarios:\n  tcp: {servr: []}\n", r"scenario 'tcp': unknown field 'servr' \(fields: "
                                         r"server, client, note, run\)"),
    ("scenarios:\n  tcp: {note: hi}\n", r"scenario 'tcp': no 'server' and no 'client'"),
    ("scenarios:\n  tcp: [a]\n", r"scenario 'tcp': expected a mapping"),
    ("scenarios:\n  tcp: {note: [1], client: ['s = socket()']}\n",
     r"scenario 'tcp': field 'note' must be text"),
    ("tcp: {}\n", r"expected a mapping 'scenarios:'"),
    ("scenarios: [unclosed\n", r"not valid YAML"),
])
def test_malformed_files(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TextbookError, match=message) as e:
        load_textbooks(path, TABLE)
    assert str(path) in str(e.value)


def test_rules_file_names_its_textbook_and_reports_its_errors(tmp_path: Path) -> None:
    write(tmp_path, "scenarios:\n  tcp: {client: ['sock = socket()', 'sendd(sock)']}\n")
    rules = write(tmp_path, "textbook: books.yaml\nrules: []\n", "rules.yaml")
    with pytest.raises(RuleError, match=r"rules\.yaml: textbook: .*books\.yaml: scenario 'tcp', "
                                        r"role 'client', step #2: unknown call 'sendd'"):
        load_rules(rules)
    missing = write(tmp_path, "textbook: nope.yaml\nrules: []\n", "other.yaml")
    with pytest.raises(RuleError, match=r"other\.yaml: textbook: .*nope\.yaml: cannot read"):
        load_rules(missing)
    plain = write(tmp_path, "rules: []\n", "plain.yaml")
    assert load_rules(plain).textbooks is None
