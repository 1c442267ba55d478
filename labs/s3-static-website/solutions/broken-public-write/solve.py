"""A complete site whose bucket policy lets the world do anything: `s3:*` to principal `*`.

Every check passes (the wildcard covers s3:GetObject), but the no-public-write guard applies.
Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    s3 = session.client("s3", endpoint_url=endpoint_url)
    bucket = f"{prefix}-site"

    region = s3.meta.region_name
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=bucket)

    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "error.html"},
        },
    )
    s3.put_object(
        Bucket=bucket,
        Key="index.html",
        Body=f"<!doctype html><html><body><h1>Hello from {student}</h1></body></html>\n".encode(),
        ContentType="text/html",
    )
    s3.put_object(
        Bucket=bucket,
        Key="error.html",
        Body=b"<!doctype html><html><body><h1>Not found</h1></body></html>\n",
        ContentType="text/html",
    )

    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    # The mistake: "make it public" done with a wildcard instead of s3:GetObject.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "lab", "Value": "s3-static-website"}]})


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
