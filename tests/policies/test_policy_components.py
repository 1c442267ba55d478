"""The real components, recorded by the plan's mock runtime, meet the rules that apply to them:
every lab of the shipped catalog and every combination of environments plans with no mandatory
violation under the default policy config."""

from __future__ import annotations

from itertools import combinations

import pytest

from labctl.cohorts.cohort import Cohort, Target, synthetic_students
from labctl.components.k8s_namespace import NamespaceArgs, StudentNamespace
from labctl.components.tags import student_tags
from labctl.labs.catalog import load_catalog
from labctl.labs.spec import KubernetesEnvironment, LabSpec
from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.stacks.plan import plan_cohort, run_recorded
from labctl.stacks.program import TargetSettings

EMULATOR = Target("emulator", "http://127.0.0.1:4566", "us-east-1")
# The widest AWS labs: with roles (Lambda, ECS, PassRole) and, since roles and EC2 never share a lab,
# every other service with EC2 launches.
EVERY_AWS_SERVICE = {
    "services": ["s3", "dynamodb", "sqs", "sns", "lambda", "ecs", "logs", "apigateway", "cloudwatch"],
    "regions": ["us-east-1", "eu-west-1"],
}
EVERY_AWS_SERVICE_BUT_ROLES = {
    "services": [
        "s3", "dynamodb", "sqs", "sns", "ec2", "logs", "apigateway", "cloudwatch", "rds", "kms", "cloudformation",
    ],
    "regions": ["us-east-1", "eu-west-1"],
    "instance_types": ["t3.micro"],
}
ENVIRONMENTS = {
    "aws": EVERY_AWS_SERVICE,
    "kubernetes": {"cpu": "1", "memory": "2Gi"},
    "database": {},
    "workspace": {},
}


OPT_INS = [
    KubernetesEnvironment(),
    KubernetesEnvironment(student_manages=["networkpolicies"], allow_same_namespace=False),
    KubernetesEnvironment(student_manages=["rbac"]),
    KubernetesEnvironment(student_manages=["networkpolicies", "rbac"], allow_same_namespace=False),
]


@pytest.mark.parametrize("spec", OPT_INS, ids=["default", "networkpolicies", "rbac", "both"])
def test_student_namespace_has_no_violation(spec):
    def program() -> None:
        StudentNamespace(
            "c1-s1",
            NamespaceArgs(
                prefix="c1-s1",
                tags=student_tags("c1", "s1", "k8s-basics"),
                server="https://k8s:6443",
                ca_data="eA==",
                spec=spec,
            ),
        )

    recorded = run_recorded(program, "c1.s1").plan_resources()
    loaded = from_plan({"students": [{"student": "s1", "prefix": "c1-s1", "resources": recorded}]}, "plan")
    report = evaluate(loaded.resources)
    assert {r.type for r in loaded.resources} >= {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ResourceQuota",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    }
    assert report.violations == ()


def mandatory_violations(lab: LabSpec) -> list[str]:
    """Plan `lab` for two synthetic students (one process) and run both packs with the default config."""
    cohort = Cohort("c1", (lab.id,), EMULATOR, synthetic_students("c1", 2))
    planned = plan_cohort(cohort, [lab], TargetSettings.from_target(EMULATOR), workers=1)
    loaded = from_plan(planned, "plan")
    assert {r.student for r in loaded.resources} == {"s001", "s002"}
    report = evaluate(loaded.resources, monthly_usd=loaded.monthly_usd)
    return [f"{v.policy}: {v.message}" for v in report.violations if v.level == "mandatory"]


CATALOG = load_catalog()


@pytest.mark.parametrize("lab", [lab.spec for lab in CATALOG], ids=[lab.spec.id for lab in CATALOG])
def test_every_catalog_lab_plans_without_a_mandatory_violation(lab):
    assert mandatory_violations(lab) == []


def lab_with(environment: dict) -> LabSpec:
    data = CATALOG[0].spec.model_dump()
    data["id"] = "combo-" + "-".join(sorted(environment)) if environment else "combo-none"
    data["environment"] = environment
    return LabSpec.model_validate(data)


COMBINATIONS = [names for size in range(1, len(ENVIRONMENTS) + 1) for names in combinations(ENVIRONMENTS, size)]


@pytest.mark.parametrize("names", COMBINATIONS, ids=["+".join(n) for n in COMBINATIONS])
def test_every_combination_of_environments_plans_without_a_mandatory_violation(names):
    assert mandatory_violations(lab_with({name: ENVIRONMENTS[name] for name in names})) == []


@pytest.mark.parametrize("aws", [EVERY_AWS_SERVICE, EVERY_AWS_SERVICE_BUT_ROLES], ids=["roles", "ec2"])
def test_an_rds_database_with_the_widest_aws_labs_plans_without_a_mandatory_violation(aws):
    environment = {"aws": aws, "database": {"mode": "rds"}}
    assert mandatory_violations(lab_with(environment)) == []
