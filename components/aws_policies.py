"""IAM policy documents for a student's sandbox user, as pure functions of names.

The identity policy: a student may act only on the lab's services, only in the lab's regions and
only on what is theirs: S3 buckets, DynamoDB tables, Lambda functions, ECS clusters, CloudWatch
alarms, RDS instances and CloudFormation stacks whose names start with the student prefix; SQS
queues and SNS topics by their names and by the owner tags (`labctl:cohort`, `labctl:student`);
EC2 instances and networks and API Gateway APIs (whose ARNs are ids) by the owner tags alone;
EC2 launches only of the lab's instance types, RDS instances only of small classes. KMS only as the
lab's services use their AWS managed keys (`kms:ViaService`), never key administration.
CloudFormation acts with the caller's own rights (no role may be passed to it), so a stack creates
only what the student could create by hand, and only resource types of the lab's other services.

Tags are ownership, so tagging is granted apart from everything else: whoever may write
`labctl:student=<me>` on a resource that is not mine can make it mine. Tagging APIs act on existing
resources only when they already carry the student's own `labctl:student`, or (at creation, or on an
untagged resource of their own name) with the student's own values; and explicit denials, in the
identity policy and in the boundary, refuse removing any `labctl:*` tag and writing one with values
other than the owner's. Every action is spelled out: no `*` or `service:*` actions. The only IAM actions are
for labs that run code under a role (Lambda, ECS): roles named `<prefix>-*`, created only with the
student's own permissions boundary, passed only to those services. The few list actions that AWS
only authorises on `*` are granted on `*` and nothing else is.

The permissions boundary: a cap, not a grant. It allows the lab's services in the lab's regions
(on the student's own names where the service's ARNs carry names) and explicitly denies IAM
user/policy/boundary management, Organizations/account actions and changes to `labctl:*` tags, so
whatever the identity policy says, the student cannot widen their own rights or disown a resource.

IAM's size limits shape both: the boundary is one managed policy (at most 6,144 characters, for
every combination of known services), and the identity policy, far larger than an inline user
policy's 2,048, is split by `split_identity_policy` into managed policies attached to the user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from labctl.labs.errors import InputError
from labctl.labs.spec import LabSpec
from labctl.policies.aws_actions import (
    IAM_ROLE_ATTACH_ACTIONS,
    IAM_ROLE_OTHER_ACTIONS,
    IAM_ROLE_WRITE_ACTIONS,
    RESOURCE_POLICY_SERVICES,
    TAG_CHANGE_ACTIONS,
    TAG_ON_CREATE_ACTIONS,
    UNCONDITIONAL_TAG_ACTIONS,
)

POLICY_VERSION = "2012-10-17"
# IAM's limits: a managed policy holds at most 6,144 characters (whitespace not counted), a user has
# at most 10 managed policies attached. The identity policy leaves one of those slots free.
MANAGED_POLICY_MAX_CHARS = 6144
USER_MANAGED_POLICIES_MAX = 10
IDENTITY_DOCUMENTS_MAX = USER_MANAGED_POLICIES_MAX - 1
# The boundary's ARNs name no region: `aws:RequestedRegion` caps the regions (see `boundary_scope`).
BOUNDARY_REGIONS = ("*",)
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


REMOVE_TAG_VERBS = ("untag", "deletetags", "deletebuckettagging", "removetags")
REMOVE_TAG_ACTIONS = frozenset({"apigateway:DELETE"})
LABCTL_TAG_KEYS = "labctl:*"
STUDENT_TAG_KEY = "labctl:student"
COHORT_TAG_KEY = "labctl:cohort"


@dataclass(frozen=True)
class TagScopedActions:
    """A service scoped by name and owner tags: create only with the tags, act only where they are."""

    create: tuple[str, ...]
    manage: tuple[str, ...]


TAG_SCOPED = {
    "sqs": TagScopedActions(
        create=("sqs:CreateQueue",),
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
    ),
    "sns": TagScopedActions(
        create=("sns:CreateTopic",),
        manage=(
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:ListTagsForResource",
            "sns:ListSubscriptionsByTopic",
            "sns:Subscribe",
            "sns:Publish",
            "sns:DeleteTopic",
        ),
    ),
}
LAMBDA_FUNCTION_ACTIONS = (
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:InvokeFunction",
    "lambda:PublishVersion",
    "lambda:ListVersionsByFunction",
    "lambda:CreateAlias",
    "lambda:GetAlias",
    "lambda:UpdateAlias",
    "lambda:DeleteAlias",
    "lambda:AddPermission",
    "lambda:RemovePermission",
    "lambda:GetPolicy",
    "lambda:ListTags",
)

ECS_CLUSTER_ACTIONS = (
    "ecs:CreateCluster",
    "ecs:DescribeClusters",
    "ecs:UpdateCluster",
    "ecs:DeleteCluster",
    "ecs:ListTagsForResource",
)
ECS_SERVICE_ACTIONS = ("ecs:CreateService", "ecs:DescribeServices", "ecs:UpdateService", "ecs:DeleteService")
ECS_TASK_ACTIONS = ("ecs:StopTask", "ecs:DescribeTasks")
# On the student's own task definitions: DescribeTaskDefinition on `*` would show every student's
# container environment and secrets.
ECS_TASK_DEFINITION_ACTIONS = ("ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition")
# Tasks start from the student's own task definitions, only in the student's own clusters.
ECS_RUN_ACTIONS = ("ecs:RunTask", "ecs:StartTask")
ECS_LIST_ACTIONS = ("ecs:ListClusters", "ecs:ListServices", "ecs:ListTasks", "ecs:ListTaskDefinitions")

EC2_DESCRIBE_ACTIONS = (
    "ec2:DescribeInstances",
    "ec2:DescribeInstanceStatus",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeImages",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeKeyPairs",
    "ec2:DescribeVolumes",
    "ec2:DescribeTags",
    "ec2:DescribeAvailabilityZones",
    "ec2:DescribeAccountAttributes",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeRouteTables",
    "ec2:DescribeInternetGateways",
    "ec2:DescribeSecurityGroupRules",
    "ec2:DescribeNetworkInterfaces",
)
LOGS_GROUP_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DeleteRetentionPolicy",
    "logs:CreateLogStream",
    "logs:DeleteLogStream",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "logs:ListTagsForResource",
    "logs:ListTagsLogGroup",
    "logs:PutMetricFilter",
    "logs:DeleteMetricFilter",
    "logs:DescribeMetricFilters",
)
LOGS_LIST_ACTIONS = ("logs:DescribeLogGroups",)

EC2_OWN_INSTANCE_ACTIONS = (
    "ec2:StartInstances",
    "ec2:StopInstances",
    "ec2:RebootInstances",
    "ec2:TerminateInstances",
)
# What RunInstances also touches besides the instance: AWS authorises the call on each of them.
EC2_LAUNCH_RESOURCES = ("subnet", "network-interface", "security-group", "volume", "key-pair")
EC2_TAGGED_AT_LAUNCH = ("instance", "volume", "network-interface")

# Networks (free of charge): each kind is created only with the owner's request tags, by its own
# create action, and changed only while it carries the owner's tags. NAT gateways and Elastic IPs,
# which cost money, are not granted.
EC2_NETWORK_CREATE = {
    "vpc": "ec2:CreateVpc",
    "subnet": "ec2:CreateSubnet",
    "route-table": "ec2:CreateRouteTable",
    "internet-gateway": "ec2:CreateInternetGateway",
    "security-group": "ec2:CreateSecurityGroup",
}
# What a create call puts inside an existing VPC: the VPC must be the owner's (a security group in
# another student's VPC, or in the untagged default VPC, would be a foothold in a network not theirs).
EC2_CREATE_IN_OWN_VPC = ("ec2:CreateSubnet", "ec2:CreateRouteTable", "ec2:CreateSecurityGroup")
EC2_OWN_NETWORK_ACTIONS = (
    "ec2:DeleteVpc",
    "ec2:ModifyVpcAttribute",
    "ec2:DeleteSubnet",
    "ec2:ModifySubnetAttribute",
    "ec2:DeleteRouteTable",
    "ec2:CreateRoute",
    "ec2:ReplaceRoute",
    "ec2:DeleteRoute",
    "ec2:AssociateRouteTable",
    "ec2:DisassociateRouteTable",
    "ec2:ReplaceRouteTableAssociation",
    "ec2:AttachInternetGateway",
    "ec2:DetachInternetGateway",
    "ec2:DeleteInternetGateway",
    "ec2:DeleteSecurityGroup",
)
EC2_SECURITY_GROUP_RULE_ACTIONS = (
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
    "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
    "ec2:ModifySecurityGroupRules",
)

# API Gateway authorises HTTP verbs on paths; its ARNs carry ids, so APIs are scoped by owner tags
# (REST API children inherit their API's tags for access control).
APIGATEWAY_VERBS = ("apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE")
APIGATEWAY_COLLECTIONS = ("/apis", "/restapis")

CLOUDWATCH_ALARM_ACTIONS = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarmHistory",
    "cloudwatch:EnableAlarmActions",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:SetAlarmState",
    "cloudwatch:ListTagsForResource",
)
CLOUDWATCH_LIST_ACTIONS = ("cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmsForMetric", "cloudwatch:ListMetrics")

# Small burstable classes unless the lab's instance types list `db.*` classes; storage in GiB.
RDS_SMALL_CLASSES = ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small")
RDS_MAX_STORAGE_GB = 100
RDS_OWN_ACTIONS = (
    "rds:DeleteDBInstance",
    "rds:RebootDBInstance",
    "rds:StartDBInstance",
    "rds:StopDBInstance",
    "rds:CreateDBSnapshot",
    "rds:DeleteDBSnapshot",
    "rds:CreateDBSubnetGroup",
    "rds:ModifyDBSubnetGroup",
    "rds:DeleteDBSubnetGroup",
    "rds:ListTagsForResource",
)
RDS_LIST_ACTIONS = (
    "rds:DescribeDBInstances",
    "rds:DescribeDBSnapshots",
    "rds:DescribeDBSubnetGroups",
    "rds:DescribeDBParameterGroups",
    "rds:DescribeDBEngineVersions",
    "rds:DescribeOrderableDBInstanceOptions",
)
# Groups a new or modified instance only refers to (the defaults among them): no write on them.
RDS_REFERENCED = ("og:*", "pg:*", "subgrp:*")

# KMS: the cryptographic calls a service makes with the caller's rights on its AWS managed key.
KMS_VIA_ACTIONS = (
    "kms:DescribeKey",
    "kms:CreateGrant",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
)
KMS_LIST_ACTIONS = ("kms:ListAliases",)
# Lab service -> (the service endpoint that calls KMS, its AWS managed key alias).
KMS_MANAGED_KEYS = {
    "rds": ("rds", "alias/aws/rds"),
    "s3": ("s3", "alias/aws/s3"),
    "dynamodb": ("dynamodb", "alias/aws/dynamodb"),
    "lambda": ("lambda", "alias/aws/lambda"),
    "sqs": ("sqs", "alias/aws/sqs"),
    "sns": ("sns", "alias/aws/sns"),
    "ec2": ("ec2", "alias/aws/ebs"),
}

CLOUDFORMATION_WRITE_ACTIONS = ("cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:CreateChangeSet")
CLOUDFORMATION_STACK_ACTIONS = (
    "cloudformation:DeleteStack",
    "cloudformation:DescribeStacks",
    "cloudformation:DescribeStackEvents",
    "cloudformation:DescribeStackResource",
    "cloudformation:DescribeStackResources",
    "cloudformation:ListStackResources",
    "cloudformation:GetTemplate",
    "cloudformation:GetTemplateSummary",
    "cloudformation:DescribeChangeSet",
    "cloudformation:ListChangeSets",
    "cloudformation:ExecuteChangeSet",
    "cloudformation:DeleteChangeSet",
    "cloudformation:CancelUpdateStack",
    "cloudformation:ContinueUpdateRollback",
    "cloudformation:UpdateTerminationProtection",
)
CLOUDFORMATION_LIST_ACTIONS = ("cloudformation:ListStacks",)
# The resource types a student's template may declare, per lab service (no IAM, no custom resources,
# no nested stacks or macros): CloudFormation creates them with the student's own rights anyway.
CLOUDFORMATION_TYPES = {
    "s3": ("AWS::S3::*",),
    "dynamodb": ("AWS::DynamoDB::*",),
    "lambda": ("AWS::Lambda::*",),
    "ecs": ("AWS::ECS::*",),
    "sqs": ("AWS::SQS::*",),
    "sns": ("AWS::SNS::*",),
    "ec2": ("AWS::EC2::*",),
    "logs": ("AWS::Logs::*",),
    "cloudwatch": ("AWS::CloudWatch::*",),
    "rds": ("AWS::RDS::*",),
    "apigateway": ("AWS::ApiGateway::*", "AWS::ApiGatewayV2::*"),
}

# Roles for code the student runs (Lambda functions, ECS tasks); only these services may receive them.
ROLE_SERVICES = {"lambda": "lambda.amazonaws.com", "ecs": "ecs-tasks.amazonaws.com"}

# Services the boundary caps by region only: no lab with roles may have them (see check_role_services).
ROLES_NEED_BOUNDARY_SCOPE = frozenset({"ec2"})

NAME_SCOPED = frozenset({"s3", "dynamodb", "lambda", "ecs", "logs", "cloudwatch", "rds", "cloudformation"})
KNOWN_SERVICES = NAME_SCOPED | frozenset(TAG_SCOPED) | {"ec2", "apigateway", "kms"}
# Every student policy grants some tagging, and tagging is scoped by the owner's tags.
NEEDS_OWNER_TAGS = KNOWN_SERVICES

# The boundary's explicit denials: a student's own user, keys, groups, managed policies and
# boundaries (theirs and their roles') are out of reach, whatever an identity policy grants.
IAM_SELF_MANAGEMENT = (
    "iam:CreateUser",
    "iam:DeleteUser",
    "iam:UpdateUser",
    "iam:TagUser",
    "iam:UntagUser",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:DeleteLoginProfile",
    "iam:CreateAccessKey",
    "iam:UpdateAccessKey",
    "iam:DeleteAccessKey",
    "iam:PutUserPolicy",
    "iam:DeleteUserPolicy",
    "iam:AttachUserPolicy",
    "iam:DetachUserPolicy",
    "iam:PutUserPermissionsBoundary",
    "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreateGroup",
    "iam:AddUserToGroup",
    "iam:RemoveUserFromGroup",
    "iam:PutGroupPolicy",
    "iam:AttachGroupPolicy",
    "iam:CreatePolicy",
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
    "iam:CreateServiceLinkedRole",
    "iam:UpdateAccountPasswordPolicy",
)
# The same denials as the boundary spells them, shorter: every IAM_SELF_MANAGEMENT action matches a
# pattern, and no role action a student is granted does (both tested).
IAM_SELF_MANAGEMENT_PATTERNS = (
    "iam:*User*",
    "iam:*LoginProfile",
    "iam:*AccessKey",
    "iam:*Group*",
    "iam:*PolicyVersion",
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:TagPolicy",
    "iam:UntagPolicy",
    "iam:DeleteRolePermissionsBoundary",
    "iam:CreateServiceLinkedRole",
    "iam:UpdateAccountPasswordPolicy",
)
# Role assumption too: a role's trust policy naming the student's user would grant it even where the
# boundary is silent, and no condition key can limit what a trust policy names.
ACCOUNT_ACTIONS = ("organizations:*", "account:*", "sts:AssumeRole*", "sts:GetFederationToken")


def statement(sid: str, actions: Sequence[str], resources: Sequence[str], condition: dict[str, Any]) -> dict:
    """An Allow statement; an empty `condition` is left out."""
    allow = {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}
    if condition:
        allow["Condition"] = condition
    return allow


def deny(
    sid: str, actions: Sequence[str], condition: dict[str, Any] | None = None, resources: Sequence[str] = ("*",)
) -> dict:
    """A Deny statement (on every resource unless `resources` says); an empty `condition` is left out."""
    denied = {"Sid": sid, "Effect": "Deny", "Action": sorted(actions), "Resource": list(resources)}
    if condition:
        denied["Condition"] = condition
    return denied


def deny_outside(sid: str, actions: Sequence[str], own: Sequence[str]) -> dict:
    """A Deny of `actions` on everything but `own` (`NotResource`)."""
    return {"Sid": sid, "Effect": "Deny", "Action": sorted(actions), "NotResource": list(own)}


def tag_statements(
    sid: str, service: str, resources: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    """Tagging of the student's own resources: any tag change where the resource already carries the
    owner's tags; adding tags (at creation, or to an untagged resource) only with the owner's values.
    Never a tag change on a resource another student's `labctl:student` marks as theirs."""
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in sorted(owner_tags.items())}
    changes = TAG_CHANGE_ACTIONS[service]
    adds = [a for a in changes if not removes_tags(a)]
    untagged = {"StringEquals": {**in_regions, **request_tags}, "Null": {f"aws:ResourceTag/{STUDENT_TAG_KEY}": "true"}}
    return [
        statement(f"{sid}TagOwn", changes, resources, {"StringEquals": {**in_regions, **resource_tags}}),
        statement(f"{sid}TagUntagged", adds, resources, untagged),
    ]


def removes_tags(action: str) -> bool:
    return action in REMOVE_TAG_ACTIONS or action.split(":", 1)[1].lower().startswith(REMOVE_TAG_VERBS)


def labctl_tag_denials(
    owner_tags: Mapping[str, str], changes: Sequence[str] | None = None, creates: Sequence[str] | None = None
) -> list[dict]:
    """Explicit denials on every tagging API (or on `changes`, a subset): no `labctl:*` tag is ever
    removed; one is written only with the owner's own cohort and student (one statement per key: any
    foreign value is refused); and never on a resource another student owns. Absent keys count as
    foreign (StringNotEquals matches when the key is missing), so a partial `labctl:*` write is
    refused too. Tagging APIs that carry no tag keys (`UNCONDITIONAL_TAG_ACTIONS`) are denied outright:
    no condition could tell a `labctl:*` change on them. Create calls that take tags (`creates`, every
    one of `TAG_ON_CREATE_ACTIONS` by default) are under the foreign-student denial too: a resource is
    never created as another student's (a foreign cohort tag on a create claims nothing: creates of
    tag-scoped resources require both owner tags already)."""
    if changes is None:
        changes = [a for actions in TAG_CHANGE_ACTIONS.values() for a in actions]
    if creates is None:
        creates = [a for actions in TAG_ON_CREATE_ACTIONS.values() for a in actions]
    unconditional = sorted(UNCONDITIONAL_TAG_ACTIONS & set(changes))
    changes = sorted(set(changes) - UNCONDITIONAL_TAG_ACTIONS)
    removals = [a for a in changes if removes_tags(a)]
    writes = [a for a in changes if not removes_tags(a)]
    touches = {"ForAnyValue:StringLike": {"aws:TagKeys": [LABCTL_TAG_KEYS]}}
    statements = [deny("DenyTaggingWithoutTagKeys", unconditional), deny("DenyRemovingLabctlTags", removals, touches)]
    for key, value in sorted(owner_tags.items()):
        name = key.split(":", 1)[1].capitalize()
        actions = [*writes, *creates] if key == STUDENT_TAG_KEY else writes
        statements.append(
            deny(f"DenyForeignLabctl{name}Tag", actions, {**touches, "StringNotEquals": {f"aws:RequestTag/{key}": value}})
        )
    if STUDENT_TAG_KEY in owner_tags:
        foreign_owner = {
            **touches,
            "StringNotEquals": {f"aws:ResourceTag/{STUDENT_TAG_KEY}": owner_tags[STUDENT_TAG_KEY]},
            "Null": {f"aws:ResourceTag/{STUDENT_TAG_KEY}": "false"},
        }
        statements.append(deny("DenyRetaggingOthersResources", writes, foreign_owner))
    # A statement with no action is malformed to IAM: a lab whose only tagging API is keyless has none.
    return [s for s in statements if s["Action"]]


def regional_arns(service: str, regions: Sequence[str], *resources: str) -> list[str]:
    return [f"arn:aws:{service}:{region}:*:{resource}" for region in sorted(set(regions)) for resource in resources]


# IAM resolves this policy variable to the caller's own account, so one document names one policy.
OWN_ACCOUNT = "${aws:PrincipalAccount}"


def boundary_arn(cohort: str, prefix: str) -> str:
    """The exact ARN of the student's boundary policy (`<prefix>-boundary` under `/labctl/<cohort>/`) in
    the student's own account, as an `iam:PermissionsBoundary` condition compares it."""
    return f"arn:aws:iam::{OWN_ACCOUNT}:policy/labctl/{cohort}/{prefix}-boundary"


def own_roles(prefix: str) -> list[str]:
    """Roles `<prefix>-*`. The pattern also matches roles under a path (`role/<prefix>-x/<name>`):
    `DenyRolesUnderAPath` closes that."""
    return [f"arn:aws:iam::*:role/{prefix}-*"]


# Every role with a path: its ARN has a `/` after `role/`, the student's never do.
ROLES_UNDER_A_PATH = "arn:aws:iam::*:role/*/*"


def s3_statements(prefix: str, in_regions: dict[str, Any]) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    return [
        statement("S3OwnBuckets", S3_BUCKET_ACTIONS, [f"arn:aws:s3:::{prefix}-*"], condition),
        statement("S3OwnObjects", S3_OBJECT_ACTIONS, [f"arn:aws:s3:::{prefix}-*/*"], condition),
    ]


def dynamodb_statements(
    prefix: str, regions: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
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
        *tag_statements("Dynamodb", "dynamodb", tables, owner_tags, in_regions),
    ]


def lambda_statements(
    prefix: str, regions: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    functions = regional_arns("lambda", regions, f"function:{prefix}-*", f"function:{prefix}-*:*")
    return [
        statement("LambdaOwnFunctions", LAMBDA_FUNCTION_ACTIONS, functions, condition),
        *tag_statements("Lambda", "lambda", functions, owner_tags, in_regions),
    ]


def ecs_statements(
    prefix: str, regions: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    clusters = regional_arns("ecs", regions, f"cluster/{prefix}-*")
    services = regional_arns("ecs", regions, f"service/{prefix}-*/*")
    definitions = regional_arns("ecs", regions, f"task-definition/{prefix}-*:*")
    tasks = regional_arns("ecs", regions, f"task/{prefix}-*/*")
    return [
        statement("EcsOwnClusters", ECS_CLUSTER_ACTIONS, clusters, condition),
        statement("EcsOwnServices", ECS_SERVICE_ACTIONS, services, condition),
        statement("EcsOwnTasks", ECS_TASK_ACTIONS, tasks, condition),
        statement("EcsOwnTaskDefinitions", ECS_TASK_DEFINITION_ACTIONS, definitions, condition),
        statement("EcsRunInOwnClusters", ECS_RUN_ACTIONS, definitions, {**condition, "ArnLike": {"ecs:cluster": clusters}}),
        *tag_statements("Ecs", "ecs", [*clusters, *services, *definitions, *tasks], owner_tags, in_regions),
        # Only into the student's own families, and only with the owner's tags.
        statement(
            "EcsRegisterOwnTagged",
            ("ecs:RegisterTaskDefinition",),
            definitions,
            {"StringEquals": {**in_regions, **request_tags}},
        ),
        statement("EcsList", ECS_LIST_ACTIONS, ["*"], condition),
    ]


def log_group_arns(prefix: str, regions: Sequence[str], streams: bool = True) -> list[str]:
    """Log groups `<prefix>-*` and those Lambda writes for the student's functions, with their streams
    (`group:*`) unless `streams` is False (a trailing `*` in the group name covers them too)."""
    groups = (f"log-group:{prefix}-*", f"log-group:/aws/lambda/{prefix}-*")
    if not streams:
        return regional_arns("logs", regions, *groups)
    return regional_arns("logs", regions, *(arn for group in groups for arn in (group, f"{group}:*")))


def logs_statements(
    prefix: str, regions: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    groups = log_group_arns(prefix, regions)
    return [
        statement("LogsOwnGroups", LOGS_GROUP_ACTIONS, groups, condition),
        *tag_statements("Logs", "logs", groups, owner_tags, in_regions),
        statement("LogsList", LOGS_LIST_ACTIONS, ["*"], condition),
    ]


def ec2_statements(
    regions: Sequence[str],
    owner_tags: Mapping[str, str],
    instance_types: Sequence[str],
    in_regions: dict[str, Any],
) -> list[dict]:
    condition = {"StringEquals": dict(in_regions)}
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in sorted(owner_tags.items())}
    networks = [
        *ec2_network_statements(regions, request_tags, resource_tags, in_regions),
        statement("Ec2Describe", EC2_DESCRIBE_ACTIONS, ["*"], condition),
    ]
    if not instance_types:
        return networks  # no allow-list, no launches
    instances = regional_arns("ec2", regions, "instance/*")
    launch_with = [f"arn:aws:ec2:{region}::image/*" for region in sorted(set(regions))]
    launch_with += regional_arns("ec2", regions, *(f"{kind}/*" for kind in EC2_LAUNCH_RESOURCES))
    return [
        # A launch is authorised on the instance only with the owner's tags and an allowed type.
        statement(
            "Ec2RunOwnInstances",
            ("ec2:RunInstances",),
            instances,
            {"StringEquals": {**in_regions, **request_tags, "ec2:InstanceType": sorted(set(instance_types))}},
        ),
        statement("Ec2RunWith", ("ec2:RunInstances",), launch_with, condition),
        # Tags are written only as part of the student's own launch, never on an existing resource.
        statement(
            "Ec2TagOnLaunch",
            ("ec2:CreateTags",),
            regional_arns("ec2", regions, *(f"{kind}/*" for kind in EC2_TAGGED_AT_LAUNCH)),
            {"StringEquals": {**in_regions, **request_tags, "ec2:CreateAction": "RunInstances"}},
        ),
        statement(
            "Ec2OwnInstances", EC2_OWN_INSTANCE_ACTIONS, instances, {"StringEquals": {**in_regions, **resource_tags}}
        ),
        *networks,
    ]


def ec2_network_statements(
    regions: Sequence[str], request_tags: dict[str, str], resource_tags: dict[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    """VPCs, subnets, route tables, internet gateways and security groups: each created (by its own
    create action, on its own kind only) with the owner's tags, tagged only then or while it is the
    owner's, and changed only while it carries the owner's tags. EC2 ARNs are ids, so an untagged
    network is nobody's: it is never claimable by tagging it."""
    kinds = regional_arns("ec2", regions, *(f"{kind}/*" for kind in EC2_NETWORK_CREATE))
    vpcs = regional_arns("ec2", regions, "vpc/*")
    own = {"StringEquals": {**in_regions, **resource_tags}}
    create_calls = sorted(action.split(":", 1)[1] for action in EC2_NETWORK_CREATE.values())  # API names
    groups = regional_arns("ec2", regions, "security-group/*")
    creates = [
        statement(
            f"Ec2Create{''.join(part.capitalize() for part in kind.split('-'))}Tagged",
            (action,),
            regional_arns("ec2", regions, f"{kind}/*"),
            {"StringEquals": {**in_regions, **request_tags}},
        )
        for kind, action in EC2_NETWORK_CREATE.items()
    ]
    return [
        *creates,
        statement("Ec2CreateInOwnVpc", EC2_CREATE_IN_OWN_VPC, vpcs, own),
        statement(
            "Ec2TagOnCreateNetwork",
            ("ec2:CreateTags",),
            kinds,
            {"StringEquals": {**in_regions, **request_tags, "ec2:CreateAction": create_calls}},
        ),
        statement("Ec2TagOwnNetwork", TAG_CHANGE_ACTIONS["ec2"], kinds, own),
        statement("Ec2OwnNetwork", EC2_OWN_NETWORK_ACTIONS, kinds, own),
        statement("Ec2OwnSecurityGroupRules", EC2_SECURITY_GROUP_RULE_ACTIONS, groups, own),
        # A rule is authorised on its group (above) and on itself; it belongs to that group.
        statement(
            "Ec2SecurityGroupRuleItself",
            EC2_SECURITY_GROUP_RULE_ACTIONS,
            regional_arns("ec2", regions, "security-group-rule/*"),
            {"StringEquals": dict(in_regions)},
        ),
    ]


def apigateway_arns(regions: Sequence[str], *paths: str) -> list[str]:
    """API Gateway ARNs carry no account: `arn:aws:apigateway:<region>::<path>`."""
    return [f"arn:aws:apigateway:{region}::{path}" for region in sorted(set(regions)) for path in paths]


def apigateway_statements(regions: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]) -> list[dict]:
    """HTTP and REST APIs: created only with the owner's tags, then used (with their routes,
    integrations, stages and deployments) only while they carry them; tags changed only on them."""
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in sorted(owner_tags.items())}
    collections = apigateway_arns(regions, *APIGATEWAY_COLLECTIONS)
    owned = apigateway_arns(regions, *(f"{path}/*" for path in APIGATEWAY_COLLECTIONS))
    own = {"StringEquals": {**in_regions, **resource_tags}}
    return [
        statement("ApigatewayCreateTagged", ("apigateway:POST",), collections, {"StringEquals": {**in_regions, **request_tags}}),
        statement("ApigatewayOwnTagged", APIGATEWAY_VERBS, owned, own),
        statement("ApigatewayTagOwn", TAG_CHANGE_ACTIONS["apigateway"], apigateway_arns(regions, "/tags/*"), own),
        statement("ApigatewayList", ("apigateway:GET",), collections, {"StringEquals": dict(in_regions)}),
    ]


def cloudwatch_statements(
    prefix: str, regions: Sequence[str], owner_tags: Mapping[str, str], in_regions: dict[str, Any]
) -> list[dict]:
    """Alarms `<prefix>-*` whose actions, if any, only notify the student's own topics `<prefix>-*`
    (no EC2 stop/terminate or Systems Manager actions: they would reach other students' resources)."""
    condition = {"StringEquals": dict(in_regions)}
    alarms = regional_arns("cloudwatch", regions, f"alarm:{prefix}-*")
    own_topics = regional_arns("sns", regions, f"{prefix}-*")
    return [
        statement(
            "CloudwatchPutOwnAlarms",
            ("cloudwatch:PutMetricAlarm",),
            alarms,
            {**condition, "ForAllValues:StringLike": {"cloudwatch:AlarmActions": own_topics}},
        ),
        statement("CloudwatchOwnAlarms", CLOUDWATCH_ALARM_ACTIONS, alarms, condition),
        *tag_statements("Cloudwatch", "cloudwatch", alarms, owner_tags, in_regions),
        statement("CloudwatchList", CLOUDWATCH_LIST_ACTIONS, ["*"], condition),
    ]


def rds_classes(instance_types: Sequence[str]) -> list[str]:
    """The DB instance classes a student may run: the lab's `db.*` instance types, else small ones."""
    return sorted({t for t in instance_types if t.startswith("db.")} or set(RDS_SMALL_CLASSES))


def rds_statements(
    prefix: str,
    regions: Sequence[str],
    owner_tags: Mapping[str, str],
    instance_types: Sequence[str],
    in_regions: dict[str, Any],
) -> list[dict]:
    """Instances, snapshots and subnet groups `<prefix>-*`; instances only of small classes and with
    bounded storage, whether created or modified."""
    condition = {"StringEquals": dict(in_regions)}
    instances = regional_arns("rds", regions, f"db:{prefix}-*")
    owned = regional_arns("rds", regions, f"db:{prefix}-*", f"snapshot:{prefix}-*", f"subgrp:{prefix}-*")
    referenced = regional_arns("rds", regions, *RDS_REFERENCED)
    classes = rds_classes(instance_types)
    return [
        statement(
            "RdsCreateOwnSmallInstances",
            ("rds:CreateDBInstance",),
            [*instances, *referenced],
            {
                "StringEquals": {**in_regions, "rds:DatabaseClass": classes},
                "NumericLessThanEquals": {"rds:StorageSize": RDS_MAX_STORAGE_GB},
            },
        ),
        # A modification names the class and storage only when it changes them.
        statement(
            "RdsModifyOwnInstances",
            ("rds:ModifyDBInstance",),
            [*instances, *referenced],
            {
                **condition,
                "StringEqualsIfExists": {"rds:DatabaseClass": classes},
                "NumericLessThanEqualsIfExists": {"rds:StorageSize": RDS_MAX_STORAGE_GB},
            },
        ),
        statement("RdsOwn", RDS_OWN_ACTIONS, owned, condition),
        *tag_statements("Rds", "rds", owned, owner_tags, in_regions),
        statement("RdsList", RDS_LIST_ACTIONS, ["*"], condition),
    ]


def kms_scope(services: Sequence[str], regions: Sequence[str]) -> dict[str, Any]:
    """The condition that limits KMS to the AWS managed keys of the lab's services, used through them."""
    via = sorted({KMS_MANAGED_KEYS[s][0] for s in services if s in KMS_MANAGED_KEYS})
    if not via:
        raise ValueError(
            "service 'kms' is granted only through the AWS managed key of another lab service "
            f"({', '.join(sorted(KMS_MANAGED_KEYS))})"
        )
    aliases = sorted({KMS_MANAGED_KEYS[s][1] for s in services if s in KMS_MANAGED_KEYS})
    return {
        "StringEquals": {
            "aws:RequestedRegion": sorted(set(regions)),
            "kms:ViaService": [f"{service}.{region}.amazonaws.com" for service in via for region in sorted(set(regions))],
        },
        "ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases},
    }


def kms_statements(services: Sequence[str], regions: Sequence[str], in_regions: dict[str, Any]) -> list[dict]:
    """Encryption with the lab services' AWS managed keys, only as those services call KMS for the
    student (an encrypted RDS instance, say); no key is created, administered or used directly."""
    keys = regional_arns("kms", regions, "key/*")
    return [
        statement("KmsViaLabServices", KMS_VIA_ACTIONS, keys, kms_scope(services, regions)),
        statement("KmsList", KMS_LIST_ACTIONS, ["*"], {"StringEquals": dict(in_regions)}),
    ]


def cloudformation_types(services: Sequence[str]) -> list[str]:
    types = sorted({t for s in services for t in CLOUDFORMATION_TYPES.get(s, ())})
    if not types:
        raise ValueError(
            "service 'cloudformation' needs another lab service whose resources its templates declare "
            f"({', '.join(sorted(CLOUDFORMATION_TYPES))})"
        )
    return types


def cloudformation_statements(
    prefix: str, services: Sequence[str], regions: Sequence[str], in_regions: dict[str, Any]
) -> list[dict]:
    """Stacks `<prefix>-*`, run with the student's own rights: no service role (`cloudformation:RoleArn`
    must be absent; iam:PassRole is never granted to CloudFormation), and templates declaring only
    resource types of the lab's other services, each then authorised against the student's policy."""
    condition = {"StringEquals": dict(in_regions)}
    stacks = regional_arns("cloudformation", regions, f"stack/{prefix}-*/*")
    return [
        statement(
            "CloudformationWriteOwnStacks",
            CLOUDFORMATION_WRITE_ACTIONS,
            stacks,
            {
                **condition,
                # ForAllValues holds vacuously on a request without the key: require it.
                "Null": {"cloudformation:RoleArn": "true", "cloudformation:ResourceTypes": "false"},
                "ForAllValues:StringLike": {"cloudformation:ResourceTypes": cloudformation_types(services)},
            },
        ),
        statement("CloudformationOwnStacks", CLOUDFORMATION_STACK_ACTIONS, stacks, condition),
        statement("CloudformationList", CLOUDFORMATION_LIST_ACTIONS, ["*"], condition),
    ]


def role_passed_to(services: Sequence[str]) -> list[str]:
    return sorted(ROLE_SERVICES[s] for s in services if s in ROLE_SERVICES)


def role_statements(prefix: str, services: Sequence[str], boundary: str, role_policies: Sequence[str]) -> list[dict]:
    """Roles `<prefix>-*` for the student's code (AWS's delegation pattern): created and written only
    while `iam:PermissionsBoundary` is the student's own boundary, managed policies attached only from
    the lab's `role_policies`, passed only to the lab's compute services. IAM is global, so these
    statements carry no region condition."""
    roles = own_roles(prefix)
    with_boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary}}
    writes = [a for a in IAM_ROLE_WRITE_ACTIONS if a not in IAM_ROLE_ATTACH_ACTIONS]
    statements = [statement("IamOwnRolesWithBoundary", writes, roles, with_boundary)]
    if role_policies:
        attach = {"StringEquals": {**with_boundary["StringEquals"]}, "ArnEquals": {"iam:PolicyARN": sorted(role_policies)}}
        statements.append(statement("IamAttachLabRolePolicies", IAM_ROLE_ATTACH_ACTIONS, roles, attach))
    passed_to = {"StringEquals": {"iam:PassedToService": role_passed_to(services)}}
    return [
        *statements,
        statement("IamOwnRoles", IAM_ROLE_OTHER_ACTIONS, roles, {}),
        statement("IamPassOwnRoles", ("iam:PassRole",), roles, passed_to),
    ]


def role_denials(boundary: str, role_policies: Sequence[str]) -> list[dict]:
    """The explicit half of the delegation pattern: no role write unless the role keeps the student's
    boundary, no managed policy but the lab's, and no role under a path (its ARN would match
    `<prefix>-*` whatever its name, and the sweep would not find it)."""
    role_actions = (*IAM_ROLE_WRITE_ACTIONS, *IAM_ROLE_OTHER_ACTIONS, "iam:PassRole")
    statements = [
        deny("DenyRoleWritesWithoutOwnBoundary", IAM_ROLE_WRITE_ACTIONS, {"StringNotEquals": {"iam:PermissionsBoundary": boundary}}),
        deny("DenyRolesUnderAPath", role_actions, resources=[ROLES_UNDER_A_PATH]),
    ]
    if role_policies:
        statements.append(deny("DenyOtherRolePolicies", IAM_ROLE_ATTACH_ACTIONS, {"ArnNotEquals": {"iam:PolicyARN": sorted(role_policies)}}))
    else:
        statements.append(deny("DenyOtherRolePolicies", IAM_ROLE_ATTACH_ACTIONS))
    return statements


def tag_scoped_statements(
    service: str,
    prefix: str,
    regions: Sequence[str],
    owner_tags: Mapping[str, str],
    in_regions: dict[str, Any],
) -> list[dict]:
    """Queues and topics `<prefix>-*` (their ARNs end with the name), created only with the owner's
    tags and used only while they carry them."""
    actions = TAG_SCOPED[service]
    sid = service.capitalize()
    named = regional_arns(service, regions, f"{prefix}-*")
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in sorted(owner_tags.items())}
    return [
        statement(f"{sid}CreateTagged", actions.create, named, {"StringEquals": {**in_regions, **request_tags}}),
        statement(f"{sid}OwnTagged", actions.manage, named, {"StringEquals": {**in_regions, **resource_tags}}),
        *tag_statements(sid, service, named, owner_tags, in_regions),
    ]


def check_services(services: Sequence[str]) -> list[str]:
    """The lab's services, lowercased and sorted; ValueError for IAM-like or unscoped services."""
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
    return wanted


def check_role_services(services: Sequence[str]) -> None:
    """A role's rights are capped by the boundary alone (its policies are the student's to write), so
    a lab with roles may not have a service the boundary caps only by region: EC2."""
    unscoped = sorted(ROLES_NEED_BOUNDARY_SCOPE & set(services))
    if ROLE_SERVICES.keys() & set(services) and unscoped:
        raise ValueError(
            f"service {unscoped[0]!r} cannot share a shared-account lab with lambda or ecs: the student's "
            "roles would get every EC2 action in the region (give the lab its own account)"
        )


def student_identity_policy(
    prefix: str,
    services: Sequence[str],
    regions: Sequence[str],
    owner_tags: Mapping[str, str] | None = None,
    instance_types: Sequence[str] = (),
    boundary: str | None = None,
    role_policies: Sequence[str] = (),
) -> dict:
    """The IAM policy document for the sandbox user of the student whose names start with `prefix`.

    `owner_tags` (cohort and student tags) are required: every service's tagging is scoped by them
    and the policy denies `labctl:*` tag changes with other values. `instance_types` is the EC2
    allow-list: without one, EC2 has networks but no launches; its `db.*` entries, if any, replace
    the small RDS classes a student may run. `boundary` (the ARN of the
    student's boundary, see `boundary_arn`) is required when the lab uses Lambda or ECS, whose roles
    must carry it; `role_policies` are the managed policy ARNs those roles may have attached.
    Raises ValueError for IAM-like services, for services with no scope yet and for missing inputs.
    """
    if not prefix:
        raise ValueError("a student policy needs the student prefix")
    if not regions:
        raise ValueError("a student policy needs at least one region")
    wanted = check_services(services)
    for service in wanted:
        if service in NEEDS_OWNER_TAGS and not owner_tags:
            raise ValueError(f"service {service!r} is scoped by owner tags: pass owner_tags")
    if owner_tags is not None and STUDENT_TAG_KEY not in owner_tags:
        raise ValueError(f"owner_tags must include {STUDENT_TAG_KEY}")
    if ROLE_SERVICES.keys() & set(wanted) and not boundary:
        raise ValueError("lambda and ecs need the boundary ARN: the student's roles must carry it")
    in_regions = {"aws:RequestedRegion": sorted(set(regions))}
    owner = dict(owner_tags or {})
    statements: list[dict] = []
    for service in wanted:
        if service == "s3":
            statements += s3_statements(prefix, in_regions)
        elif service == "dynamodb":
            statements += dynamodb_statements(prefix, regions, owner, in_regions)
        elif service == "lambda":
            statements += lambda_statements(prefix, regions, owner, in_regions)
        elif service == "logs":
            statements += logs_statements(prefix, regions, owner, in_regions)
        elif service == "ecs":
            statements += ecs_statements(prefix, regions, owner, in_regions)
        elif service == "ec2":
            statements += ec2_statements(regions, owner, instance_types, in_regions)
        elif service == "apigateway":
            statements += apigateway_statements(regions, owner, in_regions)
        elif service == "cloudwatch":
            statements += cloudwatch_statements(prefix, regions, owner, in_regions)
        elif service == "rds":
            statements += rds_statements(prefix, regions, owner, instance_types, in_regions)
        elif service == "kms":
            statements += kms_statements(wanted, regions, in_regions)
        elif service == "cloudformation":
            statements += cloudformation_statements(prefix, wanted, regions, in_regions)
        else:
            statements += tag_scoped_statements(service, prefix, regions, owner, in_regions)
    if boundary and ROLE_SERVICES.keys() & set(wanted):
        statements += role_statements(prefix, wanted, boundary, role_policies)
        statements += role_denials(boundary, role_policies)
    statements += labctl_tag_denials(owner)
    return {"Version": POLICY_VERSION, "Statement": statements}


def boundary_scope(service: str, prefix: str) -> tuple[list[str], tuple[str, ...]]:
    """(the service's resources the student may own, the list actions AWS only authorises on `*`).

    Services whose ARNs carry the resource name are capped at the student's names; EC2 is not (its
    ARNs are ids), so the boundary caps it by region. API Gateway and KMS have caps of their own
    (see `boundary_statements`). The services with resource policies keep no list action: the
    boundary denies them everything outside the student's names (see `RESOURCE_POLICY_SERVICES`).
    The ARNs leave the region open (`*`): every cap is conditioned on `aws:RequestedRegion` already,
    and spelling each region out would double the boundary per region (see `BOUNDARY_REGIONS`).
    """
    if service == "s3":
        return [f"arn:aws:s3:::{prefix}-*"], ()  # objects too: `*` spans the `/`
    if service == "dynamodb":
        return regional_arns("dynamodb", BOUNDARY_REGIONS, f"table/{prefix}-*"), ()
    if service == "lambda":
        return regional_arns("lambda", BOUNDARY_REGIONS, f"function:{prefix}-*"), ()
    if service == "logs":
        return log_group_arns(prefix, BOUNDARY_REGIONS, streams=False), LOGS_LIST_ACTIONS
    if service == "ecs":
        owned = regional_arns(
            "ecs", BOUNDARY_REGIONS, f"cluster/{prefix}-*", f"service/{prefix}-*", f"task/{prefix}-*",
            f"task-definition/{prefix}-*",
        )
        return owned, ECS_LIST_ACTIONS
    if service == "cloudwatch":
        return regional_arns("cloudwatch", BOUNDARY_REGIONS, f"alarm:{prefix}-*"), CLOUDWATCH_LIST_ACTIONS
    if service == "rds":
        # RDS ARNs are `<kind>:<name>`: instances, snapshots, subnet groups... of the student's names.
        return regional_arns("rds", BOUNDARY_REGIONS, f"*:{prefix}-*"), RDS_LIST_ACTIONS
    if service == "cloudformation":
        return regional_arns("cloudformation", BOUNDARY_REGIONS, f"stack/{prefix}-*"), CLOUDFORMATION_LIST_ACTIONS
    if service in TAG_SCOPED:
        return regional_arns(service, BOUNDARY_REGIONS, f"{prefix}-*"), ()
    return ["*"], ()


# Services capped by statements of their own rather than by `boundary_scope`.
CAPPED_APART = frozenset({"kms", "apigateway"})


def boundary_apigateway_statements(owner_tags: Mapping[str, str], in_regions: dict[str, Any]) -> list[dict]:
    """API Gateway's ARNs are ids, so its cap is its grant's: APIs created with the owner's tags and
    used (with their children and tags) only while they carry them. A student's role is capped by the
    boundary alone, so a cap by path would let it change every student's API."""
    regions = in_regions["StringEquals"]
    request_tags = {f"aws:RequestTag/{k}": v for k, v in sorted(owner_tags.items())}
    resource_tags = {f"aws:ResourceTag/{k}": v for k, v in sorted(owner_tags.items())}
    collections = apigateway_arns(BOUNDARY_REGIONS, *APIGATEWAY_COLLECTIONS)
    owned = apigateway_arns(BOUNDARY_REGIONS, *(f"{path}/*" for path in APIGATEWAY_COLLECTIONS), "/tags/*")
    return [
        statement("ApigatewayCreateCap", ("apigateway:POST",), collections, {"StringEquals": {**regions, **request_tags}}),
        statement("ApigatewayOwnCap", APIGATEWAY_VERBS, owned, {"StringEquals": {**regions, **resource_tags}}),
        statement("ApigatewayListCap", ("apigateway:GET",), collections, in_regions),
    ]


def boundary_statements(
    services: Sequence[str], prefix: str, regions: Sequence[str], owner_tags: Mapping[str, str]
) -> list[dict]:
    """The boundary's caps: every action of the lab's services (`<service>:*`, a boundary grants
    nothing) on what the student may own, in the regions. The services whose ARNs name the student's
    resources share one statement (an action is only ever authorised on its own service's ARNs), EC2
    and the list actions AWS only authorises on `*` share one on `*`; KMS and API Gateway are capped
    as tightly as they are granted."""
    in_regions = {"StringEquals": {"aws:RequestedRegion": sorted(set(regions))}}
    capped = [s for s in services if s not in CAPPED_APART]
    scoped = [s for s in capped if boundary_scope(s, prefix)[0] != ["*"]]
    unscoped = [s for s in capped if s not in scoped]
    listing = {a for s in services for a in boundary_scope(s, prefix)[1]}
    listing |= set(KMS_LIST_ACTIONS if "kms" in services else ())
    statements = []
    if scoped:
        owned = [arn for service in scoped for arn in boundary_scope(service, prefix)[0]]
        statements.append(statement("OwnResourcesCap", [f"{s}:*" for s in scoped], owned, in_regions))
    if unscoped or listing:
        any_resource = sorted({*(f"{s}:*" for s in unscoped), *listing})
        statements.append(statement("AnyResourceCap", any_resource, ["*"], in_regions))
    if "apigateway" in services:
        statements += boundary_apigateway_statements(owner_tags, in_regions)
    if "rds" in services:
        # A new or modified instance also names option, parameter and subnet groups (the defaults).
        referenced = regional_arns("rds", BOUNDARY_REGIONS, *RDS_REFERENCED)
        statements.append(
            statement("RdsReferencedGroupsCap", ("rds:CreateDBInstance", "rds:ModifyDBInstance"), referenced, in_regions)
        )
    if "kms" in services:
        # The identity policy names each `<service>.<region>.amazonaws.com`; the region is capped here already.
        scope = kms_scope(services, regions)
        via = sorted({f"{v.split('.', 1)[0]}.*.amazonaws.com" for v in scope["StringEquals"].pop("kms:ViaService")})
        keys = regional_arns("kms", BOUNDARY_REGIONS, "key/*")
        statements.append(statement("KmsCap", KMS_VIA_ACTIONS, keys, {**scope, "StringLike": {"kms:ViaService": via}}))
    return statements


def resource_policy_denial(services: Sequence[str], prefix: str) -> list[dict]:
    """Every action of every service with resource policies, denied outside the student's own names
    (everywhere, for the services the lab does not have): no peer's bucket, queue, topic, function or
    table policy can widen the student, even naming them or `*`."""
    actions = [f"{s}:*" for s in sorted(RESOURCE_POLICY_SERVICES)]
    own = [arn for service in sorted(RESOURCE_POLICY_SERVICES & set(services)) for arn in boundary_scope(service, prefix)[0]]
    if not own:
        return [deny("DenyOutsideOwnResources", actions)]
    return [deny_outside("DenyOutsideOwnResources", actions, own)]


def boundary_tag_actions(services: Sequence[str]) -> list[str]:
    """The tagging APIs the boundary lets through, so the ones its `labctl:*` denials must cover: the
    lab services', and the role tagging when the lab has roles. Every other tagging API is outside
    its caps (or, for users and policies, denied outright)."""
    changes = [a for service in services for a in TAG_CHANGE_ACTIONS.get(service, ())]
    if ROLE_SERVICES.keys() & set(services):
        changes += ["iam:TagRole", "iam:UntagRole"]
    return changes


def boundary_create_actions(services: Sequence[str]) -> list[str]:
    """The create calls taking tags that the boundary lets through (role creation with the roles)."""
    creates = [a for service in services for a in TAG_ON_CREATE_ACTIONS.get(service, ())]
    if ROLE_SERVICES.keys() & set(services):
        creates += TAG_ON_CREATE_ACTIONS["iam"]
    return creates


def student_boundary_policy(
    prefix: str,
    services: Sequence[str],
    regions: Sequence[str],
    owner_tags: Mapping[str, str],
    role_policies: Sequence[str] = (),
) -> dict:
    """The permissions boundary for the student whose names start with `prefix`: a cap, not a grant.

    Allows at most the lab's services in the lab's regions, on the student's own names where the
    service can say so, and roles `<prefix>-*` when the lab runs code under roles, under AWS's
    delegation pattern (see `role_statements` and `role_denials`): every role the student writes keeps
    this very boundary, so the cap re-imposes itself on whatever runs as those roles. Denies IAM
    user/policy/boundary management, role assumption and Organizations/account actions outright,
    everything outside the student's names on services with resource policies, and `labctl:*` tag
    changes other than writing the owner's own values (`owner_tags`: cohort and student).
    It is one managed policy, so it must fit `MANAGED_POLICY_MAX_CHARS` (ValueError otherwise: every
    catalog lab fits with room to spare): caps are service-wide (`<service>:*`) and share statements
    (see `boundary_statements`), the unconditional denials share one, and the `labctl:*` denials
    cover the tagging APIs the caps let through (see `boundary_tag_actions`).
    """
    if not prefix:
        raise ValueError("a boundary needs the student prefix")
    if STUDENT_TAG_KEY not in owner_tags or COHORT_TAG_KEY not in owner_tags:
        raise ValueError(f"a boundary needs the owner tags, {COHORT_TAG_KEY} and {STUDENT_TAG_KEY} included")
    if not regions:
        raise ValueError("a boundary needs at least one region")
    wanted = check_services(services)
    check_role_services(wanted)
    statements = boundary_statements(wanted, prefix, regions, owner_tags)
    if ROLE_SERVICES.keys() & set(wanted):
        boundary = boundary_arn(owner_tags[COHORT_TAG_KEY], prefix)
        # The cap names the role actions once; the denials below carry the delegation's conditions.
        role_actions = (*IAM_ROLE_WRITE_ACTIONS, *IAM_ROLE_OTHER_ACTIONS)
        passed_to = {"StringEquals": {"iam:PassedToService": role_passed_to(wanted)}}
        statements.append(statement("IamOwnRolesCap", role_actions, own_roles(prefix), {}))
        statements.append(statement("IamPassOwnRolesCap", ("iam:PassRole",), own_roles(prefix), passed_to))
        statements += role_denials(boundary, role_policies)
    statements += resource_policy_denial(wanted, prefix)
    statements.append(deny("DenyIamSelfManagementAndAccount", (*IAM_SELF_MANAGEMENT_PATTERNS, *ACCOUNT_ACTIONS)))
    statements += labctl_tag_denials(owner_tags, boundary_tag_actions(wanted), boundary_create_actions(wanted))
    document = {"Version": POLICY_VERSION, "Statement": statements}
    if policy_size(document) > MANAGED_POLICY_MAX_CHARS:
        raise ValueError(
            f"the boundary for services {', '.join(wanted)} is {policy_size(document)} characters, more than "
            f"the {MANAGED_POLICY_MAX_CHARS} of an IAM managed policy: give the lab fewer services"
        )
    return document


# The longest names a cohort can give a student (cohort slug 24, student slug 20 characters): the
# documents' sizes grow with them, so a lab fits IAM's limits for every student once it fits for these.
LONGEST_COHORT, LONGEST_STUDENT = "c" * 24, "s" * 20


def check_aws_environment(
    services: Sequence[str], regions: Sequence[str], instance_types: Sequence[str] = (), role_policies: Sequence[str] = ()
) -> None:
    """ValueError when no student could get this lab's AWS sandbox: services never granted or not yet
    scoped, EC2 beside roles, or documents beyond IAM's size limits even for the longest names."""
    prefix = f"{LONGEST_COHORT}-{LONGEST_STUDENT}"
    owner = {COHORT_TAG_KEY: LONGEST_COHORT, STUDENT_TAG_KEY: LONGEST_STUDENT}
    identity = student_identity_policy(
        prefix, services, regions, owner, instance_types, boundary_arn(LONGEST_COHORT, prefix), role_policies
    )
    split_identity_policy(identity)
    student_boundary_policy(prefix, services, regions, owner, role_policies)


def check_lab_sandbox(spec: LabSpec, where: str) -> None:
    """InputError at `where` (the lab's file) when the lab's AWS environment cannot be a sandbox."""
    aws = spec.environment.aws if spec.environment else None
    if aws is None:
        return
    try:
        check_aws_environment(aws.services, aws.regions, aws.instance_types, aws.role_policies)
    except ValueError as exc:
        raise InputError(f"environment.aws: lab {spec.id}: {exc}", where) from None


def policy_json(document: Mapping[str, Any]) -> str:
    """The document as IAM receives it from labctl: compact JSON with sorted keys."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def policy_size(document: Mapping[str, Any]) -> int:
    """The size IAM holds against its limits: the JSON's characters, whitespace not counted."""
    return sum(not char.isspace() for char in policy_json(document))


def split_identity_policy(
    document: Mapping[str, Any],
    max_chars: int = MANAGED_POLICY_MAX_CHARS,
    max_documents: int = IDENTITY_DOCUMENTS_MAX,
) -> list[dict]:
    """The identity policy's statements packed into as few managed policy documents as possible,
    each at most `max_chars` (IAM's size, see `policy_size`).

    First-fit decreasing: statements by size, largest first (ties in document order), each into the
    first document with room. Every statement keeps its Sid; inside a document the statements keep
    their original order, and the documents are ordered by their first statement, so the same
    policy always packs the same way. A Deny applies from whichever document holds it, since IAM
    evaluates all of a user's policies together.
    Raises ValueError when a statement alone is too large, or when more than `max_documents`
    documents would be needed (a user has at most 10 managed policies, one slot stays free).
    """
    statements = list(document["Statement"])
    sids = [s.get("Sid") for s in statements]
    if len(set(sids)) != len(sids) or None in sids:
        raise ValueError("every statement of an identity policy needs its own Sid to be split stably")
    empty = policy_size({"Version": document["Version"], "Statement": []})
    sizes = [policy_size(s) for s in statements]
    for sid, size in zip(sids, sizes):
        if empty + size > max_chars:
            raise ValueError(f"statement {sid!r} alone is {size} characters: no managed policy holds it ({max_chars})")
    bins: list[list[int]] = []
    used: list[int] = []
    for index in sorted(range(len(statements)), key=lambda i: (-sizes[i], i)):
        for slot, total in enumerate(used):
            if total + 1 + sizes[index] <= max_chars:  # one comma between statements
                bins[slot].append(index)
                used[slot] += 1 + sizes[index]
                break
        else:
            bins.append([index])
            used.append(empty + sizes[index])
    if len(bins) > max_documents:
        raise ValueError(
            f"the identity policy needs {len(bins)} managed policies of at most {max_chars} characters, more "
            f"than the {max_documents} a user may have with one attachment slot left free: give the lab "
            "fewer services or regions"
        )
    ordered = sorted((sorted(indexes) for indexes in bins), key=lambda indexes: indexes[0])
    return [{"Version": document["Version"], "Statement": [statements[i] for i in indexes]} for indexes in ordered]
