"""Reference solution of s3-secure-bucket: SSE-KMS by default, public access blocked, versioning, and
one lifecycle rule that tiers objects and expires old versions.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3

RULE = {
    "ID": "tier-and-expire-old-versions",
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
}


ENCRYPTION = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}, "BucketKeyEnabled": True}]}
VERSIONING = "Enabled"


def block_public_access(s3, bucket: str) -> None:
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )


def add_lifecycle(s3, bucket: str) -> None:
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [RULE]})


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    s3 = session.client("s3", endpoint_url=endpoint_url)
    bucket = f"{prefix}-records"

    region = s3.meta.region_name
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=bucket)

    block_public_access(s3, bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration=ENCRYPTION)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": VERSIONING})
    add_lifecycle(s3, bucket)


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
