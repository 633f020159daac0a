"""Renderers: one module per format, picked by name from RENDERERS.

    text = render(report, "summary")        # or "terminal" (every table), "markdown", "json"

Each renderer class has `render(report) -> str` and an `extension`. tabulate is imported only
when a table is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.render.json import JsonRenderer
from harness.render.markdown import MarkdownRenderer
from harness.render.summary import SummaryRenderer
from harness.render.terminal import TerminalRenderer

if TYPE_CHECKING:
    from harness.compare.results import Analysis

# Format name -> renderer class.
RENDERERS: dict[str, type[TerminalRenderer] | type[MarkdownRenderer] | type[JsonRenderer]] = {
    "summary": SummaryRenderer,  # what compare prints by default
    "terminal": TerminalRenderer,  # every table (--full)
    "markdown": MarkdownRenderer,
    "json": JsonRenderer,
}
FORMATS = tuple(RENDERERS)


def render(report: Analysis, fmt: str, width: int | None = None) -> str:
    """`width` fits the terminal tables to so many columns (None: one piece each). What a
    terminal would obey in the text (from traces, a program's stderr) comes out escaped
    (harness/common/escape.py)."""
    try:
        cls = RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})") from None
    from harness.common.escape import visible

    if cls in (TerminalRenderer, SummaryRenderer):
        return visible(cls(width).render(report))  # type: ignore[call-arg]
    return visible(cls().render(report), json=cls is JsonRenderer)
