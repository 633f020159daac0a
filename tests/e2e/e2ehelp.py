"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import os
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
