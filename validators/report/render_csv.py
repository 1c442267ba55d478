"""A CSV gradebook of a GradeReport for LMS import: one row per student and lab.

Names and emails come from the cohort's roster (the report holds slugs only). Check columns hold
the points awarded, then `penalty:<guard>` columns the points a guard took off (negative), then
`floor` the points the zero floor gave back: a row's check, penalty and floor cells add up to its
score. With several labs these are named `<lab>/<column>` and blank for the other labs. A student
who could not be graded has a row with no score and the reason in the last column, `error`.
"""

from __future__ import annotations

import csv
import io

from labctl.cohorts.cohort import Cohort
from labctl.validators.report.model import GradeReport, StudentResult

BASE_COLUMNS = ("student", "name", "email", "lab", "score", "percent", "passed", "graded_at")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """Roster text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def check_columns(report: GradeReport) -> list[tuple[str, str]]:
    """(lab, column) in first-seen order: each check id, then `penalty:<guard id>`, then `floor`."""
    seen: dict[tuple[str, str], None] = {}
    for result in report.results:
        for check in result.checks:
            seen.setdefault((result.lab, check.id), None)
    for result in report.results:
        for guard in result.guards:
            seen.setdefault((result.lab, f"penalty:{guard.id}"), None)
    for result in report.results:
        seen.setdefault((result.lab, "floor"), None)
    return list(seen)


def points(result: StudentResult) -> dict[tuple[str, str], int]:
    """The cells of one row that add up to its score."""
    cells = {(result.lab, c.id): c.awarded for c in result.checks}
    cells.update({(result.lab, f"penalty:{g.id}"): -g.deducted for g in result.guards})
    cells[(result.lab, "floor")] = result.score - sum(cells.values())
    return cells


def to_csv(report: GradeReport, cohort: Cohort) -> str:
    columns = check_columns(report)
    multi_lab = len(report.labs) > 1
    roster = {s.student: s for s in cohort.students}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*BASE_COLUMNS, *(f"{lab}/{check}" if multi_lab else check for lab, check in columns), "error"])
    for result in report.results:
        student = roster.get(result.student)
        awarded = points(result)
        writer.writerow(
            [
                result.student,
                cell(student.name if student else ""),
                cell(student.email if student else ""),
                result.lab,
                result.score,
                f"{result.percent:.1f}",
                "true" if result.passed else "false",
                report.graded_at,
                *(awarded.get(column, "") for column in columns),
                "",
            ]
        )
    for item in report.ungraded:
        student = roster.get(item.student)
        writer.writerow(
            [
                item.student,
                cell(student.name if student else ""),
                cell(student.email if student else ""),
                item.lab,
                "",
                "",
                "",
                report.graded_at,
                *("" for _ in columns),
                cell(item.reason),
            ]
        )
    return buffer.getvalue()
