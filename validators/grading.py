"""Grade a registered cohort and commit each student's result to the registry as it completes."""

from __future__ import annotations

import uuid
from typing import Callable

import boto3

from labctl.cohorts.accounts import cohort_accounts, grader_session
from labctl.cohorts.cohort import Cohort
from labctl.cohorts.registry import Registry
from labctl.cohorts.targets import instructor_session
from labctl.labs.catalog import get_lab
from labctl.labs.errors import InputError, LabctlError
from labctl.validators.checks import usable_lab
from labctl.validators.report.model import GradeReport
from labctl.validators.runner import grade_accounts, grade_cohort


def labs_of(cohort: Cohort, lab: str | None) -> list:
    if lab is not None and lab not in cohort.labs:
        raise InputError(f"cohort {cohort.name!r} does not take lab {lab!r} (it takes {', '.join(cohort.labs)})", "--lab")
    return [usable_lab(lab_id).spec for lab_id in ([lab] if lab else cohort.labs)]


def grade_and_record(
    registry: Registry,
    cohort: Cohort,
    *,
    lab: str | None = None,
    students: list[str] | None = None,
    progress: Callable[[], None] | None = None,
    wait: bool = False,
    own_check: str | None = None,
) -> GradeReport:
    """Grade against the live target with the instructor's credentials; each result is committed
    the moment it completes, so an interrupted run keeps what it finished. One run per cohort at a
    time: a second refuses (or with `wait` waits) on the registry's grading lock.

    `own_check` (a student slug) grades that student alone under their own grading lock instead of
    the cohort's: students' checks (the portal) run side by side and beside a cohort run."""
    if own_check is not None:
        students = [own_check]
    labs = labs_of(cohort, lab)
    run_id = uuid.uuid4().hex
    # Kubernetes and SQL labs read no AWS inventory: grading them needs no emulator or AWS credentials.
    reads_aws = any(spec.environment.aws for spec in labs)
    accounts = cohort_accounts(registry, cohort.name) if reads_aws else {}
    session = instructor_session(cohort.target) if reads_aws and not accounts else None

    def record(result: dict) -> None:
        registry.record_grade(run_id, cohort.name, result)
        if progress:
            progress()

    if own_check is None:
        registry.acquire_grading_lock(cohort.name, run_id, wait=wait)
    else:
        registry.acquire_student_grading_lock(cohort.name, own_check, run_id, wait=wait)
    try:
        if accounts:
            return grade_accounts(cohort, labs, grader_sessions(cohort, accounts), students=students, on_result=record)
        return grade_cohort(cohort, labs, session, cohort.target.endpoint, students=students, on_result=record)
    finally:
        if own_check is None:
            registry.release_grading_lock(cohort.name, run_id)
        else:
            registry.release_student_grading_lock(cohort.name, own_check, run_id)


def grader_sessions(cohort: Cohort, accounts: dict) -> Callable[[str], boto3.Session | None]:
    """Student slug → a session as labctl's grader role in their account, assumed when first asked for."""
    sessions: dict[str, boto3.Session] = {}

    def session_for(student: str) -> boto3.Session | None:
        account = accounts.get(student)
        if account is None:
            return None
        if student not in sessions:
            sessions[student] = grader_session(cohort.target, account.account_id)
        return sessions[student]

    return session_for


def next_labs(report: GradeReport) -> dict[str, list[tuple[str, str]]]:
    """For each lab passed in `report`: its spec's `next` labs as (id, title); a title is blank
    when the catalog has no such lab."""
    found: dict[str, list[tuple[str, str]]] = {}
    for lab_id in sorted({r.lab for r in report.results if r.passed}):
        steps = []
        for successor in get_lab(lab_id).spec.next:
            try:
                steps.append((successor, get_lab(successor).spec.title))
            except LabctlError:
                steps.append((successor, ""))
        found[lab_id] = steps
    return found
