"""`compare --from` on hand-edited, broken and hostile traces folders, and the data files a
contributor edits (rules, manifests): every one is refused with exit status 2 and one line
naming the file and the field, in bounded time and memory; never a traceback."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

import fixtures_traces as ft
from harness import cli
from harness.normalize import RuleError, load_rules
from harness.normalize.rules import DEFAULT_RULES
from harness.samples import ManifestError, load_sample

RUN = "tcp/c--c"


def one_run_set(root: Path) -> Path:
    """Two runs, their traces as the runner writes them (JSON Lines streams)."""
    names = {"server_trace": "server.jsonl", "client_trace": "client.jsonl"}
    return ft.write_trace_set(root, [ft.pair_run("python-stdlib", 40301, **names),
                                     ft.pair_run("c", 40302, **names)])


def compare_from(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = cli.main(["compare", "--from", str(root), "--width", "0"])
    return status, capsys.readouterr().err


def edit_event(n: int, change: Callable[[dict], object]) -> Callable[[Path], None]:
    """Change line n of the server trace of RUN (1: the header)."""
    def apply(root: Path) -> None:
        path = root / RUN / "server.jsonl"
        lines = path.read_text().splitlines()
        doc = json.loads(lines[n - 1])
        result = change(doc)
        lines[n - 1] = json.dumps(doc if result is None else result)
        path.write_text("\n".join(lines) + "\n")
    return apply


def edit_yaml(name: str, change: Callable[[dict], None]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / name
        doc = yaml.safe_load(path.read_text())
        change(doc)
        path.write_text(yaml.safe_dump(doc))
    return apply


def write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda root: (root / name).write_bytes(data)


def sparse(name: str, size: int) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        path = root / name
        head = path.read_bytes().split(b"\n", 1)[0] + b"\n"
        with open(path, "wb") as f:
            f.write(head)
            f.truncate(size)
    return apply


LAUGHS = b"schema_version: 1\n" + b"".join(
    b"l%d: &l%d [%s]\n" % (i, i, b",".join([b"*l%d" % (i - 1)] * 10) if i else b"'lol'")
    for i in range(10)) + b"events: *l9\n"

CASES = {
    # the messages the issue quotes, each now a field named
    "events a list of lists": (edit_event(3, lambda d: [[1, 2], [3]]),
                               f"{RUN}/server.jsonl: line 3: not a JSON object, got [[1, 2], [3]]"),
    "args a list": (edit_event(3, lambda d: d.update(args=[["fd", 3]])),
                    f"{RUN}/server.jsonl: line 3: field 'args' must be a mapping, got "
                    "[['fd', 3]]"),
    "syscall a mapping": (edit_event(3, lambda d: d.update(syscall={"a": 1})),
                          "line 3: field 'syscall' must be text, got {'a': 1}"),
    "fds of mappings": (edit_event(3, lambda d: d.update(fds=[{"fd": 3}])),
                        "line 3: field 'fds[0]' must be an integer, got {'fd': 3}"),
    "an fd as text": (edit_event(4, lambda d: d["args"].update(fd="3")),
                      "line 4: field 'args.fd' must be an integer or null, got '3'"),
    "an address of the wrong shape": (
        edit_event(4, lambda d: d["args"].update(addr={"family": "AF_INET", "port": "80"})),
        "line 4: field 'args.addr.port' must be an integer, got '80'"),
    "a socket identity without its fd": (edit_event(4, lambda d: d["sock"].__delitem__("fd")),
                                         "line 4: missing field 'sock.fd'"),
    "flags a mapping": (edit_event(3, lambda d: d["args"].update(type_flags={"x": 1})),
                        "field 'args.type_flags' must be"),
    "header command a string": (edit_event(1, lambda d: d.update(command="python x")),
                                "server.jsonl: field 'command' must be a list of texts"),
    "the header gone": (edit_event(1, lambda d: {"seq": 0}),
                        "server.jsonl: line 1: not a trace header"),
    "schema version from the future": (edit_event(1, lambda d: d.update(schema_version=9)),
                                       "schema_version is 9, this harness reads 1, 2 and 3"),
    "a line that is not JSON": (lambda root: (root / RUN / "server.jsonl").write_text(
        (root / RUN / "server.jsonl").read_text().replace('"seq":3', '"seq":3,,', 1)),
        "server.jsonl: line 4: not JSON"),
    "not UTF-8": (lambda root: (root / RUN / "server.jsonl").write_bytes(
        (root / RUN / "server.jsonl").read_bytes().replace(b'"socket"', b'"sock\xffet"', 1)),
        "server.jsonl: line 2: not UTF-8 text"),
    "nested too deep": (lambda root: (root / RUN / "server.jsonl").write_text(
        (root / RUN / "server.jsonl").read_text().replace(
            '"args":{', '"args":{"x":' + "[" * 100_000 + "]" * 100_000 + ",", 1)),
        "server.jsonl: line 2: nested too deep"),
    "200 MB": (sparse(f"{RUN}/server.jsonl", 200 << 20),
               "server.jsonl: 209.7 MB, more than the 67 MB a trace file may be"),
    "billion laughs": (write(f"{RUN}/server.yaml", LAUGHS),
                       "server.yaml: not a valid trace file: its aliases expand to more than"),
    # index.yaml and run.yaml
    "index runs an int": (edit_yaml("index.yaml", lambda d: d.update(runs=3)),
                          "index.yaml: field 'runs' must be a list of texts, got 3"),
    "a skipped hint that is a list": (
        edit_yaml("index.yaml", lambda d: d.update(skipped=[
            {"name": "php", "role": "server", "reason": "x", "hint": ["apt-get"]}])),
        "index.yaml: field 'skipped[0].hint' must be text or null, got ['apt-get']"),
    "sizes a string": (edit_yaml(f"{RUN}/run.yaml", lambda d: d.update(sizes="14,1000")),
                       "run.yaml: field 'sizes' must be a list of integers, got '14,1000'"),
    "a run folder outside": (edit_yaml("index.yaml", lambda d: d.update(runs=["../../etc"])),
                             "index.yaml: field 'runs[0]': '../../etc' is not a run folder"),
    "index not UTF-8": (write("index.yaml", b"reference: \xff\n"),
                        "index.yaml: not UTF-8 text"),
    "index not YAML": (write("index.yaml", b"runs: [a\nreference: {\n"),
                       "index.yaml: not valid YAML: line "),
    "index aliases": (write("index.yaml", LAUGHS.replace(b"schema_version: 1", b"reference: x")
                            .replace(b"events:", b"runs:")),
                      "index.yaml: its aliases expand to more than"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_folder_is_refused_in_one_line(tmp_path: Path, capsys, case: str) -> None:
    root = one_run_set(tmp_path / "traces")
    if case == "billion laughs":  # the run's server trace a YAML export
        edit_yaml(f"{RUN}/run.yaml", lambda d: d.update(server_trace="server.yaml"))(root)
    change, message = CASES[case]
    change(root)
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, err = compare_from(root, capsys)
    grew_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert status == 2, err
    assert err.count("\n") == 1 and err.startswith("harness: "), err
    assert message in err, err
    assert "Traceback" not in err
    assert time.monotonic() - start < 10 and grew_kb < 200_000


def test_a_trace_cut_off_is_shown_as_incomplete_not_refused(tmp_path: Path, capsys) -> None:
    root = one_run_set(tmp_path / "traces")
    path = root / RUN / "server.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    status, err = compare_from(root, capsys)
    assert status == 1 and "Traceback" not in err
    report = (root / "report.md").read_text()
    assert "trace incomplete" in report


# -- rules and manifests --------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ("- {id: x, kind: teleport, level: canonical}\n", "rule #1 (x): unknown kind 'teleport'"),
    ("- {id: x, kind: drop, level: canonical, when: {syscal: read}}\n",
     "field 'when': unknown condition 'syscal'"),
    ("- {id: x, kind: drop, level: canonical, when: {syscall: read}, colour: red}\n",
     "unknown field 'colour' for kind 'drop'"),
    ("- [a\n", "not valid YAML: line 2, column 1"),
    ("rules: \xff\n", "not UTF-8 text"),
])
def test_a_broken_rule_file_names_the_file_and_the_field(tmp_path: Path, text: str,
                                                         message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_bytes(text.encode("utf-8", errors="surrogateescape") if "\xff" not in text
                     else text.encode("latin-1"))
    with pytest.raises(RuleError) as e:
        load_rules(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_the_packaged_rules_load() -> None:
    assert load_rules(DEFAULT_RULES).rules


GOOD = {"name": "s", "role": "server", "language": "Python",
        "run": ["{python}", "server.py", "{host}", "{port}"], "scenarios": ["tcp"]}


@pytest.mark.parametrize("change, message", [
    ({"scenario": ["tcp"]}, "unknown field 'scenario' (fields: name, role, language, api, "
                            "description, requires, build, run, scenarios, env); did you mean "
                            "'scenarios'?"),
    ({"run": "python server.py"}, "field 'run' must be a non-empty list of strings, got "
                                  "'python server.py'"),
    ({"run": ["{python}", "{prot}"]}, "unknown placeholder {prot} in '{prot}'"),
    ({"run": ["{python}", "{port"]}, "'{port': expected '}' before end of string"),
    ({"run": ["{python}", "{port!r}"]}, "placeholder {port} in '{port!r}' takes no format"),
    ({"run": ["{python}", "{port.real}"]}, "unknown placeholder {port.real}"),
    ({"language": ["Python"]}, "field 'language' must be text, got ['Python']"),
    ({"requires": [{"command": "cc", "hint": ["apt"]}]},
     "field 'requires[0].hint' must be text, got ['apt']"),
    ({"requires": [{"command": "cc", "hnit": "apt"}]}, "unknown field 'requires[0].hnit'"),
    ({"scenarios": {"tcp": {"rnu": ["x"]}}}, "unknown field 'scenarios.tcp.rnu'"),
    ({"env": {"A": ["x"]}}, "field 'env.A' must be a variable name with a text value"),
])
def test_a_broken_manifest_names_the_file_and_the_field(tmp_path: Path, change: dict,
                                                        message: str) -> None:
    folder = tmp_path / "servers" / "s"
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump({**GOOD, **change}))
    with pytest.raises(ManifestError) as e:
        load_sample(folder, "server")
    assert str(e.value).startswith(str(folder / "manifest.yaml")), str(e.value)
    assert message in str(e.value), str(e.value)


@pytest.mark.parametrize("name, message", [
    ("a--b", "may not hold '--'"),
    ("my sample", "letters, digits and . _ + -"),
    ("-rf", "starting with a letter or digit"),
    ("naïve", "letters, digits"),
])
def test_a_sample_name_that_would_make_odd_paths_is_refused(tmp_path: Path, name: str,
                                                            message: str) -> None:
    folder = tmp_path / "servers" / name
    folder.mkdir(parents=True)
    (folder / "manifest.yaml").write_text(yaml.safe_dump({**GOOD, "name": name}))
    with pytest.raises(ManifestError) as e:
        load_sample(folder, "server")
    assert message in str(e.value) and str(e.value).startswith(str(folder))


def test_verify_of_a_name_that_climbs_out_writes_nothing(tmp_path: Path, capsys,
                                                        monkeypatch) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    status = cli.main(["verify", "../../escape", "--samples", str(tmp_path / "work")])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("harness: no sample named '../../escape'"), err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["work"]
