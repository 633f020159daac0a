"""The compare stage's goldens: for every trace set, what the comparison decided
(expected/<set>/compare.txt: the verdict grid, verdicts, differences, alignments, table rows,
wire summaries) and which note each difference, dialect and attribute gets
(expected/<set>/notes.txt, by the notes' ids). See digest.py."""

from __future__ import annotations

import pytest

from digest import compare_digest, notes_digest
from goldens import EXPECTED, analysis_of, check, trace_sets


@pytest.mark.parametrize("name", trace_sets())
def test_what_the_comparison_decides(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    check(EXPECTED / name / "compare.txt", compare_digest(analysis_of(name, tmp_path_factory)))


@pytest.mark.parametrize("name", trace_sets())
def test_which_notes_are_chosen(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    check(EXPECTED / name / "notes.txt", notes_digest(analysis_of(name, tmp_path_factory)))
