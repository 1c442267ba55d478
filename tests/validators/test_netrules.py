"""The pure security group helpers: rule flattening, port and CIDR coverage."""

from __future__ import annotations

import pytest

from labctl.validators import netrules
from labctl.validators.netrules import Rule


def test_rules_of_flattens_every_source_kind() -> None:
    rules = netrules.rules_of(
        [
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "https"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
                "UserIdGroupPairs": [{"GroupId": "sg-1"}],
                "PrefixListIds": [{"PrefixListId": "pl-1"}],
            },
            {"IpProtocol": "6", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]},
        ]
    )
    assert [(r.protocol, r.source, r.description) for r in rules] == [
        ("tcp", "0.0.0.0/0", "https"),
        ("tcp", "::/0", None),
        ("tcp", "sg:sg-1", None),
        ("tcp", "pl:pl-1", None),
        ("tcp", "203.0.113.0/24", None),
    ]


@pytest.mark.parametrize(
    ("rule", "port", "protocol", "allowed"),
    [
        (Rule("tcp", 443, 443, "0.0.0.0/0"), 443, "tcp", True),
        (Rule("tcp", 443, 443, "0.0.0.0/0"), 22, "tcp", False),
        (Rule("tcp", 443, 443, "0.0.0.0/0"), 443, "udp", False),
        (Rule("tcp", 0, 1024, "0.0.0.0/0"), 22, "tcp", True),
        (Rule("-1", None, None, "0.0.0.0/0"), 22, "udp", True),
        (Rule("tcp", -1, -1, "0.0.0.0/0"), 3389, "tcp", True),
        (Rule("icmp", 8, 0, "0.0.0.0/0"), 8, "tcp", False),
    ],
)
def test_allows_port(rule: Rule, port: int, protocol: str, allowed: bool) -> None:
    assert netrules.allows_port(rule, port, protocol) is allowed


@pytest.mark.parametrize(
    ("inner", "outer", "within"),
    [
        ("203.0.113.7/32", "203.0.113.0/24", True),
        ("203.0.113.0/24", "203.0.113.0/24", True),
        ("203.0.112.0/23", "203.0.113.0/24", False),
        ("203.0.113.0/24", "0.0.0.0/0", True),
        ("::/0", "0.0.0.0/0", False),
        ("203.0.113.5/24", "203.0.113.0/24", True),
        ("not-a-cidr", "0.0.0.0/0", False),
        ("sg:sg-1", "0.0.0.0/0", False),
    ],
)
def test_cidr_within(inner: str, outer: str, within: bool) -> None:
    assert netrules.cidr_within(inner, outer) is within


def test_reaches_needs_the_whole_range() -> None:
    ssh_world = Rule("tcp", 22, 22, "0.0.0.0/0")
    ssh_host = Rule("tcp", 22, 22, "203.0.113.10/32")
    assert netrules.reaches(ssh_world, 22, "203.0.113.0/24")
    assert not netrules.reaches(ssh_host, 22, "203.0.113.0/24")
    assert not netrules.reaches(Rule("tcp", 22, 22, "sg:sg-1"), 22, "203.0.113.0/24")


@pytest.mark.parametrize(
    ("source", "world"),
    [("0.0.0.0/0", True), ("::/0", True), ("0.0.0.0/00", True), ("10.0.0.0/8", False), ("sg:x", False)],
)
def test_is_world(source: str, world: bool) -> None:
    assert netrules.is_world(source) is world


@pytest.mark.parametrize(
    ("rule", "all_ports"),
    [
        (Rule("-1", None, None, "0.0.0.0/0"), True),
        (Rule("tcp", 0, 65535, "0.0.0.0/0"), True),
        (Rule("udp", 0, 65535, "0.0.0.0/0"), True),
        (Rule("tcp", 1, 65535, "0.0.0.0/0"), False),
        (Rule("icmp", -1, -1, "0.0.0.0/0"), False),
    ],
)
def test_opens_all_ports(rule: Rule, all_ports: bool) -> None:
    assert netrules.opens_all_ports(rule) is all_ports


def test_within_allowance_rejects_ranges_protocols_and_wider_sources() -> None:
    assert netrules.within_allowance(Rule("tcp", 22, 22, "203.0.113.9/32"), 22, "203.0.113.0/24")
    assert not netrules.within_allowance(Rule("tcp", 22, 23, "203.0.113.9/32"), 22, "203.0.113.0/24")
    assert not netrules.within_allowance(Rule("-1", None, None, "203.0.113.9/32"), 22, "203.0.113.0/24")
    assert not netrules.within_allowance(Rule("tcp", 22, 22, "203.0.0.0/16"), 22, "203.0.113.0/24")


def test_labels_name_what_a_rule_opens() -> None:
    assert Rule("-1", None, None, "0.0.0.0/0").label() == "all traffic from 0.0.0.0/0"
    assert Rule("tcp", 1000, 2000, "10.0.0.0/8").label() == "tcp 1000-2000 from 10.0.0.0/8"
    assert Rule("tcp", 22, 22, "::/0").label() == "tcp 22 from ::/0"
