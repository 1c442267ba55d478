"""Facts about AWS APIs that both the student policies (components/) and the rules that check them
(policies/rules/) rely on, kept once so the two cannot drift apart."""

from __future__ import annotations

# IAM actions on a role the student's own code runs as (Lambda, ECS): the writes are granted only
# with the student's own boundary attached, the others on the student's own roles.
IAM_ROLE_WRITE_ACTIONS = (
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
)
# Attaching a managed policy also needs `iam:PolicyARN` among the lab's declared role policies.
IAM_ROLE_ATTACH_ACTIONS = ("iam:AttachRolePolicy",)
IAM_ROLE_OTHER_ACTIONS = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:UpdateAssumeRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:DeleteRole",
)


# The APIs that write or remove tags, per service. The sandbox grants them only on the student's own
# resources and denies them for labctl:* keys; the rules require exactly that.
TAG_CHANGE_ACTIONS = {
    # S3 removes bucket tags through PutBucketTagging too (DeleteBucketTagging is authorised as it),
    # and bucket tagging carries no aws:TagKeys: see UNCONDITIONAL_TAG_ACTIONS.
    "s3": ("s3:PutBucketTagging",),
    "dynamodb": ("dynamodb:TagResource", "dynamodb:UntagResource"),
    "lambda": ("lambda:TagResource", "lambda:UntagResource"),
    "ecs": ("ecs:TagResource", "ecs:UntagResource"),
    "sqs": ("sqs:TagQueue", "sqs:UntagQueue"),
    "sns": ("sns:TagResource", "sns:UntagResource"),
    "ec2": ("ec2:CreateTags", "ec2:DeleteTags"),
    "logs": ("logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup"),
    "cloudwatch": ("cloudwatch:TagResource", "cloudwatch:UntagResource"),
    "rds": ("rds:AddTagsToResource", "rds:RemoveTagsFromResource"),
    # API Gateway tags through its HTTP verbs on `/tags/<arn>`: PUT (v1) or POST (v2) adds, DELETE removes.
    "apigateway": ("apigateway:POST", "apigateway:PUT", "apigateway:DELETE"),
    "iam": ("iam:TagRole", "iam:UntagRole", "iam:TagUser", "iam:UntagUser", "iam:TagPolicy", "iam:UntagPolicy"),
}

# Create calls that take tags (and so carry `aws:TagKeys` and `aws:RequestTag`): a tagging path too,
# under the `labctl:student` denial of the tagging APIs. As Deny patterns they may cover more creates
# than take tags: a Deny conditioned on the request's tag keys refuses nothing else. EC2 and API
# Gateway tag at creation through their tagging actions (ec2:CreateTags, apigateway:POST).
TAG_ON_CREATE_ACTIONS = {
    "dynamodb": ("dynamodb:Create*",),
    "lambda": ("lambda:Create*",),
    "ecs": ("ecs:Create*", "ecs:RegisterTaskDefinition"),
    "sqs": ("sqs:Create*",),
    "sns": ("sns:Create*",),
    "logs": ("logs:Create*",),
    "cloudwatch": ("cloudwatch:PutMetricAlarm",),
    "rds": ("rds:Create*",),
    "cloudformation": ("cloudformation:Create*",),
    "iam": ("iam:CreateRole",),
}

# Tagging APIs whose requests carry no `aws:TagKeys` or `aws:RequestTag`: no condition can protect the
# labctl:* tags on them, so the student policies never grant them and the boundary denies them.
UNCONDITIONAL_TAG_ACTIONS = frozenset({"s3:PutBucketTagging"})

# Services whose resources carry resource-based policies (bucket, queue, topic, function and table
# policies). Within one account a resource policy naming a user grants it even where the user's
# permissions boundary is silent, so only an explicit Deny in the boundary keeps a peer's policy
# from widening a student.
RESOURCE_POLICY_SERVICES = frozenset({"s3", "sqs", "sns", "lambda", "dynamodb"})


# Service control policies (isolation mode `account`): the IAM action prefixes of each lab service,
# and what every student account needs whatever the lab. The SCP's allow-list is exactly these, and
# the rule that checks it (policies/rules/scp.py) compares against the same table.
SCP_SERVICE_PREFIXES = {
    "apigateway": ("apigateway", "execute-api"),
    "cloudwatch": ("cloudwatch",),
    "ecs": ("ecs", "ecr", "logs"),
    "lambda": ("lambda", "logs"),
}
SCP_ALWAYS_ALLOWED = ("iam:*", "sts:*", "tag:*", "budgets:View*", "ce:Get*", "support:*", "health:*")
"""Outside the lab's services, in every account: IAM (the boundary and the guardrail SCP protect
labctl's roles), STS, the tagging API, seeing one's own spend, support and health."""


def scp_service_actions(services: list[str] | tuple[str, ...]) -> list[str]:
    """`<prefix>:*` for each lab service's action prefixes, and the always-allowed actions, sorted."""
    prefixes = {p for service in services for p in SCP_SERVICE_PREFIXES.get(service, (service,))}
    return sorted({f"{p}:*" for p in prefixes} | set(SCP_ALWAYS_ALLOWED))
