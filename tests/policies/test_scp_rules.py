"""The SCP rules (isolation mode `account`) on the SCPs labctl writes, and on documents each missing
one piece: moto does not evaluate SCPs, so these are what stands behind them."""

from __future__ import annotations

import copy

import pytest

from labctl.components.org_policies import cohort_scps, scp_json
from labctl.labs.catalog import get_lab
from labctl.policies.model import PolicyResource, Stack
from labctl.policies.rules import RULES_BY_NAME
from labctl.policies.rules.scp import ORG_POLICY

SCP_RULES = ("scp-region-lock", "scp-deny-leave", "scp-service-allowlist", "scp-cost-limits")
LABS = ("s3-static-website",)


def scp_stack(documents: dict[str, dict], labs: str = " ".join(LABS), **extra_props) -> Stack:
    return Stack([
        PolicyResource(ORG_POLICY, f"c1-organization-scp-{name}", f"urn:{name}",
                       {"type": "SERVICE_CONTROL_POLICY", "content": scp_json(doc),
                        "tags": {"labctl:cohort": "c1", **({"labctl:lab": labs} if labs else {})}, **extra_props})
        for name, doc in documents.items()
    ])


def failing(stack: Stack) -> dict[str, list[str]]:
    found = {}
    for name in SCP_RULES:
        rule = RULES_BY_NAME[name]
        messages = [f.message for f in rule.check(stack, rule.config())]
        if messages:
            found[name] = messages
    return found


def labctl_scps(*labs: str) -> dict[str, dict]:
    return copy.deepcopy(cohort_scps([get_lab(lab).spec for lab in labs or LABS], "us-east-1"))


def without(documents: dict[str, dict], sid: str) -> dict[str, dict]:
    for doc in documents.values():
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != sid]
    return documents


def statement(documents: dict[str, dict], sid: str) -> dict:
    return next(s for doc in documents.values() for s in doc["Statement"] if s.get("Sid") == sid)


@pytest.mark.parametrize("labs", [("s3-static-website",), ("s3-static-website", "dynamodb-orders")])
def test_the_scps_labctl_writes_pass_every_rule(labs):
    assert failing(scp_stack(labctl_scps(*labs), " ".join(labs))) == {}


def test_a_stack_without_scps_is_not_judged():
    assert failing(Stack([PolicyResource("aws:s3/bucket:Bucket", "b", "urn:b", {})])) == {}


def test_a_missing_region_lock_fails_only_its_rule():
    assert list(failing(scp_stack(without(labctl_scps(), "RegionLock")))) == ["scp-region-lock"]


@pytest.mark.parametrize("regions", [[], ["us-*"], ["*"]])
def test_a_region_lock_that_locks_nothing_fails(regions):
    documents = labctl_scps()
    statement(documents, "RegionLock")["Condition"]["StringNotEquals"]["aws:RequestedRegion"] = regions
    assert list(failing(scp_stack(documents))) == ["scp-region-lock"]


def test_a_region_lock_as_allow_fails():
    documents = labctl_scps()
    statement(documents, "RegionLock")["Effect"] = "Allow"
    assert list(failing(scp_stack(documents))) == ["scp-region-lock"]


def test_a_missing_or_conditional_deny_leave_fails():
    assert list(failing(scp_stack(without(labctl_scps(), "DenyLeaveOrganization")))) == ["scp-deny-leave"]
    documents = labctl_scps()
    statement(documents, "DenyLeaveOrganization")["Condition"] = {"StringEquals": {"aws:PrincipalTag/x": "y"}}
    assert list(failing(scp_stack(documents))) == ["scp-deny-leave"]


def test_organizations_star_covers_leaving():
    documents = labctl_scps()
    statement(documents, "DenyLeaveOrganization")["Action"] = ["organizations:*"]
    assert failing(scp_stack(documents)) == {}


def test_a_service_allow_list_that_does_not_match_the_lab_fails():
    documents = labctl_scps()
    statement(documents, "LabServicesOnly")["NotAction"].append("ec2:*")
    found = failing(scp_stack(documents))
    assert list(found) == ["scp-service-allowlist"]
    assert "must deny every action but budgets:View*, ce:Get*, health:*, iam:*, s3:*, sts:*, support:*, tag:*" in (
        found["scp-service-allowlist"][0])
    assert list(failing(scp_stack(labctl_scps(), "dynamodb-orders"))) == ["scp-service-allowlist"]
    assert list(failing(scp_stack(without(labctl_scps(), "LabServicesOnly")))) == ["scp-service-allowlist"]


def test_the_allow_list_needs_the_labs_named():
    assert "must carry the labctl:lab tag" in failing(scp_stack(labctl_scps(), ""))["scp-service-allowlist"][0]
    assert "must name catalog labs" in failing(scp_stack(labctl_scps(), "no-such-lab"))["scp-service-allowlist"][0]


@pytest.mark.parametrize(
    ("sid", "piece"),
    [
        ("InstanceTypes", "limit EC2 to an instance-type allow-list"),
        ("NoLargeInstances", "deny GPU instance families"),
        ("DatabaseClasses", "limit RDS to an instance-class allow-list"),
        ("DatabaseSize", "limit RDS storage"),
        ("NoPurchases", "deny purchases"),
    ],
)
def test_each_missing_cost_limit_fails_the_cost_rule(sid, piece):
    found = failing(scp_stack(without(labctl_scps(), sid)))
    assert list(found) == ["scp-cost-limits"] and len(found["scp-cost-limits"]) == 1
    assert piece in found["scp-cost-limits"][0]


def test_a_purchase_denial_that_misses_savings_plans_fails():
    documents = labctl_scps()
    statement(documents, "NoPurchases")["Action"].remove("savingsplans:CreateSavingsPlan")
    assert list(failing(scp_stack(documents))) == ["scp-cost-limits"]


def test_an_unreadable_scp_fails_every_rule():
    stack = scp_stack(labctl_scps())
    broken = Stack([PolicyResource(r.type, r.name, r.urn, {**r.props, "content": "{not json"}) for r in stack.resources])
    assert sorted(failing(broken)) == sorted(SCP_RULES)


def test_every_scp_fits_awss_size_limit_for_every_lab():
    from labctl.components.org_policies import SCP_MAX_CHARS
    from labctl.labs.catalog import load_catalog

    specs = [lab.spec for lab in load_catalog()]
    for doc in cohort_scps(specs, "us-east-1").values():
        assert len(scp_json(doc)) <= SCP_MAX_CHARS
