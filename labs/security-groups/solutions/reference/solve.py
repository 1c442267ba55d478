"""Reference solution of security-groups: HTTPS from anywhere, SSH from the admin network only,
every rule described.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


def owned(resource_type: str, name: str, prefix: str, student: str) -> list[dict]:
    """A Name tag plus the labctl tags the sandbox requires when the resource is created."""
    cohort = prefix.removesuffix(f"-{student}")
    tags = {"Name": name, "labctl:cohort": cohort, "labctl:student": student, "labctl:lab": "security-groups"}
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def web_group(
    session: boto3.Session, endpoint_url: str | None, prefix: str, student: str
) -> tuple[object, str]:
    """A VPC of the student's own and the empty group {prefix}-web inside it."""
    ec2 = session.client("ec2", endpoint_url=endpoint_url)
    vpc_id = ec2.create_vpc(
        CidrBlock="10.20.0.0/16", TagSpecifications=owned("vpc", f"{prefix}-vpc", prefix, student)
    )["Vpc"]["VpcId"]
    group_id = ec2.create_security_group(
        GroupName=f"{prefix}-web",
        Description="web server",
        VpcId=vpc_id,
        TagSpecifications=owned("security-group", f"{prefix}-web", prefix, student),
    )["GroupId"]
    return ec2, group_id


def tcp(port: int, cidr: str, description: str | None = None) -> dict:
    source = {"CidrIp": cidr, **({"Description": description} if description else {})}
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [source]}


def ingress() -> list[dict]:
    """HTTPS from anywhere, SSH from the admin network, every rule described."""
    return [
        {
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https from anywhere"}],
            "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "https from anywhere (IPv6)"}],
        },
        tcp(22, "203.0.113.0/24", "ssh from the admin network"),
    ]


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ec2, group_id = web_group(session, endpoint_url, prefix, student)
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=ingress())


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
