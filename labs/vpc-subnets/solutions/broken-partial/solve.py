"""A partial solution of vpc-subnets: the VPC, both subnets and their route tables, but no
internet gateway, so the public subnet cannot reach the internet.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


def named(resource_type: str, name: str, prefix: str, student: str) -> list[dict]:
    """A Name tag plus the labctl tags the sandbox requires when the resource is created."""
    cohort = prefix.removesuffix(f"-{student}")
    tags = {"Name": name, "labctl:cohort": cohort, "labctl:student": student, "labctl:lab": "vpc-subnets"}
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ec2 = session.client("ec2", endpoint_url=endpoint_url)
    vpc_id = ec2.create_vpc(
        CidrBlock="10.0.0.0/16", TagSpecifications=named("vpc", f"{prefix}-vpc", prefix, student)
    )["Vpc"]["VpcId"]
    for tier, cidr in (("public", "10.0.1.0/24"), ("private", "10.0.2.0/24")):
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            TagSpecifications=named("subnet", f"{prefix}-{tier}", prefix, student),
        )
        table = ec2.create_route_table(
            VpcId=vpc_id, TagSpecifications=named("route-table", f"{prefix}-rt", prefix, student)
        )["RouteTable"]["RouteTableId"]
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet["Subnet"]["SubnetId"])


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
