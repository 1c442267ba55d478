"""A CSV gradebook of a GradeReport for LMS import: one row per student and lab.

Names and emails come from the cohort's roster (the report holds slugs only). Check columns hold
the points awarded; with several labs they are named `<lab>/<check>` and blank for the other labs.
A student who could not be graded has a row with no score and the reason in the last column, `error`.
"""

from __future__ import annotations

import csv
import io

from stacks.cohort import Cohort
from validators.report.model import GradeReport

BASE_COLUMNS = ("student", "name", "email", "lab", "score", "percent", "passed", "graded_at")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """Roster text that a spreadsheet would run as a formula is quoted with a leading apostrophe."""
    return f"'{text}" if text.startswith(FORMULA_START) else text


def check_columns(report: GradeReport) -> list[tuple[str, str]]:
    """(lab, check id) in first-seen order."""
    seen: dict[tuple[str, str], None] = {}
    for result in report.results:
        for check in result.checks:
            seen.setdefault((result.lab, check.id), None)
    return list(seen)


def to_csv(report: GradeReport, cohort: Cohort) -> str:
    columns = check_columns(report)
    multi_lab = len(report.labs) > 1
    roster = {s.student: s for s in cohort.students}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*BASE_COLUMNS, *(f"{lab}/{check}" if multi_lab else check for lab, check in columns), "error"])
    for result in report.results:
        student = roster.get(result.student)
        awarded = {(result.lab, c.id): c.awarded for c in result.checks}
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
