"""What the terminal and Markdown renderers share: the order of sections and the tables.

A subclass sets `tablefmt` (tabulate's table style) and says how a heading, a list and a
block of lines look; `extra_sections` lets Markdown add the socket views.
"""

from __future__ import annotations

from harness.render import table_data as t
from harness.render import words
from harness.compare.results import Analysis
from harness.compare.results import RoleTable


class TextRenderer:
    """Tables through tabulate; subclasses set the style."""

    tablefmt = "simple"  # tabulate's table format
    extension = ".txt"  # for a report written to a file

    # -- styling, overridden per format -----------------------------------------------------
    def heading(self, text: str, level: int) -> list[str]:
        return [text, ("=" if level == 1 else "-") * len(text)]

    def escape(self, cell: str) -> str:
        return cell

    def para(self, text: str) -> list[str]:
        """A paragraph of prose."""
        return [text]

    def bullets(self, lines: list[str]) -> list[str]:
        return [f"  {line}" for line in lines]

    def block(self, lines: list[str]) -> list[str]:
        return [f"    {line}" for line in lines]

    # -- shared --------------------------------------------------------------------------------
    def table(self, table: t.Table) -> list[str]:
        from tabulate import tabulate

        from harness.render.pipe_table import github_table

        headers, rows = table
        esc = self.escape
        cells = [[esc(c) for c in row] for row in rows]
        heads = [esc(h) for h in headers]
        text = github_table(heads, cells) if self.tablefmt == "github" else None
        if text is None:
            text = tabulate(cells, headers=heads, tablefmt=self.tablefmt,
                            disable_numparse=True)
        return text.splitlines()

    def opening(self, report: Analysis) -> list[str]:
        """The title, the one-line summary and the verdict grid: every text report's start."""
        out = self.heading("Socket syscalls compared", 1)
        out += ["", *self.para(t.summary_line(report)), ""]
        if report.grid.rows:
            out += self.heading("Verdicts", 2)
            out += ["", *self.para(t.GRID_LEGEND), ""]
            out += self.table(t.grid_table(report))
            out.append("")
        return out

    def render(self, report: Analysis) -> str:
        out = self.opening(report)
        for sc in report.scenarios:
            for i, table in enumerate(sc.tables):
                out += self.heading(f"{sc.name}: {t.ROLE_TITLES[table.role]}", 2)
                out.append("")
                if i == 0 and sc.note:
                    out += [*self.para(sc.note), ""]
                if words.table_note(table):
                    out += [*self.para(words.table_note(table)), ""]
                if table.textbook_loops:
                    out += [*self.para(f"textbook: {words.loops(table.textbook_loops)}."), ""]
                out += self.table(t.steps_table(table))
                out.append("")
                book = t.textbook_line(table)
                diffs = ([book] if book else []) + t.differences(table)
                if diffs:
                    out += self.bullets(diffs) + [""]
                out += self.notes(table)
                out += self.heading(f"{sc.name}: {table.role} attributes", 3)
                out.append("")
                out += self.table(t.attributes_table(table))
                out.append("")
            out += self.heading(f"{sc.name}: runs", 2)
            out.append("")
            out += self.table(t.runs_table(sc))
            out.append("")
            for folder, lines in t.failures(sc):
                out += [f"{folder} failed:"] + self.block(lines) + [""]
        if report.failed:
            out += self.heading("Samples that failed to build", 2)
            out.append("")
            for who, lines in t.build_failures(report):
                out += [f"{who} failed:"] + self.block(lines) + [""]
        if report.skipped:
            out += self.heading("Skipped samples", 2)
            out.append("")
            out += self.table(t.skipped_table(report))
            out.append("")
        out += self.extra_sections(report)
        return "\n".join(out).rstrip() + "\n"

    def notes(self, table: RoleTable) -> list[str]:
        """What the table's differences, dialects and attributes mean (Markdown says it)."""
        return []

    def extra_sections(self, report: Analysis) -> list[str]:
        return []
