"""The bucket is created by hand (versioned) and the stack holds only a placeholder and a
hard-coded output: CloudFormation does not manage the bucket.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3

TEMPLATE = """\
Resources:
  Placeholder:
    Type: AWS::CloudFormation::WaitConditionHandle
Outputs:
  BucketName:
    Value: PREFIX-artifacts
"""


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    # The mistake: the bucket is made by hand and the stack only "documents" it.
    s3 = session.client("s3", endpoint_url=endpoint_url)
    s3.create_bucket(Bucket=f"{prefix}-artifacts")
    s3.put_bucket_versioning(Bucket=f"{prefix}-artifacts", VersioningConfiguration={"Status": "Enabled"})
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
