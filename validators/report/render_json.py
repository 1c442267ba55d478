"""The JSON rendering of a GradeReport (schema 1); the registry stores `student_json` per row, and
`stored_report` reads such rows back into a report (export without regrading)."""

from __future__ import annotations

from typing import Any

from labctl.validators.report.model import CheckResult, GradeReport, GuardResult, StudentResult, Ungraded

SCHEMA = 1


def student_json(result: StudentResult) -> dict[str, Any]:
    return {
        "student": result.student,
        "prefix": result.prefix,
        "lab": result.lab,
        "score": result.score,
        "max_score": result.max_score,
        "percent": result.percent,
        "passed": result.passed,
        "checks": [
            {
                "id": c.id,
                "title": c.title,
                "status": c.status,
                "points": c.points,
                "awarded": c.awarded,
                "message": c.message,
                "hint": c.hint,
            }
            for c in result.checks
        ],
        "guards": [
            {
                "id": g.id,
                "status": g.status,
                "penalty": g.penalty,
                "deducted": g.deducted,
                "message": g.message,
            }
            for g in result.guards
        ],
    }


def to_json(report: GradeReport) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "cohort": report.cohort,
        "lab": report.lab,
        "graded_at": report.graded_at,
        "students": [student_json(r) for r in report.results],
        "ungraded": [
            {"student": u.student, "prefix": u.prefix, "lab": u.lab, "error": u.reason} for u in report.ungraded
        ],
        "could_not_grade": report.could_not_grade(),
    }


def stored_report(cohort: str, entries: list[dict[str, Any]]) -> GradeReport:
    """The GradeReport of one stored run: its registry rows (`student_json`, or an ungraded row with
    `error`) in roster order. Guards were stored without hints."""
    results, ungraded = [], []
    for e in entries:
        if e.get("error"):
            ungraded.append(Ungraded(e["student"], e["prefix"], e["lab"], e["error"]))
            continue
        results.append(StudentResult(
            student=e["student"], prefix=e["prefix"], lab=e["lab"], score=e["score"], max_score=e["max_score"],
            percent=e["percent"], passed=e["passed"],
            checks=tuple(CheckResult(**c) for c in e["checks"]),
            guards=tuple(GuardResult(**g, hint=None) for g in e["guards"]),
        ))
    return GradeReport(
        cohort=cohort,
        labs=tuple(dict.fromkeys(e["lab"] for e in entries)),
        graded_at=entries[0]["graded_at"],
        results=tuple(results),
        ungraded=tuple(ungraded),
    )
