"""The instructor's board beside the grades: each student's planned stack on the lab, its policy
violations (mandatory, advisory) and monthly cost as `labctl plan` / `policy check` compute them,
planned once per cohort and lab; and the lease."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labctl.app.portal.planned import PlanCache, plan_lab, summarize
from labctl.cohorts.cohort import synthetic_cohort
from labctl.cohorts.registry import Registry
from labctl.labs.errors import LabctlError
from tests.app.portal_fixtures import COHORT, INSTRUCTOR_TOKEN, LAB, STUDENTS, bearer, make_world

pytestmark = pytest.mark.emulator


def tampered_plan(cohort) -> dict:
    """A real plan of the cohort in which the first student's IAM user lost its labctl tags
    (mandatory) and the second's policy reads every function's environment (advisory)."""
    planned = plan_lab(cohort, LAB)
    first, second = planned["students"][0], planned["students"][1]
    next(r for r in first["resources"] if r["type"] == "aws:iam/user:User")["inputs"].pop("tags")
    identity = next(r for r in second["resources"] if r["name"].endswith("aws-identity-1"))
    document = json.loads(identity["inputs"]["policy"])
    document["Statement"].append({"Effect": "Allow", "Action": ["lambda:ListFunctions"], "Resource": "*"})
    identity["inputs"]["policy"] = json.dumps(document)
    return planned


def test_violations_are_counted_per_student_and_level_with_each_students_cost() -> None:
    planned = summarize(tampered_plan(synthetic_cohort(LAB, 3)))
    assert {s: (p.mandatory, p.advisory, p.monthly_usd) for s, p in planned.students.items()} == {
        "s001": (1, 0, 0.11), "s002": (0, 1, 0.11), "s003": (0, 0, 0.11)}
    assert (planned.cohort_mandatory, planned.cohort_advisory, planned.monthly_usd) == (0, 0, 0.33)


def test_violations_of_the_whole_cohort_are_counted_apart_from_any_students() -> None:
    planned = plan_lab(synthetic_cohort(LAB, 2), LAB)
    planned["cost"]["monthly_usd"] = 5000.0  # over cost-cohort-monthly-limit's 1000
    summary = summarize(planned)
    assert (summary.cohort_mandatory, summary.cohort_advisory) == (1, 0)
    assert all((p.mandatory, p.advisory) == (0, 0) for p in summary.students.values())


@pytest.fixture
def plans() -> list[str]:
    return []


@pytest.fixture
def world(aws, moto_endpoint: str, tmp_path: Path, plans: list[str]):
    def counted(cohort, lab_id):
        plans.append(f"{cohort.name}/{lab_id}")
        return plan_lab(cohort, lab_id)

    built = make_world(aws, moto_endpoint, tmp_path, build=False, plan=counted)
    yield built
    built.portal.close()


def cells(page: str, css: str) -> list[str]:
    return [re.sub(r"\s+", " ", c).strip() for c in re.findall(rf'<td class="{css}[^"]*">(.*?)</td>', page, re.S)]


def test_the_board_shows_each_students_policy_status_and_cost_planned_once(world, plans: list[str]) -> None:
    client = TestClient(world.app)
    board = client.get(f"/cohorts/{COHORT}", headers=bearer(INSTRUCTOR_TOKEN)).text
    assert cells(board, "policy") == ["✓ clean"] * len(STUDENTS)
    assert cells(board, "cost") == ["$0.11"] * len(STUDENTS)
    assert "planned stacks: $0.33/month in all" in board
    assert "policy (plan)</th>" in board and "$/month (plan)</th>" in board
    client.get(f"/cohorts/{COHORT}", headers=bearer(INSTRUCTOR_TOKEN))
    assert plans == [f"{COHORT}/{LAB}"]  # the second view used the kept plan


def test_a_cohort_recorded_again_is_planned_again() -> None:
    calls: list[int] = []

    def counted(cohort, lab_id):
        calls.append(len(cohort.students))
        return plan_lab(cohort, lab_id)

    cache = PlanCache(counted)
    try:
        assert cache.get(synthetic_cohort(LAB, 2), LAB).monthly_usd == 0.22
        assert cache.get(synthetic_cohort(LAB, 2), LAB).monthly_usd == 0.22
        assert cache.get(synthetic_cohort(LAB, 3), LAB).monthly_usd == 0.33
    finally:
        cache.close()
    assert calls == [2, 3]


def test_the_board_shows_each_students_violations(aws, moto_endpoint: str, tmp_path: Path) -> None:
    world = make_world(aws, moto_endpoint, tmp_path, build=False, plan=lambda cohort, lab_id: tampered_plan(cohort))
    try:
        board = TestClient(world.app).get(f"/cohorts/{COHORT}", headers=bearer(INSTRUCTOR_TOKEN)).text
    finally:
        world.portal.close()
    assert cells(board, "policy") == ["1 mandatory · 0 advisory", "0 mandatory · 1 advisory", "✓ clean"]
    assert '<td class="policy status-failed">1 mandatory' in board



def test_a_plan_that_fails_is_said_on_the_board(aws, moto_endpoint: str, tmp_path: Path) -> None:
    def broken(cohort, lab_id):
        raise LabctlError("no price for EC2 type 'x9.huge'")

    world = make_world(aws, moto_endpoint, tmp_path, build=False, plan=broken)
    try:
        board = TestClient(world.app).get(f"/cohorts/{COHORT}", headers=bearer(INSTRUCTOR_TOKEN))
    finally:
        world.portal.close()
    assert board.status_code == 200
    assert "planned stacks: the plan failed: no price for EC2 type &#39;x9.huge&#39;" in board.text
    assert cells(board.text, "policy") == ["—"] * len(STUDENTS) and cells(board.text, "cost") == ["—"] * len(STUDENTS)


def test_the_lease_shows_when_it_ends_and_that_it_ended(world) -> None:
    client = TestClient(world.app)
    headers = bearer(INSTRUCTOR_TOKEN)
    assert "· no lease" in client.get(f"/cohorts/{COHORT}", headers=headers).text
    with Registry() as reg:
        reg.set_lease(COHORT, "2099-01-01T00:00:00+00:00")
    assert "· lease ends 2099-01-01T00:00:00+00:00" in client.get(f"/cohorts/{COHORT}", headers=headers).text
    with Registry() as reg:
        reg.set_lease(COHORT, "2020-01-01T00:00:00+00:00")
    assert "· lease ended 2020-01-01T00:00:00+00:00" in client.get(f"/cohorts/{COHORT}", headers=headers).text
    assert client.get("/api/v1/cohorts", headers=headers).json()[0]["lease_ended"] is True
