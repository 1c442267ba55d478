"""The three ownership tags every student-owned cloud resource carries (DESIGN decision 7)."""

from __future__ import annotations

COHORT_TAG = "labctl:cohort"
STUDENT_TAG = "labctl:student"
LAB_TAG = "labctl:lab"


def student_tags(cohort: str, student: str, lab: str) -> dict[str, str]:
    """The tag set for one student's resources in one lab; the student value is the student slug."""
    return {COHORT_TAG: cohort, STUDENT_TAG: student, LAB_TAG: lab}


def owner_tags(tags: dict[str, str]) -> dict[str, str]:
    """The tags that identify the owner (cohort and student, not the lab) for IAM tag conditions."""
    return {COHORT_TAG: tags[COHORT_TAG], STUDENT_TAG: tags[STUDENT_TAG]}
