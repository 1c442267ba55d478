"""StudentLab and AwsSandbox under the SDK's mock runtime (through the recording plan monitor)."""

from __future__ import annotations

import importlib
import inspect
import json
from pathlib import Path

import pytest

from components.aws_policies import student_identity_policy
from components.tags import owner_tags, student_tags
from labs.loader import parse_yaml, plain
from labs.spec import LabSpec
from stacks.cohort import Cohort, Target, synthetic_students
from stacks.plan import plan_student
from stacks.program import TargetSettings

REPO = Path(__file__).resolve().parents[2]
EMULATOR = Target("emulator", "http://127.0.0.1:4566", "us-east-1")
TAGS = ("labctl:cohort", "labctl:student", "labctl:lab")


def s3_lab() -> LabSpec:
    """The catalog's lab validated by the spec model (check names belong to the loader's tests)."""
    return LabSpec.model_validate(plain(parse_yaml(REPO / "labs" / "s3-static-website" / "lab.yaml")))


@pytest.fixture(scope="module")
def cohort() -> Cohort:
    return Cohort("c1", ("s3-static-website",), EMULATOR, synthetic_students("c1", 2))


@pytest.fixture(scope="module")
def plan(cohort: Cohort) -> dict:
    return plan_student(cohort, cohort.students[0], s3_lab(), TargetSettings.from_target(EMULATOR))


def by_type(plan: dict) -> dict[str, dict]:
    return {r["type"]: r for r in plan["resources"]}


def resource_class(token: str) -> type:
    """`aws:iam/user:User` -> pulumi_aws.iam.User."""
    package, module, name = token.split(":")
    return getattr(importlib.import_module(f"pulumi_{package}.{module.split('/')[0]}"), name)


def test_exact_resource_set_for_s3_static_website(plan):
    assert plan["student"] == "s001" and plan["prefix"] == "c1-s001"
    assert {(r["type"], r["name"], r["parent"]) for r in plan["resources"]} == {
        ("pulumi:providers:aws", "c1-s001-aws-provider", None),
        ("labctl:lab:StudentLab", "c1-s001", None),
        ("labctl:aws:AwsSandbox", "c1-s001-aws", "labctl:lab:StudentLab"),
        ("aws:iam/user:User", "c1-s001-aws-user", "labctl:aws:AwsSandbox"),
        ("aws:iam/accessKey:AccessKey", "c1-s001-aws-key", "labctl:aws:AwsSandbox"),
        ("aws:iam/userPolicy:UserPolicy", "c1-s001-aws-policy", "labctl:aws:AwsSandbox"),
    }


def test_urns_are_the_engines(plan):
    urns = {r["type"]: r["urn"] for r in plan["resources"]}
    assert urns["labctl:lab:StudentLab"] == "urn:pulumi:c1.s001::labctl::labctl:lab:StudentLab::c1-s001"
    assert urns["aws:iam/user:User"] == (
        "urn:pulumi:c1.s001::labctl::"
        "labctl:lab:StudentLab$labctl:aws:AwsSandbox$aws:iam/user:User::c1-s001-aws-user"
    )


def test_every_taggable_resource_carries_the_three_tags(plan):
    taggable = [
        r
        for r in plan["resources"]
        if r["type"].startswith("aws:")
        and "tags" in inspect.signature(resource_class(r["type"])._internal_init).parameters
    ]
    assert [r["type"] for r in taggable] == ["aws:iam/user:User"]
    for resource in taggable:
        assert resource["inputs"]["tags"] == student_tags("c1", "s001", "s3-static-website"), resource["name"]


def test_every_named_resource_starts_with_the_prefix(plan):
    for resource in plan["resources"]:
        assert resource["name"].startswith("c1-s001"), resource["name"]
        if "name" in resource["inputs"]:
            assert resource["inputs"]["name"].startswith("c1-s001"), resource["name"]


def test_sandbox_user_key_and_policy(plan):
    resources = by_type(plan)
    user = resources["aws:iam/user:User"]["inputs"]
    assert user == {"name": "c1-s001", "path": "/labctl/c1/", "forceDestroy": True, "tags": user["tags"]}
    assert resources["aws:iam/accessKey:AccessKey"]["inputs"] == {"user": "c1-s001"}
    policy = resources["aws:iam/userPolicy:UserPolicy"]["inputs"]
    assert policy["user"] == "c1-s001" and policy["name"] == "c1-s001-lab"
    owner = owner_tags(student_tags("c1", "s001", "s3-static-website"))
    assert json.loads(policy["policy"]) == student_identity_policy("c1-s001", ["s3"], ["us-east-1"], owner)


def test_aws_resources_use_the_explicit_provider(plan):
    provider = by_type(plan)["pulumi:providers:aws"]["urn"]
    for resource in plan["resources"]:
        if resource["type"].startswith("aws:"):
            assert resource["provider"] == provider, resource["name"]


def test_secrets_are_redacted(plan):
    resources = by_type(plan)
    provider = resources["pulumi:providers:aws"]["inputs"]
    assert provider["accessKey"] == provider["secretKey"] == "[secret]"
    assert resources["labctl:aws:AwsSandbox"]["outputs"]["secret_access_key"] == "[secret]"
    assert resources["labctl:lab:StudentLab"]["outputs"]["aws_secret_access_key"] == "[secret]"
    assert '"test"' not in json.dumps(plan)


def test_emulator_provider_points_every_service_at_the_endpoint(plan):
    inputs = by_type(plan)["pulumi:providers:aws"]["inputs"]
    # Provider inputs are kept as the provider SDK sends them: nested values JSON-encoded.
    assert json.loads(inputs["endpoints"]) == [{s: EMULATOR.endpoint for s in ("iam", "s3", "sts")}]
    for flag in ("skipCredentialsValidation", "skipRequestingAccountId", "skipMetadataApiCheck", "s3UsePathStyle"):
        assert inputs[flag] == "true", flag
    assert inputs["region"] == "us-east-1"


def test_given_credentials_are_secret_too(cohort):
    settings = TargetSettings("localstack", "http://localhost:4566", "eu-west-1", "AKIAGIVEN", "given-secret")
    plan = plan_student(cohort, cohort.students[0], s3_lab(), settings)
    inputs = by_type(plan)["pulumi:providers:aws"]["inputs"]
    assert inputs["accessKey"] == inputs["secretKey"] == "[secret]"
    assert "AKIAGIVEN" not in json.dumps(plan) and "given-secret" not in json.dumps(plan)


def test_aws_target_uses_region_and_profile_only(cohort):
    settings = TargetSettings("aws", None, "eu-west-1", profile="teaching")
    plan = plan_student(cohort, cohort.students[0], s3_lab(), settings)
    inputs = by_type(plan)["pulumi:providers:aws"]["inputs"]
    assert inputs["region"] == "eu-west-1" and inputs["profile"] == "teaching"
    assert not {"accessKey", "secretKey", "endpoints", "s3UsePathStyle"} & set(inputs)


def test_lab_without_environment_has_only_the_student_lab(cohort):
    data = plain(parse_yaml(REPO / "labs" / "s3-static-website" / "lab.yaml"))
    data["environment"] = {}
    lab = LabSpec.model_validate(data)
    plan = plan_student(cohort, cohort.students[0], lab, TargetSettings.from_target(EMULATOR))
    assert [r["type"] for r in plan["resources"]] == ["labctl:lab:StudentLab"]


def test_target_settings_refuse_an_emulator_without_endpoint():
    with pytest.raises(ValueError, match="endpoint"):
        TargetSettings("emulator", None, "us-east-1")
    with pytest.raises(ValueError, match="unknown target"):
        TargetSettings("gcp", None, "us-east-1")


def test_the_provider_and_policy_follow_the_labs_services(cohort):
    data = plain(parse_yaml(REPO / "labs" / "s3-static-website" / "lab.yaml"))
    data["environment"] = {"aws": {"services": ["dynamodb"], "regions": ["eu-west-1"]}}
    lab = LabSpec.model_validate(data)
    plan = plan_student(cohort, cohort.students[1], lab, TargetSettings.from_target(EMULATOR))
    resources = by_type(plan)
    endpoints = json.loads(resources["pulumi:providers:aws"]["inputs"]["endpoints"])
    assert sorted(endpoints[0]) == ["dynamodb", "iam", "sts"]
    policy = json.loads(resources["aws:iam/userPolicy:UserPolicy"]["inputs"]["policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"DynamodbOwnTables", "DynamodbList"}
    assert "arn:aws:dynamodb:eu-west-1:*:table/c1-s002-*" in policy["Statement"][0]["Resource"]
