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

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.stacks import engine as engine_mod
from labctl.stacks.engine import Engine
from labctl.stacks.lifecycle import run_cohort

ROSTER = "id,name\nada,Ada\nbob,Bob\n"


def make_cohort(name: str = "c1", target: str = "localstack", labs: tuple[str, ...] = ("s3-static-website",)) -> Cohort:
    return Cohort(name, labs, make_target(target, None, "us-east-1", None), parse_roster(ROSTER, name, "r.csv"))


@pytest.fixture
def reg():
    with Registry() as registry:
        registry.create_cohort(make_cohort())
        yield registry


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
    done = subprocess.run([sys.executable, "-c", "import pulumi.dynamic, labctl.components.lab_setup"], cwd=tmp_path,
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


# --- 4. a failed update reads as the engine's first error ------------------------------------------


def test_fake_engine_failed_update_reads_as_the_first_error_the_engine_reported(reg, fake, labctl_home):
    """A failed `pulumi up` prints its diagnostics to stdout under `Updating (<stack>):` and nothing to
    stderr, so a CommandError's first line is that heading; the error itself arrives as a
    DiagnosticEvent (pulumi/automation/events.py) on the `on_event` stream."""
    fake.fail = {"c1.bob": "creating S3 Bucket (c1-bob-site): AccessDenied"}
    assert up(reg, fake).failed == 1
    assert reg.stack_statuses("c1")["bob"]["error"] == "c1-bob-site: creating S3 Bucket (c1-bob-site): AccessDenied"
    logged = [json.loads(line) for line in (labctl_home / "logs/c1/bob.log").read_text().splitlines()]
    (raw,) = [line["error"] for line in logged if "error" in line]
    assert "Updating (c1.bob):" in raw and "AccessDenied" not in raw  # what the old first line showed


# --- 5. mandatory stack policies stop an up before anything is created -----------------------------


def test_fake_engine_up_is_gated_by_a_preview_with_the_policy_packs(reg, fake):
    """The Automation API's `up` passes `--skip-preview` (pulumi/automation/_stack.py, Stack.up), and
    stack-level policies run after the resource steps: a violation seen only by `up` fails it after the
    student's user and access key exist. A preview runs the same packs before anything changes."""
    fake.violate = {"c1.bob": "c1-bob-identity-1 must not grant iam:* on *"}
    summary = up(reg, fake)
    assert summary.line() == "up c1: 1 done, 1 failed"
    assert sorted(c.stack for c in fake.of("up")) == ["c1.ada"]  # bob's up never ran
    previews = {c.stack: c for c in fake.of("preview")}
    assert sorted(previews) == ["c1.ada", "c1.bob"]
    assert previews["c1.bob"].values("--policy-pack") == fake.of("up")[0].values("--policy-pack")
    assert reg.stack_statuses("c1")["bob"]["error"] == (
        "c1-bob-identity-1: policy labctl-isolation/iam-no-wildcard: c1-bob-identity-1 must not grant iam:* on *")
    order = [(c.verb, c.stack) for c in fake.calls if c.verb in ("preview", "up") and c.stack == "c1.ada"]
    assert order == [("preview", "c1.ada"), ("up", "c1.ada")]


def test_fake_engine_student_deploy_is_gated_by_a_preview_too(reg, fake, tmp_path):
    """Stack.up passes `--skip-preview` for a student's project as for labctl's (pulumi/automation/_stack.py)."""
    assert up(reg, fake, students=("ada",)).failed == 0
    project = tmp_path / "solution"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: ada-site\nruntime: python\n")
    fake.violate = {"c1.ada.solution": "ada-bucket must not allow public reads"}
    result = CliRunner().invoke(cli, ["student", "deploy", "--cohort", "c1", "--student", "ada", str(project)])
    assert result.exit_code == 1
    assert "policy labctl-isolation/iam-no-wildcard: ada-bucket must not allow public reads" in result.output
    assert [c.stack for c in fake.of("up")] == ["c1.ada"]


# --- 9. cancelling signals the CLI processes ------------------------------------------------------


def running_cli(stack: str) -> subprocess.Popen:
    """A child process with the CLI's `--stack` argument that exits 255 on SIGINT (as the CLI cancels)."""
    from fake_pulumi import UPDATE_IN_PROGRESS

    child = subprocess.Popen([sys.executable, "-c", UPDATE_IN_PROGRESS, "--non-interactive", "up", "--stack", stack],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"
    return child


def test_fake_engine_cancel_signals_only_its_own_running_updates(fake, monkeypatch):
    """The CLI cancels an update gracefully on its first SIGINT and stops at once on a second; `pulumi
    cancel` on a file backend only deletes the lock file while the update runs on (pulumi docs,
    `pulumi cancel`). A terminal's Ctrl-C already reached the CLI: it gets no second one."""
    engine = Engine(command=fake)
    ada, other = running_cli("c1.ada"), running_cli("c9.zed")
    try:
        engine.running["c1.ada"] = object()
        monkeypatch.setattr(engine_mod, "children_have_the_interrupt", lambda: True)
        assert engine.cancel_running() == ["c1.ada"]
        assert ada.poll() is None  # the terminal's own interrupt is the only one it gets
        monkeypatch.setattr(engine_mod, "children_have_the_interrupt", lambda: False)
        assert engine.cancel_running() == ["c1.ada"]
        assert ada.wait(timeout=10) == 255
        assert other.poll() is None  # a stack this engine is not running is left alone
        assert fake.of("cancel") == []
    finally:
        for child in (ada, other):
            child.kill()
            child.wait()
            child.stdout.close()


# --- 10. emulator targets refresh first -----------------------------------------------------------


def test_fake_engine_emulator_targets_refresh_before_every_operation(reg, fake):
    """A restarted emulator without its state no longer has what the Pulumi state lists: without
    `--refresh` (pulumi/automation/_stack.py, `refresh=`) `up` sees no changes and creates nothing."""
    reg.create_cohort(make_cohort("c3", target="aws"))
    assert up(reg, fake, students=("ada",)).failed == 0
    assert up(reg, fake, "c3", students=("ada",)).failed == 0
    up(reg, fake, students=("ada",), operation="destroy")
    refreshed = {(c.verb, c.stack) for c in fake.calls if c.verb in ("preview", "up", "destroy") and "--refresh" in c.args}
    assert refreshed == {("preview", "c1.ada"), ("up", "c1.ada"), ("destroy", "c1.ada")}
    assert [c.stack for c in fake.of("up")] == ["c1.ada", "c3.ada"]  # the real-AWS stack ran, unrefreshed


# --- 3. the policy packs start wherever labctl is installed ----------------------------------------

STUB_PACK = """
import runpy, sys
import pulumi_policy

class Recorded:
    def __init__(self, name, enforcement_level, policies, **_):
        print(name, len(policies))

pulumi_policy.PolicyPack = Recorded  # the real one starts a gRPC server and blocks
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def test_fake_engine_policy_packs_are_written_with_labctls_own_python(reg, fake, labctl_home, tmp_path):
    """A Python policy pack runs on its PulumiPolicy.yaml's `runtime.options.virtualenv` (the CLI runs
    `<virtualenv>/bin/python`, pulumi sdk/python/toolchain/pip.go) or else PULUMI_PYTHON_CMD: the
    repository's `virtualenv: ../../.venv` does not exist once labctl is pip-installed."""
    assert up(reg, fake, students=("ada",)).failed == 0
    (call,) = fake.of("up")
    packs = [labctl_home / "policy-packs" / pack for pack in ("isolation", "cost")]
    assert call.values("--policy-pack") == [str(p) for p in packs]
    for pack in packs:
        settings = json.loads((pack / "PulumiPolicy.yaml").read_text())  # JSON is YAML
        virtualenv = settings["runtime"]["options"]["virtualenv"]
        assert virtualenv == sys.prefix and os.path.isabs(virtualenv)
        python = os.path.join(virtualenv, "bin", "python")
        # What the CLI would start: that interpreter runs the written __main__, from outside the repository.
        done = subprocess.run([python, "-c", STUB_PACK, str(pack / "__main__.py")], cwd=tmp_path,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        name, count = done.stdout.split()
        assert name == f"labctl-{pack.name}" and int(count) > 0
    assert call.effective["PULUMI_PYTHON_CMD"] == sys.executable  # for a Python without bin/python


# --- 6. a Kubernetes lab needs the cohort's own cluster ---------------------------------------------


def test_kubernetes_lab_without_kubeconfig_is_refused_at_create_and_at_up(fake, tmp_path, monkeypatch):
    """`k8s.Provider(kubeconfig=None)` falls back to $KUBECONFIG or ~/.kube/config (pulumi-kubernetes
    provider docs, `kubeconfig`): the instructor's current cluster, not the cohort's."""
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "instructors-cluster.yaml"))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    runner = CliRunner()
    result = runner.invoke(cli, ["cohort", "create", "k1", "--lab", "k8s-jobs", "--roster", str(roster)])
    assert result.exit_code == 2
    assert result.output == (
        "Error: --kubeconfig: lab k8s-jobs deploys to Kubernetes: give the cohort's cluster (otherwise the"
        " instructor's current one would be used)\n")
    with Registry() as reg:
        assert reg.cohort_names() == []
        reg.create_cohort(make_cohort("k2", labs=("k8s-jobs",)))  # recorded before create refused it
    result = runner.invoke(cli, ["up", "--cohort", "k2"])
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "--kubeconfig: lab k8s-jobs deploys to Kubernetes" in result.output
    assert fake.calls == []


# --- 8. a minimum CLI version, checked after install and by doctor ---------------------------------


def fake_cli(root, version: str) -> None:
    """An executable `pulumi` under `root/bin` that answers `pulumi version` like the real one."""
    path = root / "bin" / "pulumi"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho v{version}\n")
    path.chmod(0o755)


def test_a_cli_older_than_the_minimum_is_refused_and_doctor_says_so(reg):
    """Destroy and refresh of an inline program need `--client`, which the CLI has since 3.181.0
    (Stack._check_inline_support, pulumi/automation/_stack.py): an older CLI would break destroy,
    reset and reap, so it is refused before any stack is touched."""
    from labctl.app.doctor import check_engine

    fake_cli(engine_mod.cli_root(), "3.180.2")
    result = CliRunner().invoke(cli, ["up", "--cohort", "c1"])
    assert result.exit_code == 1
    assert result.output == (f"Error: pulumi 3.180.2 is older than 3.181.0, which labctl needs"
                             f" ({engine_mod.cli_root() / 'bin/pulumi'}): run `labctl engine install`\n")
    finding = check_engine()[0]
    assert (finding.status, finding.fix) == ("warn", "labctl engine install")
    assert "3.180.2" in finding.detail and "older than 3.181.0" in finding.detail
    fake_cli(engine_mod.cli_root(), "3.181.0")
    assert str(engine_mod.find_command().version) == "3.181.0"
    assert check_engine()[0].status == "ok"


def test_engine_install_replaces_a_cli_of_another_version_and_checks_the_result(monkeypatch):
    """`PulumiCommand.install` first tries the CLI already under `root` and keeps it when it accepts it
    (pulumi/automation/_cmd.py): `engine install --version X` over another version did nothing."""
    root = engine_mod.cli_root()
    fake_cli(root, "3.200.0")
    installs = []

    def installer(root: str, version, skip_version_check: bool):
        installs.append(str(version))
        if not (engine_mod.Path(root) / "bin/pulumi").exists():  # what the install script would do
            fake_cli(engine_mod.Path(root), str(version))
        return engine_mod.auto.PulumiCommand(root=root, skip_version_check=True)

    monkeypatch.setattr(engine_mod.auto.PulumiCommand, "install", installer)
    monkeypatch.setattr(engine_mod, "plugin_versions", lambda: {})
    result = CliRunner().invoke(cli, ["engine", "install", "--version", "3.190.0"])
    assert result.exit_code == 0, result.output
    assert installs == ["3.190.0"] and result.output.startswith("pulumi 3.190.0 installed")
    result = CliRunner().invoke(cli, ["engine", "install", "--version", "3.150.0"])
    assert result.exit_code == 2
    assert result.output == "Error: --version: pulumi 3.150.0 is older than 3.181.0, which labctl needs\n"
    assert installs == ["3.190.0"]  # refused before any download
    monkeypatch.setattr(engine_mod, "installed_version", lambda root: None)  # an install it cannot replace
    result = CliRunner().invoke(cli, ["engine", "install", "--version", "3.195.0"])
    assert result.exit_code == 1
    assert result.output == f"Error: asked for pulumi 3.195.0 but {root / 'bin'} holds 3.190.0\n"


# --- the real engine: what this list changed, checked by the first machine with a Pulumi CLI --------


def real_engine() -> Engine:
    """An engine on the real CLI, or a skip saying why there is none (no registry here ships it)."""
    try:
        return Engine()
    except engine_mod.LabctlError as exc:
        pytest.skip(f"needs the Pulumi CLI ≥ {engine_mod.MINIMUM_CLI} and its plugins: {exc}")


@pytest.mark.engine
def test_engine_two_students_up_grade_restart_destroy_sweep_on_the_emulator(moto_endpoint, aws, monkeypatch):
    """End to end on the real CLI against the moto server (a `localstack` target at its endpoint): up
    (gate preview, policy packs from the home, dynamic providers on labctl's Python, the budget read back
    with the account id), an emulator restart without state (refresh brings the resources back), grade,
    destroy, sweep: 0 left."""
    import boto3
    import requests

    from labctl.stacks.sweep import sweep_target
    from labctl.validators.grading import grade_and_record

    engine = real_engine()
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://somewhere-else")  # a shell's value must not win
    target = make_target("localstack", moto_endpoint, "us-east-1", None)
    cohort = Cohort("e2e", ("s3-static-website",), target, parse_roster(ROSTER, "e2e", "r.csv"))
    iam = boto3.client("iam", endpoint_url=moto_endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    with Registry() as reg:
        reg.create_cohort(cohort)
        first = run_cohort(reg, cohort, "up", engine)
        assert first.failed == 0, [r.error for r in first.runs]
        assert {u["UserName"] for u in iam.list_users()["Users"]} >= {"e2e-ada", "e2e-bob"}
        again = run_cohort(reg, cohort, "up", engine, rerun_all=True)  # reads the budget back: its id parses
        assert again.failed == 0 and all(r.changed == 0 for r in again.runs), [r.error for r in again.runs]

        requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()  # a restart, state lost
        restored = run_cohort(reg, cohort, "up", engine, rerun_all=True)
        assert restored.failed == 0 and all(r.changed > 0 for r in restored.runs)
        assert {u["UserName"] for u in iam.list_users()["Users"]} >= {"e2e-ada", "e2e-bob"}

        report = grade_and_record(reg, cohort)
        assert not report.ungraded and {r.student for r in report.results} == {"ada", "bob"}
        assert run_cohort(reg, cohort, "destroy", engine).failed == 0
    assert sweep_target(cohort).proof() == "0 resources left for e2e"
