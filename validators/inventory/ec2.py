"""The EC2/VPC inventory: every student-owned VPC, subnet, route table, gateway and security group.

EC2 resources cannot be named by prefix, so the collector decides ownership by tags: the
`labctl:cohort` + `labctl:student` tags first, then a `Name` tag (or a security group's name)
starting with the prefix; subnets, route tables and gateways inside an owned VPC belong to the
VPC's owner. Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from labctl.validators.netrules import Rule


@dataclass(frozen=True)
class Vpc:
    id: str
    name: str | None
    cidr: str
    state: str | None = None


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc_id: str
    name: str | None
    cidr: str
    map_public_ip: bool = False


@dataclass(frozen=True)
class Route:
    destination: str
    """An IPv4 or IPv6 CIDR, or `pl:<id>` for a prefix list."""
    target: str
    """The gateway, NAT gateway, instance, ... id (`local` for the VPC's own range)."""
    state: str | None = None


@dataclass(frozen=True)
class RouteTable:
    id: str
    vpc_id: str
    main: bool
    subnet_ids: tuple[str, ...]
    """Subnets explicitly associated with this table."""
    routes: tuple[Route, ...] = ()

    def internet_routes(self) -> tuple[Route, ...]:
        return tuple(r for r in self.routes if r.target.startswith("igw-"))


@dataclass(frozen=True)
class InternetGateway:
    id: str
    vpc_ids: tuple[str, ...]
    """VPCs it is attached to (state available or attached)."""


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    vpc_id: str | None
    ingress: tuple[Rule, ...] = ()
    egress: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Ec2Inventory:
    """One student's networking resources."""

    vpcs: Mapping[str, Vpc] = field(default_factory=dict)
    subnets: Mapping[str, Subnet] = field(default_factory=dict)
    route_tables: Mapping[str, RouteTable] = field(default_factory=dict)
    internet_gateways: Mapping[str, InternetGateway] = field(default_factory=dict)
    security_groups: Mapping[str, SecurityGroup] = field(default_factory=dict)

    def vpcs_named(self, name: str) -> list[Vpc]:
        return [v for v in self.vpcs.values() if v.name == name]

    def subnets_named(self, vpc_id: str, name: str) -> list[Subnet]:
        return [s for s in self.subnets.values() if s.vpc_id == vpc_id and s.name == name]

    def groups_named(self, name: str) -> list[SecurityGroup]:
        return [g for g in self.security_groups.values() if g.name == name]

    def gateways_of(self, vpc_id: str) -> list[InternetGateway]:
        return [g for g in self.internet_gateways.values() if vpc_id in g.vpc_ids]

    def main_table(self, vpc_id: str) -> RouteTable | None:
        return next((t for t in self.route_tables.values() if t.vpc_id == vpc_id and t.main), None)

    def explicit_table(self, subnet_id: str) -> RouteTable | None:
        """The route table explicitly associated with the subnet, if any."""
        return next((t for t in self.route_tables.values() if subnet_id in t.subnet_ids), None)


@dataclass(frozen=True)
class Ec2Snapshot:
    """A cohort's networking resources partitioned by owner prefix, from one pass of describes."""

    by_prefix: Mapping[str, Ec2Inventory]

    def for_prefix(self, prefix: str) -> Ec2Inventory:
        return self.by_prefix.get(prefix, Ec2Inventory())
