"""The report as Markdown (traces/report.md): the terminal's tables, then every sample's socket
view and unrelated socket activity."""

from __future__ import annotations

from harness.normalize.steps import format_call
from harness.render.sections import TextRenderer
from harness.compare.results import Analysis, RoleTable, SampleResult
from harness.render import words
from harness.render.attribute_rows import unrelated


class MarkdownRenderer(TextRenderer):
    tablefmt = "github"
    extension = ".md"

    def heading(self, text: str, level: int) -> list[str]:
        return ["#" * level + " " + text]

    def escape(self, cell: str) -> str:
        from harness.common.escape import visible

        return visible(cell, lines=False).replace("|", "\\|")

    def bullets(self, lines: list[str]) -> list[str]:
        return [f"- {line}" for line in lines]

    def block(self, lines: list[str]) -> list[str]:
        from harness.common.escape import fence

        mark = fence(lines)  # longer than any backticks a program's output holds
        return [f"{mark}text", *lines, mark]

    def notes(self, table: RoleTable) -> list[str]:
        from harness.render.notes import NO_NOTE, examples, table_notes

        found = table_notes(table)
        if not found.notes and not found.unexplained:
            return []
        lines = [f"**{note.title}** ({', '.join(samples)}): {note.text}{examples(note)} "
                 f"*See {', '.join(note.see)}.*" for note, samples in found.notes.values()]
        lines += [f"{sample}: {what}: {NO_NOTE}" for sample, what in found.unexplained]
        return [f"Why, for {table.role}s ({table.scenario}):", "", *self.bullets(lines), ""]

    def extra_sections(self, report: Analysis) -> list[str]:
        return self.socket_views(report) + self.wire_views(report)

    def wire_views(self, report: Analysis) -> list[str]:
        from harness.render.wire import mermaid, summary

        runs = [run for sc in report.scenarios for run in sc.runs]
        if not runs:
            return []
        out = self.heading("On the wire", 2) + [
            "", "Each run's packets beside the calls of its two sides, on one clock: the "
            "client's calls on the left, the server's on the right, each packet with the "
            "call it comes from and the TCP states it leads to (a pcapng file of them is "
            "beside the run's traces).", ""]
        without: dict[str, list[str]] = {}
        for run in runs:
            if run.wire is None:
                without.setdefault(run.wire_note or "nothing captured", []).append(run.folder)
        if without:
            out += ["No wire view:", ""]
            out += self.bullets([f"{', '.join(folders)}: {why}"
                                 for why, folders in without.items()]) + [""]
        for run in runs:
            if run.wire is not None:
                out += self.heading(run.folder, 3) + [""]
                out += [summary(run.wire) + ".", "", *mermaid(run), ""]
        return out

    def socket_views(self, report: Analysis) -> list[str]:
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
