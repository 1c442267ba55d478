"""Reference solution of lambda-function-config: role, function, environment, limits and a log group
whose events expire after 14 days.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile

import boto3

HANDLER = '''import json
import os


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"table": os.environ["TABLE_NAME"]})}
'''
ROLE_NAME = "{prefix}-fn-role"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def create_log_group(logs, function: str) -> None:
    """Created before the function runs, so Lambda never creates it with "never expire"."""
    logs.create_log_group(logGroupName=f"/aws/lambda/{function}")
    logs.put_retention_policy(logGroupName=f"/aws/lambda/{function}", retentionInDays=14)


def settings(prefix: str) -> dict:
    """The function's limits and environment (create_function's arguments beyond the code and role)."""
    return {
        "MemorySize": 256,
        "Timeout": 10,
        "Environment": {"Variables": {"TABLE_NAME": f"{prefix}-orders", "LOG_LEVEL": "INFO"}},
    }


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    iam = session.client("iam", endpoint_url=endpoint_url)
    lam = session.client("lambda", endpoint_url=endpoint_url)
    account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    cohort = prefix[: -len(student) - 1]
    function = f"{prefix}-fn"

    role = iam.create_role(
        RoleName=ROLE_NAME.format(prefix=prefix),
        AssumeRolePolicyDocument=json.dumps(TRUST),
        PermissionsBoundary=f"arn:aws:iam::{account}:policy/labctl/{cohort}/{prefix}-boundary",
    )["Role"]
    create_log_group(session.client("logs", endpoint_url=endpoint_url), function)
    lam.create_function(
        FunctionName=function,
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": package()},
        **settings(prefix),
    )


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
