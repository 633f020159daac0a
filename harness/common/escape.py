"""Text from traces and runs made safe to show: what a terminal would obey is written as an
escape instead.

A trace, a run's stderr or a build's output may hold anything a program wrote or a hand edit
put there: ESC sequences (colours, cursor moves, a title change, a clipboard write), a carriage
return that hides the start of a line, bidirectional overrides that show text in another
order, bytes that are not characters. `visible()` turns each into its Python-style escape
(`\\x1b`, `\\r`, `\\u202e`); printable text, any language's, is kept as it is. Every report
and every line the harness prints of trace data goes through it: harness/render/__init__.py
(every renderer's output), the explanation and the timeline (commands.py), the progress lines
(matrix.py), the one-line errors (cli.py), the events `harness trace` prints. (A module of its
own, outside harness/render/: `harness trace` uses it, and must start without the renderers.)

Markdown needs one thing more: a block of program output is fenced with more backticks than
it holds in a row (`fence()`), so that its text cannot end the block.
"""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL and C1 controls, the bidirectional controls (LRM, RLM,
# ALM, embeddings, overrides, isolates), the line and paragraph separators, lone surrogates
# (bytes that were not UTF-8, which no terminal can be sent)
_UNSAFE = ("\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
           "\u2066-\u2069\ud800-\udfff")
_KEEP_LINES = re.compile(f"[{_UNSAFE}]")
_ONE_LINE = re.compile(f"[\n{_UNSAFE}]")


def _escape(m: re.Match[str]) -> str:
    c = ord(m.group())
    if c == 0x0A:
        return "\\n"
    if c == 0x0D:
        return "\\r"
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def _escape_json(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def visible(text: str, lines: bool = True, json: bool = False) -> str:
    """text with every character a terminal would obey (or a Markdown viewer hide) written as
    an escape; lines=False escapes newlines too (a table cell, a one-line message); json:
    text that is JSON, whose strings take `\\u00XX` escapes only."""
    pattern = _KEEP_LINES if lines else _ONE_LINE
    if pattern.search(text) is None:  # the usual case: nothing to do
        return text
    return pattern.sub(_escape_json if json else _escape, text)


def fence(lines: list[str]) -> str:
    """A Markdown code fence longer than any run of backticks in lines."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)
