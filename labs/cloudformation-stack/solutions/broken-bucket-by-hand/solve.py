"""The bucket is created by hand (versioned) and the stack holds only a placeholder and a
hard-coded output: CloudFormation does not manage the bucket.

bucket-in-stack and versioning fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import boto3

from labctl.labs.solutions import reference, run_by_hand

PLACEHOLDER = """\
Resources:
  Placeholder:
    Type: AWS::CloudFormation::WaitConditionHandle
Outputs:
  BucketName:
    Value: PREFIX-artifacts
"""
stack_only = reference(__file__, TEMPLATE=PLACEHOLDER).solve


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    # The mistake: the bucket is made by hand and the stack only "documents" it.
    s3 = session.client("s3", endpoint_url=endpoint_url)
    s3.create_bucket(Bucket=f"{prefix}-artifacts")
    s3.put_bucket_versioning(Bucket=f"{prefix}-artifacts", VersioningConfiguration={"Status": "Enabled"})
    stack_only(session, endpoint_url, prefix, student)


if __name__ == "__main__":
    run_by_hand(solve)
