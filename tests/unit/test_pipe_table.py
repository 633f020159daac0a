"""Markdown pipe tables made in one pass give tabulate's own `github` layout, cell for cell,
or leave the table to tabulate (harness/render/pipe_table.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tabulate import tabulate

from harness.render.pipe_table import github_table

cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(cell, min_size=n, max_size=n),
    st.lists(st.lists(cell, min_size=n, max_size=n), max_size=6))))
def test_the_layout_is_tabulates(table):
    headers, rows = table
    ours = github_table(headers, rows)
    if ours is not None:
        assert ours == tabulate(rows, headers=headers, tablefmt="github",
                                disable_numparse=True)


def test_what_only_tabulate_lays_out_is_left_to_it():
    assert github_table(["a"], [["two\nlines"]]) is None
    assert github_table(["a"], [["\x1b[1mbold\x1b[0m"]]) is None
    assert github_table(["a", "b"], [["one cell"]]) is None
    assert github_table(["a", "b"], [["", "\x01"]]) is None  # tabulate's separating line
    assert github_table(["a", "b"], [["x", "y"]]) == "| a   | b   |\n|-----|-----|\n| x   | y   |"
