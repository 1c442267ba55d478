"""The red-team lab's deliberately insecure starting state, applied once per student at provisioning.

It builds a working static app that is wide open: bucket `<prefix>-app` serving index.html with a
bucket policy that grants `s3:*` to everyone plus a wildcard `"Action": "*"` statement for any AWS
principal, and security group `<prefix>-app` (in VPC `<prefix>-app-vpc`) that lets all traffic in
from 0.0.0.0/0 and ::/0. The student's job is to close every hole without breaking the app.
The VPC and the group carry the student's `labctl:cohort`, `labctl:student` and `labctl:lab` tags
from their creation: the student's EC2 rights reach only networks tagged as theirs.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python setup.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

LAB = "redteam-fix"

INDEX_HTML = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>{student}'s app</title></head>
  <body><h1>Hello from {student}</h1><p>Internal launch page. Do not break me.</p></body>
</html>
"""


def insecure_policy(bucket: str) -> dict:
    """Wide open to the world, on purpose. Not to the other students of the account: every student's
    boundary denies S3 outside their own names, which no bucket policy can override."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicEverything",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            },
            {
                "Sid": "LegacyAdminAccess",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "*",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
        ],
    }


def ensure_bucket(s3, bucket: str) -> None:
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise
    region = s3.meta.region_name
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=bucket)


def owner_tags(prefix: str, student: str) -> list[dict[str, str]]:
    """The student's labctl tags; the cohort is the prefix without `-<student>` (prefix = `<cohort>-<student>`)."""
    if not prefix.endswith(f"-{student}"):
        raise ValueError(f"prefix {prefix!r} does not end with the student {student!r}")
    cohort = prefix.removesuffix(f"-{student}")
    return [
        {"Key": "labctl:cohort", "Value": cohort},
        {"Key": "labctl:student", "Value": student},
        {"Key": "labctl:lab", "Value": LAB},
    ]


def owned_filters(tags: list[dict[str, str]]) -> list[dict]:
    return [{"Name": f"tag:{t['Key']}", "Values": [t["Value"]]} for t in tags if t["Key"] != "labctl:lab"]


def ensure_group(ec2, prefix: str, tags: list[dict[str, str]]) -> str:
    """The app's VPC and security group, tagged for the student at creation. A rerun finds them by
    name among what already carries the student's own labctl tags, and never tags anything: a Name tag
    is free text any student may set, so a lookup by name alone would hand over someone else's VPC."""
    named = [{"Name": "tag:Name", "Values": [f"{prefix}-app-vpc"]}, *owned_filters(tags)]
    vpcs = ec2.describe_vpcs(Filters=named)["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_tags = [{"Key": "Name", "Value": f"{prefix}-app-vpc"}, *tags]
        vpc_id = ec2.create_vpc(
            CidrBlock="10.42.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": vpc_tags}]
        )["Vpc"]["VpcId"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [f"{prefix}-app"]}]
    )["SecurityGroups"]
    if groups:
        return groups[0]["GroupId"]
    return ec2.create_security_group(
        GroupName=f"{prefix}-app",
        Description="app servers",
        VpcId=vpc_id,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": tags}],
    )["GroupId"]


def setup(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    """Build (or restore) the insecure starting state; running it again converges on the same state."""
    s3 = session.client("s3", endpoint_url=endpoint_url)
    bucket = f"{prefix}-app"
    ensure_bucket(s3, bucket)
    s3.put_object(
        Bucket=bucket,
        Key="index.html",
        Body=INDEX_HTML.format(student=student).encode(),
        ContentType="text/html; charset=utf-8",
    )
    # New buckets block public policies on real AWS: lift the block so the insecure policy applies.
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": False,
            "IgnorePublicAcls": False,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": False,
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(insecure_policy(bucket)))

    ec2 = session.client("ec2", endpoint_url=endpoint_url)
    group_id = ensure_group(ec2, prefix, owner_tags(prefix, student))
    try:
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {
                    "IpProtocol": "-1",
                    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "temporary: open for the demo"}],
                    "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "temporary: open for the demo"}],
                }
            ],
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "InvalidPermission.Duplicate":
            raise


if __name__ == "__main__":
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    setup(
        boto3.Session(),
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ["LABCTL_PREFIX"],
        os.environ["LABCTL_STUDENT"],
    )
