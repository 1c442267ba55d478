"""A common shortcut: the internet route goes into the VPC's main route table and no subnet gets
a table of its own, so both subnets (and every future one) are public.

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
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=named("internet-gateway", f"{prefix}-igw", prefix, student)
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.0.1.0/24",
        TagSpecifications=named("subnet", f"{prefix}-public", prefix, student),
    )
    ec2.create_subnet(
        VpcId=vpc_id,
        CidrBlock="10.0.2.0/24",
        TagSpecifications=named("subnet", f"{prefix}-private", prefix, student),
    )
    main = ec2.describe_route_tables(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}]
    )["RouteTables"][0]["RouteTableId"]
    # The mistake: the default route on the main table makes every subnet without a table public.
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)


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
