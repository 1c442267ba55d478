"""iam-function-role done the quick way: the policy copied from a tutorial, with `Resource: "*"`
for the logs and `dynamodb:*` on every table.

The role works, but logs-write, table-read and least-privilege fail: nothing is scoped to this
function's log group or table. Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and
LABCTL_STUDENT set:
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
    role = f"{prefix}-fn-role"

    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
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
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
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
