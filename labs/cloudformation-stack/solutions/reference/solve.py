"""Reference solution of cloudformation-stack: a YAML template with a versioned, encrypted,
private bucket and its name as an output, deployed with termination protection.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A versioned, private artifacts bucket.
Resources:
  ArtifactsBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: PREFIX-artifacts
      VersioningConfiguration:
        Status: Enabled
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: AES256
      PublicAccessBlockConfiguration:
        BlockPublicAcls: true
        BlockPublicPolicy: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
Outputs:
  BucketName:
    Value: !Ref ArtifactsBucket
  BucketArn:
    Value: !GetAtt ArtifactsBucket.Arn
"""

TERMINATION_PROTECTION = True


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    cloudformation = session.client("cloudformation", endpoint_url=endpoint_url)
    cloudformation.create_stack(
        StackName=f"{prefix}-stack",
        TemplateBody=TEMPLATE.replace("PREFIX", prefix),
        EnableTerminationProtection=TERMINATION_PROTECTION,
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
