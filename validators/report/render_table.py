"""Rows for a terminal table of a GradeReport (rich or plain)."""

from __future__ import annotations

from rich.table import Table

from labctl.validators.report.model import GradeReport, StudentResult

TABLE_COLUMNS = ("student", "score", "percent", "passed", "failed")


def shortfalls(result: StudentResult) -> str:
    """Failed check ids, then errors and applied guards, marked."""
    parts = [c.id for c in result.checks if c.status == "failed"]
    parts += [f"{c.id} (error)" for c in result.checks if c.status == "error"]
    parts += [f"{g.id} (-{g.deducted})" for g in result.guards if g.status == "failed"]
    parts += [f"{g.id} (error)" for g in result.guards if g.status == "error"]
    return ", ".join(parts)


def table_rows(report: GradeReport) -> list[tuple[str, str, str, str, str]]:
    multi_lab = len(report.labs) > 1
    return [
        (
            f"{r.student} ({r.lab})" if multi_lab else r.student,
            f"{r.score}/{r.max_score}",
            f"{r.percent:.1f}%",
            "yes" if r.passed else "no",
            shortfalls(r),
        )
        for r in report.results
    ]


def rich_table(report: GradeReport) -> Table:
    caption = "\n".join(report.could_not_grade()) or None
    table = Table(title=f"{report.cohort} · {report.lab} · {report.graded_at}", caption=caption, caption_justify="left")
    for column in TABLE_COLUMNS:
        table.add_column(column, justify="right" if column in ("score", "percent") else "left")
    for row in table_rows(report):
        table.add_row(*row)
    return table
