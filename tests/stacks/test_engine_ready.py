"""What a real `pulumi up` needs from labctl (issue 12), pinned through the recording fake of
`PulumiCommand` (tests named `fake_engine`), the SDK mock runtime and the files labctl writes. Each
docstring names the engine fact the behaviour rests on."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi

from cli import cli
from stacks import engine as engine_mod
from stacks.cohort import Cohort, make_target, parse_roster
from stacks.engine import Engine
from stacks.lifecycle import run_cohort
from stacks.registry import Registry

ROSTER = "id,name\nada,Ada\nbob,Bob\n"


def make_cohort(name: str = "c1", target: str = "localstack", labs: tuple[str, ...] = ("s3-static-website",)) -> Cohort:
    return Cohort(name, labs, make_target(target, None, "us-east-1", None), parse_roster(ROSTER, name, "r.csv"))


@pytest.fixture
def reg():
    with Registry() as registry:
        registry.create_cohort(make_cohort())
        yield registry


@pytest.fixture
def fake(monkeypatch) -> FakePulumi:
    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    return fake


def up(reg, fake, cohort: str = "c1", **kw):
    return run_cohort(reg, reg.cohort(cohort), kw.pop("operation", "up"), Engine(command=fake), **kw)


# --- 1. dynamic providers run on labctl's interpreter ---------------------------------------------


def test_fake_engine_dynamic_providers_run_on_labctls_own_interpreter(reg, fake, monkeypatch, tmp_path):
    """pulumi-resource-pulumi-python starts dynamic providers with `${PULUMI_PYTHON_CMD:-python3} -m
    pulumi.dynamic` unless the project names a virtualenv (pulumi/pulumi#7960): labctl run as
    `.venv/bin/labctl` without an activated venv would hand LabSetup to a python3 without pulumi."""
    monkeypatch.setenv("PULUMI_PYTHON_CMD", "/usr/bin/python3")  # a shell's own choice must not win
    assert up(reg, fake).failed == 0
    commands = {c.effective["PULUMI_PYTHON_CMD"] for c in fake.calls}
    assert commands == {sys.executable}
    # That interpreter imports what a LabSetup provider unpickles, from outside the repository too.
    done = subprocess.run([sys.executable, "-c", "import pulumi.dynamic, components.lab_setup"], cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- 7. labctl's variables win over the shell's; a student's deploy gets only what is theirs -----


def test_fake_engine_shell_settings_cannot_redirect_state_or_its_encryption(reg, fake, monkeypatch, labctl_home):
    """`PulumiCommand.run` gives the CLI `{**os.environ, **env_vars}` (pulumi/automation/_cmd.py);
    PULUMI_BACKEND_URL outranks the project's `backend.url` (pkg/workspace GetCurrentCloudURL) and
    PULUMI_CONFIG_PASSPHRASE is read before PULUMI_CONFIG_PASSPHRASE_FILE (pkg/secrets/passphrase):
    a CI job's values would move a cohort's state or break its secrets."""
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://ci-state-bucket")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "the CI job's passphrase")
    assert up(reg, fake).failed == 0
    secret = (labctl_home / "pulumi-passphrase").read_text()
    for call in fake.calls:
        assert call.effective["PULUMI_BACKEND_URL"] == f"file://{labctl_home}/pulumi-state"
        assert call.effective["PULUMI_CONFIG_PASSPHRASE"] == secret


def test_fake_engine_student_deploy_gets_none_of_the_instructors_settings(reg, fake, monkeypatch, tmp_path):
    """`PulumiCommand.run` passes this process's whole environment to the CLI (pulumi/automation/_cmd.py);
    AWS SDKs read an empty AWS_PROFILE or AWS_SESSION_TOKEN as unset (aws-sdk-go-v2 config/env_config.go),
    and client-go reads KUBECONFIG instead of ~/.kube/config whenever it is set (clientcmd loading rules)."""
    instructor = {
        "AWS_SESSION_TOKEN": "instructor-session", "AWS_PROFILE": "instructor-admin",
        "KUBECONFIG": "/home/instructor/.kube/config", "PGPASSWORD": "instructor-pg", "PGHOST": "db.internal",
        "PULUMI_ACCESS_TOKEN": "pul-instructor",
    }
    assert up(reg, fake, students=("ada",)).failed == 0
    for key, value in instructor.items():
        monkeypatch.setenv(key, value)
    project = tmp_path / "solution"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: ada-site\nruntime: python\n")
    fake.calls.clear()
    result = CliRunner().invoke(cli, ["student", "deploy", "--cohort", "c1", "--student", "ada", str(project)])
    assert result.exit_code == 0, result.output
    solution = [c for c in fake.calls if c.cwd == str(project)]  # the rest read labctl's own stack
    assert [c.verb for c in solution if c.verb == "up"] == ["up"]
    for call in solution:
        env = call.effective
        leaked = {key for key, value in env.items() if value in instructor.values()}
        assert leaked == set(), call.args
        assert (env["AWS_SESSION_TOKEN"], env["AWS_PROFILE"], env["PGPASSWORD"], env["PGHOST"]) == ("", "", "", "")
        assert env["KUBECONFIG"] == os.devnull
        assert env["AWS_ACCESS_KEY_ID"] == "AKIAADA"
        assert env["PULUMI_HOME"] == str(engine_mod.cli_root())
