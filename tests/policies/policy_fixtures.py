"""Hand-built resources in the shape of `labctl plan` JSON: one compliant student to plant violations in."""

from __future__ import annotations

import json
from typing import Any

COHORT, STUDENT, LAB = "c1", "s1", "s3-static-website"
PREFIX = f"{COHORT}-{STUDENT}"
BOUNDARY = "arn:aws:iam::123456789012:policy/labctl-student-boundary"


def tags(student: str = STUDENT, cohort: str = COHORT) -> dict[str, str]:
    return {"labctl:cohort": cohort, "labctl:student": student, "labctl:lab": LAB}


def urn(type_token: str, name: str, stack: str = f"{COHORT}.{STUDENT}") -> str:
    return f"urn:pulumi:{stack}::labctl::{type_token}::{name}"


def resource(type_token: str, logical_name: str, parent: str | None = None, /, **inputs: Any) -> dict[str, Any]:
    """A plan resource; `inputs` are camelCase wire names (so `name=` is the physical name)."""
    return {
        "type": type_token,
        "name": logical_name,
        "urn": urn(type_token, logical_name),
        "parent": parent,
        "inputs": inputs,
    }


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def student_resources(student: str = STUDENT, cohort: str = COHORT) -> list[dict[str, Any]]:
    """A student's S3 static-website sandbox that every rule accepts."""
    p = f"{cohort}-{student}"
    t = tags(student, cohort)
    sandbox = urn("labctl:aws:AwsSandbox", p)
    return [
        resource("labctl:aws:AwsSandbox", p),
        resource("pulumi:providers:aws", f"{p}-aws", sandbox, region="us-east-1"),
        resource("aws:iam/user:User", f"{p}-user", sandbox, name=f"{p}-user", tags=t, permissionsBoundary=BOUNDARY),
        resource("aws:iam/accessKey:AccessKey", f"{p}-key", sandbox, user=f"{p}-user"),
        resource(
            "aws:iam/userPolicy:UserPolicy",
            f"{p}-policy",
            sandbox,
            user=f"{p}-user",
            name=f"{p}-policy",
            policy=policy_doc(
                {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{p}-*", f"arn:aws:s3:::{p}-*/*"]},
                {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "ec2:Describe*"], "Resource": "*"},
            ),
        ),
        resource(
            "aws:budgets/budget:Budget",
            f"{p}-budget",
            sandbox,
            name=f"{p}-budget",
            budgetType="COST",
            limitAmount="10",
            limitUnit="USD",
            timeUnit="MONTHLY",
            tags=t,
        ),
        resource("aws:s3/bucketV2:BucketV2", f"{p}-site", sandbox, bucket=f"{p}-site", tags=t),
        resource(
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"{p}-site-pab",
            sandbox,
            bucket=f"{p}-site",
            blockPublicAcls=True,
            ignorePublicAcls=True,
            blockPublicPolicy=False,
            restrictPublicBuckets=False,
        ),
        resource(
            "aws:s3/bucketPolicy:BucketPolicy",
            f"{p}-site-policy",
            sandbox,
            bucket=f"{p}-site",
            policy=policy_doc(
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{p}-site/*"}
            ),
        ),
    ]


def plan(*students: tuple[str, list[dict[str, Any]]], cost: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "cohort": COHORT,
        "students": [
            {"student": s, "prefix": f"{COHORT}-{s}", "resources": rs} for s, rs in students
        ],
        "totals": {"students": len(students), "resources": sum(len(rs) for _, rs in students)},
    }
    if cost is not None:
        body["cost"] = cost
    return body
