"""Markdown pipe tables (tabulate's `github` format) made in one pass over the cells.

tabulate works out each column's type cell by cell before it lays a table out, which costs
seconds on the tables of a long trace (100,000 steps); a report's cells are text already.
`github_table` gives tabulate's exact output for single-line text cells, and None for anything
it would lay out otherwise (a cell of several lines, terminal escape codes, rows of another
length, wide characters measured by wcwidth): the caller then asks tabulate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

MIN_PADDING = 2  # tabulate's room beside a header
# what makes tabulate lay a cell out otherwise: a line break of any kind, a terminal escape,
# its separating-line mark (a row whose first or second cell is "\x01")
_OTHERWISE = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029\x1b\x01]")


def github_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str | None:
    """The table as tabulate(rows, headers, tablefmt="github", disable_numparse=True) lays it
    out, or None when only tabulate can say."""
    import tabulate as tabulate_module

    if getattr(tabulate_module, "wcwidth", None) is not None:
        return None  # widths measured by wcwidth: tabulate's own
    ncols = len(headers)
    if ncols == 0:
        return None
    search = _OTHERWISE.search
    if any(search(h) for h in headers) or any(search(c) for row in rows for c in row):
        return None
    head = list(headers)
    body = [[c.strip() for c in row] for row in rows]
    widths = [len(h) + MIN_PADDING for h in head]
    for row in body:
        if len(row) != ncols:
            return None
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"
              for row in body]
    return "\n".join(lines)
