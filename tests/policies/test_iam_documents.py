"""Every IAM document labctl writes for the catalog, proven with kept IAM tooling and against the
published privilege-escalation methods.

- Lint: parliament (its own database of actions, resource types and condition keys) finds no unknown
  action, no condition key unknown for its action, nothing malformed or invalid in any identity
  policy, boundary or resource policy of any catalog lab, except the gaps of its database listed with
  a reason and an AWS page in policies/lint/parliament-allowlist.yaml.
- Escalation catalog: for every catalog lab, each method of `policies.rules.escalation.ESCALATIONS`
  that the lab's boundary makes reachable is blocked by the statement the catalog names, and a
  boundary without that statement is a mandatory violation of `iam-boundary-blocks-escalation`.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from parliament import analyze_policy_string
from ruamel.yaml import YAML

from labctl.components.aws_policies import (
    boundary_arn,
    policy_json,
    split_identity_policy,
    student_boundary_policy,
    student_identity_policy,
)
from labctl.components.tags import owner_tags, student_tags
from labctl.labs.catalog import get_lab, load_catalog
from labctl.policies.engine import evaluate
from labctl.policies.model import PolicyResource
from labctl.policies.rules.escalation import ESCALATIONS, escalation_problems

ROOT = Path(__file__).resolve().parents[2]
ALLOWLIST = YAML(typ="safe").load((ROOT / "policies" / "lint" / "parliament-allowlist.yaml").read_text())
FAILING_ISSUES = ("UNKNOWN_ACTION", "UNKNOWN_CONDITION_FOR_ACTION", "MALFORMED", "INVALID")
COHORT, STUDENT = "c1", "s001"
PREFIX = f"{COHORT}-{STUDENT}"


def aws_labs() -> list:
    return [lab.spec for lab in load_catalog() if lab.spec.environment and lab.spec.environment.aws]



def lab_documents(spec, role_policies: tuple[str, ...] | None = None) -> dict[str, dict]:
    """The identity policy's managed documents and the boundary, as AwsSandbox writes them (with the
    lab's own `role_policies` unless others are given)."""
    aws = spec.environment.aws
    declared = aws.role_policies if role_policies is None else role_policies
    owner = owner_tags(student_tags(COHORT, STUDENT, spec.id))
    identity = student_identity_policy(
        PREFIX, aws.services, aws.regions, owner, aws.instance_types, boundary_arn(COHORT, PREFIX), declared
    )
    documents = {f"identity-{n}": d for n, d in enumerate(split_identity_policy(identity), start=1)}
    documents["boundary"] = student_boundary_policy(PREFIX, aws.services, aws.regions, owner, declared)
    return documents


# Every catalog lab as it is, and a role lab that declares a managed policy for its roles.
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
VARIANTS = [(spec, None) for spec in aws_labs()] + [(get_lab("lambda-function-config").spec, (BASIC_EXECUTION,))]
VARIANT_IDS = [spec.id for spec in aws_labs()] + ["lambda-function-config+role-policy"]


def redteam_bucket_policy() -> dict:
    lab = get_lab("redteam-fix")
    module_spec = importlib.util.spec_from_file_location("redteam_setup_lint", lab.folder / "setup.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.insecure_policy(f"{PREFIX}-app")


def allowlisted(finding) -> bool:
    return any(entry["issue"] == finding.issue and entry["detail"] in str(finding.detail) for entry in ALLOWLIST)


def failing_findings(document: dict) -> list[str]:
    findings = analyze_policy_string(policy_json(document)).findings
    return [
        f"{f.issue}: {f.detail}" for f in findings if f.issue.startswith(FAILING_ISSUES) and not allowlisted(f)
    ]


def test_the_allowlist_says_why_and_where_for_each_entry():
    assert ALLOWLIST, "an empty allowlist needs no file"
    for entry in ALLOWLIST:
        assert set(entry) == {"issue", "detail", "reason", "source"}
        assert entry["issue"].startswith(FAILING_ISSUES) and entry["source"].startswith("https://docs.aws.amazon.com/")


def test_parliament_reports_what_the_lint_must_catch():
    """The lint is only worth its allowlist if parliament sees these faults (it did in 1.6.4)."""
    bad = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:DeleteBucketTagging"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["iam:CreateRole"], "Resource": "*",
         "Condition": {"StringEquals": {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}}}]}
    found = failing_findings(bad)
    assert any(f.startswith("UNKNOWN_ACTION") and "s3:DeleteBucketTagging" in f for f in found)
    assert any(f.startswith("UNKNOWN_CONDITION_FOR_ACTION") and "iam:PolicyARN" in f for f in found)


@pytest.mark.parametrize(("spec", "role_policies"), VARIANTS, ids=VARIANT_IDS)
def test_every_catalog_labs_iam_documents_pass_parliament(spec, role_policies):
    for name, document in lab_documents(spec, role_policies).items():
        assert failing_findings(document) == [], f"{spec.id} {name}"


@pytest.mark.parametrize(("spec", "role_policies"), VARIANTS, ids=VARIANT_IDS)
def test_every_statement_has_its_own_sid_and_some_action(spec, role_policies):
    for name, document in lab_documents(spec, role_policies).items():
        sids = [s["Sid"] for s in document["Statement"]]
        assert len(sids) == len(set(sids)), f"{spec.id} {name}"
        assert all(s["Action"] for s in document["Statement"]), f"{spec.id} {name}: a statement without actions"


@pytest.mark.parametrize(("spec", "role_policies"), VARIANTS, ids=VARIANT_IDS)
def test_every_catalog_labs_documents_pass_the_isolation_rules(spec, role_policies):
    """The identity documents as the grants they are, the boundary as the boundary."""
    documents = lab_documents(spec, role_policies)
    resources = boundary_resources(documents["boundary"]) + [
        managed_policy(name, document) for name, document in documents.items() if name != "boundary"
    ]
    assert [(v.policy, v.message) for v in evaluate(resources).violations if v.pack == "isolation"] == []


def test_the_resource_policy_labctl_writes_passes_parliament():
    assert failing_findings(redteam_bucket_policy()) == []


# --- the escalation catalog ----------------------------------------------------------------------


def managed_policy(name: str, document: dict) -> PolicyResource:
    """One of AwsSandbox's identity policies `<prefix>-<name>` under `/labctl/<cohort>/`."""
    return PolicyResource(
        type="aws:iam/policy:Policy",
        name=f"{PREFIX}-aws-{name}",
        urn=f"urn:pulumi:{COHORT}.{STUDENT}::labctl::aws:iam/policy:Policy::{PREFIX}-aws-{name}",
        props={"name": f"{PREFIX}-{name}", "path": f"/labctl/{COHORT}/", "tags": student_tags(COHORT, STUDENT, "lab"),
               "policy": policy_json(document)},
        student=STUDENT,
        prefix=PREFIX,
    )


def boundary_resources(document: dict) -> list[PolicyResource]:
    """A stack holding only the student's boundary, under AwsSandbox's convention."""
    tags = student_tags(COHORT, STUDENT, "lab")
    return [
        PolicyResource(
            type="aws:iam/policy:Policy",
            name=f"{PREFIX}-aws-boundary",
            urn=f"urn:pulumi:{COHORT}.{STUDENT}::labctl::aws:iam/policy:Policy::{PREFIX}-aws-boundary",
            props={"name": f"{PREFIX}-boundary", "path": f"/labctl/{COHORT}/", "tags": tags, "policy": policy_json(document)},
            student=STUDENT,
            prefix=PREFIX,
        )
    ]


def blockers(escalation) -> set[str]:
    return {sid.split(" ")[0] for sid in escalation.blocker.split(", ")}


def without_blocker(statements: list[dict], sid: str) -> list[dict]:
    """The boundary less its blocker: a Deny goes; an Allow (PassRole's) loses its condition."""
    return [
        {k: v for k, v in s.items() if k != "Condition"} if s["Sid"] == sid and s["Effect"] == "Allow" else s
        for s in statements
        if not (s["Sid"] == sid and s["Effect"] == "Deny")
    ]


@pytest.mark.parametrize(("spec", "role_policies"), VARIANTS, ids=VARIANT_IDS)
def test_every_reachable_escalation_is_blocked_by_the_statement_the_catalog_names(spec, role_policies):
    boundary = lab_documents(spec, role_policies)["boundary"]
    statements = boundary["Statement"]
    assert escalation_problems(statements, PREFIX) == []
    sids = {s["Sid"] for s in statements}
    for escalation in (e for e in ESCALATIONS if e.reachable(statements)):
        assert blockers(escalation) <= sids, (spec.id, escalation.method)
        for sid in blockers(escalation):
            assert escalation in escalation_problems(without_blocker(statements, sid), PREFIX), (spec.id, escalation.method, sid)


ROLE_LAB = "lambda-function-config"


def test_a_boundary_missing_a_blocker_is_a_mandatory_violation():
    boundary = lab_documents(get_lab(ROLE_LAB).spec)["boundary"]
    assert [v for v in evaluate(boundary_resources(boundary)).violations if v.pack == "isolation"] == []
    for sid in ("DenyRoleWritesWithoutOwnBoundary", "DenyRolesUnderAPath", "DenyOutsideOwnResources",
                "DenyIamSelfManagementAndAccount"):
        without = {**boundary, "Statement": [s for s in boundary["Statement"] if s["Sid"] != sid]}
        found = [v for v in evaluate(boundary_resources(without)).violations if v.policy == "iam-boundary-blocks-escalation"]
        assert found and all(v.level == "mandatory" for v in found), sid


def test_the_catalog_covers_the_published_methods():
    methods = " | ".join(e.method for e in ESCALATIONS)
    for method in ("CreatePolicyVersion", "SetDefaultPolicyVersion", "CreateLoginProfile", "UpdateLoginProfile",
                   "CreateAccessKey", "AttachUserPolicy", "PutUserPolicy", "AttachGroupPolicy", "PutGroupPolicy",
                   "AttachRolePolicy", "PutRolePolicy", "AddUserToGroup", "UpdateAssumeRolePolicy + AssumeRole",
                   "PassRole to EC2", "Glue", "DataPipeline", "CodeBuild", "CloudFormation", "UpdateFunctionCode",
                   "PutRolePermissionsBoundary", "DeleteRolePermissionsBoundary", "role-path squatting"):
        assert method in methods, method
    assert json.dumps([e.method for e in ESCALATIONS])  # plain data, reportable


# --- the gate platform engineers run: `labctl policy check --stack-export` ----------------------


def export_of(boundary: dict, identity: dict) -> dict:
    """A `pulumi stack export` (version 3) of one student's boundary and identity policy."""
    stack = f"{COHORT}.{STUDENT}"
    root = f"urn:pulumi:{stack}::labctl::pulumi:pulumi:Stack::labctl-{stack}"
    tags = student_tags(COHORT, STUDENT, ROLE_LAB)

    def policy(name: str, document: dict) -> dict:
        return {
            "urn": f"urn:pulumi:{stack}::labctl::aws:iam/policy:Policy::{PREFIX}-aws-{name}",
            "custom": True, "type": "aws:iam/policy:Policy", "parent": root,
            "inputs": {"name": f"{PREFIX}-{name}", "path": f"/labctl/{COHORT}/", "tags": tags, "policy": policy_json(document)},
        }

    resources = [
        {"urn": root, "custom": False, "type": "pulumi:pulumi:Stack", "inputs": {}},
        policy("boundary", boundary),
        policy("identity-1", identity),
    ]
    return {"version": 3, "deployment": {"manifest": {"version": "v3.200.0"}, "resources": resources}}


def check_export(tmp_path: Path, boundary: dict, identity: dict) -> tuple[int, list[dict]]:
    from click.testing import CliRunner

    from labctl.cli import cli

    path, config = tmp_path / "export.json", tmp_path / "config.json"
    path.write_text(json.dumps(export_of(boundary, identity)))
    config.write_text(json.dumps({"cost-budget-limit": "disabled"}))  # the export holds no budget
    arguments = ["policy", "check", "--stack-export", str(path), "--config", str(config), "--format", "json"]
    result = CliRunner().invoke(cli, arguments)
    return result.exit_code, json.loads(result.output)["violations"]


def isolation(violations: list[dict]) -> list[tuple[str, str]]:
    return sorted({(v["policy"], v["level"]) for v in violations if v["pack"] == "isolation"})


def test_policy_check_on_a_stack_export_passes_labctls_own_documents(tmp_path):
    documents = lab_documents(get_lab(ROLE_LAB).spec)
    code, violations = check_export(tmp_path, documents["boundary"], documents["identity-1"])
    assert (code, isolation(violations)) == (0, [])


@pytest.mark.parametrize(("weaken", "policy"), [
    ("role writes allowed without the boundary condition or its Deny", "iam-boundary-blocks-escalation"),
    ("DeleteRolePermissionsBoundary allowed", "iam-boundary-denies-escalation"),
    ("role paths admitted without a Deny", "iam-boundary-blocks-escalation"),
    ("PassRole on *", "iam-no-wildcards"),
])
def test_policy_check_on_a_stack_export_fails_each_escalation_path_as_mandatory(tmp_path, weaken, policy):
    documents = lab_documents(get_lab(ROLE_LAB).spec)
    boundary, identity = json.loads(json.dumps(documents["boundary"])), json.loads(json.dumps(documents["identity-1"]))
    if weaken.startswith("role writes"):
        boundary["Statement"] = [s for s in boundary["Statement"] if s["Sid"] != "DenyRoleWritesWithoutOwnBoundary"]
    elif weaken.startswith("DeleteRolePermissionsBoundary"):
        for s in boundary["Statement"]:
            if s["Sid"] == "DenyIamSelfManagementAndAccount":
                s["Action"] = [a for a in s["Action"] if a != "iam:DeleteRolePermissionsBoundary"]
    elif weaken.startswith("role paths"):
        boundary["Statement"] = [s for s in boundary["Statement"] if s["Sid"] != "DenyRolesUnderAPath"]
    else:
        identity["Statement"].append({"Sid": "PassAnything", "Effect": "Allow", "Action": ["iam:PassRole"], "Resource": ["*"]})
    code, violations = check_export(tmp_path, boundary, identity)
    assert code == 1 and (policy, "mandatory") in isolation(violations), weaken


def test_policy_check_on_a_stack_export_flags_listing_every_function_as_advisory(tmp_path):
    documents = lab_documents(get_lab(ROLE_LAB).spec)
    identity = json.loads(json.dumps(documents["identity-1"]))
    identity["Statement"].append({"Sid": "LambdaList", "Effect": "Allow", "Action": ["lambda:ListFunctions"], "Resource": ["*"]})
    code, violations = check_export(tmp_path, documents["boundary"], identity)
    assert (code, isolation(violations)) == (0, [("iam-no-account-wide-secret-reads", "advisory")])
