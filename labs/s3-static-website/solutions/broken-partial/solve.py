"""A partial solution of s3-static-website: bucket, website hosting and the index page only.

It stops before the bucket policy, versioning and tags, so public-read, versioning and tags fail.
Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

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
