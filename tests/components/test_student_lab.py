"""StudentLab and AwsSandbox under the SDK's mock runtime (through the recording plan monitor)."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from labctl.components.aws_policies import policy_json, split_identity_policy, student_boundary_policy, student_identity_policy
from labctl.components.aws_sandbox import AwsSandbox, AwsSandboxArgs
from labctl.components.tags import owner_tags, student_tags
from labctl.labs.loader import parse_yaml, plain
from labctl.labs.spec import LabSpec
from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.cohorts.cohort import Cohort, Services, Target, synthetic_students
from labctl.stacks.plan import plan_student
from labctl.stacks.program import TargetSettings, provider_endpoints

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


def by_name(plan: dict) -> dict[str, dict]:
    return {r["name"]: r for r in plan["resources"]}


def identity_documents(plan: dict) -> list[dict]:
    """The documents of the sandbox's identity policies, in their order `-identity-1`, `-identity-2`…"""
    policies = [r for r in plan["resources"] if r["type"] == "aws:iam/policy:Policy" and "-identity-" in r["name"]]
    policies.sort(key=lambda r: int(r["name"].rsplit("-", 1)[1]))
    return [json.loads(r["inputs"]["policy"]) for r in policies]


def resource_class(token: str) -> type:
    """`aws:iam/user:User` -> pulumi_aws.iam.User."""
    package, module, name = token.split(":")
    return getattr(importlib.import_module(f"pulumi_{package}.{module.split('/')[0]}"), name)


# Ways IAM grants a principal permissions other than a managed policy attached to the student's
# user: none of them may appear, or the boundary and the identity policies are not the whole story.
OTHER_GRANTS = (
    "aws:iam/role:", "aws:iam/rolePolicy", "aws:iam/group:", "aws:iam/groupPolicy", "aws:iam/userPolicy:",
    "aws:iam/userGroupMembership:", "aws:iam/groupMembership:", "aws:iam/policyAttachment:", "aws:iam/userLoginProfile:",
)


def test_the_student_is_one_bounded_user_with_one_key_and_a_budget(plan):
    """Shared isolation (DESIGN decision 8): the student's credentials are one access key of one IAM
    user named by the prefix, under a permissions boundary, with only the sandbox's identity policies
    attached, and a budget. Shown failing with the user's permissions boundary dropped, and with an
    inline user policy added."""
    assert plan["student"] == "s001" and plan["prefix"] == "c1-s001"
    resources = plan["resources"]
    (user,) = [r["inputs"] for r in resources if r["type"] == "aws:iam/user:User"]
    assert (user["name"], user["path"]) == ("c1-s001", "/labctl/c1/") and user.get("permissionsBoundary")
    keys = [r["inputs"]["user"] for r in resources if r["type"] == "aws:iam/accessKey:AccessKey"]
    attached = [r["inputs"]["user"] for r in resources if r["type"] == "aws:iam/userPolicyAttachment:UserPolicyAttachment"]
    assert keys == ["c1-s001"] and attached == ["c1-s001"] * len(identity_documents(plan))
    assert not [r["type"] for r in resources if r["type"].startswith(OTHER_GRANTS)]
    assert [r["type"] for r in resources].count("aws:budgets/budget:Budget") == 1


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
    assert sorted(r["type"] for r in taggable) == [
        "aws:budgets/budget:Budget", "aws:iam/policy:Policy", "aws:iam/policy:Policy", "aws:iam/user:User"
    ]
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
    # The boundary's ARN is known once the policy exists: unknown in a plan (see the `up` test below).
    assert user == {
        "name": "c1-s001", "path": "/labctl/c1/", "forceDestroy": True, "tags": user["tags"],
        "permissionsBoundary": "[unknown]",
    }
    assert resources["aws:iam/accessKey:AccessKey"]["inputs"] == {"user": "c1-s001"}
    assert "aws:iam/userPolicy:UserPolicy" not in resources  # inline user policies hold 2,048 characters only
    policy = by_name(plan)["c1-s001-aws-identity-1"]["inputs"]
    assert policy["name"] == "c1-s001-identity-1" and policy["path"] == "/labctl/c1/"
    assert policy["tags"] == student_tags("c1", "s001", "s3-static-website")
    owner = owner_tags(student_tags("c1", "s001", "s3-static-website"))
    assert identity_documents(plan) == split_identity_policy(
        student_identity_policy("c1-s001", ["s3"], ["us-east-1"], owner)
    )
    assert policy["policy"] == policy_json(identity_documents(plan)[0])  # compact, keys sorted
    attachment = by_name(plan)["c1-s001-aws-identity-1-attach"]["inputs"]
    # The policy's ARN is known once it exists: unknown in a plan.
    assert attachment == {"user": "c1-s001", "policyArn": "[unknown]"}


def test_boundary_policy_is_the_students_cap(plan):
    boundary = by_name(plan)["c1-s001-aws-boundary"]["inputs"]
    assert boundary["name"] == "c1-s001-boundary" and boundary["path"] == "/labctl/c1/"
    owner = owner_tags(student_tags("c1", "s001", "s3-static-website"))
    assert json.loads(boundary["policy"]) == student_boundary_policy("c1-s001", ["s3"], ["us-east-1"], owner)


def test_budget_is_the_labs_monthly_cost_budget_without_alerts_when_no_instructor_email(plan):
    budget = by_type(plan)["aws:budgets/budget:Budget"]["inputs"]
    assert budget["name"] == "c1-s001-budget"
    assert (budget["budgetType"], budget["timeUnit"], budget["limitAmount"], budget["limitUnit"]) == (
        "COST", "MONTHLY", "5.00", "USD"
    )
    assert "notifications" not in budget


def test_cohort_budget_caps_the_lab_and_alerts_go_to_the_instructor():
    cohort = Cohort("c1", ("s3-static-website",), EMULATOR, synthetic_students("c1", 1), budget_usd=3,
                    instructor_email="teacher@example.org")
    plan = plan_student(cohort, cohort.students[0], s3_lab(), TargetSettings.from_target(EMULATOR))
    budget = by_type(plan)["aws:budgets/budget:Budget"]["inputs"]
    assert budget["limitAmount"] == "3.00"
    assert [(n["threshold"], n["notificationType"], n["subscriberEmailAddresses"]) for n in budget["notifications"]] == [
        (80, "ACTUAL", ["teacher@example.org"]), (100, "ACTUAL", ["teacher@example.org"])
    ]


class ArnMocks(pulumi.runtime.Mocks):
    """An `up`: IAM resources get the ARN AWS would give them."""

    def new_resource(self, args):
        outputs = dict(args.inputs)
        if args.typ == "aws:iam/policy:Policy":
            outputs["arn"] = f"arn:aws:iam::123456789012:policy{args.inputs['path']}{args.inputs['name']}"
        return f"{args.name}-id", outputs

    def call(self, args):
        return {}, None


def test_boundary_is_attached_to_the_user():
    pulumi.runtime.reset_options(project="labctl", stack="c1.s001", preview=False)
    pulumi.runtime.set_mocks(ArnMocks(), project="labctl", stack="c1.s001", preview=False)
    seen: dict[str, str] = {}

    def program() -> None:
        sandbox = AwsSandbox("c1-s001-aws", AwsSandboxArgs(
            prefix="c1-s001", cohort="c1", services=("s3",), regions=("us-east-1",),
            tags=student_tags("c1", "s001", "lab"), budget_usd=5.0,
        ))

        async def settle() -> None:
            seen["boundary"] = await sandbox.user.permissions_boundary.future()
            seen["arn"] = await sandbox.boundary.arn.future()

        _sync_await(settle())

    _sync_await(run_pulumi_func(program))
    assert seen["boundary"] == seen["arn"] == "arn:aws:iam::123456789012:policy/labctl/c1/c1-s001-boundary"


def test_identity_policies_are_managed_policies_attached_to_the_user_by_their_arns():
    pulumi.runtime.reset_options(project="labctl", stack="c1.s001", preview=False)
    pulumi.runtime.set_mocks(ArnMocks(), project="labctl", stack="c1.s001", preview=False)
    seen: dict[str, list] = {}

    def program() -> None:
        sandbox = AwsSandbox("c1-s001-aws", AwsSandboxArgs(
            prefix="c1-s001", cohort="c1", services=("s3", "ec2"), regions=("us-east-1",),
            tags=student_tags("c1", "s001", "lab"), budget_usd=5.0, instance_types=("t3.micro",),
        ))

        async def settle() -> None:
            seen["arns"] = [await p.arn.future() for p in sandbox.identity_policies]
            seen["attached"] = [await a.policy_arn.future() for a in sandbox.identity_attachments]
            seen["users"] = [await a.user.future() for a in sandbox.identity_attachments]

        _sync_await(settle())

    _sync_await(run_pulumi_func(program))
    # An S3 and EC2 lab needs more than one managed policy's 6,144 characters.
    assert seen["arns"] == seen["attached"] == [
        "arn:aws:iam::123456789012:policy/labctl/c1/c1-s001-identity-1",
        "arn:aws:iam::123456789012:policy/labctl/c1/c1-s001-identity-2",
    ]
    assert seen["users"] == ["c1-s001", "c1-s001"]


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
    assert json.loads(inputs["endpoints"]) == [{s: EMULATOR.endpoint for s in ("budgets", "iam", "s3", "sts")}]
    for flag in ("skipCredentialsValidation", "skipMetadataApiCheck", "s3UsePathStyle"):
        assert inputs[flag] == "true", flag
    assert inputs["region"] == "us-east-1"


def test_emulator_provider_requests_the_account_id_for_the_budget_id(plan, moto_endpoint, aws):
    """With `skip_requesting_account_id` the bridged provider's account id is empty and it builds a
    budget's id as `<account id>:<name>` = `:<name>`, which its own id parser rejects on read, update
    and delete (pulumi-aws budgets Budget, terraform-provider-aws budgets/budget.go). The account id
    comes from STS GetCallerIdentity, which the emulator answers at the mapped endpoint."""
    inputs = by_type(plan)["pulumi:providers:aws"]["inputs"]
    assert inputs["skipRequestingAccountId"] == "false"
    assert json.loads(inputs["endpoints"])[0]["sts"] == EMULATOR.endpoint
    identity = aws.client("sts", endpoint_url=moto_endpoint).get_caller_identity()
    assert re.fullmatch(r"\d{12}", identity["Account"])


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


def test_an_emulated_provider_answers_both_api_gateway_endpoints_for_apigateway_labs():
    assert provider_endpoints(["lambda", "apigateway"]) == ["apigateway", "apigatewayv2", "budgets", "iam", "lambda", "sts"]
    assert provider_endpoints(["rds", "kms", "iam"]) == ["budgets", "iam", "kms", "rds", "sts"]


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
    assert sorted(endpoints[0]) == ["budgets", "dynamodb", "iam", "sts"]
    [policy] = identity_documents(plan)
    assert {s["Sid"] for s in policy["Statement"] if s["Effect"] == "Allow"} == {
        "DynamodbOwnTables", "DynamodbTagOwn", "DynamodbTagUntagged"
    }
    assert "arn:aws:dynamodb:eu-west-1:*:table/c1-s002-*" in policy["Statement"][0]["Resource"]


# --- a lab that asks for every kind of environment ----------------------------------------------

FOUR_PROVIDERS = {
    "aws": "pulumi:providers:aws",
    "kubernetes": "pulumi:providers:kubernetes",
    "postgresql": "pulumi:providers:postgresql",
    "docker": "pulumi:providers:docker",
}


def four_environment_lab() -> LabSpec:
    data = plain(parse_yaml(REPO / "labs" / "s3-static-website" / "lab.yaml"))
    data["id"] = "full-stack"
    data["environment"] = {
        "aws": {"services": ["s3", "dynamodb"], "regions": ["us-east-1"], "budget_usd": 8},
        "kubernetes": {"cpu": "1", "memory": "2Gi"},
        "database": {"engine": "postgres"},
        "workspace": {"memory_mb": 1024},
    }
    return LabSpec.model_validate(data)


@pytest.fixture(scope="module")
def four_plan() -> dict:
    cohort = Cohort("c1", ("full-stack",), EMULATOR, synthetic_students("c1", 3))
    return plan_student(cohort, cohort.students[1], four_environment_lab(), TargetSettings.from_target(EMULATOR))


def test_four_environment_lab_composes_every_component_under_the_lab(four_plan):
    components = {(r["type"], r["name"], r["parent"]) for r in four_plan["resources"] if r["type"].startswith("labctl:")}
    assert components == {
        ("labctl:lab:StudentLab", "c1-s002", None),
        ("labctl:aws:AwsSandbox", "c1-s002-aws", "labctl:lab:StudentLab"),
        ("labctl:k8s:StudentNamespace", "c1-s002-k8s", "labctl:lab:StudentLab"),
        ("labctl:db:StudentDatabase", "c1-s002-db", "labctl:lab:StudentLab"),
        ("labctl:workspace:StudentWorkspace", "c1-s002-workspace", "labctl:lab:StudentLab"),
    }
    providers = sorted((r["type"], r["name"]) for r in four_plan["resources"] if r["type"].startswith("pulumi:providers:"))
    assert providers == sorted((t, f"c1-s002-{k if k != 'kubernetes' else 'k8s'}-provider") for k, t in FOUR_PROVIDERS.items())
    for resource in four_plan["resources"]:
        assert resource["name"].startswith("c1-s002"), resource["name"]


def test_every_resource_uses_its_packages_cohort_provider(four_plan):
    urns = {r["type"]: r["urn"] for r in four_plan["resources"] if r["type"].startswith("pulumi:providers:")}
    for resource in four_plan["resources"]:
        package = resource["type"].split(":")[0]
        if package in FOUR_PROVIDERS:
            assert resource["provider"] == urns[FOUR_PROVIDERS[package]], resource["name"]


def test_four_environment_outputs_are_secret_where_they_must_be(four_plan):
    outputs = by_type(four_plan)["labctl:lab:StudentLab"]["outputs"]
    for key in ("aws_secret_access_key", "kubeconfig", "database_dsn", "workspace_password"):
        assert outputs[key] == "[secret]", key
    assert outputs["workspace_url"] == "http://127.0.0.1:20001"  # the second student's port
    assert by_type(four_plan)["aws:budgets/budget:Budget"]["inputs"]["limitAmount"] == "8.00"


def test_cohort_services_configure_the_shared_providers(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        "clusters: [{name: k, cluster: {server: 'https://k8s.example:6443', certificate-authority-data: Q0E=}}]\n"
        "contexts: [{name: lab, context: {cluster: k, user: admin}}]\nusers: [{name: admin, user: {token: t0p}}]\n"
    )
    monkeypatch.setenv("PGPASSWORD", "pg-admin-secret")
    services = Services("host=db.example port=6543 user=labadmin dbname=postgres sslmode=require", str(kubeconfig), "lab")
    cohort = Cohort("c1", ("full-stack",), EMULATOR, synthetic_students("c1", 1), services)
    plan = plan_student(cohort, cohort.students[0], four_environment_lab(), TargetSettings.from_target(EMULATOR))
    resources = by_type(plan)
    pg = resources["pulumi:providers:postgresql"]["inputs"]
    assert (pg["host"], pg["port"], pg["username"], pg["sslmode"], pg["password"]) == (
        "db.example", "6543", "labadmin", "require", "[secret]"
    )
    k8s = resources["pulumi:providers:kubernetes"]["inputs"]
    assert (k8s["kubeconfig"], k8s["context"]) == (str(kubeconfig), "lab")
    assert "pg-admin-secret" not in json.dumps(plan) and "t0p" not in json.dumps(plan)
    assert resources["labctl:lab:StudentLab"]["outputs"]["database_dsn"] == "[secret]"


@pytest.mark.parametrize(("dsn", "sslmode"), [
    (None, "disable"),
    ("host=localhost user=postgres", "disable"),
    ("host=db.example user=labadmin", "require"),
    ("host=db.example user=labadmin sslmode=verify-full", "verify-full"),
])
def test_postgresql_provider_sslmode_is_set_for_each_target(monkeypatch, dsn, sslmode):
    """Left unset, the provider SDK takes the shell's PGSSLMODE (pulumi_postgresql/provider.py) and the
    Go provider (lib/pq) its own default, which need not suit a local server without TLS: the sslmode is
    explicit, the DSN's when it names one."""
    monkeypatch.setenv("PGSSLMODE", "verify-ca")
    cohort = Cohort("c1", ("full-stack",), EMULATOR, synthetic_students("c1", 1), Services(dsn))
    plan = plan_student(cohort, cohort.students[0], four_environment_lab(), TargetSettings.from_target(EMULATOR))
    assert by_type(plan)["pulumi:providers:postgresql"]["inputs"]["sslmode"] == sslmode


# --- the policy packs over our own plans --------------------------------------------------------


def mandatory_violations(plans: list[dict]) -> list[str]:
    report = evaluate(from_plan({"cohort": "c1", "students": plans}, "x").resources)
    return [f"{v.policy}: {v.message}" for v in report.violations if v.level == "mandatory"]


def test_s3_lab_plan_has_no_mandatory_policy_violation(cohort):
    settings = TargetSettings.from_target(EMULATOR)
    plans = [plan_student(cohort, student, s3_lab(), settings) for student in cohort.students]
    assert mandatory_violations(plans) == []


def test_four_environment_lab_plan_has_no_mandatory_policy_violation(four_plan):
    assert mandatory_violations([four_plan]) == []
