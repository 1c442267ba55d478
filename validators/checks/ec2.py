"""EC2/VPC checks: pure functions of one student's Ec2Inventory (validators.inventory.ec2)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from labctl.validators import netrules
from labctl.validators.inventory.ec2 import Ec2Inventory, RouteTable, SecurityGroup, Subnet, Vpc
from labctl.validators.registry import Params, Result, check

READS = "ec2"
ANYWHERE = "0.0.0.0/0"


class VpcParams(Params):
    vpc: str
    """The VPC's Name tag."""


class SubnetParams(VpcParams):
    subnet: str
    """The subnet's Name tag."""


class GroupParams(Params):
    group: str
    """The security group's name (GroupName)."""


class AllowsParams(GroupParams):
    port: int
    cidr: str
    protocol: str = "tcp"


class Allowance(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    port: int
    cidr: str
    protocol: str = "tcp"


class IngressWithinParams(GroupParams):
    allowed: list[Allowance]


class WorldPortsParams(GroupParams):
    ports: list[int]


def one_vpc(inv: Ec2Inventory, name: str) -> Vpc | Result:
    """The one VPC named `name`, or the Result a check on it returns."""
    found = inv.vpcs_named(name)
    if not found:
        return Result.skipped(f"no VPC tagged Name={name}")
    if len(found) > 1:
        ids = ", ".join(sorted(v.id for v in found))
        return Result.failed(f"{len(found)} VPCs are tagged Name={name} ({ids}); keep exactly one")
    return found[0]


def one_subnet(inv: Ec2Inventory, p: SubnetParams) -> tuple[Vpc, Subnet] | Result:
    vpc = one_vpc(inv, p.vpc)
    if isinstance(vpc, Result):
        return vpc
    found = inv.subnets_named(vpc.id, p.subnet)
    if not found:
        return Result.skipped(f"no subnet tagged Name={p.subnet} in VPC {p.vpc} ({vpc.id})")
    if len(found) > 1:
        return Result.failed(f"{len(found)} subnets in {p.vpc} are tagged Name={p.subnet}; keep exactly one")
    return vpc, found[0]


def explicit_table(inv: Ec2Inventory, subnet: Subnet, name: str) -> RouteTable | Result:
    table = inv.explicit_table(subnet.id)
    if table is None:
        return Result.failed(
            f"subnet {name} ({subnet.id}) has no route table of its own: it falls back to the VPC's main table",
            hint="create-route-table, then associate-route-table --subnet-id",
        )
    return table


def one_group(inv: Ec2Inventory, name: str) -> SecurityGroup | Result:
    found = inv.groups_named(name)
    if not found:
        return Result.skipped(f"no security group named {name}")
    if len(found) > 1:
        ids = ", ".join(sorted(g.id for g in found))
        return Result.failed(f"{len(found)} security groups are named {name} ({ids}); keep exactly one")
    return found[0]


@check("ec2.vpc-exists", title="VPC {vpc} exists", reads=READS, params=VpcParams)
def vpc_exists(inv: Ec2Inventory, p: VpcParams) -> Result:
    found = inv.vpcs_named(p.vpc)
    if not found:
        return Result.failed(f"no VPC tagged Name={p.vpc}", hint="create-vpc with a Name tag")
    if len(found) > 1:
        return Result.failed(f"{len(found)} VPCs are tagged Name={p.vpc}; keep exactly one")
    if found[0].state not in (None, "available"):
        return Result.failed(f"VPC {p.vpc} is {found[0].state}, not available")
    return Result.passed()


@check(
    "ec2.internet-gateway",
    title="An internet gateway is attached to VPC {vpc}",
    reads=READS,
    params=VpcParams,
)
def internet_gateway(inv: Ec2Inventory, p: VpcParams) -> Result:
    vpc = one_vpc(inv, p.vpc)
    if isinstance(vpc, Result):
        return vpc
    if not inv.gateways_of(vpc.id):
        return Result.failed(f"no internet gateway is attached to {p.vpc} ({vpc.id})")
    return Result.passed()


@check("ec2.subnet", title="Subnet {subnet} lies inside VPC {vpc}", reads=READS, params=SubnetParams)
def subnet(inv: Ec2Inventory, p: SubnetParams) -> Result:
    vpc = one_vpc(inv, p.vpc)
    if isinstance(vpc, Result):
        return vpc
    found = inv.subnets_named(vpc.id, p.subnet)
    if not found:
        return Result.failed(f"no subnet tagged Name={p.subnet} in VPC {p.vpc} ({vpc.id})")
    if len(found) > 1:
        return Result.failed(f"{len(found)} subnets in {p.vpc} are tagged Name={p.subnet}; keep exactly one")
    if not netrules.cidr_within(found[0].cidr, vpc.cidr):
        return Result.failed(f"subnet {p.subnet} ({found[0].cidr}) is outside the VPC's range {vpc.cidr}")
    return Result.passed()


@check(
    "ec2.subnet-public",
    title="Subnet {subnet} routes 0.0.0.0/0 to the VPC's internet gateway",
    reads=READS,
    params=SubnetParams,
)
def subnet_public(inv: Ec2Inventory, p: SubnetParams) -> Result:
    found = one_subnet(inv, p)
    if isinstance(found, Result):
        return found
    vpc, sub = found
    table = explicit_table(inv, sub, p.subnet)
    if isinstance(table, Result):
        return table
    attached = {g.id for g in inv.gateways_of(vpc.id)}
    default = [r for r in table.routes if r.destination == ANYWHERE]
    if not default:
        return Result.failed(f"route table {table.id} of {p.subnet} has no 0.0.0.0/0 route")
    route = default[0]
    if route.target not in attached:
        return Result.failed(
            f"0.0.0.0/0 in route table {table.id} goes to {route.target}, "
            f"not to an internet gateway attached to {p.vpc}"
        )
    if route.state not in (None, "active"):
        return Result.failed(f"the 0.0.0.0/0 route of {table.id} is {route.state}")
    return Result.passed()


@check(
    "ec2.subnet-private",
    title="Subnet {subnet} has its own route table with no internet gateway route",
    reads=READS,
    params=SubnetParams,
)
def subnet_private(inv: Ec2Inventory, p: SubnetParams) -> Result:
    found = one_subnet(inv, p)
    if isinstance(found, Result):
        return found
    _, sub = found
    table = explicit_table(inv, sub, p.subnet)
    if isinstance(table, Result):
        return table
    exposed = table.internet_routes()
    if exposed:
        routes = ", ".join(f"{r.destination} -> {r.target}" for r in exposed)
        return Result.failed(f"route table {table.id} of {p.subnet} routes to an internet gateway ({routes})")
    if sub.map_public_ip:
        return Result.failed(f"subnet {p.subnet} gives instances public IPs on launch")
    return Result.passed()


@check(
    "ec2.main-table-private",
    title="The main route table of VPC {vpc} has no internet gateway route",
    reads=READS,
    params=VpcParams,
)
def main_table_private(inv: Ec2Inventory, p: VpcParams) -> Result:
    """Every subnet without its own table uses the main table: an IGW route there makes them public."""
    vpc = one_vpc(inv, p.vpc)
    if isinstance(vpc, Result):
        return vpc
    table = inv.main_table(vpc.id)
    if table is None:
        return Result.error(f"the main route table of {p.vpc} was not collected")
    exposed = table.internet_routes()
    if exposed:
        routes = ", ".join(f"{r.destination} -> {r.target}" for r in exposed)
        return Result.failed(
            f"the main route table {table.id} of {p.vpc} routes to an internet gateway ({routes}): "
            "every subnet without its own table is public"
        )
    return Result.passed()


@check("ec2.sg-exists", title="Security group {group} exists", reads=READS, params=GroupParams)
def sg_exists(inv: Ec2Inventory, p: GroupParams) -> Result:
    found = inv.groups_named(p.group)
    if not found:
        return Result.failed(f"no security group named {p.group}", hint="create-security-group")
    if len(found) > 1:
        return Result.failed(f"{len(found)} security groups are named {p.group}; keep exactly one")
    return Result.passed()


@check(
    "ec2.sg-allows",
    title="Security group {group} lets {protocol} {port} in from {cidr}",
    reads=READS,
    params=AllowsParams,
)
def sg_allows(inv: Ec2Inventory, p: AllowsParams) -> Result:
    group = one_group(inv, p.group)
    if isinstance(group, Result):
        return group
    if any(netrules.reaches(r, p.port, p.cidr, p.protocol) for r in group.ingress):
        return Result.passed()
    return Result.failed(f"no ingress rule of {p.group} lets {p.protocol} {p.port} in from {p.cidr}")


@check(
    "ec2.sg-ingress-within",
    title="Security group {group} allows nothing beyond its allowed ports and sources",
    reads=READS,
    params=IngressWithinParams,
)
def sg_ingress_within(inv: Ec2Inventory, p: IngressWithinParams) -> Result:
    group = one_group(inv, p.group)
    if isinstance(group, Result):
        return group
    extra = [
        r.label()
        for r in group.ingress
        if not any(netrules.within_allowance(r, a.port, a.cidr, a.protocol) for a in p.allowed)
    ]
    if extra:
        allowed = ", ".join(f"{a.protocol} {a.port} from {a.cidr}" for a in p.allowed)
        return Result.failed(f"{p.group} also allows {'; '.join(extra)} (allowed: {allowed})")
    return Result.passed()


@check(
    "ec2.sg-rule-descriptions",
    title="Every ingress rule of {group} says what it is for",
    reads=READS,
    params=GroupParams,
)
def sg_rule_descriptions(inv: Ec2Inventory, p: GroupParams) -> Result:
    group = one_group(inv, p.group)
    if isinstance(group, Result):
        return group
    if not group.ingress:
        return Result.failed(f"{p.group} has no ingress rules")
    bare = [r.label() for r in group.ingress if not (r.description or "").strip()]
    if bare:
        return Result.failed(f"rules without a description: {'; '.join(bare)}")
    return Result.passed()


@check(
    "ec2.sg-no-world-ports",
    title="Security group {group} does not open ports {ports} to the internet",
    reads=READS,
    params=WorldPortsParams,
)
def sg_no_world_ports(inv: Ec2Inventory, p: WorldPortsParams) -> Result:
    group = one_group(inv, p.group)
    if isinstance(group, Result):
        return group
    open_to_world = sorted(
        {
            (port, r.label())
            for r in group.ingress
            if netrules.is_world(r.source)
            for port in p.ports
            if netrules.allows_port(r, port, "tcp") or netrules.allows_port(r, port, "udp")
        }
    )
    if open_to_world:
        shown = "; ".join(f"port {port} via {label}" for port, label in open_to_world)
        return Result.failed(f"{p.group} opens to the internet: {shown}")
    return Result.passed()


@check(
    "ec2.sg-no-world-all-ports",
    title="Security group {group} does not open every port to the internet",
    reads=READS,
    params=GroupParams,
)
def sg_no_world_all_ports(inv: Ec2Inventory, p: GroupParams) -> Result:
    group = one_group(inv, p.group)
    if isinstance(group, Result):
        return group
    wide = [r.label() for r in group.ingress if netrules.is_world(r.source) and netrules.opens_all_ports(r)]
    if wide:
        return Result.failed(f"{p.group} opens every port to the internet: {'; '.join(wide)}")
    return Result.passed()
