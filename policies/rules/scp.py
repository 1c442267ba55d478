"""Service control policies (isolation mode `account`): the cohort's SCPs must hold the region lock,
the denial of leaving the organization, the lab's service allow-list and the cost limits.

The emulator does not evaluate SCPs (moto stores them, it does not apply them), so these rules and
their unit tests are what stands behind them before they reach AWS. Each rule reads every SCP of the
stack together — a piece may sit in any of them — and says nothing about a stack without SCPs.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from labctl.labs.catalog import get_lab
from labctl.labs.errors import LabctlError
from labctl.policies.aws_actions import scp_service_actions
from labctl.policies.model import Finding, PolicyResource, Stack, stack_rule

ORG_POLICY = "aws:organizations/policy:Policy"
SCP_TYPE = "SERVICE_CONTROL_POLICY"
LABS_TAG = "labctl:lab"
GPU_FAMILIES = ("p*", "g*")
PURCHASES = ("ec2:PurchaseReservedInstancesOffering", "rds:PurchaseReservedDBInstancesOffering",
             "savingsplans:CreateSavingsPlan", "aws-marketplace:Subscribe")


def scps(stack: Stack) -> list[PolicyResource]:
    return [r for r in stack.resources if r.type == ORG_POLICY and r.props.get("type", SCP_TYPE) == SCP_TYPE]


def statements(resource: PolicyResource) -> list[dict[str, Any]]:
    """The SCP's statements; an unreadable document has none (and so fails every rule that needs one)."""
    try:
        document = json.loads(resource.props.get("content") or "{}")
    except (TypeError, ValueError):
        return []
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in ([found] if isinstance(found, dict) else found) if isinstance(s, dict)]


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def denials(stack: Stack) -> list[dict[str, Any]]:
    return [s for r in scps(stack) for s in statements(r) if s.get("Effect") == "Deny"]


def covers(patterns: list, action: str) -> bool:
    """Whether an Action list names `action` exactly, by its service's `*`, or by `*`."""
    service = action.split(":", 1)[0]
    return any(p in ("*", action, f"{service}:*") for p in patterns)


def condition_values(statement: dict, operator: str, key: str) -> list:
    condition = statement.get("Condition") or {}
    block = condition.get(operator) or {}
    return as_list(block.get(key)) if isinstance(block, dict) else []


def only_labctl_exempt(statement: dict, *allowed: str) -> bool:
    """The statement's conditions are the allowed operators and at most the labctl principal exemption."""
    return set(statement.get("Condition") or {}) <= {"ArnNotLike", *allowed}


def missing(stack: Stack, what: str) -> Iterator[Finding]:
    yield Finding(f"the cohort's service control policies must {what}.", scps(stack)[0])


@stack_rule(
    "scp-region-lock",
    pack="isolation",
    description="Checks whether the cohort's SCPs deny every non-global action outside the allowed regions.",
)
def scp_region_lock(stack: Stack, _config: Any) -> Iterator[Finding]:
    if not scps(stack):
        return
    for s in denials(stack):
        regions = condition_values(s, "StringNotEquals", "aws:RequestedRegion")
        everything = "NotAction" in s or "*" in as_list(s.get("Action"))
        if everything and regions and not any("*" in str(r) for r in regions) and only_labctl_exempt(s, "StringNotEquals"):
            return
    yield from missing(stack, "deny actions outside the allowed regions (aws:RequestedRegion, no wildcard)")


@stack_rule(
    "scp-deny-leave",
    pack="isolation",
    description="Checks whether the cohort's SCPs deny leaving the organization, unconditionally.",
)
def scp_deny_leave(stack: Stack, _config: Any) -> Iterator[Finding]:
    if not scps(stack):
        return
    if not any(covers(as_list(s.get("Action")), "organizations:LeaveOrganization") and not s.get("Condition")
               for s in denials(stack)):
        yield from missing(stack, "deny organizations:LeaveOrganization without conditions")


@stack_rule(
    "scp-service-allowlist",
    pack="isolation",
    description="Checks whether the cohort's SCPs deny every action outside exactly the services of its labs.",
)
def scp_service_allowlist(stack: Stack, _config: Any) -> Iterator[Finding]:
    for resource in scps(stack):
        labs = str(resource.tags.get(LABS_TAG, "")).split()
        if not labs:
            yield Finding(f"{ORG_POLICY} {resource.name!r} must carry the {LABS_TAG} tag naming the cohort's labs.",
                          resource)
            continue
        try:
            specs = [get_lab(lab).spec for lab in labs]
        except LabctlError:
            yield Finding(f"{ORG_POLICY} {resource.name!r} must name catalog labs in {LABS_TAG} (it has {labs}).",
                          resource)
            continue
        expected = scp_service_actions([s for spec in specs if spec.environment.aws
                                        for s in spec.environment.aws.services])
        break
    else:
        return
    lists = [sorted(as_list(s["NotAction"])) for s in denials(stack) if "NotAction" in s
             and only_labctl_exempt(s) and "Resource" in s and "*" in as_list(s["Resource"])]
    if expected not in lists:
        found = f" (it allows {lists[0]})" if lists else ""
        yield from missing(stack, f"deny every action but {', '.join(expected)}{found}")


@stack_rule(
    "scp-cost-limits",
    pack="cost",
    description="Checks whether the cohort's SCPs limit EC2 instance types (no GPU), RDS classes and storage, "
    "and deny Marketplace and reserved purchases.",
)
def scp_cost_limits(stack: Stack, _config: Any) -> Iterator[Finding]:
    if not scps(stack):
        return
    found = denials(stack)
    runs = [s for s in found if covers(as_list(s.get("Action")), "ec2:RunInstances")]
    rds = [s for s in found if covers(as_list(s.get("Action")), "rds:CreateDBInstance")]
    pieces = {
        "limit EC2 to an instance-type allow-list": any(
            condition_values(s, "StringNotEquals", "ec2:InstanceType") for s in runs),
        "deny GPU instance families (p*, g*)": any(
            set(GPU_FAMILIES) <= set(condition_values(s, "StringLike", "ec2:InstanceType")) for s in runs),
        "limit RDS to an instance-class allow-list": any(
            condition_values(s, "StringNotEquals", "rds:DatabaseClass") for s in rds),
        "limit RDS storage (rds:StorageSize)": any(
            condition_values(s, "NumericGreaterThan", "rds:StorageSize") for s in rds),
        f"deny purchases ({', '.join(PURCHASES)})": all(
            any(covers(as_list(s.get("Action")), action) and not s.get("Condition") for s in found)
            for action in PURCHASES),
    }
    for what, present in pieces.items():
        if not present:
            yield from missing(stack, what)


RULES = (scp_region_lock, scp_deny_leave, scp_service_allowlist, scp_cost_limits)
