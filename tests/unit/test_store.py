"""The traces folder: every field of index.yaml and run.yaml checked against its record's
type, the file and the field named; run folders and trace names that would leave the folder
refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import fixtures_traces as ft
from harness.formats.store import StoreError, TracesFolder


def folder_with_one_run(tmp_path: Path) -> TracesFolder:
    ft.write_trace_set(tmp_path, [ft.pair_run("c", 40302)])
    return TracesFolder(tmp_path)


def edit(file: Path, **changes) -> None:
    doc = yaml.safe_load(file.read_text())
    doc.update(changes)
    file.write_text(yaml.safe_dump(doc))


@pytest.mark.parametrize("changes, message", [
    ({"port": "forty"}, "field 'port' must be an integer, got 'forty'"),
    ({"port": True}, "field 'port' must be an integer, got True"),
    ({"sizes": "14,1000"}, "field 'sizes' must be a list of integers, got '14,1000'"),
    ({"sizes": [14, "x"]}, "field 'sizes[1]' must be an integer, got 'x'"),
    ({"duration_s": "fast"}, "field 'duration_s' must be a number, got 'fast'"),
    ({"path": 3}, "field 'path' must be text or null, got 3"),
    ({"server_stderr": ["a"]}, "field 'server_stderr' must be text, got ['a']"),
    ({"server_trace": "../../etc/passwd"}, "field 'server_trace': '../../etc/passwd' is not "
                                           "a file name"),
])
def test_run_yaml_fields_of_the_wrong_type(tmp_path: Path, changes, message) -> None:
    store = folder_with_one_run(tmp_path)
    run_yaml = tmp_path / "tcp/c--c/run.yaml"
    edit(run_yaml, **changes)
    with pytest.raises(StoreError) as e:
        store.read_run("tcp/c--c")
    assert str(e.value) == f"{run_yaml}: {message}"


@pytest.mark.parametrize("changes, message", [
    ({"runs": 3}, "field 'runs' must be a list of texts, got 3"),
    ({"runs": ["../../x"]}, "field 'runs[0]': '../../x' is not a run folder"),
    ({"runs": ["/abs/a--b"]}, "field 'runs[0]': '/abs/a--b' is not a run folder"),
    ({"skipped": [{"name": "php", "role": "server", "reason": "x", "hint": ["apt"]}]},
     "field 'skipped[0].hint' must be text or null, got ['apt']"),
    ({"skipped": [{"name": "php"}]}, "missing field 'skipped[0].role'"),
    ({"implements": {"server": {"c": "tcp"}}},
     "field 'implements.server.c' must be a list of texts, got 'tcp'"),
    ({"reference": None}, "field 'reference' must be text, got None"),
])
def test_index_fields_of_the_wrong_type(tmp_path: Path, changes, message) -> None:
    store = folder_with_one_run(tmp_path)
    edit(store.index_path, **changes)
    with pytest.raises(StoreError) as e:
        store.read_index()
    assert str(e.value).startswith(f"{store.index_path}: {message}")


def test_a_top_level_that_is_not_a_mapping(tmp_path: Path) -> None:
    store = folder_with_one_run(tmp_path)
    store.index_path.write_text("- a\n- b\n")
    with pytest.raises(StoreError, match="the top level must be a mapping of fields"):
        store.read_index()


def test_a_missing_run_yaml_is_a_failed_run(tmp_path: Path) -> None:
    store = folder_with_one_run(tmp_path)
    (tmp_path / "tcp/c--c/run.yaml").unlink()
    record = store.read_run("tcp/c--c")
    assert (record.outcome, record.server, record.client) == ("error", "c", "c")
    assert "run.yaml missing" in (record.detail or "")
