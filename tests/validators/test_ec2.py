"""EC2/VPC checks on fixture inventories, and the collector's ownership rules on the real emulator."""

from __future__ import annotations

import boto3

from labctl.validators.checks import ec2 as checks
from labctl.validators.collectors.base import CollectRequest
from labctl.validators.collectors.ec2 import collect_ec2
from labctl.validators.inventory.ec2 import (
    Ec2Inventory,
    InternetGateway,
    Route,
    RouteTable,
    SecurityGroup,
    Subnet,
    Vpc,
)
from labctl.validators.netrules import Rule

VPC = Vpc("vpc-1", "c-ada-vpc", "10.0.0.0/16", "available")
PUBLIC = Subnet("subnet-pub", "vpc-1", "c-ada-public", "10.0.1.0/24")
PRIVATE = Subnet("subnet-priv", "vpc-1", "c-ada-private", "10.0.2.0/24")
LOCAL = Route("10.0.0.0/16", "local", "active")
IGW = InternetGateway("igw-1", ("vpc-1",))


def network(*tables: RouteTable, gateways=(IGW,), subnets=(PUBLIC, PRIVATE)) -> Ec2Inventory:
    return Ec2Inventory(
        vpcs={VPC.id: VPC},
        subnets={s.id: s for s in subnets},
        route_tables={t.id: t for t in tables},
        internet_gateways={g.id: g for g in gateways},
    )


MAIN = RouteTable("rtb-main", "vpc-1", True, (), (LOCAL,))
PUBLIC_RT = RouteTable(
    "rtb-pub", "vpc-1", False, ("subnet-pub",), (LOCAL, Route("0.0.0.0/0", "igw-1", "active"))
)
PRIVATE_RT = RouteTable("rtb-priv", "vpc-1", False, ("subnet-priv",), (LOCAL,))
PUB = checks.SubnetParams(vpc="c-ada-vpc", subnet="c-ada-public")
PRIV = checks.SubnetParams(vpc="c-ada-vpc", subnet="c-ada-private")
V = checks.VpcParams(vpc="c-ada-vpc")


def statuses(inv: Ec2Inventory) -> dict[str, str]:
    return {
        "vpc": checks.vpc_exists(inv, V).status,
        "igw": checks.internet_gateway(inv, V).status,
        "public-subnet": checks.subnet(inv, PUB).status,
        "public-route": checks.subnet_public(inv, PUB).status,
        "private-route": checks.subnet_private(inv, PRIV).status,
        "main-private": checks.main_table_private(inv, V).status,
    }


def test_a_correct_network_passes_everything() -> None:
    assert set(statuses(network(MAIN, PUBLIC_RT, PRIVATE_RT)).values()) == {"passed"}


def test_an_empty_inventory_fails_the_vpc_and_skips_the_rest() -> None:
    result = statuses(Ec2Inventory())
    assert result.pop("vpc") == "failed"
    assert set(result.values()) == {"skipped"}


def test_internet_route_on_the_main_table_only() -> None:
    main = RouteTable("rtb-main", "vpc-1", True, (), (LOCAL, Route("0.0.0.0/0", "igw-1", "active")))
    result = statuses(network(main))
    assert result == {
        "vpc": "passed",
        "igw": "passed",
        "public-subnet": "passed",
        "public-route": "failed",
        "private-route": "failed",
        "main-private": "failed",
    }
    assert "falls back to the VPC's main table" in checks.subnet_public(network(main), PUB).message


def test_a_default_route_to_a_gateway_of_another_vpc_is_not_public() -> None:
    other = InternetGateway("igw-2", ("vpc-9",))
    table = RouteTable("rtb-pub", "vpc-1", False, ("subnet-pub",), (Route("0.0.0.0/0", "igw-2"),))
    result = checks.subnet_public(network(MAIN, table, gateways=(IGW, other)), PUB)
    assert result.status == "failed" and "igw-2" in result.message


def test_private_subnet_exposed_by_a_shared_table_or_public_ips() -> None:
    shared = RouteTable("rtb-pub", "vpc-1", False, ("subnet-pub", "subnet-priv"), PUBLIC_RT.routes)
    assert checks.subnet_private(network(MAIN, shared), PRIV).message == (
        "route table rtb-pub of c-ada-private routes to an internet gateway (0.0.0.0/0 -> igw-1)"
    )
    public_ips = Subnet("subnet-priv", "vpc-1", "c-ada-private", "10.0.2.0/24", map_public_ip=True)
    inv = network(MAIN, PUBLIC_RT, PRIVATE_RT, subnets=(PUBLIC, public_ips))
    assert (
        checks.subnet_private(inv, PRIV).message
        == "subnet c-ada-private gives instances public IPs on launch"
    )


def test_subnet_outside_the_vpc_range() -> None:
    stray = Subnet("subnet-pub", "vpc-1", "c-ada-public", "192.168.0.0/24")
    result = checks.subnet(network(MAIN, subnets=(stray,)), PUB)
    assert result.status == "failed" and "outside the VPC's range 10.0.0.0/16" in result.message


def group(*ingress: Rule, name: str = "c-ada-web") -> Ec2Inventory:
    sg = SecurityGroup("sg-1", name, "vpc-1", tuple(ingress))
    return Ec2Inventory(security_groups={sg.id: sg})


ALLOWED = [
    checks.Allowance(port=443, cidr="0.0.0.0/0"),
    checks.Allowance(port=22, cidr="203.0.113.0/24"),
]


def test_security_group_checks() -> None:
    good = group(Rule("tcp", 443, 443, "0.0.0.0/0", "https"), Rule("tcp", 22, 22, "203.0.113.0/24", "ssh"))
    wide = group(Rule("-1", None, None, "0.0.0.0/0"))
    g = checks.GroupParams(group="c-ada-web")
    within = checks.IngressWithinParams(group="c-ada-web", allowed=ALLOWED)
    ssh = checks.WorldPortsParams(group="c-ada-web", ports=[22, 3389])
    https = checks.AllowsParams(group="c-ada-web", port=443, cidr="0.0.0.0/0")

    assert checks.sg_allows(good, https).status == "passed"
    assert checks.sg_ingress_within(good, within).status == "passed"
    assert checks.sg_no_world_ports(good, ssh).status == "passed"
    assert checks.sg_rule_descriptions(good, g).status == "passed"

    assert checks.sg_allows(wide, https).status == "passed"
    assert checks.sg_ingress_within(wide, within).message == (
        "c-ada-web also allows all traffic from 0.0.0.0/0 "
        "(allowed: tcp 443 from 0.0.0.0/0, tcp 22 from 203.0.113.0/24)"
    )
    assert checks.sg_no_world_ports(wide, ssh).message == (
        "c-ada-web opens to the internet: port 22 via all traffic from 0.0.0.0/0; "
        "port 3389 via all traffic from 0.0.0.0/0"
    )
    assert checks.sg_no_world_all_ports(wide, g).status == "failed"
    assert (
        checks.sg_rule_descriptions(wide, g).message
        == "rules without a description: all traffic from 0.0.0.0/0"
    )

    assert checks.sg_allows(Ec2Inventory(), https).status == "skipped"
    assert checks.sg_exists(Ec2Inventory(), g).status == "failed"


def test_two_groups_with_the_same_name_are_ambiguous() -> None:
    a = SecurityGroup("sg-1", "c-ada-web", "vpc-1")
    b = SecurityGroup("sg-2", "c-ada-web", "vpc-2")
    inv = Ec2Inventory(security_groups={a.id: a, b.id: b})
    result = checks.sg_exists(inv, checks.GroupParams(group="c-ada-web"))
    assert result.status == "failed" and "2 security groups" in result.message


def test_collector_partitions_by_tags_names_and_vpc(aws: boto3.Session, moto_endpoint: str) -> None:
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)

    def tagged(kind: str, **tags: str) -> list[dict]:
        return [{"ResourceType": kind, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]

    ada = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", Name="c-ada-vpc"))["Vpc"][
        "VpcId"
    ]
    # Tagged for bob by the sandbox, but named like ada's: the tags decide.
    bob = ec2.create_vpc(
        CidrBlock="10.1.0.0/16",
        TagSpecifications=tagged(
            "vpc", Name="c-ada-other", **{"labctl:cohort": "c", "labctl:student": "bob"}
        ),
    )["Vpc"]["VpcId"]
    ec2.create_vpc(CidrBlock="10.2.0.0/16", TagSpecifications=tagged("vpc", Name="c-eve-vpc"))
    untagged_subnet = ec2.create_subnet(VpcId=ada, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="c-ada-web", Description="web")["GroupId"]
    ec2.create_security_group(GroupName="app", Description="bob's", VpcId=bob)

    request = CollectRequest("c", ("c-ada", "c-bob"), aws, moto_endpoint, ())
    snapshot = collect_ec2(request)
    ada_inv, bob_inv = snapshot.for_prefix("c-ada"), snapshot.for_prefix("c-bob")

    assert set(ada_inv.vpcs) == {ada}
    assert set(bob_inv.vpcs) == {bob}
    assert untagged_subnet in ada_inv.subnets
    assert sg in ada_inv.security_groups
    assert {g.name for g in bob_inv.security_groups.values()} == {"app", "default"}
    assert ada_inv.main_table(ada) is not None
    assert snapshot.for_prefix("c-eve").vpcs == {}
