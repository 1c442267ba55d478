"""The student's IAM policy document: own names allowed, other students' names not matched."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.aws_policies import student_identity_policy
from components.tags import owner_tags, student_tags

OWNER = owner_tags(student_tags("c1", "s001", "s3-static-website"))


def allows(policy: dict, action: str, resource: str, region: str = "us-east-1") -> bool:
    """A small IAM evaluator for Allow statements: exact actions, `*`/`?` resource globs, region."""
    for statement in policy["Statement"]:
        regions = statement["Condition"]["StringEquals"]["aws:RequestedRegion"]
        if (
            statement["Effect"] == "Allow"
            and action in statement["Action"]
            and any(fnmatchcase(resource, pattern) for pattern in statement["Resource"])
            and region in regions
        ):
            return True
    return False


def actions(policy: dict) -> list[str]:
    return [a for s in policy["Statement"] for a in s["Action"]]


def test_own_prefix_buckets_and_objects_are_allowed():
    policy = student_identity_policy("c1-s001", ["s3"], ["us-east-1"])
    assert allows(policy, "s3:CreateBucket", "arn:aws:s3:::c1-s001-site")
    assert allows(policy, "s3:PutBucketPolicy", "arn:aws:s3:::c1-s001-site")
    assert allows(policy, "s3:PutObject", "arn:aws:s3:::c1-s001-site/index.html")
    assert allows(policy, "s3:ListAllMyBuckets", "*")


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:::c1-s002-site",
        "arn:aws:s3:::c1-s002-site/index.html",
        "arn:aws:s3:::c1-s0010-site",
        "arn:aws:s3:::c1-s001",
        "arn:aws:s3:::c2-s001-site",
        "arn:aws:s3:::x-c1-s001-site",
    ],
)
def test_other_names_are_not_matched(resource):
    policy = student_identity_policy("c1-s001", ["s3"], ["us-east-1"])
    assert not allows(policy, "s3:CreateBucket", resource)
    assert not allows(policy, "s3:PutObject", resource)
    assert not allows(policy, "s3:GetObject", resource)


def test_other_regions_are_not_allowed():
    policy = student_identity_policy("c1-s001", ["s3"], ["us-east-1"])
    assert not allows(policy, "s3:CreateBucket", "arn:aws:s3:::c1-s001-site", region="eu-west-1")
    for statement in policy["Statement"]:
        assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == ["us-east-1"]


@pytest.mark.parametrize("services", [["s3"], ["s3", "dynamodb", "sqs", "sns"]])
def test_no_wildcard_actions_no_iam_and_star_only_for_listing(services):
    policy = student_identity_policy("c1-s001", services, ["us-east-1", "eu-west-1"], OWNER)
    assert policy["Version"] == "2012-10-17"
    for action in actions(policy):
        assert "*" not in action
        assert not action.startswith(("iam:", "sts:"))
    for statement in policy["Statement"]:
        unscoped = "*" in statement["Resource"] and "aws:ResourceTag/labctl:student" not in json.dumps(statement)
        if unscoped and "aws:RequestTag/labctl:student" not in json.dumps(statement):
            assert all(a.split(":")[1].startswith(("List", "Describe")) for a in statement["Action"]), statement


def test_dynamodb_tables_are_scoped_by_name_and_region():
    policy = student_identity_policy("c1-s001", ["dynamodb"], ["us-east-1"])
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/c1-s001-orders"
    assert allows(policy, "dynamodb:CreateTable", table)
    assert allows(policy, "dynamodb:UpdateContinuousBackups", table)
    assert allows(policy, "dynamodb:Query", f"{table}/index/by-status")
    assert allows(policy, "dynamodb:ListTables", "*")
    assert not allows(policy, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/c1-s002-orders")
    assert not allows(policy, "dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/c1-s001-orders")


def test_services_without_name_scope_are_scoped_by_owner_tags():
    policy = student_identity_policy("c1-s001", ["sqs"], ["us-east-1"], OWNER)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["SqsOwnTagged"]["Condition"]["StringEquals"] == {
        "aws:RequestedRegion": ["us-east-1"],
        "aws:ResourceTag/labctl:cohort": "c1",
        "aws:ResourceTag/labctl:student": "s001",
    }
    assert by_sid["SqsCreateTagged"]["Condition"]["StringEquals"]["aws:RequestTag/labctl:student"] == "s001"
    assert by_sid["SqsList"]["Action"] == ["sqs:ListQueues"]


@pytest.mark.parametrize(
    ("services", "owner", "message"),
    [
        (["iam"], OWNER, "never granted"),
        (["sts"], OWNER, "never granted"),
        (["ec2"], OWNER, "no student scope"),
        (["sns"], None, "owner_tags"),
        ([], OWNER, "at least one service"),
    ],
)
def test_refuses_what_it_cannot_scope(services, owner, message):
    with pytest.raises(ValueError, match=message):
        student_identity_policy("c1-s001", services, ["us-east-1"], owner)


def test_is_json_and_deterministic():
    first = student_identity_policy("c1-s001", ["s3", "sqs"], ["us-east-1"], OWNER)
    second = student_identity_policy("c1-s001", ["sqs", "s3"], ["us-east-1"], OWNER)
    assert json.loads(json.dumps(first)) == first == second


SLUG = st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True)


@given(own=SLUG, other=SLUG, bucket=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True))
def test_property_only_the_own_prefix_matches(own, other, bucket):
    policy = student_identity_policy(f"c1-{own}", ["s3"], ["us-east-1"])
    assert allows(policy, "s3:PutObject", f"arn:aws:s3:::c1-{own}-{bucket}/key")
    if other != own:
        assert not allows(policy, "s3:PutObject", f"arn:aws:s3:::c1-{other}-{bucket}/key")
        assert not allows(policy, "s3:CreateBucket", f"arn:aws:s3:::c1-{other}-{bucket}")
