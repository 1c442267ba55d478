"""The JSON rendering of a GradeReport (schema 1); the registry stores `student_json` per row."""

from __future__ import annotations

from typing import Any

from validators.report.model import GradeReport, StudentResult

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
