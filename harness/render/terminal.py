"""The report for a terminal: plain tables, fitted to a width when one is given.

With a width, long cells wrap at `CELL_WIDTH` characters and a table still wider than the
width is cut into several tables of fewer sample columns, each repeating the key columns on
the left (step, attribute, sample...), so that nine samples stay readable in a terminal.
Prose and the lists of differences wrap to the width too; a failed run's output is shown as
it was. Without one (the default of the class, and of the golden files) every table is one piece.
"""

from __future__ import annotations

from harness.render import table_data as t
from harness.render.sections import TextRenderer

# Leading columns that say what a row is: repeated in every piece of a cut table.
KEY_HEADERS = frozenset({"#", "step", "textbook", "attribute", "sample", "role", "run"})
CELL_WIDTH = 30  # a longer cell wraps (at spaces) when a width is set


class TerminalRenderer(TextRenderer):
    tablefmt = "simple"
    extension = ".txt"

    def __init__(self, width: int | None = None) -> None:
        self.width = width if width and width > 0 else None

    def para(self, text: str) -> list[str]:
        if self.width is None:
            return [text]
        import textwrap

        return textwrap.wrap(text, self.width, break_on_hyphens=False) or [""]

    def bullets(self, lines: list[str]) -> list[str]:
        if self.width is None:
            return super().bullets(lines)
        import textwrap

        return [w for line in lines
                for w in textwrap.wrap(line, self.width, initial_indent="  ",
                                       subsequent_indent="    ", break_on_hyphens=False)]

    def table(self, table: t.Table) -> list[str]:
        if self.width is None:
            return super().table(table)
        headers, rows = table
        keys = 0
        while keys < len(headers) and headers[keys] in KEY_HEADERS:
            keys += 1
        rest = list(range(keys, len(headers)))
        pieces: list[list[str]] = []
        while rest:
            take = 1  # at least one column per piece, however wide
            while take < len(rest) and self._width_of(table, keys, rest[:take + 1]) <= self.width:
                take += 1
            if pieces:
                pieces.append([""])
            pieces.append(self._draw(table, keys, rest[:take]))
            rest = rest[take:]
        if not pieces:  # a table of key columns only
            pieces.append(self._draw(table, keys, []))
        return [line for piece in pieces for line in piece]

    def _pick(self, table: t.Table, keys: int, cols: list[int]) -> t.Table:
        headers, rows = table
        idx = list(range(keys)) + cols
        return [headers[i] for i in idx], [[row[i] for i in idx] for row in rows]

    def _draw(self, table: t.Table, keys: int, cols: list[int]) -> list[str]:
        from tabulate import tabulate

        headers, rows = self._pick(table, keys, cols)
        widths = [None] * keys + [CELL_WIDTH] * len(cols)
        text = tabulate(rows, headers=headers, tablefmt=self.tablefmt, disable_numparse=True,
                        maxcolwidths=widths if rows else None, break_long_words=False,
                        break_on_hyphens=False)
        return text.splitlines()

    def _width_of(self, table: t.Table, keys: int, cols: list[int]) -> int:
        return max((len(line) for line in self._draw(table, keys, cols)), default=0)
