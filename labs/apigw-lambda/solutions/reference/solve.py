"""Reference solution of apigw-lambda: an HTTP API whose GET /orders route proxies to the function,
and a permission that lets only this API invoke it.

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


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"orders": []})}
'''
ROUTE_KEY = "GET /orders"
SOURCE_PATH = "/*/*/orders"  # any stage, any method, the /orders path
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


def create_function(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> str:
    """The function and its boundary-carrying role; returns the function ARN."""
    iam = session.client("iam", endpoint_url=endpoint_url)
    account = session.client("sts", endpoint_url=endpoint_url).get_caller_identity()["Account"]
    cohort = prefix[: -len(student) - 1]
    role = iam.create_role(
        RoleName=f"{prefix}-fn-role",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        PermissionsBoundary=f"arn:aws:iam::{account}:policy/labctl/{cohort}/{prefix}-boundary",
    )["Role"]
    lam = session.client("lambda", endpoint_url=endpoint_url)
    return lam.create_function(
        FunctionName=f"{prefix}-fn",
        Runtime="python3.12",
        Role=role["Arn"],
        Handler="app.handler",
        Code={"ZipFile": package()},
        MemorySize=128,
        Timeout=10,
    )["FunctionArn"]


def create_api(session: boto3.Session, endpoint_url: str | None, prefix: str, function_arn: str) -> str:
    """The HTTP API with its one route proxied to the function; returns the API id."""
    api = session.client("apigatewayv2", endpoint_url=endpoint_url)
    api_id = api.create_api(Name=f"{prefix}-api", ProtocolType="HTTP")["ApiId"]
    integration = api.create_integration(
        ApiId=api_id, IntegrationType="AWS_PROXY", IntegrationUri=function_arn, PayloadFormatVersion="2.0"
    )
    api.create_route(ApiId=api_id, RouteKey=ROUTE_KEY, Target=f"integrations/{integration['IntegrationId']}")
    api.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)
    return api_id


def grant_invoke(session: boto3.Session, endpoint_url: str | None, prefix: str, function_arn: str, api_id: str) -> None:
    """Let this API, and only its route, invoke the function."""
    region, account = function_arn.split(":")[3:5]
    session.client("lambda", endpoint_url=endpoint_url).add_permission(
        FunctionName=f"{prefix}-fn",
        StatementId="apigw-orders",
        Action="lambda:InvokeFunction",
        Principal="apigateway.amazonaws.com",
        SourceArn=f"arn:aws:execute-api:{region}:{account}:{api_id}{SOURCE_PATH}",
    )


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    function_arn = create_function(session, endpoint_url, prefix, student)
    api_id = create_api(session, endpoint_url, prefix, function_arn)
    grant_invoke(session, endpoint_url, prefix, function_arn, api_id)


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
