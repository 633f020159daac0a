"""The one scenarios file: each scenario's run settings, checked with the file, scenario and
field named; the placeholders a run fills in."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.tables.scenario import SCENARIOS_FILE, ScenarioError, load_scenarios


def test_the_packaged_scenarios() -> None:
    s = load_scenarios()
    assert list(s) == ["tcp", "tcp-session", "udp", "unix", "tcp6", "udp-broadcast",
                       "icmp-echo"]
    assert (s["tcp"].host, s["tcp"].port, s["tcp"].ready) == ("127.0.0.1", "tcp", "listen")
    assert s["udp"].ready == "bind" and s["unix"].path and s["unix"].host is None
    assert s["tcp-session"].sizes == (14, 1000, 100000)
    assert s["tcp-session"].expected_output("ab")[:5] == b"ababa"
    assert s["unix"].placeholders("", 0, "hi", "/tmp/x/echo.sock") == {
        "host": "", "port": "", "message": "hi", "path": "/tmp/x/echo.sock", "sizes": "",
        "scenario": "unix"}


@pytest.mark.parametrize("run, message", [
    ("{ready: accept, host: 127.0.0.1}", r"field 'run'.ready: expected one of listen, bind"),
    ("{ready: listen, host: 127.0.0.1, port: sctp}", r"run'.port: expected one of tcp, udp"),
    ("{ready: listen, host: 127.0.0.1, sizes: '14'}", r"run'.sizes: expected a list of pos"),
    ("{ready: listen, host: 127.0.0.1, sizes: [0]}", r"run'.sizes: expected a list of pos"),
    ("{ready: listen, hots: 127.0.0.1}", r"run': unknown field 'hots'"),
    ("{ready: listen}", r"run': a scenario needs a host or a path"),
    ("[listen]", r"run': expected a mapping"),
])
def test_bad_run_settings_name_the_file_scenario_and_field(tmp_path: Path, run: str,
                                                           message: str) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(f"scenarios:\n  tcp:\n    run: {run}\n    server: [x]\n")
    with pytest.raises(ScenarioError, match=message) as e:
        load_scenarios(path)
    assert str(e.value).startswith(f"{path}: scenario 'tcp', field 'run'")


def test_a_scenario_without_run_settings(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text("scenarios:\n  tcp:\n    server: [x]\n")
    with pytest.raises(ScenarioError, match="scenario 'tcp': missing field 'run'"):
        load_scenarios(path)
    assert SCENARIOS_FILE.name == "scenarios.yaml"
