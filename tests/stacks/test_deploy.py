"""`labctl student deploy`: a student's Pulumi project run as that student with labctl's policy packs,
against the recording fake of PulumiCommand (tests named `fake_engine`); a student's Terraform module
run by the real Terraform CLI (marked `terraform`), with the student's credentials from the fake engine."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.stacks import engine as engine_mod
from labctl.stacks.engine import Engine
from labctl.stacks.lifecycle import run_cohort


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
    assert up.values("--policy-pack") == [str(p) for p in engine_mod.policy_pack_paths()]
    assert "--client" not in " ".join(up.args)  # the student's own program, not labctl's inline one
    env = up.env
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIAADA", "s3cr3t-ada")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566" and env["AWS_REGION"] == "eu-west-1"
    assert env["PULUMI_BACKEND_URL"].startswith("file://") and "PULUMI_CONFIG_PASSPHRASE" in env
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


def test_terraform_module_without_python_terraform_is_refused_in_one_line(fake, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "python_terraform", None)  # makes `import python_terraform` fail
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf/main.tf").write_text('resource "aws_s3_bucket" "b" {}\n')
    result = deploy(str(tmp_path / "tf"))
    assert (result.exit_code, result.output) == (
        1, "Error: Terraform modules need python-terraform, which this labctl install does not include"
           " (pip install 'python-terraform>=0.10.1,<0.11')\n")
    assert fake.calls == []


def test_other_folders_are_input_errors(fake, tmp_path):
    (tmp_path / "empty").mkdir()
    result = deploy(str(tmp_path / "empty"))
    assert result.exit_code == 2 and "neither a Pulumi project" in result.output


def test_terraform_module_without_the_terraform_cli_says_to_install_it(fake, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf/main.tf").write_text('resource "terraform_data" "b" {}\n')
    result = deploy(str(tmp_path / "tf"))
    assert (result.exit_code, result.output) == (
        1, "Error: Terraform is not installed (no `terraform` on PATH): install Terraform ≥ 1.5\n")
    assert fake.calls == []


# --- the real Terraform CLI ----------------------------------------------------------------------

MODULE = """
variable "prefix" { type = string }
variable "student" { type = string }
variable "cohort" { type = string }
variable "endpoint" { type = string }
variable "env_file" { type = string }

resource "terraform_data" "site" {
  input = "${var.prefix}-site"

  # What the module's providers would see, and a careless echo of the secret (masked in the log).
  provisioner "local-exec" {
    command = "env | grep -E '^(AWS_|TF_VAR_)' | sort > '${var.env_file}'; echo \\"key: $AWS_SECRET_ACCESS_KEY\\""
  }
}

output "site" { value = terraform_data.site.output }
output "who" { value = "${var.cohort}/${var.student} at ${var.endpoint}" }
output "token" {
  value     = "${var.prefix}-token"
  sensitive = true
}
"""

@pytest.fixture
def terraform_cli() -> None:
    """Skips without the Terraform CLI, also in CI: no registry this project installs from (PyPI,
    Debian, npm) ships a Terraform >= 1.5 binary, so .ci/run cannot provide one."""
    if shutil.which("terraform") is None:
        pytest.skip("the Terraform CLI is not installed")


@pytest.fixture
def module(terraform_cli, fake, tmp_path, monkeypatch) -> Path:
    """A module of `terraform_data`, variables and outputs (no provider to download), and ada's lab up."""
    with Registry() as reg:
        assert run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake), ("ada",)).failed == 0
    monkeypatch.setenv("AWS_PROFILE", "instructor")  # the instructor's own settings never reach the module
    monkeypatch.setenv("TF_VAR_prefix", "instructor-prefix")
    (tmp_path / "site").mkdir()
    (tmp_path / "site/main.tf").write_text(MODULE)
    (tmp_path / "site/terraform.tfvars").write_text(f'env_file = "{tmp_path}/env.txt"\n')
    return tmp_path / "site"


def state_files(home: Path) -> list[Path]:
    return sorted(home.glob("terraform/*/*/*/terraform.tfstate"))


@pytest.mark.terraform
def test_terraform_apply_keeps_state_under_the_home_and_a_second_apply_is_a_no_op(module, labctl_home, tmp_path):
    result = deploy(str(module))
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"deployed terraform module {module} as c1-ada: 1 added, 0 changed, 0 destroyed;"
        " outputs: site=c1-ada-site, token=(sensitive), who=c1/ada at http://127.0.0.1:4566\n")
    (state,) = state_files(labctl_home)
    assert state.relative_to(labctl_home).parts[:3] == ("terraform", "c1", "ada")
    assert json.loads(state.read_text())["outputs"]["site"]["value"] == "c1-ada-site"
    assert sorted(p.name for p in module.iterdir()) == ["main.tf", "terraform.tfvars"]  # the module is only read
    env = dict(line.split("=", 1) for line in (tmp_path / "env.txt").read_text().splitlines())
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("AKIAADA", "s3cr3t-ada")
    assert (env["AWS_REGION"], env["AWS_ENDPOINT_URL"]) == ("eu-west-1", "http://127.0.0.1:4566")
    assert (env["TF_VAR_prefix"], env["TF_VAR_student"], env["TF_VAR_cohort"]) == ("c1-ada", "ada", "c1")
    assert env["TF_VAR_endpoint"] == "http://127.0.0.1:4566" and "AWS_PROFILE" not in env

    before = state.read_bytes()
    again = deploy(str(module))
    assert again.exit_code == 0, again.output
    assert again.output.startswith(f"deployed terraform module {module} as c1-ada: no changes;")
    assert state_files(labctl_home) == [state]
    assert json.loads(state.read_bytes())["resources"] == json.loads(before)["resources"]

    logs = "".join(p.read_text() for p in (labctl_home / "logs").rglob("*") if p.is_file())
    assert "terraform-apply" in logs and "key: ***" in logs
    assert "s3cr3t" not in logs and "s3cr3t" not in result.output + again.output


@pytest.mark.terraform
def test_terraform_preview_plans_and_changes_nothing(module, labctl_home):
    result = deploy("--preview", str(module))
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"previewed terraform module {module} as c1-ada: 1 to add, 0 to change, 0 to destroy (nothing applied)\n")
    assert state_files(labctl_home) == []
    assert deploy(str(module)).exit_code == 0
    (state,) = state_files(labctl_home)
    before = state.read_bytes()
    (module / "more.tf").write_text('resource "terraform_data" "more" { input = var.prefix }\n')
    result = deploy("--preview", str(module))
    assert result.output.startswith(f"previewed terraform module {module} as c1-ada: 1 to add,")
    assert state.read_bytes() == before and state_files(labctl_home) == [state]


@pytest.mark.terraform
def test_terraform_module_needing_a_provider_it_cannot_download_fails_in_one_line(module, tmp_path, monkeypatch):
    # A provider mirror nobody listens on: no registry, whether or not this machine has a network.
    mirror = 'provider_installation {\n  network_mirror { url = "https://127.0.0.1:9/" }\n}\n'
    (tmp_path / "cli.tfrc").write_text(mirror)
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(tmp_path / "cli.tfrc"))
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws/main.tf").write_text(
        'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
        'resource "aws_s3_bucket" "site" { bucket = "${var.prefix}-site" }\nvariable "prefix" { type = string }\n')
    result = deploy(str(tmp_path / "aws"))
    assert (result.exit_code, result.output) == (1, (
        f"Error: {tmp_path / 'aws'} needs provider hashicorp/aws, which `terraform init` cannot download: this"
        " machine has no access to a Terraform registry (put the provider in a plugin cache or filesystem mirror"
        " first)\n"))
