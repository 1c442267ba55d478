"""The CrossGuard packs: the adapter builds real pulumi_policy policies, and each pack's __main__.py
registers them — checked with PolicyPack replaced by a recorder, so no gRPC server starts."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pulumi_policy
import pytest
from policy_fixtures import BOUNDARY, PREFIX, tags
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, unknown_checking_proxy
from ruamel.yaml import YAML

from labctl.policies.pulumi_adapter import pack_policies
from labctl.policies.rules import rules_for

PACKS_DIR = Path(__file__).resolve().parents[2] / "policies"
OPTS = PolicyResourceOptions(False, [], None, [], None, [], None)


class RecordedPack:
    """Stands in for PolicyPack, whose constructor would serve gRPC forever."""

    made: list["RecordedPack"] = []

    def __init__(self, name, policies, enforcement_level=None, **kwargs):
        self.name, self.policies, self.enforcement_level = name, policies, enforcement_level
        RecordedPack.made.append(self)


@pytest.mark.parametrize("pack", ["isolation", "cost"])
def test_adapter_builds_one_policy_per_rule_with_name_level_and_kind(pack):
    policies = pack_policies(pack)
    rules = rules_for(pack)
    assert [p.name for p in policies] == [r.name for r in rules]
    for policy, rule in zip(policies, rules):
        assert policy.description == rule.description
        assert policy.enforcement_level == EnforcementLevel(rule.enforcement)
        assert isinstance(policy, StackValidationPolicy if rule.stack_level else ResourceValidationPolicy)


def test_config_schema_carries_our_defaults():
    budget = next(p for p in pack_policies("cost") if p.name == "cost-budget-limit")
    assert budget.config_schema.properties == {"maxBudgetUsd": {"default": 25.0, "exclusiveMinimum": 0, "type": "number"}}
    acl = next(p for p in pack_policies("isolation") if p.name == "s3-no-public-acl")
    assert acl.config_schema is None


@pytest.mark.parametrize("pack", ["isolation", "cost"])
def test_main_registers_the_pack_without_starting_a_server(pack, monkeypatch):
    RecordedPack.made.clear()
    monkeypatch.setattr(pulumi_policy, "PolicyPack", RecordedPack)
    runpy.run_path(str(PACKS_DIR / pack / "__main__.py"), run_name="__main__")
    (made,) = RecordedPack.made
    assert made.name == f"labctl-{pack}"
    assert made.enforcement_level == EnforcementLevel.MANDATORY
    assert [p.name for p in made.policies] == [r.name for r in rules_for(pack)]


@pytest.mark.parametrize("pack", ["isolation", "cost"])
def test_pack_project_files(pack):
    project = YAML(typ="safe").load(PACKS_DIR / pack / "PulumiPolicy.yaml")
    assert project["runtime"]["name"] == "python"
    assert project["version"] == "0.1.0"
    requirements = (PACKS_DIR / pack / "requirements.txt").read_text()
    assert "pulumi-policy" in requirements and "pydantic" in requirements


def validate_resource(policy_name, type_token, name, props, config=None, provider=None):
    """Run one adapted policy the way the analyzer does: proxied props, a report_violation callback."""
    policy = next(p for pack in ("isolation", "cost") for p in pack_policies(pack) if p.name == policy_name)
    urn = f"urn:pulumi:c1.s1::labctl::{type_token}::{name}"
    args = ResourceValidationArgs(type_token, unknown_checking_proxy(props), urn, name, OPTS, provider, config)
    reported = []
    policy.validate(args, lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_resource_policy_reports_with_the_resource_urn():
    reported = validate_resource("iam-permissions-boundary", "aws:iam/user:User", f"{PREFIX}-user", {"name": PREFIX, "tags": tags()})
    assert reported == [
        (f"aws:iam/user:User '{PREFIX}-user' must have a permissionsBoundary.", f"urn:pulumi:c1.s1::labctl::aws:iam/user:User::{PREFIX}-user")
    ]
    assert validate_resource("iam-permissions-boundary", "aws:iam/user:User", "u", {"permissionsBoundary": BOUNDARY}) == []


def validate_stack(policy_name, *resources, config=None):
    """Run one adapted stack policy over (type, name, props) triples, props behind the analyzer's proxies."""
    policy = next(p for pack in ("isolation", "cost") for p in pack_policies(pack) if p.name == policy_name)
    given = [
        PolicyResource(t, unknown_checking_proxy(props), f"urn:pulumi:c1.s1::labctl::{t}::{n}", n, OPTS, None, None, [], {})
        for t, n, props in resources
    ]
    reported = []
    policy.validate(StackValidationArgs(given, config or {}), lambda message, urn=None: reported.append((message, urn)))
    return reported


def test_stack_policy_reads_nested_proxies_and_treats_unknowns_as_unreadable():
    doc = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    role = {"name": f"{PREFIX}-role", "inlinePolicies": [{"name": "a", "policy": doc}, {"name": "b", "policy": UNKNOWN_STRING_VALUE}]}
    reported = validate_stack("iam-no-wildcards", ("aws:iam/role:Role", f"{PREFIX}-role", role))
    assert [m for m, _ in reported] == [f"aws:iam/role:Role '{PREFIX}-role' inline policy 'a' must not allow Action '*'."]


def test_resource_policy_applies_pulumi_config_and_ignores_other_types():
    nat = {"subnetId": "subnet-1", "tags": tags()}
    assert len(validate_resource("cost-no-nat-gateway", "aws:ec2/natGateway:NatGateway", "nat", nat)) == 1
    assert validate_resource("cost-no-nat-gateway", "aws:ec2/natGateway:NatGateway", "nat", nat, {"allowNatGateway": True}) == []
    assert validate_resource("cost-no-nat-gateway", "aws:s3/bucketV2:BucketV2", "b", {}) == []


def test_resource_policy_takes_default_tags_from_the_provider():
    provider = pulumi_policy.PolicyProviderResource(
        "pulumi:providers:aws", unknown_checking_proxy({"defaultTags": json.dumps({"tags": tags()})}), "urn:p", "p"
    )
    assert validate_resource("tags-required", "aws:s3/bucketV2:BucketV2", f"{PREFIX}-site", {"bucket": f"{PREFIX}-site"}, provider=provider) == []
    assert len(validate_resource("tags-required", "aws:s3/bucketV2:BucketV2", f"{PREFIX}-site", {"bucket": f"{PREFIX}-site"})) == 1


def test_stack_policy_sees_all_resources_and_applies_config():
    policy = next(p for p in pack_policies("cost") if p.name == "cost-budget-limit")

    def res(type_token, name, props):
        return PolicyResource(type_token, unknown_checking_proxy(props), f"urn:{name}", name, OPTS, None, None, [], {})

    budget = res("aws:budgets/budget:Budget", f"{PREFIX}-budget", {"limitAmount": "30", "limitUnit": "USD", "tags": tags()})
    user = res("aws:iam/user:User", f"{PREFIX}-user", {"tags": tags()})
    reported = []
    policy.validate(StackValidationArgs([user, budget], {}), lambda message, urn=None: reported.append((message, urn)))
    assert reported == [(f"aws:budgets/budget:Budget '{PREFIX}-budget' must have limitAmount of at most 25 USD (it has 30).", f"urn:{PREFIX}-budget")]
    reported.clear()
    policy.validate(StackValidationArgs([user, budget], {"maxBudgetUsd": 50}), lambda message, urn=None: reported.append((message, urn)))
    assert reported == []
