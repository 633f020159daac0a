"""The report as Markdown (traces/report.md): the terminal's tables, then every sample's socket
view and unrelated socket activity."""

from __future__ import annotations

from harness.normalize.steps import format_call
from harness.render.text import TextRenderer
from harness.analysis import Analysis as Report, RoleTable, SampleResult
from harness.render import words
from harness.render.attributes import unrelated


class MarkdownRenderer(TextRenderer):
    tablefmt = "github"
    extension = ".md"

    def heading(self, text: str, level: int) -> list[str]:
        return ["#" * level + " " + text]

    def escape(self, cell: str) -> str:
        return cell.replace("|", "\\|")

    def bullets(self, lines: list[str]) -> list[str]:
        return [f"- {line}" for line in lines]

    def block(self, lines: list[str]) -> list[str]:
        return ["```text", *lines, "```"]

    def notes(self, table: RoleTable) -> list[str]:
        from harness.render.notes import NO_NOTE, table_notes

        found = table_notes(table)
        if not found.notes and not found.unexplained:
            return []
        lines = [f"**{note.title}** ({', '.join(samples)}): {note.text} "
                 f"*See {', '.join(note.see)}.*" for note, samples in found.notes.values()]
        lines += [f"{sample}: {what}: {NO_NOTE}" for sample, what in found.unexplained]
        return [f"Why, for {table.role}s ({table.scenario}):", "", *self.bullets(lines), ""]

    def extra_sections(self, report: Report) -> list[str]:
        out = self.heading("Socket views", 2) + [
            "", "Every call on the echo's sockets, in trace order (seq, thread when more than "
            "one), fds by name, the run's port as PORT.", ""]
        for sc in report.scenarios:
            for run in sc.runs:
                for result in (run.server, run.client):
                    out += self.socket_view(result)
        return out

    def socket_view(self, result: SampleResult) -> list[str]:
        out = self.heading(f"{result.scenario}: {result.role} {result.sample} ({result.run})", 3)
        out.append("")
        n = result.normalized
        if n is None:
            return out + [f"No trace: {words.why(result.verdict) or 'missing'}.", ""]
        threads = len({s.tid for s in n.socket_view}) > 1
        lines = [f"{s.seqs[0]:>5}  " + (f"[{s.tid}] " if threads else "") + format_call(s)
                 for s in n.socket_view]
        out += self.block(lines or ["(no calls on the echo's sockets)"]) + [""]
        if n.attributes.unrelated:
            out += ["Unrelated socket activity:", ""]
            out += self.bullets([unrelated(u) for u in n.attributes.unrelated]) + [""]
        return out
