"""The harness's knowledge as data: the syscall table (syscalls.yaml: each call's class, its
decoder's arguments, what it does to a socket), the kernel's constants (xlat.yaml) and the
scenarios (scenarios.yaml). Every stage reads them from here."""

from __future__ import annotations

import os

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name: str) -> str:
    """The table file NAME (`syscalls.yaml`) of this folder."""
    return os.path.join(HERE, name)
