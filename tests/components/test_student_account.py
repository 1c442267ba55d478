"""Isolation mode `account` under the SDK's mock runtime: the provider per student account, what goes
into the account (roles, boundary, budget and its action), and the cohort's OU, SCPs and cost tags."""

from __future__ import annotations

import json

import pytest

from labctl.cohorts.cohort import Cohort, Target, synthetic_students
from labctl.components.org_policies import cohort_scps, scp_json
from labctl.components.student_account import account_boundary_policy
from labctl.components.student_lab import AccountPlacement
from labctl.labs.catalog import get_lab
from labctl.stacks.plan import ORGANIZATION_ROOT, plan_organization, plan_student
from labctl.stacks.program import TargetSettings

EMULATOR = Target("emulator", "http://127.0.0.1:4566", "us-east-1")
AWS = Target("aws", None, "eu-west-1", "org-admin")
ACCOUNTS = {"s001": AccountPlacement("111111111111", "999999999999", "pool+1@example.edu"),
            "s002": AccountPlacement("222222222222", "999999999999", "pool+2@example.edu")}


def cohort(target: Target = EMULATOR, email: str | None = None) -> Cohort:
    return Cohort("c1", ("s3-static-website",), target, synthetic_students("c1", 2), instructor_email=email)


def plan_for(student: int = 0, target: Target = EMULATOR, email: str | None = None) -> dict:
    c = cohort(target, email)
    s = c.students[student]
    return plan_student(c, s, get_lab("s3-static-website").spec, TargetSettings.from_target(target), ACCOUNTS[s.student])


def named(plan: dict) -> dict[str, dict]:
    return {r["name"]: r for r in plan["resources"]}


@pytest.fixture(scope="module")
def first() -> dict:
    return plan_for()


@pytest.mark.parametrize(("target", "index"), [(EMULATOR, 0), (AWS, 1)])
def test_each_students_provider_assumes_the_access_role_in_their_own_account(target, index):
    plan = plan_for(index, target)
    provider = next(r for r in plan["resources"] if r["type"] == "pulumi:providers:aws")
    account = ACCOUNTS[f"s00{index + 1}"].account_id
    assert json.loads(provider["inputs"]["assumeRoles"]) == [
        {"roleArn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "sessionName": "labctl-up"}]
    assert plan["account_id"] == account
    custom = [r for r in plan["resources"] if not r["type"].startswith(("labctl:", "pulumi:"))]
    assert custom and {r["provider"] for r in custom} == {provider["urn"]}


def test_no_iam_user_or_access_key_in_account_mode(first):
    types = {r["type"] for r in first["resources"]}
    assert "aws:iam/user:User" not in types and "aws:iam/accessKey:AccessKey" not in types
    assert "labctl:aws:StudentAccount" in types and "labctl:aws:AwsSandbox" not in types


def test_student_and_grader_roles_trust_the_management_account(first):
    resources = named(first)
    student, grader = resources["c1-s001-account-student"], resources["c1-s001-account-grader"]
    for role, name in ((student, "labctl-student"), (grader, "labctl-grader")):
        assert (role["inputs"]["name"], role["inputs"]["path"]) == (name, "/labctl/")
        assert json.loads(role["inputs"]["assumeRolePolicy"])["Statement"] == [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}]
    assert student["inputs"]["permissionsBoundary"] == "[unknown]"  # the boundary policy's ARN, once created
    assert "permissionsBoundary" not in grader["inputs"]
    rights = {r["name"]: r["inputs"]["policyArn"] for r in first["resources"]
              if r["type"] == "aws:iam/rolePolicyAttachment:RolePolicyAttachment"}
    assert rights == {"c1-s001-account-student-rights": "arn:aws:iam::aws:policy/AdministratorAccess",
                      "c1-s001-account-grader-read": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                      "c1-s001-account-budget-action-rights":
                          "arn:aws:iam::aws:policy/AWSBudgetsActionsWithAWSResourceControlAccess"}
    boundary = resources["c1-s001-account-boundary"]["inputs"]
    assert json.loads(boundary["policy"]) == account_boundary_policy("111111111111")
    assert (boundary["name"], boundary["path"]) == ("labctl-student-boundary", "/labctl/")


@pytest.mark.parametrize(("email", "notified"), [(None, "pool+1@example.edu"), ("prof@example.edu", "prof@example.edu")])
def test_the_budget_action_denies_everything_at_100_percent(email, notified):
    resources = named(plan_for(email=email))
    budget = resources["c1-s001-account-budget"]["inputs"]
    assert (budget["limitAmount"], budget["limitUnit"], budget["timeUnit"]) == ("5.00", "USD", "MONTHLY")
    assert "filterExpression" not in budget  # the whole account is the student's
    assert [n["subscriberEmailAddresses"] for n in budget["notifications"]] == [[notified], [notified]]
    action = resources["c1-s001-account-budget-action"]["inputs"]
    assert action["actionType"] == "APPLY_IAM_POLICY" and action["approvalModel"] == "AUTOMATIC"
    assert action["notificationType"] == "ACTUAL"
    assert action["actionThreshold"] == {"actionThresholdType": "PERCENTAGE", "actionThresholdValue": 100}
    assert action["definition"] == {"iamActionDefinition": {"policyArn": "arn:aws:iam::aws:policy/AWSDenyAll",
                                                            "roles": ["labctl-student"]}}
    assert action["subscribers"] == [{"address": notified, "subscriptionType": "EMAIL"}]
    role = resources["c1-s001-account-budget-action-role"]["inputs"]
    assert json.loads(role["assumeRolePolicy"])["Statement"][0]["Principal"] == {"Service": "budgets.amazonaws.com"}


@pytest.fixture(scope="module")
def organization() -> dict:
    c = cohort()
    return plan_organization(c, [get_lab("s3-static-website").spec], TargetSettings.from_target(EMULATOR), ACCOUNTS)


def test_the_cohorts_ou_and_scps_bind_the_ou_and_every_leased_account(organization):
    resources = named(organization)
    ou = resources["c1-organization-ou"]["inputs"]
    assert (ou["name"], ou["parentId"]) == ("labctl-c1", ORGANIZATION_ROOT)
    expected = cohort_scps([get_lab("s3-static-website").spec], "us-east-1")
    policies = {r["inputs"]["name"]: r for r in organization["resources"] if r["type"] == "aws:organizations/policy:Policy"}
    assert {name: p["inputs"]["content"] for name, p in policies.items()} == {
        f"labctl-c1-{short}": scp_json(doc) for short, doc in expected.items()}
    assert {p["inputs"]["type"] for p in policies.values()} == {"SERVICE_CONTROL_POLICY"}
    assert policies["labctl-c1-guardrails"]["inputs"]["tags"] == {"labctl:cohort": "c1", "labctl:lab": "s3-static-website"}
    targets = sorted((r["name"].split("-scp-")[1].rsplit("-", 1)[0], r["inputs"]["targetId"])
                     for r in organization["resources"] if r["type"] == "aws:organizations/policyAttachment:PolicyAttachment")
    assert targets == sorted((short, target) for short in expected
                             for target in ("[unknown]", "111111111111", "222222222222"))
    assert organization["scps"]["guardrails"]["chars"] == len(scp_json(expected["guardrails"]))


def test_cost_allocation_tags_are_activated_in_the_management_account(organization):
    tags = {r["inputs"]["tagKey"]: r["inputs"]["status"] for r in organization["resources"]
            if r["type"] == "aws:costexplorer/costAllocationTag:CostAllocationTag"}
    assert tags == {"labctl:cohort": "Active", "labctl:student": "Active", "labctl:lab": "Active"}
    provider = next(r for r in organization["resources"] if r["type"] == "pulumi:providers:aws")
    assert "assumeRoles" not in provider["inputs"]  # the management account itself
