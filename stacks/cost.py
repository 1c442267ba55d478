"""The plan's cost estimate: a pure function of the plan, the labs' specs and the price table.

Resources that bill by the hour (RDS instances, EC2 instances, NAT gateways) are priced from their
planned inputs; what students do with the services a lab grants them is priced from a stated
minimal usage (`usage` in prices.yaml). Everything else (IAM, budgets, namespaces, shared-server
databases, workspaces) costs nothing at the margin.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml

from labctl.labs.spec import LabSpec

PRICES = Path(__file__).with_name("prices.yaml")
RDS_INSTANCE = "aws:rds/instance:Instance"
EC2_INSTANCE = "aws:ec2/instance:Instance"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"
FREE_ASSUMPTION = (
    "Kubernetes namespaces, shared-server PostgreSQL databases, workspace containers, IAM and budgets "
    "cost 0 at the margin; budgets are caps, not costs"
)


@functools.lru_cache(maxsize=1)
def load_prices(path: Path = PRICES) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def number(value: Any, default: float = 0.0) -> float:
    """Planned inputs arrive as numbers or numeric strings; unknowns price as `default`."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def hourly(prices: Mapping[str, Any], table: Mapping[str, float], kind: str, what: str) -> float:
    if kind not in table:
        raise ValueError(f"no price for {what} {kind!r} in {PRICES.name}")
    return table[kind] * prices["hours_per_month"]


def resource_cost(resource: Mapping[str, Any], prices: Mapping[str, Any]) -> float:
    """The monthly USD of one planned resource; 0 for what does not bill by the hour."""
    inputs = resource.get("inputs") or {}
    if resource["type"] == RDS_INSTANCE:
        rds = prices["rds"]
        compute = hourly(prices, rds["instance_hourly"], inputs.get("instanceClass"), "RDS class")
        return compute + number(inputs.get("allocatedStorage"), 20) * rds["storage_gb_month"]
    if resource["type"] == EC2_INSTANCE:
        ec2 = prices["ec2"]
        return hourly(prices, ec2["instance_hourly"], inputs.get("instanceType"), "EC2 type") + (
            ec2["root_volume_gb"] * ec2["ebs_gp3_gb_month"]
        )
    if resource["type"] == NAT_GATEWAY:
        return prices["ec2"]["nat_gateway_hourly"] * prices["hours_per_month"]
    return 0.0


def usage_costs(lab: LabSpec, prices: Mapping[str, Any]) -> dict[str, float]:
    """`usage:<service>` → monthly USD of one student's assumed use of each AWS service the lab grants."""
    if lab.environment.aws is None:
        return {}
    costs: dict[str, float] = {}
    for service in sorted({s.lower() for s in lab.environment.aws.services}):
        if service == "ec2":
            ec2 = prices["ec2"]
            types = lab.environment.aws.instance_types
            dearest = max(hourly(prices, ec2["instance_hourly"], t, "EC2 type") for t in types) if types else 0.0
            costs["usage:ec2"] = dearest + ec2["root_volume_gb"] * ec2["ebs_gp3_gb_month"]
        elif service in prices["usage"]:
            costs[f"usage:{service}"] = prices["usage"][service]["monthly_usd"]
    return costs


def estimate_cost(plans: Iterable[Mapping[str, Any]], labs: Iterable[LabSpec], prices: Mapping[str, Any] | None = None) -> dict:
    """`{"monthly_usd", "by_student", "by_type", "assumptions"}` for a cohort's student plans.

    Every priced item is rounded to cents before it is added up, so `monthly_usd` is exactly the sum
    of `by_student` and of `by_type`.
    """
    prices = prices or load_prices()
    specs = {lab.id: lab for lab in labs}
    by_student: dict[str, int] = defaultdict(int)  # cents
    by_type: dict[str, int] = defaultdict(int)
    used: set[str] = set()
    for plan in plans:
        student = plan["student"]
        by_student[student] += 0
        items: list[tuple[str, float]] = [(r["type"], resource_cost(r, prices)) for r in plan["resources"]]
        if plan.get("lab") in specs:
            items += usage_costs(specs[plan["lab"]], prices).items()
        for kind, usd in items:
            cents = round(usd * 100)
            if cents:
                by_student[student] += cents
                by_type[kind] += cents
                if kind.startswith("usage:"):
                    used.add(kind.split(":", 1)[1])
    assumptions = [f"on-demand list prices, us-east-1, {prices['hours_per_month']} hours a month"]
    assumptions += [prices["usage"][s]["assumption"] for s in sorted(used)]
    assumptions.append(FREE_ASSUMPTION)
    return {
        "monthly_usd": sum(by_student.values()) / 100,
        "by_student": {s: cents / 100 for s, cents in by_student.items()},
        "by_type": {k: cents / 100 for k, cents in sorted(by_type.items())},
        "assumptions": assumptions,
    }
