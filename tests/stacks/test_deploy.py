"""`labctl student deploy`: a student's Pulumi project run as that student with labctl's policy packs,
against the recording fake of PulumiCommand (tests named `fake_engine`)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi

from cli import cli
from stacks import engine as engine_mod
from stacks.cohort import Cohort, make_target, parse_roster
from stacks.engine import Engine
from stacks.lifecycle import run_cohort
from stacks.registry import Registry


@pytest.fixture
def fake(monkeypatch) -> FakePulumi:
    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    students = parse_roster("id\nada\nbob\n", "c1", "r.csv")
    with Registry() as reg:
        reg.create_cohort(Cohort("c1", ("s3-static-website",), make_target("localstack", None, "eu-west-1", None),
                                 students))
    return fake


@pytest.fixture
def project(tmp_path):
    (tmp_path / "solution").mkdir()
    (tmp_path / "solution/Pulumi.yaml").write_text("name: ada-site\nruntime: python\n")
    return tmp_path / "solution"


def deploy(*args: str):
    return CliRunner().invoke(cli, ["student", "deploy", "--cohort", "c1", "--student", "ada", *args])


def test_fake_engine_deploy_runs_the_project_as_the_student_with_policy_packs(fake, project):
    with Registry() as reg:
        assert run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake), ("ada",)).failed == 0
    fake.calls.clear()
    result = deploy(str(project))
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"deployed c1.ada.solution from {project}: 3 create (policy packs attached)")
    assert "s3cr3t" not in result.output
    (up,) = fake.of("up")
    assert up.stack == "c1.ada.solution" and up.cwd == str(project)
    assert up.values("--policy-pack") == [str(engine_mod.REPO / "policies/isolation"), str(engine_mod.REPO / "policies/cost")]
    assert "--client" not in " ".join(up.args)  # the student's own program, not labctl's inline one
    env = up.env
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIAADA", "s3cr3t-ada")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and env["AWS_REGION"] == "eu-west-1"
    assert env["PULUMI_BACKEND_URL"].startswith("file://") and "PULUMI_CONFIG_PASSPHRASE_FILE" in env
    (config,) = fake.of("config set")
    assert config.args[2] == "aws:region" and config.args[-1] == "eu-west-1" and config.stack == "c1.ada.solution"


def test_fake_engine_deploy_preview_changes_nothing(fake, project):
    with Registry() as reg:
        run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake), ("ada",))
    result = deploy("--preview", str(project))
    assert result.exit_code == 0 and result.output.startswith("previewed c1.ada.solution")
    assert [c.stack for c in fake.of("up")] == ["c1.ada"]


def test_fake_engine_deploy_before_up_says_to_run_up(fake, project):
    result = deploy(str(project))
    assert result.exit_code == 1
    assert result.output == "Error: ada has no credentials yet: run `labctl up --cohort c1 --student ada` first\n"
    assert fake.of("up") == []


def test_terraform_module_is_refused_in_one_line_and_other_folders_are_input_errors(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf/main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    result = deploy(str(tmp_path / "tf"))
    assert (result.exit_code, result.output) == (
        1, "Error: Terraform modules need python-terraform, which this labctl install does not include\n")
    (tmp_path / "empty").mkdir()
    result = deploy(str(tmp_path / "empty"))
    assert result.exit_code == 2 and "neither a Pulumi project" in result.output
