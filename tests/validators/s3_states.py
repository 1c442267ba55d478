"""Student states for the S3 lab, built with boto3 the way students build them."""

from __future__ import annotations

import json
from typing import Iterable

from labctl.cohorts.cohort import Cohort, Student, Target, prefix_for

LAB = "s3-static-website"
ALL_PARTS = ("bucket", "website", "index", "policy", "versioning", "tags")


def public_policy(bucket: str, action: str | list[str] = "s3:GetObject") -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicRead",
                "Effect": "Allow",
                "Principal": "*",
                "Action": action,
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def deploy(
    s3,
    prefix: str,
    student: str,
    parts: Iterable[str] = ALL_PARTS,
    *,
    policy: dict | str | None = None,
    content_type: str = "text/html",
    body: str | None = None,
) -> str:
    """Build (part of) the lab's solution the way a student would; returns the bucket name."""
    parts = set(parts)
    bucket = f"{prefix}-site"
    if "bucket" not in parts:
        return bucket
    s3.create_bucket(Bucket=bucket)
    if "website" in parts:
        s3.put_bucket_website(
            Bucket=bucket,
            WebsiteConfiguration={
                "IndexDocument": {"Suffix": "index.html"},
                "ErrorDocument": {"Key": "error.html"},
            },
        )
    if "index" in parts:
        text = body if body is not None else f"<html><body><h1>Hello from {student}</h1></body></html>"
        s3.put_object(Bucket=bucket, Key="index.html", Body=text.encode(), ContentType=content_type)
    if "policy" in parts:
        document = policy if policy is not None else public_policy(bucket)
        s3.put_bucket_policy(
            Bucket=bucket, Policy=document if isinstance(document, str) else json.dumps(document)
        )
    if "versioning" in parts:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    if "tags" in parts:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "lab", "Value": LAB}]})
    return bucket


def make_cohort(name: str, slugs: Iterable[str], endpoint: str | None = None) -> Cohort:
    students = tuple(Student(s, s, s.title(), "", prefix_for(name, s)) for s in slugs)
    return Cohort(name, (LAB,), Target("emulator", endpoint, "us-east-1"), students)
