"""Reference solution of iam-function-role: a role only Lambda may assume, allowed exactly its logs and
one GetItem table.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def boundary_arn(account: str, prefix: str, student: str) -> str:
    """The permissions boundary `labctl student env` prints: /labctl/<cohort>/<prefix>-boundary."""
    cohort = prefix[: -len(student) - 1]
    return f"arn:aws:iam::{account}:policy/labctl/{cohort}/{prefix}-boundary"


def create_role(iam, role: str, account: str, prefix: str, student: str) -> None:
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(TRUST),
        PermissionsBoundary=boundary_arn(account, prefix, student),
        Description=f"execution role of {prefix}-fn",
    )


def permissions(region: str, account: str, prefix: str) -> dict:
    """The function's own log group, and GetItem on its one table."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{prefix}-fn:*",
            },
            {
                "Sid": "ReadOrders",
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-orders",
            },
        ],
    }


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    iam = session.client("iam", endpoint_url=endpoint_url)
    account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    region = session.region_name or "us-east-1"
    role = f"{prefix}-fn-role"
    create_role(iam, role, account, prefix, student)
    policy = permissions(region, account, prefix)
    iam.put_role_policy(RoleName=role, PolicyName="least-privilege", PolicyDocument=json.dumps(policy))


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
