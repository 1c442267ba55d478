"""Cost: stop overspend before anything exists (AWS budget data lags about a day)."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterator

from pydantic import Field

from labctl.policies.model import Finding, PolicyResource, RuleConfig, Stack, resource_rule, stack_rule
from labctl.policies.rules.rds import number

BUDGET = "aws:budgets/budget:Budget"
EC2_INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NAT_GATEWAY = "aws:ec2/natGateway:NatGateway"


class BudgetConfig(RuleConfig):
    max_budget_usd: float = Field(default=25.0, gt=0, alias="maxBudgetUsd")


def is_aws_resource(resource: PolicyResource) -> bool:
    return resource.type.startswith("aws:")


@stack_rule(
    "cost-budget-limit",
    pack="cost",
    description="Checks whether each student with AWS resources has a USD budget of at most maxBudgetUsd.",
    config=BudgetConfig,
)
def cost_budget_limit(stack: Stack, config: BudgetConfig) -> Iterator[Finding]:
    budgets: dict[str, list[PolicyResource]] = defaultdict(list)
    aws_students: dict[str, PolicyResource] = {}
    for resource in stack.resources:
        if resource.type == BUDGET:
            yield from budget_findings(resource, config)
            if resource.student:
                budgets[resource.student].append(resource)
        elif resource.student and is_aws_resource(resource):
            aws_students.setdefault(resource.student, resource)
    for student, first in sorted(aws_students.items()):
        if not budgets.get(student):
            yield Finding(
                f"student {student!r} must have an {BUDGET} (found AWS resources, e.g. {first.name!r}).",
                first,
            )


def budget_findings(budget: PolicyResource, config: BudgetConfig) -> Iterator[Finding]:
    limit = number(budget.props.get("limitAmount"))
    unit = budget.props.get("limitUnit")
    if limit is None:
        yield Finding(f"{BUDGET} {budget.name!r} must have a numeric limitAmount.", budget)
    elif limit > config.max_budget_usd:
        yield Finding(
            f"{BUDGET} {budget.name!r} must have limitAmount of at most {config.max_budget_usd:g} USD "
            f"(it has {limit:g}).",
            budget,
        )
    if unit is not None and unit != "USD":
        yield Finding(f"{BUDGET} {budget.name!r} must have limitUnit 'USD' (it has {unit!r}).", budget)


class InstanceTypeConfig(RuleConfig):
    allowed_instance_types: list[str] = Field(
        default=["t2.nano", "t2.micro", "t3.nano", "t3.micro", "t3.small", "t4g.nano", "t4g.micro", "t4g.small"],
        alias="allowedInstanceTypes",
    )


@resource_rule(
    "cost-ec2-instance-types",
    pack="cost",
    description="Checks whether EC2 instances and launch templates use an allowed instance type.",
    types={EC2_INSTANCE, LAUNCH_TEMPLATE},
    config=InstanceTypeConfig,
)
def cost_ec2_instance_types(resource: PolicyResource, config: InstanceTypeConfig) -> Iterator[str]:
    kind = resource.props.get("instanceType")
    if resource.type == EC2_INSTANCE and kind is None:
        yield f"{resource.type} {resource.name!r} must set an instanceType."
    elif isinstance(kind, str) and kind not in config.allowed_instance_types:
        yield (
            f"{resource.type} {resource.name!r} must use one of "
            f"{', '.join(config.allowed_instance_types)} (it uses {kind!r})."
        )


class NatConfig(RuleConfig):
    allow_nat_gateway: bool = Field(default=False, alias="allowNatGateway")


@resource_rule(
    "cost-no-nat-gateway",
    pack="cost",
    description="Checks whether the lab avoids NAT gateways (about 33 USD a month each) unless "
    "allowNatGateway is set.",
    types={NAT_GATEWAY},
    config=NatConfig,
)
def cost_no_nat_gateway(resource: PolicyResource, config: NatConfig) -> Iterator[str]:
    if not config.allow_nat_gateway:
        yield f"{resource.type} {resource.name!r} must not exist: NAT gateways are not allowed in labs."


class StudentsConfig(RuleConfig):
    max_students: int = Field(default=200, gt=0, alias="maxStudents")


@stack_rule(
    "cost-max-students",
    pack="cost",
    description="Checks whether a plan provisions at most maxStudents students.",
    config=StudentsConfig,
)
def cost_max_students(stack: Stack, config: StudentsConfig) -> Iterator[Finding]:
    count = len(stack.students)
    if count > config.max_students:
        yield Finding(f"the cohort must have at most {config.max_students} students (it has {count}).")


class CohortCostConfig(RuleConfig):
    max_cohort_monthly_usd: float = Field(default=1000.0, gt=0, alias="maxCohortMonthlyUsd")


@stack_rule(
    "cost-cohort-monthly-limit",
    pack="cost",
    description="Checks whether the plan's estimated monthly cost is at most maxCohortMonthlyUsd.",
    config=CohortCostConfig,
)
def cost_cohort_monthly_limit(stack: Stack, config: CohortCostConfig) -> Iterator[Finding]:
    if stack.monthly_usd is not None and stack.monthly_usd > config.max_cohort_monthly_usd:
        yield Finding(
            f"the cohort must cost at most {config.max_cohort_monthly_usd:g} USD a month "
            f"(estimated {stack.monthly_usd:g})."
        )


RULES = (cost_budget_limit, cost_ec2_instance_types, cost_no_nat_gateway, cost_max_students, cost_cohort_monthly_limit)
