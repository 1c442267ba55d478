"""What the SCPs and the in-account boundary decide, evaluated with AWS's policy logic (tests/iam_eval.py):
moto stores SCPs but never applies them, so this is how the tests reason about real AWS."""

from __future__ import annotations

import pytest

from labctl.components.org_policies import allowed_regions, cohort_scps
from labctl.components.student_account import account_boundary_policy
from labctl.labs.catalog import get_lab
from tests.iam_eval import ACCOUNT, decide, matching

STUDENT = f"arn:aws:iam::{ACCOUNT}:role/labctl/labctl-student"
ACCESS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/OrganizationAccountAccessRole"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def scps_deny(labs: tuple[str, ...], action: str, resource: str = "*", principal: str = STUDENT, **context) -> bool:
    """Whether any of the cohort's SCPs denies the request (FullAWSAccess allows everything else)."""
    request = {"aws:RequestedRegion": "us-east-1", "aws:PrincipalARN": principal, **context}
    documents = cohort_scps([get_lab(lab).spec for lab in labs], "us-east-1").values()
    return any(matching(doc, "Deny", action, resource, request) for doc in documents)


def test_allowed_regions_are_the_labs_and_the_home_region():
    assert allowed_regions([get_lab("s3-static-website").spec], "eu-west-1") == ("eu-west-1", "us-east-1")


@pytest.mark.parametrize(
    ("action", "region", "denied"),
    [
        ("s3:CreateBucket", "us-east-1", False),
        ("s3:CreateBucket", "eu-west-1", True),
        ("iam:CreateRole", "eu-west-1", False),
        ("sts:GetCallerIdentity", "ap-south-1", False),
        ("dynamodb:CreateTable", "us-east-1", True),
        ("ec2:RunInstances", "us-east-1", True),
        ("budgets:ViewBudget", "us-east-1", False),
    ],
)
def test_region_lock_and_service_allow_list_for_a_static_website(action, region, denied):
    assert scps_deny(("s3-static-website",), action, **{"aws:RequestedRegion": region}) is denied


def test_labctls_access_role_is_not_held_by_the_region_or_service_locks():
    assert not scps_deny(("s3-static-website",), "dynamodb:CreateTable", principal=ACCESS_ROLE,
                         **{"aws:RequestedRegion": "eu-west-1"})


@pytest.mark.parametrize("principal", [STUDENT, ACCESS_ROLE])
def test_nobody_leaves_the_organization(principal):
    assert scps_deny(("s3-static-website",), "organizations:LeaveOrganization", principal=principal)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/labctl/labctl-grader"),
        ("iam:UpdateAssumeRolePolicy", ACCESS_ROLE),
        ("iam:CreatePolicyVersion", f"arn:aws:iam::{ACCOUNT}:policy/labctl/labctl-student-boundary"),
        ("budgets:ModifyBudget", "*"),
        ("budgets:DeleteBudgetAction", "*"),
        ("cloudtrail:StopLogging", "*"),
    ],
)
def test_labctls_roles_budget_and_trail_are_out_of_the_students_reach(action, resource):
    assert scps_deny(("s3-static-website",), action, resource)
    assert not scps_deny(("s3-static-website",), action, resource, principal=ACCESS_ROLE)


def test_the_students_own_roles_are_theirs():
    assert not scps_deny(("s3-static-website",), "iam:DeleteRole", f"arn:aws:iam::{ACCOUNT}:role/my-function-role")


@pytest.mark.parametrize(
    ("instance_type", "denied"),
    [("t3.micro", False), ("t3.large", True), ("p3.2xlarge", True), ("g5.xlarge", True), ("m5.metal", True)],
)
def test_ec2_only_of_the_labs_small_types(instance_type, denied):
    instance = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"
    assert scps_deny(("security-groups",), "ec2:RunInstances", instance, **{"ec2:InstanceType": instance_type}) is denied


@pytest.mark.parametrize(
    ("db_class", "storage", "denied"),
    [("db.t3.micro", 20, False), ("db.r5.large", 20, True), ("db.t3.micro", 500, True)],
)
def test_rds_only_small_classes_and_sizes(db_class, storage, denied):
    context = {"rds:DatabaseClass": db_class, "rds:StorageSize": storage}
    assert scps_deny(("rds-private-encrypted",), "rds:CreateDBInstance", **context) is denied


@pytest.mark.parametrize("action", ["aws-marketplace:Subscribe", "ec2:PurchaseReservedInstancesOffering",
                                    "savingsplans:CreateSavingsPlan", "rds:PurchaseReservedDBInstancesOffering"])
def test_no_marketplace_or_reserved_purchases(action):
    assert scps_deny(("security-groups", "rds-private-encrypted"), action)


BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/labctl/labctl-student-boundary"


@pytest.mark.parametrize(
    ("action", "resource", "context", "allowed"),
    [
        ("s3:CreateBucket", "arn:aws:s3:::anything", {}, True),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/fn", {"iam:PermissionsBoundary": BOUNDARY}, True),
        ("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/fn", {}, False),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/me2", {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/x"}, False),
        ("iam:DeleteRolePermissionsBoundary", f"arn:aws:iam::{ACCOUNT}:role/fn", {}, False),
        ("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/labctl/labctl-student", {}, False),
        ("iam:DeletePolicy", BOUNDARY, {}, False),
        ("iam:UpdateAssumeRolePolicy", ACCESS_ROLE, {}, False),
        ("budgets:UpdateBudgetAction", "*", {}, False),
        ("cloudtrail:DeleteTrail", "*", {}, False),
    ],
)
def test_the_boundary_gives_broad_rights_but_protects_labctl(action, resource, context, allowed):
    boundary = account_boundary_policy(ACCOUNT)
    assert decide(action, resource, [ADMIN], boundary, principal=STUDENT, context=context) is allowed
