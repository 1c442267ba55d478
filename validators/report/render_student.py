"""The student-facing text of one student's results: score, each shortfall with its message and
hint, penalties, and the next labs once a lab is passed. Plain text: messages are student-controlled
and must never be read as terminal markup."""

from __future__ import annotations

from typing import Mapping, Sequence

from labctl.validators.report.model import GradeReport, StudentResult

MARKS = {"failed": "✗", "error": "!", "skipped": "–"}


def result_lines(result: StudentResult, next_labs: Sequence[tuple[str, str]] = ()) -> list[str]:
    verdict = "passed" if result.passed else "not passed yet"
    lines = [f"{result.lab}: {result.score}/{result.max_score} ({result.percent:.1f}%) — {verdict}"]
    shortfalls = [c for c in result.checks if c.status != "passed"]
    for check in shortfalls:
        lines.append(f"  {MARKS[check.status]} {check.id} ({check.status}, {check.points} points): {check.title}")
        if check.message:
            lines.append(f"      {check.message}")
        if check.hint:
            lines.append(f"      hint: {check.hint}")
    for guard in result.guards:
        if guard.status == "failed":
            lines.append(f"  − penalty {guard.deducted}: {guard.id}")
            if guard.message:
                lines.append(f"      {guard.message}")
            if guard.hint:
                lines.append(f"      hint: {guard.hint}")
        elif guard.status == "error":
            lines.append(f"  ! {guard.id} (guard could not be evaluated): {guard.message}")
    if not shortfalls and not any(g.status == "failed" for g in result.guards):
        lines.append("  every check passed")
    if result.passed and next_labs:
        lines.append("  next: " + ", ".join(f"{lab_id} ({title})" if title else lab_id for lab_id, title in next_labs))
    return lines


def student_text(report: GradeReport, next_labs: Mapping[str, Sequence[tuple[str, str]]]) -> str:
    """`next_labs` maps a lab id to its (id, title) successors, as the lab spec's `next` lists them."""
    blocks = ["\n".join(result_lines(r, next_labs.get(r.lab, ()))) for r in report.results]
    blocks += [f"{u.lab}: could not be graded, no score recorded — {u.reason}" for u in report.ungraded]
    return "\n\n".join(blocks)
