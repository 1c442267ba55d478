"""The engine: config defaults and overrides in `--policy-pack-config` shape, packs, the summary."""

from __future__ import annotations


import pytest
from policy_fixtures import PREFIX, STUDENT, plan, student_resources

from labctl.labs.errors import InputError
from labctl.policies.engine import evaluate, resolve_config
from labctl.policies.loaders import from_plan
from labctl.policies.rules import ALL_RULES, rules_for
from labctl.policies.rules.cost import BudgetConfig


def untagged_resources():
    """The compliant student with one untagged bucket (one tags-required violation)."""
    resources = student_resources()
    for r in resources:
        if r["name"] == f"{PREFIX}-site":
            del r["inputs"]["tags"]
    return from_plan(plan((STUDENT, resources)), "plan.json").resources


def test_defaults_come_from_our_code_when_no_config_is_given():
    settings = resolve_config(None)
    assert set(settings) == {rule.name for rule in ALL_RULES}
    assert settings["cost-budget-limit"].level == "mandatory"
    assert settings["cost-budget-limit"].config == BudgetConfig(maxBudgetUsd=25.0)
    assert settings["tags-required"].config.required_tags == ["labctl:cohort", "labctl:student", "labctl:lab"]


def test_config_overrides_values_and_keeps_other_defaults():
    settings = resolve_config({"cost-rds-limits": {"maxStorageGb": 50}})
    assert settings["cost-rds-limits"].config.max_storage_gb == 50
    assert settings["cost-rds-limits"].config.allow_multi_az is False


def test_summary_counts_mandatory_and_advisory():
    report = evaluate(untagged_resources())
    assert report.summary.mandatory == 1 and report.summary.advisory == 0
    assert report.summary.resources_checked == len(student_resources())
    assert report.summary.policies == len(ALL_RULES)
    assert not report.passed


@pytest.mark.parametrize(
    "entry", ["advisory", {"enforcementLevel": "advisory"}, {"enforcementLevel": "advisory", "requiredTags": ["labctl:cohort", "labctl:student", "labctl:lab"]}]
)
def test_enforcement_level_as_string_or_object(entry):
    report = evaluate(untagged_resources(), {"tags-required": entry})
    assert [(v.policy, v.level) for v in report.violations] == [("tags-required", "advisory")]
    assert report.summary.mandatory == 0 and report.summary.advisory == 1
    assert report.passed


def test_all_sets_every_level_and_a_policy_entry_wins():
    report = evaluate(untagged_resources(), {"all": "advisory", "tags-required": "mandatory"})
    assert {p.level for p in report.policies if p.name != "tags-required"} == {"advisory"}
    assert [v.level for v in report.violations] == ["mandatory"]


def test_disabled_policies_do_not_run():
    report = evaluate(untagged_resources(), {"tags-required": "disabled"})
    assert report.violations == ()
    assert "tags-required" not in {p.name for p in report.policies}
    assert report.summary.policies == len(ALL_RULES) - 1


def test_packs_select_rules():
    report = evaluate(untagged_resources(), packs=("cost",))
    assert {p.name for p in report.policies} == {r.name for r in rules_for("cost")}
    assert report.violations == ()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ([], "--config: policy config must be a JSON object keyed by policy name"),
        ({"tags-requird": "advisory"}, "--config: unknown policy 'tags-requird' in policy config"),
        ({"tags-required": "blocking"}, "--config: tags-required.enforcementLevel must be one of mandatory, advisory, disabled (got 'blocking')"),
        ({"all": {"enforcementLevel": 3}}, "--config: all.enforcementLevel must be one of"),
        ({"tags-required": 7}, "--config: tags-required must be an enforcement level or an object"),
        ({"cost-budget-limit": {"maxBudgetUsd": "lots"}}, "--config: cost-budget-limit.maxBudgetUsd: Input should be a valid number"),
        ({"cost-budget-limit": {"maxBudgetUsd": -1}}, "--config: cost-budget-limit.maxBudgetUsd: Input should be greater than 0"),
        ({"cost-no-nat-gateway": {"allowNat": True}}, "--config: cost-no-nat-gateway.allowNat: Extra inputs are not permitted"),
        ({"cost-k8s-quota": {"maxCpu": "lots"}}, "--config: cost-k8s-quota.maxCpu: Value error, not a Kubernetes quantity: 'lots'"),
        # Strings where numbers or flags belong are refused, never converted.
        ({"cost-budget-limit": {"maxBudgetUsd": "20"}}, "--config: cost-budget-limit.maxBudgetUsd: Input should be a valid number"),
        ({"cost-max-students": {"maxStudents": "60"}}, "--config: cost-max-students.maxStudents: Input should be a valid integer"),
        ({"cost-no-nat-gateway": {"allowNatGateway": "false"}}, "--config: cost-no-nat-gateway.allowNatGateway: Input should be a valid boolean"),
        ({"postgres-role-limited": {"maxConnections": True}}, "--config: postgres-role-limited.maxConnections: Input should be a valid integer"),
        ({"tags-required": {"requiredTags": "labctl:cohort"}}, "--config: tags-required.requiredTags: Input should be a valid list"),
    ],
)
def test_invalid_config_is_an_input_error_naming_policy_and_field(config, message):
    with pytest.raises(InputError) as info:
        evaluate([], config)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_the_config_location_is_named_in_errors():
    with pytest.raises(InputError, match=r"^policy-config.json: unknown policy 'x'"):
        evaluate([], {"x": "advisory"}, config_where="policy-config.json")


def test_unknown_pack_is_an_input_error():
    with pytest.raises(InputError, match="unknown policy pack 'security'"):
        evaluate([], packs=("security",))


def test_two_hundred_clean_students_give_no_violations():
    # The speed of this is measured by benchmarks/bench_policy.py, not asserted here.
    cohort = plan(*[(f"s{i:03d}", student_resources(f"s{i:03d}")) for i in range(200)])
    report = evaluate(from_plan(cohort, "plan.json").resources)
    assert report.summary.resources_checked == 1800 and report.violations == ()
