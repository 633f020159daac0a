"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def children() -> list[int]:
    me = str(os.getpid())
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if me in (fields.get("PPid", "").strip(), fields.get("TracerPid", "").strip()):
            out.append(int(name))
    return out


class SampleTree:
    """A folder with servers/ and clients/, where a test writes small samples."""

    def __init__(self, root: Path):
        self.root = root

    def add(self, role: str, name: str, code: str, *, manifest: str | None = None,
            scenarios: str = "[tcp]") -> Path:
        folder = self.root / f"{role}s" / name
        folder.mkdir(parents=True)
        (folder / "prog.py").write_text(textwrap.dedent(code))
        args = '"{host}", "{port}"' + (', "{message}"' if role == "client" else "")
        (folder / "manifest.yaml").write_text(manifest if manifest is not None else (
            f"name: {name}\nrole: {role}\nlanguage: Python\n"
            f'run: ["{{python}}", "prog.py", {args}]\nscenarios: {scenarios}\n'))
        return folder


# echo programs for samples made on the fly; the comments mark where a test adds a fault
ECHO_SERVER = """
    import socket, sys
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[1], int(sys.argv[2])))
        s.listen()
        c, _ = s.accept()
        with c:
            # BEFORE_ECHO
            c.sendall(c.recv(4096))
        # AFTER_ECHO
"""
ECHO_CLIENT = """
    import socket, sys
    with socket.create_connection((sys.argv[1], int(sys.argv[2]))) as s:
        # BEFORE_SEND
        s.sendall(sys.argv[3].encode())
        data = s.recv(4096)
    sys.stdout.write(data.decode())  # ECHO
    # AFTER
"""


def running(fragment: str) -> list[int]:
    """Live (not zombie) processes whose command line or working folder holds fragment."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            text = Path(f"/proc/{name}/cmdline").read_bytes().decode(errors="replace")
            text += " " + os.readlink(f"/proc/{name}/cwd")
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if fragment in text and state != "Z":
            found.append(int(name))
    return found


VENV = Path(sys.executable).parent.parent  # this interpreter's environment: already set up


def copy_project(to: Path) -> None:
    shutil.copytree(REPO, to, ignore=shutil.ignore_patterns(
        ".venv", ".git", "traces", "__pycache__", ".pytest_cache", ".hypothesis"))
    (to / "traces").mkdir(exist_ok=True)
    # make's set-up step must never run in the copy (it would point the shared environment's
    # editable install at it): its inputs older than any stamp
    for name in ("pyproject.toml", "Makefile"):
        os.utime(to / name, (0, 0))
