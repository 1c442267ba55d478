"""`labctl up --via operator`: Pulumi Kubernetes Operator `Stack` manifests, validated against the operator's
published Stack CRD schema (vendored: operator_crd/ORIGIN.md), and `labctl status` reading them back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pytest
from click.testing import CliRunner
from jsonschema import Draft7Validator
from kubernetes import client as k8s
from ruamel.yaml import YAML

from labctl.cli import cli
from labctl.cohorts.backend import parse_backend
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.labs.catalog import get_lab
from labctl.stacks import operator
from labctl.stacks.plan import run_recorded

SCHEMA = json.loads((Path(__file__).parent / "operator_crd" / "stack-v1-openapi.json").read_text())
COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO_URL = "https://git.example.edu/labs/labctl.git"
S3 = "s3://labs-state?endpoint=minio.example.edu:9000&region=us-east-1"
SECRET_VALUES = {"LABCTL_PASSPHRASE": "pp-do-not-print-9f3", "AWS_SECRET_ACCESS_KEY": "aws-secret-7e1c",
                 "PGPASSWORD": "pg-secret-44aa"}


def strict(schema):
    """The schema as the API server applies it: a field the schema does not name is pruned (dropped without
    a word), which for a manifest writer is a bug; so every object that names its properties and allows
    nothing else (no additionalProperties, no x-kubernetes-preserve-unknown-fields) gets
    additionalProperties: false."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(v) for v in schema]
    return schema


VALIDATOR = Draft7Validator(strict(SCHEMA))


def errors(manifest) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(manifest)]


def make_cohort(name="op1", kind="aws", endpoint=None, lab="s3-static-website", dsn=None) -> Cohort:
    from labctl.cohorts.cohort import Services

    students = parse_roster("id,name,email\nada,Ada,ada@example.edu\nbob,Bob,bob@example.edu\n", name, "r.csv")
    return Cohort(name, (lab,), make_target(kind, endpoint, "us-east-1", None), students, Services(dsn),
                  budget_usd=20.0)


@pytest.fixture
def reg(monkeypatch):
    for key, value in SECRET_VALUES.items():
        monkeypatch.setenv(key, value)
    with Registry() as registry:
        registry.create_cohort(make_cohort())
        registry.set_backend("op1", parse_backend(S3))
        yield registry


def export_cli(out: Path, *extra: str, cohort: str = "op1"):
    return CliRunner().invoke(cli, ["up", "--cohort", cohort, "--via", "operator", "--out", str(out), "--repo",
                                    REPO_URL, "--commit", COMMIT, "--namespace", "labs", *extra])


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path)


def test_operator_export_writes_one_schema_valid_stack_per_student(reg, tmp_path):
    result = export_cli(tmp_path / "out")
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "out").glob("*.yaml"))
    assert [f.name for f in files] == ["op1-ada.yaml", "op1-bob.yaml"]
    for path in files:
        manifest = load(path)
        assert errors(manifest) == []
        assert manifest["apiVersion"] == "pulumi.com/v1" and manifest["kind"] == "Stack"
        assert manifest["metadata"]["namespace"] == "labs"
    ada = load(files[0])
    spec = ada["spec"]
    assert spec["stack"] == "op1.ada"
    assert (spec["projectRepo"], spec["commit"]) == (REPO_URL, COMMIT)
    assert spec["backend"] == S3 and spec["secretsProvider"] == "passphrase"
    assert spec["destroyOnFinalize"] is True and spec["refresh"] is False
    assert spec["envRefs"] == {key: {"type": "Secret", "secret": {"name": "op1-pulumi", "key": key}}
                               for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_CONFIG_PASSPHRASE")}
    assert spec["config"]["labctl:lab"] == "s3-static-website"
    assert spec["config"]["labctl:student"] == {"student": "ada", "prefix": "op1-ada"}
    assert ada["metadata"]["labels"]["labctl.dev/student"] == "ada"
    assert ada["metadata"]["annotations"]["labctl.dev/policy-packs"] == "policies/isolation, policies/cost"
    assert "kubectl create secret generic op1-pulumi" in result.output
    assert reg.operator("op1")["namespace"] == "labs"


def test_operator_export_names_secrets_but_never_writes_or_prints_them(reg, tmp_path):
    reg.db.execute("UPDATE cohorts SET postgres_dsn = 'host=db.example.edu user=admin' WHERE name = 'op1'")
    result = export_cli(tmp_path / "out")
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir()) + result.output
    assert "PGPASSWORD" in written
    for value in SECRET_VALUES.values():
        assert value not in written
    assert "ada@example.edu" not in written  # a student's email stays out of the cluster


def test_the_strict_schema_catches_what_the_api_server_would_drop_or_refuse(reg, tmp_path):
    assert export_cli(tmp_path / "out").exit_code == 0
    manifest = load(tmp_path / "out" / "op1-ada.yaml")
    typo = json.loads(json.dumps(manifest))
    typo["spec"]["destroyOnFinalise"] = typo["spec"].pop("destroyOnFinalize")
    assert errors(typo) == ["spec: Additional properties are not allowed ('destroyOnFinalise' was unexpected)"]
    wrong_type = json.loads(json.dumps(manifest))
    wrong_type["spec"]["destroyOnFinalize"] = "yes"
    assert errors(wrong_type) == ["spec/destroyOnFinalize: 'yes' is not of type 'boolean'"]
    bad_ref = json.loads(json.dumps(manifest))
    del bad_ref["spec"]["envRefs"]["AWS_ACCESS_KEY_ID"]["secret"]["key"]
    assert errors(bad_ref) == ["spec/envRefs/AWS_ACCESS_KEY_ID/secret: 'key' is a required property"]


@pytest.mark.parametrize("kind, endpoint", [("aws", None), ("localstack", "http://localstack.example.edu:4566")])
def test_the_program_in_the_pod_builds_what_labctl_builds_from_the_stack_config(reg, kind, endpoint):
    reg.db.execute("UPDATE cohorts SET target = ?, endpoint = ?, instructor_email = 'prof@example.edu'",
                   (kind, endpoint))
    cohort = reg.cohort("op1")
    ada = cohort.students[0]
    config = operator.stack_config(cohort, ada, "s3-static-website")
    in_pod = operator.cohort_from_config(config["labctl:cohort"], config["labctl:student"])
    from labctl.stacks.program import TargetSettings, student_program

    spec = get_lab("s3-static-website").spec
    settings = TargetSettings.from_target(cohort.target)

    def planned(c):
        resources = run_recorded(student_program(c, c.student("ada"), spec, settings), "op1.ada").plan_resources()
        return sorted((r["type"], r["name"], json.dumps(r["inputs"], sort_keys=True)) for r in resources)

    assert planned(in_pod) == planned(cohort)


def test_the_workspace_installs_labctl_from_the_programs_folder():
    """`pulumi install` runs pip in the program's folder (Pulumi.yaml main) on its requirements.txt."""
    repo = Path(operator.REPO)
    main = YAML(typ="safe").load(repo / "Pulumi.yaml")["main"]
    lines = (repo / main / "requirements.txt").read_text().splitlines()
    wanted = [line for line in lines if line.strip() and not line.startswith("#")]
    assert len(wanted) == 1
    assert 'name = "labctl"' in ((repo / main / wanted[0]).resolve() / "pyproject.toml").read_text()


def test_a_mandatory_violation_writes_nothing_and_exits_1(reg, tmp_path, monkeypatch):
    from labctl.stacks import plan

    original = plan.student_program

    def with_a_wildcard(cohort, student, lab, settings, *rest):
        program = original(cohort, student, lab, settings, *rest)

        def run():
            program()
            aws.iam.Policy(f"{student.prefix}-everything", name=f"{student.prefix}-everything", policy=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
                opts=pulumi.ResourceOptions(provider=aws.Provider(f"{student.prefix}-p", region="us-east-1")))
        return run

    monkeypatch.setattr(plan, "student_program", with_a_wildcard)
    result = export_cli(tmp_path / "out")
    assert result.exit_code == 1
    assert "policy isolation/" in result.output and "nothing written" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and reg.operator("op1") is None


@pytest.mark.parametrize("change, extra, message", [
    ("DELETE FROM cohort_backends", (), "--backend: the operator's pods cannot reach this machine's file backend"),
    ("UPDATE cohorts SET target = 'emulator'", (), "cannot reach labctl's own emulator"),
    ("UPDATE cohorts SET target = 'localstack', endpoint = 'http://127.0.0.1:4566'", (), "loopback"),
    ("UPDATE cohorts SET postgres_dsn = 'host=localhost user=admin'", (), "PostgreSQL (localhost) is this machine's loopback"),
    ("UPDATE cohorts SET labs = '[\"k8s-jobs\"]'", (), "needs a kubeconfig on this machine"),
    ("", ("--namespace", "Labs_1"), "--namespace: 'Labs_1' is not a Kubernetes namespace name"),
    ("", ("--commit", "HEAD"), "--commit: 'HEAD' is not a full commit hash"),
    ("", ("--repo", "/srv/git/labctl"), "--repo: '/srv/git/labctl' is not a git URL"),
    ("", ("--secret", "Op1 Secret"), "--secret: 'Op1 Secret' is not a Kubernetes Secret name"),
])
def test_operator_export_refuses_in_one_line_and_writes_nothing(reg, tmp_path, change, extra, message):
    if change:
        reg.db.execute(change)
    result = export_cli(tmp_path / "out", *extra)
    assert result.exit_code == 2, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and reg.operator("op1") is None


def test_operator_flags_without_via_operator_are_refused(reg, tmp_path, fake):
    result = CliRunner().invoke(cli, ["up", "--cohort", "op1", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--out goes with --via operator" in result.output
    result = CliRunner().invoke(cli, ["up", "--cohort", "op1", "--via", "operator"])
    assert result.exit_code == 2 and "give --out DIR" in result.output
    assert fake.calls == []


# --- status from the cluster --------------------------------------------------------------------


def stack_object(student: str, ready: bool, state: str | None, message: str = "") -> dict:
    """A Stack as the operator reports it (fields from the vendored schema's status)."""
    status = {"observedGeneration": 1, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False", "reason": "ProcessingCompleted" if ready
         else "UpdateFailed", "message": message or "the stack has been processed and is up to date",
         "lastTransitionTime": "2026-12-02T10:00:00Z", "observedGeneration": 1}]}
    if state:
        status["lastUpdate"] = {"state": state, "message": message, "lastSuccessfulCommit": COMMIT if ready else "",
                                "generation": 1, "name": f"op1-{student}-1", "type": "up"}
        status["outputs"] = {"prefix": f"op1-{student}"} if ready else {}
    return {"apiVersion": "pulumi.com/v1", "kind": "Stack",
            "metadata": {"name": f"op1-{student}", "namespace": "labs",
                         "labels": {"labctl.dev/cohort": "op1", "labctl.dev/student": student}},
            "spec": {"stack": f"op1.{student}"}, "status": status}


@pytest.fixture
def cluster(monkeypatch):
    calls = []
    objects = [stack_object("ada", True, "succeeded"),
               stack_object("bob", False, "failed", "error: s3 bucket op1-bob-site: AccessDenied\nmore")]

    def listed(_self, group, version, namespace, plural, **kwargs):
        calls.append((group, version, namespace, plural, kwargs))
        return {"apiVersion": "pulumi.com/v1", "kind": "StackList", "items": objects}

    monkeypatch.setattr(k8s.CustomObjectsApi, "list_namespaced_custom_object", listed)
    monkeypatch.setattr("kubernetes.config.new_client_from_config", lambda **kw: calls.append(kw) or k8s.ApiClient())
    return calls


def test_fixture_stacks_match_the_schema():
    for obj in (stack_object("ada", True, "succeeded"), stack_object("bob", False, "failed", "x")):
        assert errors(obj) == []


def test_status_reads_the_stacks_from_the_cluster(reg, tmp_path, cluster):
    assert export_cli(tmp_path / "out", "--kubeconfig", str(tmp_path / "kc.yaml"), "--context", "lab").exit_code == 0
    result = CliRunner().invoke(cli, ["status", "--cohort", "op1", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["student"]: r["cluster"] for r in json.loads(result.output)}
    assert rows["ada"]["ready"] is True and rows["ada"]["state"] == "succeeded" and rows["ada"]["commit"] == COMMIT
    assert rows["bob"]["ready"] is False and rows["bob"]["reason"] == "UpdateFailed"
    assert rows["bob"]["message"] == "error: s3 bucket op1-bob-site: AccessDenied"
    assert {"config_file": str(tmp_path / "kc.yaml"), "context": "lab"} in cluster
    group, version, namespace, plural, kwargs = next(c for c in cluster if isinstance(c, tuple))
    assert (group, version, namespace, plural) == ("pulumi.com", "v1", "labs", "stacks")
    assert kwargs == {"label_selector": "labctl.dev/cohort=op1"}
    table = CliRunner().invoke(cli, ["status", "--cohort", "op1"]).output
    assert "ready (succeeded)" in table and "UpdateFailed (failed)" in table
    assert "state in s3://labs-state" in table


def test_status_of_an_unexported_cohort_has_no_cluster_column(reg, cluster):
    rows = json.loads(CliRunner().invoke(cli, ["status", "--cohort", "op1", "--format", "json"]).output)
    assert all("cluster" not in r for r in rows) and cluster == []


def test_status_with_an_unreachable_cluster_says_so_in_one_cell(reg, tmp_path):
    assert export_cli(tmp_path / "out", "--kubeconfig", str(tmp_path / "missing.yaml")).exit_code == 0
    result = CliRunner().invoke(cli, ["status", "--cohort", "op1", "--format", "json"])
    assert result.exit_code == 0
    for row in json.loads(result.output):
        assert row["cluster"]["error"].startswith("cluster not read: ")


@pytest.mark.skipif(not os.environ.get("LABCTL_TEST_OPERATOR_KUBECONFIG"),
                    reason="no Kubernetes cluster running the Pulumi Kubernetes Operator here"
                           " (set LABCTL_TEST_OPERATOR_KUBECONFIG to a kubeconfig of one)")
def test_real_cluster_accepts_the_manifests_and_status_reads_them(reg, tmp_path):
    from kubernetes import config

    kubeconfig = os.environ["LABCTL_TEST_OPERATOR_KUBECONFIG"]
    assert export_cli(tmp_path / "out", "--kubeconfig", kubeconfig).exit_code == 0
    api = k8s.CustomObjectsApi(config.new_client_from_config(config_file=kubeconfig))
    for path in sorted((tmp_path / "out").glob("*.yaml")):  # the API server validates them; nothing is kept
        api.create_namespaced_custom_object("pulumi.com", "v1", "labs", "stacks", load(path), dry_run="All")
    rows = json.loads(CliRunner().invoke(cli, ["status", "--cohort", "op1", "--format", "json"]).output)
    assert all("error" not in (r["cluster"] or {}) for r in rows)
