"""`labctl policy check` on plans in isolation mode `account`: the shared-account IAM rules do not judge
labctl's roles in the student's own account (they trust the management account and hold
AdministratorAccess by design); the SCP rules and the in-account boundary rule do."""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, make_target, synthetic_students
from labctl.labs.catalog import get_lab, load_catalog
from labctl.policies import offline
from labctl.stacks.plan import plan_accounts, plan_cohort
from labctl.stacks.program import TargetSettings

AWS_LABS = sorted(lab.spec.id for lab in load_catalog() if lab.spec.environment.aws is not None)
TARGET = make_target("aws", None, "us-east-1", None)


def account_plan(lab: str, isolation: str = "account") -> dict:
    cohort = Cohort("c1", (lab,), TARGET, synthetic_students("c1", 2))
    accounts = plan_accounts(None, cohort, True) if isolation == "account" else None
    return plan_cohort(cohort, [get_lab(lab).spec], TargetSettings.from_target(TARGET), workers=1, accounts=accounts)


def mandatory(plan: dict) -> Counter:
    report = offline.check(offline.input_from_plan(plan), None)
    return Counter(v.policy for v in report.violations if v.level == "mandatory")


@pytest.fixture(scope="module")
def website() -> dict:
    return account_plan("s3-static-website")


@pytest.mark.parametrize("lab", AWS_LABS)
def test_every_aws_catalog_lab_in_account_mode_has_no_mandatory_violation(lab):
    assert AWS_LABS and mandatory(account_plan(lab)) == Counter()


def resource(plan: dict, student: int, name_suffix: str) -> dict:
    return next(r for r in plan["students"][student]["resources"] if r["name"].endswith(name_suffix))


def test_a_student_role_without_the_boundary_is_a_mandatory_violation(website):
    plan = copy.deepcopy(website)
    del resource(plan, 1, "-account-student")["inputs"]["permissionsBoundary"]
    assert mandatory(plan) == Counter({"account-student-role-boundary": 1})


def test_a_student_role_with_another_boundary_is_a_mandatory_violation(website):
    plan = copy.deepcopy(website)
    resource(plan, 0, "-account-student")["inputs"]["permissionsBoundary"] = "arn:aws:iam::000000000001:policy/lenient"
    assert mandatory(plan) == Counter({"account-student-role-boundary": 1})


@pytest.mark.parametrize(("sid", "gap"), [
    ("LabctlOwn", "deny every IAM action on labctl's roles"),
    ("KeepBoundaries", "deny removing a permissions boundary"),
    ("SameBoundary", "deny creating a role or user without this boundary"),
])
def test_a_boundary_missing_a_protection_is_a_mandatory_violation(website, sid, gap):
    plan = copy.deepcopy(website)
    boundary = resource(plan, 0, "-account-boundary")["inputs"]
    document = json.loads(boundary["policy"])
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != sid]
    boundary["policy"] = json.dumps(document)
    report = offline.check(offline.input_from_plan(plan), None)
    found = [v for v in report.violations if v.level == "mandatory"]
    assert [v.policy for v in found] == ["account-student-role-boundary"] and gap in found[0].message


def test_an_scp_without_the_region_lock_is_a_mandatory_violation(website):
    plan = copy.deepcopy(website)
    for r in plan["organization"]["resources"]:
        if r["type"] == "aws:organizations/policy:Policy":
            document = json.loads(r["inputs"]["content"])
            document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "RegionLock"]
            r["inputs"]["content"] = json.dumps(document)
    assert mandatory(plan) == Counter({"scp-region-lock": 1})


def test_the_shared_rules_still_judge_a_shared_account_role_that_trusts_an_account(website):
    """The same role outside a StudentAccount (its URN's type chain) is judged as a shared-account one."""
    plan = copy.deepcopy(website)
    role = resource(plan, 0, "-account-student")
    role["urn"] = role["urn"].replace("labctl:aws:StudentAccount$", "")
    found = mandatory(plan)
    assert found["iam-role-trusts-services-only"] == 1 and found["iam-no-wildcards"] == 0  # attachments hold the admin rights
    assert found["names-prefixed"] == 1  # `labctl-student` is not under the student's prefix


def test_cli_plan_then_policy_check_of_an_account_mode_plan_is_clean(tmp_path: Path):
    out = tmp_path / "plan.json"
    planned = CliRunner().invoke(cli, ["plan", "--lab", "s3-static-website", "--students", "2", "--isolation",
                                       "account", "--format", "json", "--out", str(out), "--workers", "1"])
    assert planned.exit_code == 0, planned.output
    checked = CliRunner().invoke(cli, ["policy", "check", "--plan", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "0 mandatory" in checked.output
