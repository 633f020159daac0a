"""The report for a terminal: plain tables."""

from __future__ import annotations

from harness.render.text import TextRenderer


class TerminalRenderer(TextRenderer):
    tablefmt = "simple"
    extension = ".txt"
