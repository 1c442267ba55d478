"""A cohort's shared Pulumi backend (`labctl cohort backend`) reaches the engine on up, destroy, reset,
handouts, student env and status: through the recording fake of the Pulumi CLI (tests/stacks/conftest.py)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.home import registry_path
from labctl.cohorts.registry import Registry

S3 = "s3://labs-state?endpoint=minio.example.edu:9000&region=us-east-1&s3ForcePathStyle=true"
KMS = "awskms://alias/labs?region=us-east-1"
PASSPHRASE = "shared-pass-phrase-31f7"


@pytest.fixture
def cohort(monkeypatch):
    monkeypatch.delenv("LABCTL_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_ACCESS_TOKEN", raising=False)
    students = parse_roster("id\nada\nbob\n", "sb1", "r.csv")
    with Registry() as reg:
        reg.create_cohort(Cohort("sb1", ("s3-static-website",), make_target("localstack", None, "us-east-1", None),
                                 students))
    return "sb1"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_fake_engine_up_and_destroy_use_the_recorded_s3_backend_and_passphrase_variable(cohort, fake, monkeypatch,
                                                                                         labctl_home):
    assert run("cohort", "backend", cohort, "--backend", S3, "--passphrase-env", "CS101_PASS").exit_code == 0
    monkeypatch.setenv("CS101_PASS", PASSPHRASE)
    monkeypatch.setenv("PULUMI_BACKEND_URL", "file:///somewhere/else")  # a shell's value never wins
    assert run("up", "--cohort", cohort).exit_code == 0
    assert run("destroy", "--cohort", cohort).exit_code == 0
    verbs = {c.verb for c in fake.calls}
    assert {"up", "destroy", "stack init"} <= verbs
    for call in fake.calls:
        assert call.effective["PULUMI_BACKEND_URL"] == S3
        assert call.effective["PULUMI_CONFIG_PASSPHRASE"] == PASSPHRASE
    assert all(c.values("--secrets-provider") == ["passphrase"] for c in fake.of("stack init"))
    settings = (labctl_home / "pulumi-work/sb1/ada/Pulumi.yaml").read_text()
    assert "url: s3://labs-state" in settings
    assert not (labctl_home / "pulumi-passphrase").exists()  # no generated passphrase for a shared backend


def test_fake_engine_the_passphrase_is_never_stored_or_printed(cohort, fake, monkeypatch):
    monkeypatch.setenv("LABCTL_PASSPHRASE", PASSPHRASE)
    outputs = [run("cohort", "backend", cohort, "--backend", S3),
               run("cohort", "backend", cohort, "--format", "json"), run("up", "--cohort", cohort),
               run("status", "--cohort", cohort), run("status", "--cohort", cohort, "--format", "json")]
    assert [r.exit_code for r in outputs] == [0] * 5, [r.output[:300] for r in outputs]
    assert all(PASSPHRASE not in r.output for r in outputs)
    for path in registry_path().parent.glob("registry.sqlite3*"):
        assert PASSPHRASE.encode() not in path.read_bytes()
    assert json.loads(outputs[1].output)["passphrase_env"] == "LABCTL_PASSPHRASE"
    assert "state in s3://labs-state" in outputs[3].output


def test_fake_engine_a_shared_backend_without_its_passphrase_is_one_line_before_any_stack(cohort, fake):
    assert run("cohort", "backend", cohort, "--backend", S3, "--passphrase-env", "CS101_PASS").exit_code == 0
    result = run("up", "--cohort", cohort)
    assert result.exit_code == 1
    assert result.output.strip() == (f"Error: backend {S3} encrypts with a passphrase: set CS101_PASS"
                                     " (labctl never stores it)")
    assert fake.calls == []


def test_fake_engine_kms_and_pulumi_cloud_reach_the_engine(cohort, fake, monkeypatch):
    assert run("cohort", "backend", cohort, "--backend", "https://api.pulumi.com", "--org", "acme",
               "--secrets-provider", KMS).exit_code == 0
    result = run("up", "--cohort", cohort)
    assert result.exit_code == 1 and "needs PULUMI_ACCESS_TOKEN in the environment" in result.output
    assert fake.calls == []
    monkeypatch.setenv("PULUMI_ACCESS_TOKEN", "pul-token-0000")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "a shell's passphrase")
    assert run("up", "--cohort", cohort).exit_code == 0
    assert sorted(c.stack for c in fake.of("up")) == ["acme/labctl/sb1.ada", "acme/labctl/sb1.bob"]
    assert all(c.values("--secrets-provider") == [KMS] for c in fake.of("stack init"))
    assert all(c.env["PULUMI_BACKEND_URL"] == "https://api.pulumi.com" for c in fake.calls)
    assert all("PULUMI_CONFIG_PASSPHRASE" not in c.env for c in fake.calls)  # labctl passes none with KMS


def test_fake_engine_handouts_and_student_env_read_outputs_from_the_shared_backend(cohort, fake, monkeypatch,
                                                                                  tmp_path):
    monkeypatch.setenv("LABCTL_PASSPHRASE", PASSPHRASE)
    assert run("cohort", "backend", cohort, "--backend", S3).exit_code == 0
    assert run("up", "--cohort", cohort).exit_code == 0
    fake.calls.clear()
    assert run("handouts", "--cohort", cohort, "--out", str(tmp_path / "h")).exit_code == 0
    env = run("student", "env", "--cohort", cohort, "--student", "ada")
    assert "AKIAADA" in env.output
    assert "AKIABOB" in (tmp_path / "h" / "bob.md").read_text()
    reads = fake.of("stack output")
    assert reads and all(c.effective["PULUMI_BACKEND_URL"] == S3 for c in reads)


def test_fake_engine_a_run_flag_overrides_the_url_and_keeps_the_recorded_secrets(cohort, fake, monkeypatch):
    monkeypatch.setenv("CS101_PASS", PASSPHRASE)
    assert run("cohort", "backend", cohort, "--backend", S3, "--passphrase-env", "CS101_PASS").exit_code == 0
    assert run("up", "--cohort", cohort, "--student", "ada", "--backend", "s3://other-state").exit_code == 0
    assert {c.effective["PULUMI_BACKEND_URL"] for c in fake.calls} == {"s3://other-state"}
    assert {c.effective["PULUMI_CONFIG_PASSPHRASE"] for c in fake.calls} == {PASSPHRASE}
    bad = run("up", "--cohort", cohort, "--backend", "s3://x")
    assert bad.exit_code == 2 and bad.output.startswith("Error: --backend: 's3://x': 'x' is not an S3 bucket name")


def test_cohort_backend_refuses_bad_input_and_records_nothing(cohort):
    result = run("cohort", "backend", cohort, "--backend", "s3://labs-state?endpont=minio:9000")
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "unknown option 'endpont'" in result.output
    assert run("cohort", "backend", cohort, "--org", "acme").exit_code == 2
    shown = json.loads(run("cohort", "backend", cohort, "--format", "json").output)
    assert shown["url"].startswith("file://")
    with Registry() as reg:
        assert reg.backend(cohort) is None


def test_deleting_a_cohort_forgets_its_backend(cohort):
    assert run("cohort", "backend", cohort, "--backend", S3).exit_code == 0
    assert run("cohort", "delete", cohort).exit_code == 0
    with Registry() as reg:
        assert reg.db.execute("SELECT COUNT(*) FROM cohort_backends").fetchone()[0] == 0
