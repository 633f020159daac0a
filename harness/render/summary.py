"""What `compare` prints by default: the verdict grid, one line per difference with the title
of its why note, one line per failed run, build and skipped sample, and where the full report
is. `--full` prints every table instead (harness/render/terminal.py)."""

from __future__ import annotations

from harness.compare.results import Analysis
from harness.render import table_data as t
from harness.render import words
from harness.render.notes import differences, note_short
from harness.render.terminal import TerminalRenderer

MAKE_DEPS = "make deps installs every optional toolchain"


class SummaryRenderer(TerminalRenderer):
    def __init__(self, width: int | None = None, with_differences: bool = True,
                 report_file: str | None = None) -> None:
        super().__init__(width)
        self.with_differences = with_differences
        self.report_file = report_file  # where the full report is written, to say so

    def render(self, report: Analysis) -> str:
        out = self.opening(report)
        if self.with_differences:
            out += self.differences(report)
        failed = [(f"{folder}", lines[0]) for sc in report.scenarios
                  for folder, lines in t.failures(sc)]
        if failed:
            out += self.heading("Failed runs", 2) + [""]
            out += self.bullets([f"{folder}: {line}" for folder, line in failed]) + [""]
        if report.failed:
            out += self.heading("Samples that failed to build", 2) + [""]
            out += self.bullets([f"{who}: {lines[0]}" for who, lines in
                                 t.build_failures(report)]) + [""]
        if report.skipped:
            out += self.heading("Skipped samples", 2) + [""]
            out += self.bullets([f"{s.role} {s.name}: {s.reason}"
                                 + (f" (install: {s.hint})" if s.hint else "")
                                 for s in report.skipped])
            out += ["", *self.para(f"({MAKE_DEPS}.)"), ""]
        where = self.report_file or "the Markdown report"
        out += self.para(f"Every table, attribute, note and socket view: {where} (or --full "
                         f"here); one sample explained: make verify SAMPLE=name.")
        return "\n".join(out).rstrip() + "\n"

    def differences(self, report: Analysis) -> list[str]:
        lines: list[str] = []
        for sc in report.scenarios:
            for table in sc.tables:
                ref = next((s for s in table.samples if s.sample == table.reference), None)
                if ref is None or ref.normalized is None:
                    continue
                for result in table.samples:
                    if result is ref or result.normalized is None:
                        continue
                    for dn in differences(result, ref):
                        lines.append(f"{sc.name} {table.role} {result.sample}, step "
                                     f"{dn.difference.step}: "
                                     f"{words.difference(dn.difference)}: {note_short(dn.note)}")
        out = self.heading("Differences", 2) + [""]
        if not lines:
            return out + self.para("Every sample that ran makes the reference's calls.") + [""]
        return out + self.bullets(lines) + [""]
