"""Pure helpers for security group rules: which ports and sources a rule lets in.

A rule is one (protocol, port range, source) triple, flattened from an EC2 `IpPermissions` entry.
Protocol `-1` means every protocol and every port; EC2 reports tcp/udp ranges as FromPort/ToPort and
ICMP types in the same fields, so ports are compared for tcp and udp only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

ALL_PROTOCOLS = "-1"
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": ALL_PROTOCOLS}
WORLD = ("0.0.0.0/0", "::/0")
MIN_PORT, MAX_PORT = 0, 65535


@dataclass(frozen=True)
class Rule:
    """One ingress (or egress) grant: `source` is a CIDR, `sg:<id>` or `pl:<id>`."""

    protocol: str
    from_port: int | None
    to_port: int | None
    source: str
    description: str | None = None

    @property
    def is_cidr(self) -> bool:
        return not self.source.startswith(("sg:", "pl:"))

    def label(self) -> str:
        if self.protocol == ALL_PROTOCOLS:
            what = "all traffic"
        elif self.protocol in ("tcp", "udp"):
            low, high = self.port_range()
            what = f"{self.protocol} {low}" if low == high else f"{self.protocol} {low}-{high}"
        else:
            what = f"protocol {self.protocol}"
        return f"{what} from {self.source}"

    def port_range(self) -> tuple[int, int]:
        """The tcp/udp ports covered; every port for all-protocol rules and for unset ports."""
        if self.protocol == ALL_PROTOCOLS or self.from_port is None or self.to_port is None:
            return MIN_PORT, MAX_PORT
        low, high = self.from_port, self.to_port
        if low == -1 and high == -1:
            return MIN_PORT, MAX_PORT
        return low, high


def normal_protocol(value: Any) -> str:
    text = str(value).strip().lower()
    return PROTOCOL_NAMES.get(text, text)


def rules_of(permissions: Iterable[Mapping[str, Any]]) -> tuple[Rule, ...]:
    """Flatten EC2 `IpPermissions` into one Rule per source."""
    rules: list[Rule] = []
    for perm in permissions:
        protocol = normal_protocol(perm.get("IpProtocol", ALL_PROTOCOLS))
        low, high = perm.get("FromPort"), perm.get("ToPort")
        sources = [(r.get("CidrIp"), r.get("Description")) for r in perm.get("IpRanges", [])]
        sources += [(r.get("CidrIpv6"), r.get("Description")) for r in perm.get("Ipv6Ranges", [])]
        sources += [
            (f"sg:{r.get('GroupId')}", r.get("Description")) for r in perm.get("UserIdGroupPairs", [])
        ]
        sources += [
            (f"pl:{r.get('PrefixListId')}", r.get("Description")) for r in perm.get("PrefixListIds", [])
        ]
        for source, description in sources:
            if source:
                rules.append(Rule(protocol, low, high, str(source), description or None))
    return tuple(rules)


def network(cidr: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


def cidr_within(inner: str, outer: str) -> bool:
    """Is every address of `inner` also in `outer`? Different IP versions never nest."""
    a, b = network(inner), network(outer)
    if a is None or b is None or a.version != b.version:
        return False
    return a.subnet_of(b)  # type: ignore[arg-type]


def is_world(source: str) -> bool:
    """A source open to the whole internet: 0.0.0.0/0 or ::/0 (spelled any way)."""
    net = network(source)
    return net is not None and net.prefixlen == 0


def covers_protocol(rule: Rule, protocol: str) -> bool:
    return rule.protocol == ALL_PROTOCOLS or rule.protocol == normal_protocol(protocol)


def allows_port(rule: Rule, port: int, protocol: str = "tcp") -> bool:
    """Does the rule let `protocol` traffic to `port` in (from its source)?"""
    if not covers_protocol(rule, protocol):
        return False
    low, high = rule.port_range()
    return low <= port <= high


def reaches(rule: Rule, port: int, cidr: str, protocol: str = "tcp") -> bool:
    """Does the rule let every address of `cidr` reach `port`?"""
    return rule.is_cidr and allows_port(rule, port, protocol) and cidr_within(cidr, rule.source)


def opens_all_ports(rule: Rule) -> bool:
    """All protocols, or tcp/udp on every port 0-65535."""
    if rule.protocol == ALL_PROTOCOLS:
        return True
    return rule.protocol in ("tcp", "udp") and rule.port_range() == (MIN_PORT, MAX_PORT)


def within_allowance(rule: Rule, port: int, cidr: str, protocol: str = "tcp") -> bool:
    """Is the rule no wider than `protocol` on `port` alone, from inside `cidr`?"""
    return (
        rule.is_cidr
        and rule.protocol == normal_protocol(protocol)
        and rule.port_range() == (port, port)
        and cidr_within(rule.source, cidr)
    )
