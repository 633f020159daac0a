"""The README's "Adding a sample", followed literally in a copy of the project: each `make`
line of its shell blocks is run, each program it shows is written to the file it names, and
what the section says the commands show must be there."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

from e2ehelp import REPO, VENV, copy_project


def section(text: str) -> str:
    return text[text.index("## Adding a sample"):text.index("\n## ", text.index(
        "## Adding a sample") + 5)]


def steps(text: str) -> list[tuple[str, str]]:
    """("make", LINE) and ("file", PATH + "\\n" + CODE), in the order the section has them."""
    out: list[tuple[str, str]] = []
    for m in re.finditer(r"(?:`([\w./-]+)`:\n\n)?```(\w+)\n(.*?)```", text, re.S):
        path, lang, body = m.groups()
        if lang == "sh":
            out += [("make", line.split("#")[0].strip()) for line in body.splitlines()
                    if line.strip().startswith("make ")]
        elif path:
            out.append(("file", f"{path}\n{body}"))
    return out


def test_the_readme_walk_through(tmp_path: Path) -> None:
    work = tmp_path / "project"
    copy_project(work)  # (build/ comes along: the other samples' builds are not redone)
    done = steps(section((REPO / "README.md").read_text()))
    assert [kind for kind, _ in done] == ["make", "file", "file", "make", "make"], done
    outputs: list[str] = []
    for kind, what in done:
        if kind == "file":
            path, code = what.split("\n", 1)
            target = work / path
            assert target.exists(), f"{path}: the template made no such file"
            target.write_text(code)
            continue
        argv = shlex.split(what)
        r = subprocess.run(["make", "-s", f"VENV={VENV}", *argv[1:]], cwd=work,
                           capture_output=True, text=True, timeout=600)
        outputs.append(r.stdout + r.stderr)
        assert "Traceback" not in r.stderr, r.stderr
    made, verified, compared = outputs
    assert "made servers/my-echo/" in made and "then: make verify SAMPLE=my-echo" in made
    assert "harness verify: exit status 0" in verified, verified
    assert re.search(r"my-echo\s+server\s+identical", verified)
    assert re.search(r"my-echo\s+client\s+identical", verified)
    assert "these two are identical" not in verified  # (the README's words, not the tool's)
    assert re.search(r"my-echo\s+server\s+identical", compared), compared
    report = (work / "traces" / "report.md").read_text()
    assert "my-echo" in report
    # the template wrote the tcp programs only, and the build left nothing untracked
    assert sorted(p.name for p in (work / "servers/my-echo").iterdir()) == ["manifest.yaml",
                                                                            "server.py"]
