"""`compare --from` on hand-edited, broken and hostile traces folders, and the data files a
contributor edits (rules, manifests): every one is refused with exit status 2 and one line
naming the file and the field, in bounded time and memory; never a traceback."""

from __future__ import annotations

import json
import os
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
from harness.run.manifest import ManifestError, load_sample

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
    "a socket record without its id": (edit_event(2, lambda d: d["socket"].__delitem__("id")),
                                       "line 2: not a socket record: "),
    "an event naming a socket as text": (edit_event(4, lambda d: d.update(sock=[3, "1"])),
                                         "line 4: field 'sock[1]' must be an integer"),
    "flags a mapping": (edit_event(3, lambda d: d["args"].update(type_flags={"x": 1})),
                        "field 'args.type_flags' must be"),
    "header command a string": (edit_event(1, lambda d: d.update(command="python x")),
                                "server.jsonl: field 'command' must be a list of texts"),
    "the header gone": (edit_event(1, lambda d: {"seq": 0}),
                        "server.jsonl: line 1: not a trace header"),
    "schema version from the future": (edit_event(1, lambda d: d.update(schema_version=9)),
                                       "schema_version is 9, this harness reads 1, 2, 3, 4 and 5"),
    "a line that is not JSON": (lambda root: (root / RUN / "server.jsonl").write_text(
        (root / RUN / "server.jsonl").read_text().replace('"seq":3', '"seq":3,,', 1)),
        "server.jsonl: line 6: not JSON"),
    "not UTF-8": (lambda root: (root / RUN / "server.jsonl").write_bytes(
        (root / RUN / "server.jsonl").read_bytes().replace(b'"socket"', b'"sock\xffet"', 1)),
        "server.jsonl: line 2: not UTF-8 text"),
    "nested too deep": (lambda root: (root / RUN / "server.jsonl").write_text(
        (root / RUN / "server.jsonl").read_text().replace(
            '"args":{', '"args":{"x":' + "[" * 100_000 + "]" * 100_000 + ",", 1)),
        "server.jsonl: line 3: nested too deep"),
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
                            "description, requires, build, run, scenarios, env, expect, "
                            "port, serves); did you mean 'scenarios'?"),
    ({"expect": "any"}, "field 'expect' is a client's (this is a server)"),
    ({"port": 70000}, "field 'port' must be a port number (1-65535) or own"),
    ({"serves": "always"}, "field 'serves' must be one of once, forever"),
    ({"scenarios": {"tcp": {"port": "mine"}}}, "field 'scenarios.tcp.port' must be a port"),
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


# -- issue 18: hostile and oversized input -------------------------------------------------------
# (each item of the issue, in order; README's "When things go wrong" says what is guaranteed)

REPO = Path(__file__).resolve().parents[2]
WIRE_SET = REPO / "tests" / "golden" / "sets" / "recorded-wire"


def relink(name: str, target: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / name).unlink()
        (root / name).symlink_to(target)
    return apply


def fifo(name: str) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        (root / name).unlink()
        os.mkfifo(root / name)
    return apply


# 1. reading is bounded: no link, no FIFO, no device is read; never more than the limit
NOT_REGULAR = {
    "a trace that links to /dev/zero": (relink(f"{RUN}/server.jsonl", "/dev/zero"),
                                        f"{RUN}/server.jsonl: a symbolic link; the harness "
                                        f"reads only regular files"),
    "a trace that is a FIFO": (fifo(f"{RUN}/server.jsonl"),
                               f"{RUN}/server.jsonl: a FIFO, not a regular file"),
    "run.yaml a link to /dev/zero": (relink(f"{RUN}/run.yaml", "/dev/zero"),
                                     f"{RUN}/run.yaml: a symbolic link"),
    "run.yaml a FIFO": (fifo(f"{RUN}/run.yaml"), f"{RUN}/run.yaml: a FIFO, not a regular file"),
    "index.yaml a FIFO": (fifo("index.yaml"), "index.yaml: a FIFO, not a regular file"),
    "index.yaml a link to /dev/urandom": (relink("index.yaml", "/dev/urandom"),
                                          "index.yaml: a symbolic link"),
}


@pytest.mark.parametrize("case", list(NOT_REGULAR))
def test_a_file_that_is_no_regular_file_is_refused_at_once(tmp_path: Path, capsys,
                                                           case: str) -> None:
    root = one_run_set(tmp_path / "traces")
    change, message = NOT_REGULAR[case]
    change(root)
    start = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    status, err = compare_from(root, capsys)
    assert status == 2 and err.count("\n") == 1 and err.startswith("harness: "), err
    assert message in err, err
    assert time.monotonic() - start < 10
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000


def test_no_more_than_the_limit_is_read_whatever_the_size_says(tmp_path: Path) -> None:
    """/proc files say 0 bytes and hold more: the bytes read are counted, not fstat's."""
    from harness.common.safefile import BoundedFile, UnsafeFile, read_bytes

    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(UnsafeFile, match=r"/proc/self/maps: 0\.0 MB, more than the 0 KB "
                                         r"such a file may be \(it grew while it was read\)"):
        read_bytes("/proc/self/maps", 100)
    with BoundedFile("/proc/self/maps", 1 << 20) as f:  # within the limit: read whole
        assert f.read().count(b"\n") > 3
    manifest = tmp_path / "servers" / "s"
    manifest.mkdir(parents=True)
    (manifest / "manifest.yaml").symlink_to("/dev/zero")
    with pytest.raises(ManifestError, match="manifest.yaml: a symbolic link"):
        load_sample(manifest, "server")


# 2. writing never follows a planted link (another user's: refused; the user's own: used)

def plant_link(path: Path, target: Path, uid: int) -> None:
    path.symlink_to(target)
    os.lchown(path, uid, uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="a link of another user needs root to make")
@pytest.mark.parametrize("planted", ["x.jsonl", "x.jsonl.partial"])
def test_a_link_of_another_user_is_neither_written_through_nor_replaced(tmp_path: Path,
                                                                        planted: str) -> None:
    from harness.formats import tracefile
    from harness.formats.trace_base import TraceFileError

    shared = tmp_path / "tmp"
    shared.mkdir(mode=0o1777)
    os.chmod(shared, 0o1777)  # as /tmp: sticky, anyone writes
    victim = tmp_path / "victim"
    victim.write_text("nobody's\n")
    os.chmod(victim, 0o600)
    os.chown(victim, 65534, 65534)
    plant_link(shared / planted, victim, 65534)
    with pytest.raises(TraceFileError) as e:
        tracefile.TraceWriter(shared / "x.jsonl")
    assert str(e.value) == (f"{shared / planted}: a symbolic link owned by another user (uid "
                            f"65534); the harness neither writes through it nor replaces it "
                            f"(remove it, or write elsewhere)")
    from harness.common.safefile import UnsafeFile

    with pytest.raises(UnsafeFile):
        tracefile.write_atomic(shared / planted, "x", follow=False)
    assert victim.read_text() == "nobody's\n" and victim.stat().st_uid == 65534
    assert (shared / planted).is_symlink()
    # nor another user's file there (what fs.protected_regular refuses to open, even to root)
    theirs = shared / "theirs.jsonl"
    theirs.write_text("theirs\n")
    os.chown(theirs, 65534, 65534)
    with pytest.raises(TraceFileError, match="theirs.jsonl: a file of another user \\(uid "
                                             "65534\\) in a folder anyone may write"):
        tracefile.TraceWriter(theirs)
    assert theirs.read_text() == "theirs\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="a link of another user needs root to make")
def test_a_link_of_another_user_in_a_run_folder_is_refused(tmp_path: Path) -> None:
    from harness.formats.store import StoreError, TracesFolder

    store = TracesFolder(tmp_path / "traces")
    folder = store.prepare_run(RUN)
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    plant_link(folder / "run.yaml", victim, 65534)
    os.chown(folder, 0, 0)
    with pytest.raises(StoreError, match=r"run\.yaml: a symbolic link owned by another user"):
        store.prepare_run(RUN)
    with pytest.raises(StoreError, match=r"run\.yaml: a symbolic link owned by another user"):
        store.write_run(RUN, ft.run_record("c", "c"))
    assert victim.read_text() == "keep\n"


def test_a_link_of_ones_own_is_followed_by_trace_o_and_replaced_in_the_traces_folder(
        tmp_path: Path) -> None:
    from harness.formats import tracefile

    target = tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    tracefile.save(ft.c_server(), link)  # -o LINK: its target gets the trace
    assert link.is_symlink() and tracefile.load(target).complete
    tracefile.write_atomic(link, "replaced\n", follow=False)  # the traces folder's way
    assert not link.is_symlink() and link.read_text() == "replaced\n"
    assert tracefile.load(target).complete


# 3. no shell injection through placeholders

@pytest.mark.parametrize("template, expected", [
    (["sh", "-c", "printf %s {message}"], "x$(touch F)y'\"`touch F`"),
    (["/bin/bash", "-ec", "printf '%s|' \"in {message}\" '{message}' {port}"],
     "in x$(touch F)y'\"`touch F`|x$(touch F)y'\"`touch F`|8080|"),
    (["env", "A=1", "dash", "-c", "printf %s:%s \"$1\" {message}", "me", "first"],
     "first:x$(touch F)y'\"`touch F`"),
    (["sh", "-c", "printf %s {{braces}} {port}"], "{braces}8080"),
])
def test_placeholders_in_a_shell_script_are_parameters_never_script(tmp_path: Path, template,
                                                                    expected) -> None:
    import subprocess

    from harness.run.argv import expand

    argv = expand(template, {"message": "x$(touch F)y'\"`touch F`", "port": "8080"})
    assert "touch" not in argv[template.index(next(t for t in template if "{" in t and
                                                   t.startswith(("printf", "exec")))) ]
    r = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=10)
    assert r.stdout == expected, (argv, r.stderr)
    assert not (tmp_path / "F").exists()


def test_a_placeholder_outside_a_shell_script_is_an_argv_item_as_before() -> None:
    from harness.run.argv import expand

    assert expand(["{python}", "-c", "x", "{message}"], {"python": "py", "message": "$(x)"}) \
        == ["py", "-c", "x", "$(x)"]
    assert expand(["prog", "--opt={port}"], {"port": "1"}) == ["prog", "--opt=1"]


# 4. the harness reads everything it wrote: bounded tails, a header line read whole

def test_a_header_line_longer_than_64_kib_is_read_whole(tmp_path: Path) -> None:
    from dataclasses import replace

    from harness.formats import tracefile

    trace = replace(ft.c_server(), command=["/bin/true", "x" * 70_000, "y" * 70_000])
    path = tmp_path / "t.jsonl"
    tracefile.save(trace, path)
    assert len(path.read_bytes().split(b"\n", 1)[0]) > 140_000
    assert tracefile.load(path) == trace
    partial = tmp_path / "cut.jsonl.partial"  # and a stream cut inside its long header
    partial.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(tracefile.TraceFileError, match="cut.jsonl.partial: not a valid trace"):
        tracefile.load(partial)


def test_what_a_run_keeps_of_huge_outputs_is_bounded_and_says_where_it_was_cut(
        tmp_path: Path) -> None:
    from harness.run import outcome

    err = tmp_path / "err"
    with open(err, "wb") as f:  # 100 MB of stderr in one line (sparse: costs nothing)
        f.seek(100_000_000 - 6)
        f.write(b"\nlast\n")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tail = outcome._tail(err)
    assert tail.startswith("… (100.0 MB, the last 2.0 KB kept)\n") and tail.endswith("last\n")
    assert len(tail) < 2100
    out = tmp_path / "out"
    out.write_bytes(b"A" * 5_000_000)
    head, size = outcome._stdout(out, b"hello")
    assert size == 5_000_000 and len(head) == outcome.STDOUT_KEPT + 1
    assert outcome._kept_stdout(head, size).endswith("… (5.0 MB, the first 1.0 KB kept)")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 50_000

    class Root:
        exec_error = None
        timed_out = False
        exit_status = 0
        procs: list = []

    record = ft.run_record("c", "c", client_exit=0, server_exit=0)
    outcome, detail = outcome.judge(record, Root(), Root(), [], outcome.RunOptions(),
                                    head, b"hello", size)
    assert outcome == "echo-mismatch"
    assert detail == f"client printed {'A' * 60!r}… (5.0 MB), expected 'hello'"


@pytest.mark.parametrize("message, problem", [
    ("x" * 66_000, None),
    ("x" * 131_072, "--message: 131,072 bytes, more than the 131,071 one argument of a "
                    "program may be"),
    ("a\0b", "--message: holds a NUL byte"),
    ("\udcff", "--message: not UTF-8 text"),
])
def test_a_message_no_program_could_be_given_is_refused_before_anything_runs(
        tmp_path: Path, capsys, message: str, problem: str | None) -> None:
    from harness.run.options import message_problem

    assert message_problem(message) == problem or problem in message_problem(message)
    if problem is None:
        return
    status = cli.main(["compare", "--samples", str(tmp_path), "--traces",
                       str(tmp_path / "traces"), "--message", message])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith(f"harness: {problem}") and err.count("\n") == 1
    assert not (tmp_path / "traces").exists()


# 5. one line, never a traceback

def test_a_trace_that_cannot_be_written_is_one_line_and_raises_nothing_into_the_tracer(
        tmp_path: Path) -> None:
    from harness.formats import tracefile

    said = []
    w = tracefile.TraceWriter("/dev/full", on_error=said.append)
    w.start({"command": ["x"]})
    w.write([{"seq": 1}])
    w.finish({"exit_status": 0, "processes": []})
    assert said == ["/dev/full: cannot write the trace: No space left on device"]
    assert w.error == said[0] and w.reason == "No space left on device"
    with pytest.raises(tracefile.TraceFileError, match="^/dev/full: cannot write the trace: "
                                                       "No space left on device$"):
        tracefile.save(ft.c_server(), "/dev/full")
    os.mkfifo(tmp_path / "fifo")  # no program reads it: refused before anything runs
    with pytest.raises(tracefile.TraceFileError, match="fifo: cannot write the trace: a FIFO "
                                                       "that no program reads$"):
        tracefile.TraceWriter(tmp_path / "fifo")


@pytest.mark.parametrize("field, value, message", [
    ("length", 2 ** 62, "field 'length' is 4611686018427387904, not a frame's length"),
    ("length", -1, "field 'length' is -1, not a frame's length"),
    ("ts_ns", 2 ** 64, "field 'ts_ns' is 18446744073709551616, not a time of the capture"),
    ("frame", "zz", "field 'frame' is not hex"),
])
def test_a_wire_record_out_of_range_is_one_line_naming_the_file_and_field(
        tmp_path: Path, capsys, field: str, value: object, message: str) -> None:
    import shutil

    root = tmp_path / "traces"
    shutil.copytree(WIRE_SET, root)
    wire = root / "tcp/c--c/wire.jsonl"
    lines = wire.read_text().splitlines()
    doc = json.loads(lines[2])
    doc[field] = value
    lines[2] = json.dumps(doc)
    wire.write_text("\n".join(lines) + "\n")
    status, err = compare_from(root, capsys)
    assert status == 2 and err.count("\n") == 1, err
    assert err == f"harness: {wire}: line 3: {message}\n" or \
        err.startswith(f"harness: {wire}: line 3: {message}"), err


# 7. what a terminal would obey is escaped, in the report and on the terminal

ESC = "\x1b]0;owned\x07\x1b[2J\x1b[31m"


def test_terminal_escapes_from_traces_and_runs_are_written_escaped(tmp_path: Path,
                                                                   capsys) -> None:
    root = tmp_path / "traces"
    failed = ft.run_record("c", "c", 40302, outcome="client-failed",
                           detail=f"client exited with status 1 {ESC}",
                           server_trace="server.jsonl", client_trace="client.jsonl",
                           client_stderr=f"boom {ESC}\r\u202egnp.exe\n```\nafter the fence\n")
    ft.write_trace_set(root, [ft.pair_run("python-stdlib", 40301, server_trace="server.jsonl",
                                          client_trace="client.jsonl"),
                              ft.PlannedRun(failed, ft.c_server(40302), ft.c_client(40302))])
    trace = root / "tcp/c--c/server.jsonl"  # a hand-edited trace: data the tracer would escape
    trace.write_text(trace.read_text().replace('"data":"hello"', json.dumps({"data": ESC})[1:-1]))
    for fmt in ("terminal", "markdown", "json"):
        status = cli.main(["compare", "--from", str(root), "--width", "0", "--format", fmt,
                           "--full"])
        out, err = capsys.readouterr()
        assert status == 1, err
        for text in (out, err, (root / "report.md").read_text()):
            assert "\x1b" not in text and "\r" not in text and "\u202e" not in text
        assert "\\x1b]0;owned\\x07\\x1b[2J" in out or "\\u001b]0;owned" in out, out
    report = (root / "report.md").read_text()
    assert "  boom \\x1b]0;owned\\x07\\x1b[2J\\x1b[31m\n  \\u202egnp.exe\n" in report
    assert 'data="\\x1b]0;owned\\x07\\x1b[2J' in report  # (cut at 24 characters)
    # the program's ``` does not end the block it is shown in
    assert "\n````text\n" in report and "\n  ```\n  after the fence\n````\n" in report


# 9. files get the user's umask

@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_every_file_written_gets_the_users_umask(tmp_path: Path, capsys, umask: int,
                                                 mode: int) -> None:
    import shutil
    import stat

    from harness.formats import tracefile

    old = os.umask(umask)
    try:
        root = tmp_path / "traces"
        shutil.copytree(WIRE_SET, root)
        os.umask(umask)
        status, err = compare_from(root, capsys)
        assert status in (0, 1), err
        tracefile.save(ft.c_server(), tmp_path / "t.jsonl")
        tracefile.save(ft.c_server(), tmp_path / "t.yaml")
        tracefile.write_atomic(tmp_path / "r.yaml", "x\n", follow=False)
    finally:
        os.umask(old)
    written = [root / "report.md", root / "tcp/c--c/wire.pcapng", tmp_path / "t.jsonl",
               tmp_path / "t.yaml", tmp_path / "r.yaml"]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
