"""A JSON template that gets everything right and then adds a bucket policy letting anyone read
the artifacts.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3

TEMPLATE = json.dumps(
    {
        "Resources": {
            "ArtifactsBucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {
                    "BucketName": "PREFIX-artifacts",
                    "VersioningConfiguration": {"Status": "Enabled"},
                },
            },
            # The mistake: "so the build server can download" done with a public policy.
            "ArtifactsPolicy": {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "ArtifactsBucket"},
                    "PolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": "*",
                                "Action": "s3:GetObject",
                                "Resource": "arn:aws:s3:::PREFIX-artifacts/*",
                            }
                        ],
                    },
                },
            },
        },
        "Outputs": {"BucketName": {"Value": {"Ref": "ArtifactsBucket"}}},
    }
)


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
    cloudformation.create_stack(
        StackName=f"{prefix}-stack",
        TemplateBody=TEMPLATE.replace("PREFIX", prefix),
        EnableTerminationProtection=True,
        Tags=[{"Key": "lab", "Value": "cloudformation-stack"}],
    )
    cloudformation.get_waiter("stack_create_complete").wait(
        StackName=f"{prefix}-stack", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
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
