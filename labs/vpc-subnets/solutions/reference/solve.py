"""Reference solution of vpc-subnets: a VPC, an internet gateway, a public and a private subnet,
each with its own route table.

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


def attach_gateway(ec2, vpc_id: str, prefix: str, student: str) -> str:
    igw_id = ec2.create_internet_gateway(
        TagSpecifications=named("internet-gateway", f"{prefix}-igw", prefix, student)
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    return igw_id


def route_to_internet(ec2, route_table: str, igw_id: str) -> None:
    ec2.create_route(RouteTableId=route_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)


def route_tables(ec2, vpc_id: str, igw_id: str, public: str, private: str, prefix: str, student: str) -> None:
    """Each subnet its own table: the public one routes to the internet, the private one does not."""
    public_rt = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=named("route-table", f"{prefix}-public-rt", prefix, student)
    )["RouteTable"]["RouteTableId"]
    route_to_internet(ec2, public_rt, igw_id)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=public)

    # The private table keeps only the implicit local route: nothing leaves the VPC from there.
    private_rt = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=named("route-table", f"{prefix}-private-rt", prefix, student)
    )["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=private)


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ec2 = session.client("ec2", endpoint_url=endpoint_url)
    vpc_id = ec2.create_vpc(
        CidrBlock="10.0.0.0/16", TagSpecifications=named("vpc", f"{prefix}-vpc", prefix, student)
    )["Vpc"]["VpcId"]
    igw_id = attach_gateway(ec2, vpc_id, prefix, student)
    public, private = (
        ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, TagSpecifications=named("subnet", f"{prefix}-{tier}", prefix, student)
        )["Subnet"]["SubnetId"]
        for tier, cidr in (("public", "10.0.1.0/24"), ("private", "10.0.2.0/24"))
    )
    route_tables(ec2, vpc_id, igw_id, public, private, prefix, student)


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
