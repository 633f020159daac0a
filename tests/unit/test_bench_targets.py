"""`harness bench`'s target table and stages table, made from given figures (no bench run)."""

from __future__ import annotations

from harness.tools.bench_stages import stage_rows
from harness.tools.bench_targets import Measured, target_table, targets

FIGURES = Measured(n=20000, file_n=200000, whole_jsonl=1.09, whole_yaml=4.45, start_up=1.19,
                   per_call=0.85, stops_only=0.7, file_mb=130.0, strace_file_mb=26.0,
                   from_events=100006, from_wall=1.5, from_peak_mb=430.0, from_cpus=2)


def _rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split("|")[1:-1]]
            for line in table.splitlines()[2:]]


def test_each_figure_is_judged_against_its_target() -> None:
    met = {t.what: t.met for t in targets(FIGURES)}
    assert list(met.values()) == ["no", "yes", "yes", "no", "no", "yes", "no", "—"]


def test_the_table_shows_target_measured_cpus_and_met() -> None:
    table = target_table(FIGURES)
    lines = table.splitlines()
    assert [c.strip() for c in lines[0].split("|")[1:-1]] == ["figure", "target", "measured",
                                                              "CPUs", "met?"]
    rows = _rows(table)
    assert rows[0] == ["whole `harness trace -o x.jsonl`, N=20000 / `strace -f -o`", "<= 1.0x",
                       "1.09x", "1", "no"]
    assert rows[1][2] == "0.85x (stops alone 0.70x)"
    assert rows[3] == ["trace file (.jsonl) at N=200000", "<= strace -f -o's (26.0 MB)",
                       "130.0 MB (5.00x)", "1", "no"]
    assert rows[5] == ["`harness compare --from` of one 100,006-event trace: wall", "<= 2 s",
                       "1.50 s", "2", "yes"]
    assert rows[6][2:] == ["430.0 MB", "2", "no"]
    assert rows[7] == ["`make compare`, warm (`harness compare`, whole matrix)",
                       "<= 7 s on 2 cores", "not run (--matrix)", "—", "—"]


def test_a_matrix_measured_is_judged_with_its_cpus() -> None:
    from dataclasses import replace

    rows = _rows(target_table(replace(FIGURES, matrix_wall=6.5, matrix_cpus=2)))
    assert rows[7][2:] == ["6.50 s", "2", "yes"]


def test_the_stages_table_has_a_row_per_command() -> None:
    long_run = {"events": 100006, "round_trips": 50000, "file_mb": 32.5}
    from_ = {"cpus": 2, "wall": 1.234, "peak_mb": 80.0}
    matrix = {"wall": {"harness compare": 9.0, "harness compare --jobs 1": 14.0},
              "peak_mb": {"harness compare": 45.0, "harness compare --jobs 1": 40.0},
              "cpus": 2, "pairs": 48}
    rows = stage_rows(long_run, from_, matrix)
    assert rows[0] == ["harness compare --from DIR --reference bench-echo",
                       "1 run: a client trace of 100,006 events (50,000 round trips, 32.5 MB), "
                       "no server trace", "2", "1.23", "80.0"]
    assert [r[0] for r in rows[1:]] == ["harness compare --traces DIR",
                                        "harness compare --jobs 1 --traces DIR"]
    assert rows[2][2:] == ["2", "14.00", "40.0"]
    assert stage_rows(long_run, from_, None) == rows[:1]


def test_a_stage_that_failed_says_so_and_the_others_are_still_shown() -> None:
    from dataclasses import replace

    long_run = {"events": None, "round_trips": 50000, "file_mb": 32.5}
    rows = stage_rows(long_run, {"cpus": 2, "wall": 1.0, "peak_mb": 80.0},
                      {"failed": "harness: rules.yaml: rule #4 failed"})
    assert rows[0][1].startswith("1 run: a client trace of ? events")
    assert rows[1] == ["harness compare --traces DIR", "the whole matrix, warm builds", "—",
                       "failed: harness: rules.yaml: rule #4 failed", "—"]
    table = _rows(target_table(replace(FIGURES, matrix_missing="failed (stderr)",
                                       from_events=None)))
    assert table[5][0] == "`harness compare --from` of one long trace: wall"
    assert table[7][2:] == ["failed (stderr)", "—", "—"]
