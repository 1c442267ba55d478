"""Collect a cohort's VPC networking once: one paginated describe per resource type.

VPCs, subnets, route tables, internet gateways and security groups of the region are described once
for the whole cohort and partitioned by owner (see validators.inventory.ec2): the `labctl:cohort` +
`labctl:student` tags decide first, then a `Name` tag or group name that starts with a graded
student's prefix, then the owning VPC. A failed describe or an unreachable endpoint propagates to
the runner: without one of these lists no networking check can be trusted.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from botocore.config import Config

from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.ec2 import (
    Ec2Inventory,
    Ec2Snapshot,
    InternetGateway,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from labctl.validators.netrules import rules_of

REQUEST_TIMEOUT_S = 5
COHORT_TAG = "labctl:cohort"
STUDENT_TAG = "labctl:student"
ATTACHED = frozenset({"available", "attached"})


def ec2_client(request: CollectRequest):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return request.session.client("ec2", endpoint_url=request.endpoint_url, config=config)


def describe_all(client, operation: str, key: str) -> list[dict]:
    return [item for page in client.get_paginator(operation).paginate() for item in page.get(key, [])]


def tags_of(resource: Mapping[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in resource.get("Tags", []) or []}


def owner_of(
    tags: Mapping[str, str],
    names: Iterable[str | None],
    vpc_id: str | None,
    request: CollectRequest,
    vpc_owners: Mapping[str, str],
) -> str | None:
    """Tags first (a student-tagged resource of a student not being graded belongs to nobody here),
    then a name starting with a prefix, then the VPC the resource lives in."""
    if tags.get(COHORT_TAG) == request.cohort and tags.get(STUDENT_TAG):
        prefix = f"{request.cohort}-{tags[STUDENT_TAG]}"
        return prefix if prefix in request.prefixes else None
    for name in names:
        if name:
            prefix = owner(name, request.prefixes)
            if prefix is not None:
                return prefix
    return vpc_owners.get(vpc_id) if vpc_id else None


def route_of(raw: Mapping[str, Any]) -> Route | None:
    destination = (
        raw.get("DestinationCidrBlock")
        or raw.get("DestinationIpv6CidrBlock")
        or (f"pl:{raw['DestinationPrefixListId']}" if raw.get("DestinationPrefixListId") else None)
    )
    target = next(
        (
            str(raw[key])
            for key in (
                "GatewayId",
                "NatGatewayId",
                "EgressOnlyInternetGatewayId",
                "TransitGatewayId",
                "VpcPeeringConnectionId",
                "InstanceId",
                "NetworkInterfaceId",
                "CarrierGatewayId",
                "LocalGatewayId",
                "VpcEndpointId",
            )
            if raw.get(key)
        ),
        None,
    )
    if destination is None or target is None:
        return None
    return Route(destination=destination, target=target, state=raw.get("State"))


def collect_ec2(request: CollectRequest) -> Ec2Snapshot:
    """Describe each resource type once and keep what the graded students own."""
    client = ec2_client(request)
    by_prefix: dict[str, dict[str, dict]] = {
        p: {"vpcs": {}, "subnets": {}, "route_tables": {}, "internet_gateways": {}, "security_groups": {}}
        for p in request.prefixes
    }

    vpc_owners: dict[str, str] = {}
    for raw in describe_all(client, "describe_vpcs", "Vpcs"):
        tags = tags_of(raw)
        prefix = owner_of(tags, [tags.get("Name")], None, request, {})
        if prefix is not None:
            vpc_owners[raw["VpcId"]] = prefix
            by_prefix[prefix]["vpcs"][raw["VpcId"]] = Vpc(
                id=raw["VpcId"], name=tags.get("Name"), cidr=raw.get("CidrBlock", ""), state=raw.get("State")
            )

    for raw in describe_all(client, "describe_subnets", "Subnets"):
        tags = tags_of(raw)
        prefix = owner_of(tags, [tags.get("Name")], raw.get("VpcId"), request, vpc_owners)
        if prefix is not None:
            by_prefix[prefix]["subnets"][raw["SubnetId"]] = Subnet(
                id=raw["SubnetId"],
                vpc_id=raw.get("VpcId", ""),
                name=tags.get("Name"),
                cidr=raw.get("CidrBlock", ""),
                map_public_ip=bool(raw.get("MapPublicIpOnLaunch")),
            )

    for raw in describe_all(client, "describe_route_tables", "RouteTables"):
        tags = tags_of(raw)
        prefix = owner_of(tags, [tags.get("Name")], raw.get("VpcId"), request, vpc_owners)
        if prefix is None:
            continue
        associations = [
            a
            for a in raw.get("Associations", [])
            if (a.get("AssociationState") or {}).get("State", "associated") == "associated"
        ]
        by_prefix[prefix]["route_tables"][raw["RouteTableId"]] = RouteTable(
            id=raw["RouteTableId"],
            vpc_id=raw.get("VpcId", ""),
            main=any(a.get("Main") for a in associations),
            subnet_ids=tuple(a["SubnetId"] for a in associations if a.get("SubnetId")),
            routes=tuple(r for r in map(route_of, raw.get("Routes", [])) if r is not None),
        )

    for raw in describe_all(client, "describe_internet_gateways", "InternetGateways"):
        tags = tags_of(raw)
        attached = tuple(
            a["VpcId"] for a in raw.get("Attachments", []) if a.get("VpcId") and a.get("State") in ATTACHED
        )
        prefix = owner_of(tags, [tags.get("Name")], next(iter(attached), None), request, vpc_owners)
        if prefix is not None:
            gateway = InternetGateway(id=raw["InternetGatewayId"], vpc_ids=attached)
            by_prefix[prefix]["internet_gateways"][gateway.id] = gateway

    for raw in describe_all(client, "describe_security_groups", "SecurityGroups"):
        tags = tags_of(raw)
        names = [raw.get("GroupName"), tags.get("Name")]
        prefix = owner_of(tags, names, raw.get("VpcId"), request, vpc_owners)
        if prefix is not None:
            by_prefix[prefix]["security_groups"][raw["GroupId"]] = SecurityGroup(
                id=raw["GroupId"],
                name=raw.get("GroupName", ""),
                vpc_id=raw.get("VpcId"),
                ingress=rules_of(raw.get("IpPermissions", [])),
                egress=rules_of(raw.get("IpPermissionsEgress", [])),
            )

    return Ec2Snapshot({p: Ec2Inventory(**parts) for p, parts in by_prefix.items()})
