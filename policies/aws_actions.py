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
    "s3": ("s3:PutBucketTagging", "s3:DeleteBucketTagging"),
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
