"""IAM policy documents for a student's sandbox user, as pure functions of names.

A student may act only on the lab's services, only in the lab's regions and only on what is
theirs: S3 buckets and DynamoDB tables whose names start with the student prefix; resources of services that have no
name scope yet (SQS, SNS) by the owner tags (`labctl:cohort`, `labctl:student`). Every action is spelled out:
no `*` or `service:*` actions, and never an IAM or STS action, so a student cannot widen their own
rights. The few list actions that AWS only authorises on `*` are granted on `*` and nothing else is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

POLICY_VERSION = "2012-10-17"
FORBIDDEN_SERVICES = frozenset({"iam", "sts", "organizations", "sso"})

S3_BUCKET_ACTIONS = (
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:ListBucket",
    "s3:ListBucketVersions",
    "s3:ListBucketMultipartUploads",
    "s3:GetBucketLocation",
    "s3:GetBucketWebsite",
    "s3:PutBucketWebsite",
    "s3:DeleteBucketWebsite",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:GetBucketVersioning",
    "s3:PutBucketVersioning",
    "s3:GetBucketTagging",
    "s3:PutBucketTagging",
    "s3:GetBucketPublicAccessBlock",
    "s3:PutBucketPublicAccessBlock",
    "s3:GetBucketOwnershipControls",
    "s3:PutBucketOwnershipControls",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:PutBucketCORS",
    "s3:GetEncryptionConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:GetBucketLogging",
    "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketRequestPayment",
    "s3:GetAccelerateConfiguration",
    "s3:GetReplicationConfiguration",
)
S3_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:GetObjectVersion",
    "s3:DeleteObjectVersion",
    "s3:GetObjectTagging",
    "s3:PutObjectTagging",
    "s3:GetObjectAcl",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
S3_LIST_ACTIONS = ("s3:ListAllMyBuckets",)

DYNAMODB_TABLE_ACTIONS = (
    "dynamodb:CreateTable",
    "dynamodb:DescribeTable",
    "dynamodb:UpdateTable",
    "dynamodb:DeleteTable",
    "dynamodb:DescribeTimeToLive",
    "dynamodb:UpdateTimeToLive",
    "dynamodb:DescribeContinuousBackups",
    "dynamodb:UpdateContinuousBackups",
    "dynamodb:ListTagsOfResource",
    "dynamodb:TagResource",
    "dynamodb:UntagResource",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
DYNAMODB_LIST_ACTIONS = ("dynamodb:ListTables",)


@dataclass(frozen=True)
class TagScopedActions:
    """A service scoped by owner tags: create only with them, act only on resources that have them."""

    create: tuple[str, ...]
    manage: tuple[str, ...]
    list: tuple[str, ...]


TAG_SCOPED = {
    "sqs": TagScopedActions(
        create=("sqs:CreateQueue", "sqs:TagQueue"),
        manage=(
            "sqs:GetQueueUrl",
            "sqs:GetQueueAttributes",
            "sqs:SetQueueAttributes",
            "sqs:ListQueueTags",
            "sqs:SendMessage",
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:PurgeQueue",
            "sqs:DeleteQueue",
        ),
        list=("sqs:ListQueues",),
    ),
    "sns": TagScopedActions(
        create=("sns:CreateTopic", "sns:TagResource"),
        manage=(
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:ListTagsForResource",
            "sns:ListSubscriptionsByTopic",
            "sns:Subscribe",
            "sns:Publish",
            "sns:DeleteTopic",
        ),
        list=("sns:ListTopics",),
    ),
}
NAME_SCOPED = frozenset({"s3", "dynamodb"})
KNOWN_SERVICES = NAME_SCOPED | frozenset(TAG_SCOPED)


def statement(sid: str, actions: Sequence[str], resources: Sequence[str], condition: dict[str, Any]) -> dict:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": list(resources),
        "Condition": condition,
    }


def s3_statements(prefix: str, in_regions: dict[str, Any]) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    return [
        statement("S3OwnBuckets", S3_BUCKET_ACTIONS, [f"arn:aws:s3:::{prefix}-*"], condition),
        statement("S3OwnObjects", S3_OBJECT_ACTIONS, [f"arn:aws:s3:::{prefix}-*/*"], condition),
        statement("S3List", S3_LIST_ACTIONS, ["*"], condition),
    ]


def dynamodb_statements(prefix: str, regions: Sequence[str], in_regions: dict[str, Any]) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    tables = [
        arn
        for region in sorted(set(regions))
        for arn in (
            f"arn:aws:dynamodb:{region}:*:table/{prefix}-*",
            f"arn:aws:dynamodb:{region}:*:table/{prefix}-*/index/*",
        )
    ]
    return [
        statement("DynamodbOwnTables", DYNAMODB_TABLE_ACTIONS, tables, condition),
        statement("DynamodbList", DYNAMODB_LIST_ACTIONS, ["*"], condition),
    ]


def tag_scoped_statements(
    service: str, actions: TagScopedActions, owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    sid = service.capitalize()
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in sorted(owner_tags.items())}
    return [
        statement(f"{sid}CreateTagged", actions.create, ["*"], {"StringEquals": {**in_regions, **request_tags}}),
        statement(f"{sid}OwnTagged", actions.manage, ["*"], {"StringEquals": {**in_regions, **resource_tags}}),
        statement(f"{sid}List", actions.list, ["*"], {"StringEquals": dict(in_regions)}),
    ]


def student_identity_policy(
    prefix: str,
    services: Sequence[str],
    regions: Sequence[str],
    owner_tags: Mapping[str, str] | None = None,
) -> dict:
    """The IAM policy document for the sandbox user of the student whose names start with `prefix`.

    `owner_tags` (cohort and student tags) are required when a service is scoped by tags, not names.
    Raises ValueError for IAM-like services, for services with no scope yet and for empty inputs.
    """
    if not prefix:
        raise ValueError("a student policy needs the student prefix")
    if not regions:
        raise ValueError("a student policy needs at least one region")
    wanted = sorted({s.lower() for s in services})
    if not wanted:
        raise ValueError("a student policy needs at least one service")
    for service in wanted:
        if service in FORBIDDEN_SERVICES:
            raise ValueError(
                f"service {service!r} is never granted to students: they could widen their own rights"
            )
        if service not in KNOWN_SERVICES:
            raise ValueError(
                f"service {service!r} has no student scope yet (known: {', '.join(sorted(KNOWN_SERVICES))})"
            )
        if service in TAG_SCOPED and not owner_tags:
            raise ValueError(f"service {service!r} is scoped by owner tags: pass owner_tags")
    in_regions = {"aws:RequestedRegion": sorted(set(regions))}
    statements: list[dict] = []
    for service in wanted:
        if service == "s3":
            statements += s3_statements(prefix, in_regions)
        elif service == "dynamodb":
            statements += dynamodb_statements(prefix, regions, in_regions)
        else:
            statements += tag_scoped_statements(service, TAG_SCOPED[service], owner_tags or {}, in_regions)
    return {"Version": POLICY_VERSION, "Statement": statements}
