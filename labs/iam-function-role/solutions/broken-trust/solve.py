"""iam-function-role with a trust policy copied from an EC2 role (EC2 and Lambda may both assume it)
and the logs permission on every log group.

trust-lambda-only, logs-write and least-privilege fail; table-read passes. Run by hand with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    iam = session.client("iam", endpoint_url=endpoint_url)
    account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    cohort = prefix[: -len(student) - 1]
    region = session.region_name or "us-east-1"
    role = f"{prefix}-fn-role"

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(trust),
        PermissionsBoundary=f"arn:aws:iam::{account}:policy/labctl/{cohort}/{prefix}-boundary",
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account}:log-group:*",
            },
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-orders",
            },
        ],
    }
    iam.put_role_policy(RoleName=role, PolicyName="fn-access", PolicyDocument=json.dumps(policy))


if __name__ == "__main__":
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    solve(
        boto3.Session(),
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ["LABCTL_PREFIX"],
        os.environ["LABCTL_STUDENT"],
    )
