"""EC2/VPC checks on fixture inventories, and the collector's ownership rules on the real emulator."""

from __future__ import annotations

import json

import boto3
import pytest

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


def wire(text: str) -> str:
    """A value as the collector reads it from EC2's response: a new string, never the literal here."""
    return json.loads(json.dumps(text))


def test_two_vpcs_with_the_same_name_are_ambiguous() -> None:
    twin = Vpc("vpc-0", "c-ada-vpc", "10.9.0.0/16", "available")
    inv = Ec2Inventory(vpcs={VPC.id: VPC, twin.id: twin}, internet_gateways={IGW.id: IGW})
    assert checks.vpc_exists(inv, V) == checks.Result.failed("2 VPCs are tagged Name=c-ada-vpc; keep exactly one")
    for result in (checks.internet_gateway(inv, V), checks.subnet_public(inv, PUB), checks.main_table_private(inv, V)):
        assert result == checks.Result.failed("2 VPCs are tagged Name=c-ada-vpc (vpc-0, vpc-1); keep exactly one")


def test_a_missing_vpc_fails_its_own_check_and_skips_the_others() -> None:
    missing = checks.vpc_exists(Ec2Inventory(), V)
    assert (missing.status, missing.message) == ("failed", "no VPC tagged Name=c-ada-vpc") and missing.hint
    for result in (checks.internet_gateway(Ec2Inventory(), V), checks.subnet(Ec2Inventory(), PUB)):
        assert result == checks.Result.skipped("no VPC tagged Name=c-ada-vpc")


@pytest.mark.parametrize(("state", "status"), [(None, "passed"), ("available", "passed"), ("pending", "failed")])
def test_a_vpc_that_is_not_available_fails(state, status: str) -> None:
    vpc = Vpc("vpc-1", "c-ada-vpc", "10.0.0.0/16", wire(state) if state else None)
    result = checks.vpc_exists(Ec2Inventory(vpcs={vpc.id: vpc}), V)
    assert result.status == status
    if status == "failed":
        assert result.message == "VPC c-ada-vpc is pending, not available"


def test_a_gateway_attached_elsewhere_is_not_the_vpcs() -> None:
    elsewhere = InternetGateway("igw-2", ("vpc-9",))
    for gateways in ((), (elsewhere,)):
        result = checks.internet_gateway(network(MAIN, gateways=gateways), V)
        assert result == checks.Result.failed("no internet gateway is attached to c-ada-vpc (vpc-1)")


def test_a_subnet_is_found_by_name_in_its_own_vpc_only() -> None:
    other_vpc = Subnet("subnet-x", "vpc-9", "c-ada-public", "10.0.1.0/24")
    inv = network(MAIN, PUBLIC_RT, subnets=(other_vpc, PRIVATE))
    assert checks.subnet(inv, PUB) == checks.Result.failed("no subnet tagged Name=c-ada-public in VPC c-ada-vpc (vpc-1)")
    for check in (checks.subnet_public, checks.subnet_private):
        assert check(inv, PUB) == checks.Result.skipped("no subnet tagged Name=c-ada-public in VPC c-ada-vpc (vpc-1)")


def test_two_subnets_with_the_same_name_are_ambiguous() -> None:
    twin = Subnet("subnet-pub2", "vpc-1", "c-ada-public", "10.0.3.0/24")
    inv = network(MAIN, PUBLIC_RT, subnets=(PUBLIC, twin, PRIVATE))
    ambiguous = checks.Result.failed("2 subnets in c-ada-vpc are tagged Name=c-ada-public; keep exactly one")
    for check in (checks.subnet, checks.subnet_public, checks.subnet_private):
        assert check(inv, PUB) == ambiguous


def public_table(*routes: Route) -> RouteTable:
    return RouteTable("rtb-pub", "vpc-1", False, ("subnet-pub",), routes)


def test_the_default_route_is_found_among_the_others_however_it_was_read() -> None:
    table = public_table(
        LOCAL,
        Route("::/0", "igw-1", "active"),
        Route("pl-0123", "vpce-1", "active"),
        Route(wire("0.0.0.0/0"), "igw-1", wire("active")),
    )
    assert checks.subnet_public(network(MAIN, table), PUB).status == "passed"
    # A route whose state was not reported is taken as it stands.
    assert checks.subnet_public(network(MAIN, public_table(LOCAL, Route("0.0.0.0/0", "igw-1"))), PUB).status == "passed"


def test_a_public_subnet_without_a_default_route_fails() -> None:
    table = public_table(LOCAL, Route("::/0", "igw-1", "active"))
    assert checks.subnet_public(network(MAIN, table), PUB) == checks.Result.failed(
        "route table rtb-pub of c-ada-public has no 0.0.0.0/0 route"
    )


def test_a_default_route_to_a_nat_gateway_or_a_dead_gateway_is_not_public() -> None:
    nat = public_table(LOCAL, Route("0.0.0.0/0", "nat-1", "active"))
    assert checks.subnet_public(network(MAIN, nat), PUB) == checks.Result.failed(
        "0.0.0.0/0 in route table rtb-pub goes to nat-1, not to an internet gateway attached to c-ada-vpc"
    )
    dead = public_table(LOCAL, Route("0.0.0.0/0", "igw-1", wire("blackhole")))
    assert checks.subnet_public(network(MAIN, dead), PUB) == checks.Result.failed(
        "the 0.0.0.0/0 route of rtb-pub is blackhole"
    )


def test_a_subnet_on_the_main_table_has_no_table_of_its_own() -> None:
    for check in (checks.subnet_public, checks.subnet_private):
        result = check(network(MAIN), PRIV)
        assert result.status == "failed" and result.hint
        assert result.message == (
            "subnet c-ada-private (subnet-priv) has no route table of its own: it falls back to the VPC's main table"
        )


def test_a_private_subnet_may_reach_out_through_a_nat_gateway_but_never_an_internet_gateway() -> None:
    nat = RouteTable("rtb-priv", "vpc-1", False, ("subnet-priv",), (LOCAL, Route("0.0.0.0/0", "nat-1", "active")))
    assert checks.subnet_private(network(MAIN, nat), PRIV).status == "passed"
    both = RouteTable(
        "rtb-priv", "vpc-1", False, ("subnet-priv",), (LOCAL, Route("0.0.0.0/0", "igw-1"), Route("::/0", "igw-1"))
    )
    assert checks.subnet_private(network(MAIN, both), PRIV).message == (
        "route table rtb-priv of c-ada-private routes to an internet gateway (0.0.0.0/0 -> igw-1, ::/0 -> igw-1)"
    )


def test_the_main_table_names_every_internet_route_and_must_have_been_collected() -> None:
    main = RouteTable("rtb-main", "vpc-1", True, (), (LOCAL, Route("::/0", "igw-1"), Route("0.0.0.0/0", "igw-1")))
    assert checks.main_table_private(network(main), V) == checks.Result.failed(
        "the main route table rtb-main of c-ada-vpc routes to an internet gateway (::/0 -> igw-1, 0.0.0.0/0 -> igw-1): "
        "every subnet without its own table is public"
    )
    assert checks.main_table_private(network(PUBLIC_RT), V) == checks.Result.error(
        "the main route table of c-ada-vpc was not collected"
    )


G = checks.GroupParams(group="c-ada-web")
HTTPS = Rule("tcp", 443, 443, "0.0.0.0/0", "https")
HTTPS6 = Rule("tcp", 443, 443, "::/0", "https")
SSH = Rule("tcp", 22, 22, "203.0.113.0/24", "ssh from the admin network")
# The security-groups lab's least-privilege allowances.
LAB_ALLOWED = [
    checks.Allowance(port=443, cidr="0.0.0.0/0"),
    checks.Allowance(port=443, cidr="::/0"),
    checks.Allowance(port=22, cidr="203.0.113.0/24"),
]


def test_a_security_group_is_found_by_exactly_one_name() -> None:
    missing = checks.sg_exists(Ec2Inventory(), G)
    assert (missing.status, missing.message) == ("failed", "no security group named c-ada-web") and missing.hint
    assert checks.sg_exists(group(HTTPS), G).status == "passed"
    a, b = SecurityGroup("sg-2", "c-ada-web", "vpc-1"), SecurityGroup("sg-1", "c-ada-web", "vpc-2")
    twins = Ec2Inventory(security_groups={a.id: a, b.id: b})
    assert checks.sg_exists(twins, G) == checks.Result.failed("2 security groups are named c-ada-web; keep exactly one")
    for result in (
        checks.sg_allows(twins, checks.AllowsParams(group="c-ada-web", port=443, cidr="0.0.0.0/0")),
        checks.sg_rule_descriptions(twins, G),
        checks.sg_no_world_all_ports(twins, G),
    ):
        assert result == checks.Result.failed("2 security groups are named c-ada-web (sg-1, sg-2); keep exactly one")
    assert checks.sg_no_world_all_ports(Ec2Inventory(), G) == checks.Result.skipped("no security group named c-ada-web")


def test_sg_allows_needs_a_rule_that_lets_the_whole_source_reach_the_port() -> None:
    ssh = checks.AllowsParams(group="c-ada-web", port=22, cidr="203.0.113.0/24")
    narrow = Rule("tcp", 22, 22, "203.0.113.0/25", "half the admin network")
    assert checks.sg_allows(group(HTTPS, narrow), ssh) == checks.Result.failed(
        "no ingress rule of c-ada-web lets tcp 22 in from 203.0.113.0/24"
    )
    assert checks.sg_allows(group(HTTPS, narrow, SSH), ssh).status == "passed"


def test_ingress_beyond_the_allowances_is_named_rule_by_rule() -> None:
    within = checks.IngressWithinParams(group="c-ada-web", allowed=LAB_ALLOWED)
    assert checks.sg_ingress_within(group(HTTPS, HTTPS6, SSH), within).status == "passed"
    extra = group(HTTPS, Rule("tcp", 22, 22, "0.0.0.0/0"), Rule("tcp", 80, 443, "::/0"), SSH)
    assert checks.sg_ingress_within(extra, within) == checks.Result.failed(
        "c-ada-web also allows tcp 22 from 0.0.0.0/0; tcp 80-443 from ::/0 "
        "(allowed: tcp 443 from 0.0.0.0/0, tcp 443 from ::/0, tcp 22 from 203.0.113.0/24)"
    )


def test_every_ingress_rule_needs_a_description_and_a_group_needs_rules() -> None:
    assert checks.sg_rule_descriptions(group(), G) == checks.Result.failed("c-ada-web has no ingress rules")
    bare = group(HTTPS, Rule("tcp", 22, 22, "203.0.113.0/24", None), Rule("tcp", 80, 80, "0.0.0.0/0", "  "))
    assert checks.sg_rule_descriptions(bare, G) == checks.Result.failed(
        "rules without a description: tcp 22 from 203.0.113.0/24; tcp 80 from 0.0.0.0/0"
    )


def test_world_ports_over_tcp_or_udp_from_either_address_family_are_named() -> None:
    ports = checks.WorldPortsParams(group="c-ada-web", ports=[3389, 22])
    assert checks.sg_no_world_ports(group(HTTPS, HTTPS6, SSH), ports).status == "passed"
    exposed = group(Rule("udp", 3389, 3389, "::/0", "rdp"), Rule("tcp", 20, 25, "0.0.0.0/0", "ftp and ssh"), SSH)
    assert checks.sg_no_world_ports(exposed, ports) == checks.Result.failed(
        "c-ada-web opens to the internet: port 22 via tcp 20-25 from 0.0.0.0/0; port 3389 via udp 3389 from ::/0"
    )


def test_every_port_open_to_the_world_fails_but_not_from_a_private_network() -> None:
    all_tcp = Rule("tcp", 0, 65535, "::/0", "everything")
    assert checks.sg_no_world_all_ports(group(HTTPS, all_tcp), G) == checks.Result.failed(
        "c-ada-web opens every port to the internet: tcp 0-65535 from ::/0"
    )
    inside = Rule("-1", None, None, "10.0.0.0/8", "the campus")
    assert checks.sg_no_world_all_ports(group(HTTPS, HTTPS6, inside), G).status == "passed"


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
