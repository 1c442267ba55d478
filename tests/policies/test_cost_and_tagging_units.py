"""The cost and ownership rules one by one, called as functions on the resource shapes that tell a
right answer from a plausible wrong one: limits at and just past their boundary, the owner's name
followed by each separator and by none, tags that are present but empty. (Each case was a surviving
mutant of policies/rules/cost.py or tagging.py, see docs/testing.md.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from labctl.policies.model import SECRET, UNKNOWN, Finding, PolicyResource, Stack
from labctl.policies.rules.cost import (
    BUDGET,
    BudgetConfig,
    CohortCostConfig,
    InstanceTypeConfig,
    NatConfig,
    StudentsConfig,
    cost_budget_limit,
    cost_cohort_monthly_limit,
    cost_ec2_instance_types,
    cost_max_students,
    cost_no_nat_gateway,
)
from labctl.policies.rules.tagging import PrefixConfig, TagsConfig, has_prefix, names_prefixed, owned_name, tags_required

PREFIX, STUDENT = "c1-s1", "s1"
OWN_TAGS = {"labctl:cohort": "c1", "labctl:student": STUDENT, "labctl:lab": "lab"}


def res(type_: str, name: str, student: str | None = STUDENT, **props: Any) -> PolicyResource:
    prefix = f"c1-{student}" if student else None
    return PolicyResource(type_, name, f"urn:pulumi:c1::p::{type_}::{name}", props, student, prefix)


def messages(findings) -> list[str]:
    return [f.message if isinstance(f, Finding) else f for f in findings]


# ---- cost-budget-limit ----


def budget(name: str = f"{PREFIX}-budget", student: str | None = STUDENT, **props: Any) -> PolicyResource:
    return res(BUDGET, name, student, **{"limitAmount": "25", "limitUnit": "USD", **props})


@pytest.mark.parametrize(("amount", "over"), [("25", False), ("25.0", False), ("25.01", True), (26, True), ("0", False)])
def test_a_budget_may_reach_the_limit_but_not_pass_it(amount: Any, over: bool) -> None:
    found = messages(cost_budget_limit.check(Stack([budget(limitAmount=amount)]), BudgetConfig()))
    assert bool(found) is over
    if over:
        assert found == [f"{BUDGET} '{PREFIX}-budget' must have limitAmount of at most 25 USD (it has {float(amount):g})."]


@pytest.mark.parametrize("amount", [None, "lots", "[unknown]"])
def test_a_budget_without_a_numeric_limit_is_reported(amount: Any) -> None:
    found = messages(cost_budget_limit.check(Stack([budget(limitAmount=amount)]), BudgetConfig()))
    assert found == [f"{BUDGET} '{PREFIX}-budget' must have a numeric limitAmount."]


@pytest.mark.parametrize(("unit", "reported"), [(None, False), ("USD", False), ("EUR", True), ("usd", True)])
def test_a_budget_is_in_us_dollars_or_says_no_unit(unit: Any, reported: bool) -> None:
    found = messages(cost_budget_limit.check(Stack([budget(limitUnit=unit)]), BudgetConfig()))
    assert found == ([f"{BUDGET} '{PREFIX}-budget' must have limitUnit 'USD' (it has {unit!r})."] if reported else [])


def test_each_student_with_aws_resources_needs_a_budget_of_their_own() -> None:
    """s1 has a budget, s2 only its first AWS resource named, s3 only Kubernetes objects, and a budget
    nobody owns counts for nobody."""
    stack = Stack([
        budget(),
        res("aws:s3/bucketV2:BucketV2", "c1-s2-site", "s2"),
        res("aws:sqs/queue:Queue", "c1-s2-q", "s2"),
        res("kubernetes:core/v1:ConfigMap", "c1-s3-cm", "s3"),
        budget("shared-budget", student=None),
        res("aws:s3/bucketV2:BucketV2", "c1-s1-site", STUDENT),
        res("aws:s3/bucketV2:BucketV2", "c1-s4-site", "s4"),
    ])
    found = list(cost_budget_limit.check(stack, BudgetConfig()))
    assert [(f.message, f.resource.name if f.resource else None) for f in found] == [
        (f"student 's2' must have an {BUDGET} (found AWS resources, e.g. 'c1-s2-site').", "c1-s2-site"),
        (f"student 's4' must have an {BUDGET} (found AWS resources, e.g. 'c1-s4-site').", "c1-s4-site"),
    ]


def test_a_budget_is_an_aws_resource_but_not_a_stand_in_for_one() -> None:
    """A student whose only AWS resource is their budget needs nothing more."""
    assert list(cost_budget_limit.check(Stack([budget()]), BudgetConfig())) == []


def test_a_budget_finding_names_the_budget() -> None:
    (finding,) = cost_budget_limit.check(Stack([budget(limitAmount="30")]), BudgetConfig())
    assert finding.resource is not None and finding.resource.name == f"{PREFIX}-budget"


# ---- cost-ec2-instance-types ----

INSTANCE, TEMPLATE = "aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate"


@pytest.mark.parametrize(
    ("type_", "kind", "reported"),
    [
        (INSTANCE, "t3.micro", None),
        (INSTANCE, None, "must set an instanceType."),
        (TEMPLATE, None, None),  # a launch template may leave the type to whoever launches it
        (INSTANCE, "[unknown]", "must use one of"),
        (TEMPLATE, "m5.large", "must use one of"),
        (INSTANCE, {"Ref": "x"}, None),
    ],
)
def test_instances_name_an_allowed_type(type_: str, kind: Any, reported: str | None) -> None:
    found = messages(cost_ec2_instance_types.check(res(type_, f"{PREFIX}-vm", instanceType=kind), InstanceTypeConfig()))
    if reported is None:
        assert found == []
    else:
        (message,) = found
        assert message.startswith(f"{type_} '{PREFIX}-vm' {reported}")


def test_an_instance_type_message_lists_the_allowed_types() -> None:
    config = InstanceTypeConfig(allowedInstanceTypes=["t3.nano", "t3.micro"])
    found = messages(cost_ec2_instance_types.check(res(INSTANCE, "vm", instanceType="m5.large"), config))
    assert found == [f"{INSTANCE} 'vm' must use one of t3.nano, t3.micro (it uses 'm5.large')."]


def test_a_nat_gateway_is_refused_unless_allowed() -> None:
    nat = res("aws:ec2/natGateway:NatGateway", "nat")
    assert messages(cost_no_nat_gateway.check(nat, NatConfig())) == [
        "aws:ec2/natGateway:NatGateway 'nat' must not exist: NAT gateways are not allowed in labs."
    ]
    assert messages(cost_no_nat_gateway.check(nat, NatConfig(allowNatGateway=True))) == []


# ---- cost-max-students, cost-cohort-monthly-limit ----


@pytest.mark.parametrize(("students", "reported"), [(2, False), (3, True)])
def test_a_cohort_may_reach_the_student_limit_but_not_pass_it(students: int, reported: bool) -> None:
    stack = Stack([res("aws:sqs/queue:Queue", f"c1-s{i}-q", f"s{i}") for i in range(students)] + [res("aws:sqs/queue:Queue", "c1-s0-q2", "s0")])
    found = messages(cost_max_students.check(stack, StudentsConfig(maxStudents=2)))
    assert found == (["the cohort must have at most 2 students (it has 3)."] if reported else [])


@pytest.mark.parametrize(("monthly", "reported"), [(None, False), (100.0, False), (100.5, True)])
def test_a_cohort_may_cost_the_monthly_limit_but_not_more(monthly: float | None, reported: bool) -> None:
    found = messages(cost_cohort_monthly_limit.check(Stack([], monthly_usd=monthly), CohortCostConfig(maxCohortMonthlyUsd=100.0)))
    assert found == (["the cohort must cost at most 100 USD a month (estimated 100.5)."] if reported else [])


# ---- ownership: tags-required, names-prefixed ----


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("c1-s1", True),
        ("c1-s1-site", True),
        ("c1-s1_site", True),
        ("c1-s1.site", True),
        ("c1-s10-site", False),  # another student's prefix
        ("c1-s1Xsite", False),
        ("c1-s", False),
        ("x-c1-s1-site", False),
    ],
)
def test_a_name_has_the_prefix_when_a_separator_or_nothing_follows(name: str, owned: bool) -> None:
    assert has_prefix(name, PREFIX) is owned


@pytest.mark.parametrize(("name", "owned"), [("c1_s1_db", True), ("c1_s1", True), ("c1_s10_db", False), ("c1-s1-db", True)])
def test_a_name_is_owned_as_spelt_for_aws_or_for_postgresql(name: str, owned: bool) -> None:
    assert owned_name(name, PREFIX) is owned


def tag_messages(tags: Any, student: str | None = STUDENT, default_tags: dict | None = None) -> list[str]:
    bucket = PolicyResource("aws:s3/bucketV2:BucketV2", "b", "urn:b", {"tags": tags}, student, PREFIX, default_tags or {})
    return list(tags_required.check(bucket, TagsConfig()))


def test_every_labctl_tag_is_required_and_must_say_something() -> None:
    assert tag_messages(OWN_TAGS) == []
    assert tag_messages({**OWN_TAGS, "labctl:lab": ""}) == ["aws:s3/bucketV2:BucketV2 'b' must carry the tags labctl:lab."]
    assert tag_messages({**OWN_TAGS, "labctl:cohort": 7}) == ["aws:s3/bucketV2:BucketV2 'b' must carry the tags labctl:cohort."]
    assert tag_messages({}) == ["aws:s3/bucketV2:BucketV2 'b' must carry the tags labctl:cohort, labctl:student, labctl:lab."]


def test_default_tags_count_and_the_resources_own_win() -> None:
    assert tag_messages({"labctl:lab": "lab"}, default_tags={"labctl:cohort": "c1", "labctl:student": STUDENT}) == []
    for other in ("s2", "s0"):  # another student's slug, sorting after or before the owner's
        assert tag_messages({"labctl:student": other}, default_tags=OWN_TAGS) == [
            f"aws:s3/bucketV2:BucketV2 'b' must carry labctl:student=s1 (it says {other!r})."
        ]


@pytest.mark.parametrize("tags", [UNKNOWN, SECRET])
def test_tags_unknown_at_plan_time_are_not_judged(tags: str) -> None:
    assert tag_messages(tags) == []


def test_another_students_tag_is_judged_only_when_the_owner_is_known() -> None:
    assert tag_messages({**OWN_TAGS, "labctl:student": "s2"}, student=None) == []
    assert tag_messages({**OWN_TAGS, "labctl:student": ""}, student=STUDENT) == [
        "aws:s3/bucketV2:BucketV2 'b' must carry the tags labctl:student."
    ]


def name_messages(type_: str, logical: str, prefix: str | None = PREFIX, /, **props: Any) -> list[str]:
    resource = PolicyResource(type_, logical, f"urn:{logical}", props, STUDENT if prefix else None, prefix)
    return list(names_prefixed.check(resource, PrefixConfig()))


@pytest.mark.parametrize("prop", ["name", "namePrefix", "bucket", "bucketPrefix", "identifier", "functionName"])
def test_every_physical_name_property_is_prefixed(prop: str) -> None:
    assert name_messages("aws:x/y:Z", f"{PREFIX}-r", **{prop: f"{PREFIX}-r"}) == []
    assert name_messages("aws:x/y:Z", f"{PREFIX}-r", **{prop: "shared"}) == [
        f"aws:x/y:Z '{PREFIX}-r' must have a {prop} starting with '{PREFIX}' (it is 'shared')."
    ]


def test_names_are_not_judged_without_an_owner_or_when_not_strings() -> None:
    assert name_messages("aws:x/y:Z", "anything", None, name="shared") == []
    assert name_messages("aws:x/y:Z", f"{PREFIX}-r", name={"Ref": "x"}, bucket=UNKNOWN, identifier=SECRET) == []


def test_a_shared_image_keeps_its_registry_name_but_not_its_logical_name() -> None:
    image = "docker:index/remoteImage:RemoteImage"
    assert name_messages(image, f"{PREFIX}-img", name="codercom/code-server:4.96.4") == []
    assert name_messages(image, "img", name="codercom/code-server:4.96.4") == [
        f"{image} 'img' must be named starting with '{PREFIX}'."
    ]


def test_only_a_real_budget_is_judged_as_one() -> None:
    """An API (a type that sorts before budgets) is an AWS resource needing a budget, not a budget."""
    stack = Stack([budget(), res("aws:apigatewayv2/api:Api", "c1-s1-api"), res("aws:acm/certificate:Certificate", "c1-s1-cert")])
    assert list(cost_budget_limit.check(stack, BudgetConfig())) == []


def test_a_budget_in_dollars_read_from_a_plan_is_in_dollars() -> None:
    """A plan's strings are new objects, not the interned literal."""
    dollars = "".join(["U", "S", "D"])
    assert list(cost_budget_limit.check(Stack([budget(limitUnit=dollars)]), BudgetConfig())) == []


@pytest.mark.parametrize(
    ("config", "field", "small"),
    [(BudgetConfig, "maxBudgetUsd", 0.5), (StudentsConfig, "maxStudents", 1), (CohortCostConfig, "maxCohortMonthlyUsd", 0.5)],
)
def test_a_cost_limit_is_positive(config: type, field: str, small: float) -> None:
    assert config(**{field: small}) is not None
    for bad in (0, -1) if isinstance(small, int) else (0.0, -0.5):
        with pytest.raises(ValidationError):
            config(**{field: bad})


def test_every_default_the_policy_reference_states_is_the_rules_default() -> None:
    """docs/ci.md's table of rules names each configurable default; a rule whose default drifted from
    it (200 students, 25 USD, 8Gi...) would enforce what nobody documented."""
    from pathlib import Path

    from labctl.policies.rules import ALL_RULES

    rules = {rule.name: rule for rule in ALL_RULES}
    table = Path(__file__).resolve().parents[2] / "docs" / "ci.md"
    checked = 0
    for row in table.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in row.split("|")]
        if len(cells) < 5 or not cells[2].startswith("`"):
            continue
        for name in re.findall(r"`([a-z0-9-]+)`", cells[2]):
            fields = {f.alias: f.default for f in rules[name].config.model_fields.values()}
            for key, stated in re.findall(r"`(\w+)` \(([^)]+)\)", cells[4]):
                try:
                    value = json.loads(stated)
                except ValueError:
                    continue  # a description, not a value
                assert fields[key] == value, (name, key)
                checked += 1
    assert checked >= 10
