"""Handouts and `labctl student env`: 0600 files, instructions, target, and credentials only from the
stack's outputs (the fake engine's, since no Pulumi CLI runs here)."""

from __future__ import annotations

import stat
import subprocess

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi

from cli import cli
from stacks import engine as engine_mod
from stacks.cohort import Cohort, make_target, parse_roster
from stacks.engine import Engine
from stacks.handouts import env_text, markdown_text, write_handouts
from stacks.lifecycle import run_cohort
from stacks.registry import Registry


def make_cohort() -> Cohort:
    students = parse_roster("id,name\nada,Ada Lovelace\nbob,\n", "c1", "r.csv")
    return Cohort("c1", ("s3-static-website",), make_target("localstack", None, "eu-west-1", None), students)


@pytest.fixture
def cohort() -> Cohort:
    with Registry() as reg:
        reg.create_cohort(make_cohort())
    return make_cohort()


def test_markdown_handout_without_outputs_says_when_credentials_come(cohort, tmp_path):
    paths = write_handouts(cohort, tmp_path / "out", "md", lambda student: {})
    assert [p.name for p in paths] == ["ada.md", "bob.md"]
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in paths)
    text = paths[0].read_text()
    assert text.startswith("# Host a static website on S3 — Ada Lovelace")
    assert "`c1-ada`" in text and "http://127.0.0.1:4566" in text and "`eu-west-1`" in text
    assert "Your credentials appear here after your instructor runs `labctl up --cohort c1`." in text
    assert "Create a bucket named `<prefix>-site`." in text  # the lab's own instructions follow
    assert "AWS_ACCESS_KEY_ID" not in text


def test_env_handout_with_outputs_is_sourceable(cohort):
    outputs = {"aws_access_key_id": "AKIAADA", "aws_secret_access_key": "s3cr3t/with'quote", "aws_user": "u"}
    text = env_text(cohort, cohort.students[0], outputs)
    script = text + 'printf "%s|%s|%s|%s" "$AWS_ENDPOINT_URL" "$AWS_DEFAULT_REGION" "$LABCTL_PREFIX" "$AWS_SECRET_ACCESS_KEY"'
    shown = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown == "http://127.0.0.1:4566|eu-west-1|c1-ada|s3cr3t/with'quote"
    assert "appear here" not in text


def test_markdown_handout_with_outputs_shows_credentials_and_other_outputs(cohort):
    outputs = {"aws_access_key_id": "AKIAADA", "aws_secret_access_key": "shh", "aws_user": "c1-ada-user",
               "prefix": "c1-ada", "lab": "s3-static-website"}
    text = markdown_text(cohort, cohort.students[0], outputs)
    assert "- AWS_SECRET_ACCESS_KEY: `shh`" in text and "- lab: `s3-static-website`" in text


def test_handouts_cli_without_the_pulumi_cli_writes_files_and_says_why(cohort, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(cli, ["handouts", "--cohort", "c1", "--out", str(tmp_path / "h"), "--format", "env"])
    assert result.exit_code == 0, result.output
    assert "2 handouts written" in result.output and "labctl engine install" in result.output
    assert "# Your credentials appear here" in (tmp_path / "h/bob.env").read_text()


def test_fake_engine_handouts_and_student_env_carry_the_stack_outputs(cohort, tmp_path, monkeypatch):
    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    with Registry() as reg:
        assert run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake)).failed == 0
    result = CliRunner().invoke(cli, ["handouts", "--cohort", "c1", "--out", str(tmp_path / "h")])
    assert result.exit_code == 0 and "without credentials" not in result.output
    assert "- AWS_SECRET_ACCESS_KEY: `s3cr3t-bob`" in (tmp_path / "h/bob.md").read_text()
    result = CliRunner().invoke(cli, ["student", "env", "--cohort", "c1", "--student", "ada"])
    assert result.exit_code == 0
    assert "export AWS_ACCESS_KEY_ID=AKIAADA\n" in result.output
    assert "export LABCTL_PREFIX=c1-ada\n" in result.output


def test_student_env_for_unknown_student_is_an_input_error(cohort):
    result = CliRunner().invoke(cli, ["student", "env", "--cohort", "c1", "--student", "zed"])
    assert result.exit_code == 2 and "no student 'zed' in cohort 'c1'" in result.output
