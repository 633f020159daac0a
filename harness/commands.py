"""Subcommands beyond `trace`: compare, verify, bench."""

from __future__ import annotations

import argparse


def add_subcommands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    pass
