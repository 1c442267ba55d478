"""Reference solution of s3-static-website: everything the lab asks for, and nothing more.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3

INDEX_HTML = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>{student}'s site</title></head>
  <body><h1>Hello from {student}</h1><p>Served from S3 static website hosting.</p></body>
</html>
"""
ERROR_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Page not found</h1></body></html>
"""


def public_policy(bucket: str) -> dict:
    """Everyone may read the site's objects, and do nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadOfTheSite",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def publish(s3, bucket: str, student: str) -> None:
    """Website hosting and its two pages."""
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={
            "IndexDocument": {"Suffix": "index.html"},
            "ErrorDocument": {"Key": "error.html"},
        },
    )
    page = INDEX_HTML.format(student=student).encode()
    s3.put_object(Bucket=bucket, Key="index.html", Body=page, ContentType="text/html; charset=utf-8")
    s3.put_object(Bucket=bucket, Key="error.html", Body=ERROR_HTML.encode(), ContentType="text/html; charset=utf-8")


def open_to_readers(s3, bucket: str) -> None:
    # New buckets block public policies on real AWS; allow the policy, keep ACLs blocked.
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_policy(bucket)))


def version_and_tag(s3, bucket: str) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "lab", "Value": "s3-static-website"}]})


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    s3 = session.client("s3", endpoint_url=endpoint_url)
    bucket = f"{prefix}-site"

    # Outside us-east-1 S3 wants the bucket's region spelled out.
    region = s3.meta.region_name
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=bucket)

    publish(s3, bucket, student)
    open_to_readers(s3, bucket)
    version_and_tag(s3, bucket)


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
