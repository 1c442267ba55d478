"""iam-function-role with the right inline policy, plus an "admin" managed policy attached "to make it
work": a customer managed policy allowing Action "*" on Resource "*".

logs-write and table-read pass, least-privilege fails and the no-admin guard applies. Run by hand
with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
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
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(
        RoleName=role,
        AssumeRolePolicyDocument=json.dumps(trust),
        PermissionsBoundary=f"arn:aws:iam::{account}:policy/labctl/{cohort}/{prefix}-boundary",
    )
    scoped = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{prefix}-fn:*",
            },
            {
                "Effect": "Allow",
                "Action": "dynamodb:GetItem",
                "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{prefix}-orders",
            },
        ],
    }
    iam.put_role_policy(RoleName=role, PolicyName="scoped", PolicyDocument=json.dumps(scoped))
    # The mistake: a debugging shortcut that was never removed.
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName=f"{prefix}-admin", PolicyDocument=json.dumps(admin))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)


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
