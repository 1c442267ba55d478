"""The isolation matrix in the IAM-enforcing emulator, and how the matrix judges what moto cannot see."""

from __future__ import annotations

import json

import boto3
import pytest
from click.testing import CliRunner

from labctl.app.selftest import ESCALATIONS, Cell, Sandbox, judge
from labctl.cli import cli

STUDENTS = 3
OWN_ACTIONS = 8  # five bucket actions, three queue actions
# The one escalation the emulator cannot evaluate: only the boundary condition of
# DenyRoleWritesWithoutOwnBoundary refuses it, and moto reads no condition (tests/components proves it).
CONDITION_ONLY = {"PutRolePermissionsBoundary(own role)"}


@pytest.mark.emulator
def test_selftest_isolation_three_students_matrix_holds():
    result = CliRunner().invoke(cli, ["selftest", "isolation", "--students", str(STUDENTS), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    counts = report["counts"]
    pairs = STUDENTS * (STUDENTS - 1)
    assert counts["failed"] == 0
    assert counts["allowed-own"] == STUDENTS * OWN_ACTIONS
    # Every cross cell is evaluated: S3 by bucket ARN, SQS by queue ARN, both of which moto reads.
    assert counts["denied-cross"] == pairs * OWN_ACTIONS
    assert counts["escalations-denied"] == STUDENTS * (len(ESCALATIONS) - len(CONDITION_ONLY))
    assert counts["total"] == STUDENTS * STUDENTS * OWN_ACTIONS + STUDENTS * len(ESCALATIONS)
    unverifiable = [c for c in report["cells"] if c["verdict"] == "unverifiable"]
    assert {c["action"] for c in unverifiable} == CONDITION_ONLY and len(unverifiable) == STUDENTS
    assert all("DenyRoleWritesWithoutOwnBoundary" in c["detail"] and "the emulator ignores" in c["detail"] for c in unverifiable)


def sandbox(policy: dict) -> Sandbox:
    return Sandbox("sa", "selftest-sa", policy, boto3.Session(region_name="us-east-1"))


TAG_ONLY = {"Statement": [{"Sid": "SqsOwnTagged", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["*"],
                           "Condition": {"StringEquals": {"aws:ResourceTag/labctl:student": "sa"}}}]}
UNSCOPED = {"Statement": [{"Sid": "SqsAll", "Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": ["*"]}]}
CONDITIONED_DENY = {"Statement": [
    {"Sid": "Own", "Effect": "Allow", "Action": ["s3:PutBucketTagging"], "Resource": ["arn:aws:s3:::selftest-sa-*"]},
    {"Sid": "DenyForeignTag", "Effect": "Deny", "Action": ["s3:PutBucketTagging"], "Resource": ["*"],
     "Condition": {"StringNotEquals": {"aws:RequestTag/labctl:student": "sa"}}},
]}


def test_cross_call_allowed_only_by_tag_condition_is_unverifiable_not_passed():
    cell = Cell("sa", "sb", "sqs:SendMessage", "denied", "allowed")
    judged = judge(cell, sandbox(TAG_ONLY), "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:selftest-sb-queue")
    assert judged.verdict == "unverifiable"
    assert "aws:ResourceTag/labctl:student" in judged.detail and "SqsOwnTagged" in judged.detail


def test_cross_call_allowed_by_unconditioned_statement_fails():
    cell = Cell("sa", "sb", "sqs:SendMessage", "denied", "allowed")
    assert judge(cell, sandbox(UNSCOPED), "sqs:SendMessage", "arn:aws:sqs:us-east-1:1:selftest-sb-queue").verdict == "FAIL"


def test_own_call_denied_by_conditioned_deny_is_unverifiable_and_unexplained_denial_fails():
    cell = Cell("sa", "sa", "s3:PutBucketTagging", "allowed", "denied")
    assert judge(cell, sandbox(CONDITIONED_DENY), "s3:PutBucketTagging", "arn:aws:s3:::selftest-sa-data").verdict == "unverifiable"
    assert judge(cell, sandbox(UNSCOPED), "s3:PutBucketTagging", "arn:aws:s3:::selftest-sa-data").verdict == "FAIL"


def test_denial_explained_only_by_a_conditioned_deny_over_a_matching_allow_is_unverifiable():
    """moto denies it for a condition it never read: the denial proves nothing about the condition."""
    cell = Cell("sa", "sa", "s3:PutBucketTagging", "denied", "denied")
    assert judge(cell, sandbox(CONDITIONED_DENY), "s3:PutBucketTagging", "arn:aws:s3:::selftest-sa-data").verdict == "unverifiable"
    # Denied with no Allow matching at all: the emulator did evaluate the resource.
    assert judge(cell, sandbox(CONDITIONED_DENY), "s3:PutBucketTagging", "arn:aws:s3:::selftest-sb-data").verdict == "pass"


def test_escalation_allowed_fails():
    cell = Cell("sa", None, "CreateUser", "denied", "allowed")
    assert judge(cell, sandbox(UNSCOPED), "iam:CreateUser", "*").verdict == "FAIL"
