"""Grading in isolation mode `account` on the real moto server: each student through the session into
their own account, that session made once per run; a student without an account is ungraded."""

from __future__ import annotations

import pytest

from labctl.cohorts.accounts import Account, assumed_session
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.labs.catalog import get_lab
from labctl.labs.solutions import apply, solutions_for
from labctl.validators import grading
from labctl.validators.runner import grade_accounts

pytestmark = pytest.mark.emulator

LAB = "s3-static-website"


@pytest.fixture
def cohort(aws, moto_endpoint) -> Cohort:
    target = make_target("localstack", moto_endpoint, "us-east-1", None)
    return Cohort("c1", (LAB,), target, parse_roster("id\nada\nbob\ncy\n", "c1", "r.csv"))


def test_each_student_is_graded_in_their_own_account(cohort, moto_endpoint):
    sessions = {"ada": assumed_session(cohort.target, "111111111111"),
                "bob": assumed_session(cohort.target, "222222222222")}
    reference = next(s for s in solutions_for(get_lab(LAB).folder) if s.name == "reference")
    apply(reference, sessions["ada"], moto_endpoint, "c1-ada", "ada")
    apply(reference, sessions["ada"], moto_endpoint, "c1-bob", "bob")  # bob's site, built in ada's account
    recorded = []
    report = grade_accounts(cohort, [get_lab(LAB).spec], sessions.get, on_result=recorded.append)
    assert {r.student: r.score for r in report.results} == {"ada": 100, "bob": 0}
    assert [(u.student, u.reason) for u in report.ungraded] == [("cy", "student cy has no account leased")]
    assert sorted(r["student"] for r in recorded) == ["ada", "bob", "cy"]
    assert next(r for r in recorded if r["student"] == "cy")["error"] == "student cy has no account leased"


def test_one_grader_session_per_student_per_run(cohort, monkeypatch):
    made = []
    monkeypatch.setattr(grading, "grader_session", lambda target, account_id: made.append(account_id) or object())
    accounts = {"ada": Account("111111111111", "a@example.com", "p", "leased", "c1", "ada")}
    session_for = grading.grader_sessions(cohort, accounts)
    first = session_for("ada")
    assert session_for("ada") is first and session_for("bob") is None
    assert made == ["111111111111"]
