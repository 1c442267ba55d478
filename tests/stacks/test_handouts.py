"""Handouts and `labctl student env`: 0600 files, instructions, target, and credentials only from the
stack's outputs (the fake engine's, since no Pulumi CLI runs here)."""

from __future__ import annotations

import stat
import subprocess

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi

from labctl.cli import cli
from labctl.stacks import engine as engine_mod
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.stacks.engine import Engine
from labctl.stacks.handouts import env_text, markdown_text, write_handouts
from labctl.stacks.lifecycle import run_cohort
from labctl.cohorts.registry import Registry


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
    assert "Create a bucket named `c1-ada-site`." in text  # the lab's own instructions follow, filled in
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


KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: c1-ada\n  user:\n    token: tok$en-`x`\n"
FULL = {"aws_access_key_id": "AKIAADA", "aws_secret_access_key": "s3cr3t-ada", "aws_user": "c1-ada-user",
        "namespace": "c1-ada", "kubeconfig": KUBECONFIG,
        "database_dsn": "postgresql://c1_ada:pw-db@127.0.0.1:5432/c1_ada",
        "workspace_url": "http://127.0.0.1:20000", "workspace_password": "pw-ws"}


def test_markdown_handout_has_kubeconfig_dsn_and_workspace(cohort):
    text = markdown_text(cohort, cohort.students[0], FULL)
    assert "`postgresql://c1_ada:pw-db@127.0.0.1:5432/c1_ada`" in text
    assert "- workspace: <http://127.0.0.1:20000>" in text and "- workspace password: `pw-ws`" in text
    assert "```yaml\n" + KUBECONFIG + "```" in text and "`~/.kube/c1-ada.yaml`" in text
    assert "- namespace: `c1-ada`" in text and "appear here" not in text
    assert "- kubeconfig: `" not in text and "- database_dsn" not in text  # each shown once, in its place


def test_env_handout_writes_the_kubeconfig_0600_and_exports_everything(cohort, tmp_path):
    text = env_text(cohort, cohort.students[0], FULL)
    script = text + 'printf "%s|%s|%s|%s" "$KUBECONFIG" "$DATABASE_URL" "$LABCTL_WORKSPACE_URL" "$LABCTL_WORKSPACE_PASSWORD"'
    shown = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True,
                           env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}).stdout
    path = tmp_path / ".kube/c1-ada.yaml"
    assert shown == f"{path}|postgresql://c1_ada:pw-db@127.0.0.1:5432/c1_ada|http://127.0.0.1:20000|pw-ws"
    assert path.read_text() == KUBECONFIG  # the here-document expands nothing
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_fake_engine_secrets_reach_files_and_student_env_only(cohort, tmp_path, monkeypatch):
    fake = FakePulumi(extra_outputs={k: v for k, v in FULL.items() if not k.startswith("aws")})
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    runner = CliRunner(env={"COLUMNS": "300"})
    printed = [runner.invoke(cli, ["up", "--cohort", "c1"]).output]
    for fmt in ("md", "env"):
        result = runner.invoke(cli, ["handouts", "--cohort", "c1", "--out", str(tmp_path / "h"), "--format", fmt])
        assert result.exit_code == 0
        printed.append(result.output)
    printed += [runner.invoke(cli, ["status", "--cohort", "c1", *f]).output for f in ([], ["--format", "json"])]
    printed.append(runner.invoke(cli, ["engine", "status"]).output)
    secrets = ("s3cr3t-ada", "s3cr3t-bob", "pw-db", "pw-ws", "tok$en")
    assert not [s for s in secrets if any(s in out for out in printed)]
    files = sorted((tmp_path / "h").iterdir())
    assert [f.name for f in files] == ["ada.env", "ada.md", "bob.env", "bob.md"]
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert all("pw-db" in f.read_text() and "tok$en" in f.read_text() for f in files)
    env = runner.invoke(cli, ["student", "env", "--cohort", "c1", "--student", "bob"]).output
    assert "export AWS_SECRET_ACCESS_KEY=s3cr3t-bob" in env and "pw-ws" in env and "tok$en" in env


LAB_A, LAB_B = "s3-static-website", "dynamodb-orders"


def two_lab_cohort() -> Cohort:
    base = make_cohort()
    return Cohort("c3", (LAB_A, LAB_B), base.target, parse_roster("id,name\nada,Ada Lovelace\nbob,\n", "c3", "r.csv"))


def test_markdown_handout_of_a_multi_lab_cohort_describes_the_current_lab_only():
    from labctl.labs.catalog import get_lab

    cohort = two_lab_cohort()
    title_a, title_b = (get_lab(lab).spec.title for lab in (LAB_A, LAB_B))
    text = markdown_text(cohort, cohort.students[0], {}, LAB_B)
    assert text.startswith(f"# {title_b} — Ada Lovelace")
    assert f"- lab: `{LAB_B}` (2 of 2: `{LAB_A}`, `{LAB_B}`)" in text
    assert "Create a bucket named `c1-ada-site`." not in text  # lab A's instructions are not repeated
    assert f"export LABCTL_LAB={LAB_B}\n" in env_text(cohort, cohort.students[0], {}, LAB_B)
    before = markdown_text(cohort, cohort.students[0], {})
    assert before.startswith(f"# {title_a}, {title_b} — Ada Lovelace") and "- labs, in order:" in before
    assert "LABCTL_LAB" not in env_text(cohort, cohort.students[0], {})


def test_fake_engine_multi_lab_handouts_and_student_env_follow_the_current_lab(cohort, tmp_path, monkeypatch):
    from labctl.labs.catalog import get_lab

    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    with Registry() as reg:
        reg.create_cohort(two_lab_cohort())
        for lab in (LAB_A, LAB_B):
            assert run_cohort(reg, reg.cohort("c3"), "up", Engine(command=fake), lab=lab).failed == 0
    result = CliRunner().invoke(cli, ["handouts", "--cohort", "c3", "--out", str(tmp_path / "h")])
    assert result.exit_code == 0, result.output
    handout = (tmp_path / "h/ada.md").read_text()
    assert handout.startswith(f"# {get_lab(LAB_B).spec.title} — Ada Lovelace") and "`s3cr3t-ada`" in handout
    result = CliRunner().invoke(cli, ["student", "env", "--cohort", "c3", "--student", "bob"])
    assert result.exit_code == 0 and f"export LABCTL_LAB={LAB_B}\n" in result.output


def test_handouts_carry_the_real_commands_not_placeholders(tmp_path):
    from labctl.labs.catalog import get_lab, lab_folders
    from labctl.cohorts.cohort import Cohort, Target, prefix_for
    from labctl.cohorts.cohort import Student as RosterStudent
    from labctl.stacks.handouts import markdown_text

    ada = RosterStudent("ada", "ada", "Ada", "", prefix_for("c9", "ada"))
    for folder in lab_folders():
        lab = get_lab(folder.name)
        cohort = Cohort("c9", (lab.spec.id,), Target("localstack", "http://127.0.0.1:4566", "us-east-1"), (ada,))
        text = markdown_text(cohort, ada, {})
        assert not any(p in text for p in ("<cohort>", "<student>", "<prefix>")), lab.spec.id
        assert "labctl student check --cohort c9 --student ada" in text
