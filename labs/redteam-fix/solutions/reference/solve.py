"""Reference solution of redteam-fix: the public keeps s3:GetObject only, the security group keeps
HTTPS only. Applied on top of the lab's setup.py.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3


def app_group(ec2, prefix: str) -> str:
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{prefix}-app"]}])
    return groups["SecurityGroups"][0]["GroupId"]


def revoke_all_ingress(ec2, group_id: str) -> None:
    """Revoke every ingress rule the group has, whatever it is."""
    group = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]
    if group["IpPermissions"]:
        ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=group["IpPermissions"])


def https_from_anywhere() -> dict:
    return {
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https from anywhere"}],
        "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "https from anywhere (IPv6)"}],
    }


def read_only_policy(bucket: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadOfTheApp",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


def ingress() -> list[dict]:
    """What the app's group admits once fixed."""
    return [https_from_anywhere()]


def fix_bucket(s3, prefix: str) -> None:
    s3.put_bucket_policy(Bucket=f"{prefix}-app", Policy=read_only_policy(f"{prefix}-app"))


def fix_group(ec2, prefix: str) -> None:
    group_id = app_group(ec2, prefix)
    revoke_all_ingress(ec2, group_id)
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress())


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    fix_bucket(session.client("s3", endpoint_url=endpoint_url), prefix)
    fix_group(session.client("ec2", endpoint_url=endpoint_url), prefix)


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
