"""The engine adapter and the cohort lifecycle. Orchestration runs the real Automation API code against
a recording fake of `PulumiCommand` (tests named `fake_engine`); `engine` tests need the real CLI."""

from __future__ import annotations

import _thread
import importlib.metadata
import json
import os
import shutil
import signal
import stat
import urllib.error

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi
from semver import VersionInfo

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.labs.errors import InputError, LabctlError
from labctl.stacks import engine as engine_mod
from labctl.stacks.engine import Engine
from labctl.stacks.lifecycle import run_cohort, status_rows

ROSTER = "id,name\nada,Ada\nbob,Bob\ncy,Cy\ndee,Dee\n"


def make_cohort(name: str = "c1", budget: float | None = None) -> Cohort:
    students = parse_roster(ROSTER, name, "r.csv")
    target = make_target("localstack", None, "us-east-1", None)
    return Cohort(name, ("s3-static-website",), target, students, budget_usd=budget)


@pytest.fixture
def reg():
    with Registry() as registry:
        registry.create_cohort(make_cohort())
        yield registry


def up(reg, fake, **kw):
    return run_cohort(reg, reg.cohort("c1"), kw.pop("operation", "up"), Engine(command=fake), **kw)


def test_fake_engine_up_runs_one_stack_per_student_with_both_packs_and_configs(reg, fake, labctl_home):
    reg.db.execute("UPDATE cohorts SET budget_usd = 10 WHERE name = 'c1'")
    summary = up(reg, fake)
    assert summary.line() == "up c1: 4 done, 0 failed"
    ups = fake.of("up")
    assert sorted(c.stack for c in ups) == ["c1.ada", "c1.bob", "c1.cy", "c1.dee"]
    for call in ups:
        assert call.values("--policy-pack") == [str(labctl_home / "policy-packs/isolation"),
                                                str(labctl_home / "policy-packs/cost")]
        isolation, cost = (json.loads(open(p).read()) for p in call.values("--policy-pack-config"))
        assert isolation == {} and cost == {"cost-budget-limit": {"maxBudgetUsd": 10.0}}
        assert "--client" in " ".join(call.args)  # the inline program is served to the engine
    inits = fake.of("stack init")
    assert all(c.values("--secrets-provider") == ["passphrase"] for c in inits)
    assert all(c.cwd.endswith(f"pulumi-work/c1/{c.args[2].split('.')[1]}") for c in inits)


def test_fake_engine_backend_is_a_local_file_backend_under_the_home(reg, fake, labctl_home):
    up(reg, fake, students=("ada",))
    settings = (labctl_home / "pulumi-work/c1/ada/Pulumi.yaml").read_text()
    assert f"url: file://{labctl_home}/pulumi-state" in settings
    assert (labctl_home / "pulumi-state").is_dir()


def test_fake_engine_passphrase_is_generated_once_0600_and_never_logged(reg, fake, labctl_home):
    up(reg, fake)
    path = labctl_home / "pulumi-passphrase"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text()
    up(reg, fake, rerun_all=True)
    assert path.read_text() == secret
    assert all(c.env["PULUMI_CONFIG_PASSPHRASE"] == secret for c in fake.calls if c.verb != "")
    logs = "".join(p.read_text() for p in (labctl_home / "logs/c1").iterdir())
    assert secret not in logs


def test_fake_engine_passphrase_from_environment_is_masked(reg, fake, monkeypatch):
    monkeypatch.setenv("LABCTL_PASSPHRASE", "correct horse")
    engine = Engine(command=fake)
    assert engine.env["PULUMI_CONFIG_PASSPHRASE"] == "correct horse"
    assert "correct horse" not in repr(engine.stack(reg.cohort("c1"), reg.cohort("c1").students[0]).workspace)


def test_fake_engine_events_go_to_a_log_per_student(reg, fake, labctl_home):
    up(reg, fake)
    lines = [json.loads(line) for line in (labctl_home / "logs/c1/bob.log").read_text().splitlines()]
    assert {"op": "up", "output": "up c1.bob: 3 resources"} in lines
    summary = [line["event"]["summary_event"] for line in lines if "summary_event" in line.get("event", {})]
    assert summary[0]["resource_changes"] == {"create": 3}


def test_fake_engine_one_failure_never_stops_the_others_and_keeps_its_first_line(reg, fake):
    fake.fail = {"c1.bob": "creating S3 bucket: AccessDenied"}
    summary = up(reg, fake, concurrency=2)
    assert summary.line() == "up c1: 3 done, 1 failed"
    statuses = reg.stack_statuses("c1")
    assert statuses["bob"]["status"] == "failed"
    assert statuses["bob"]["error"] == "c1-bob-site: creating S3 bucket: AccessDenied"
    assert statuses["ada"]["status"] == "done" and statuses["ada"]["changes"] == {"create": 3}


def test_fake_engine_rerun_retries_failed_and_pending_only(reg, fake):
    fake.fail = {"c1.bob": "boom"}
    up(reg, fake)
    reg.set_stack_status("c1", "dee", "up", "queued")  # an interrupted run left dee pending
    fake.fail, fake.calls[:] = {}, []
    summary = up(reg, fake)
    assert sorted(c.stack for c in fake.of("up")) == ["c1.bob", "c1.dee"]
    assert sorted(summary.skipped) == ["ada", "cy"]
    assert {s["status"] for s in reg.stack_statuses("c1").values()} == {"done"}


def test_fake_engine_locked_stack_gets_a_clear_message(reg, fake):
    fake.locked = {"c1.cy"}
    up(reg, fake)
    error = reg.stack_statuses("c1")["cy"]["error"]
    assert error.startswith("stack c1.cy is locked by another update")
    assert error.endswith("clear it with `labctl unlock --cohort c1 --student cy`")


def test_fake_engine_concurrent_up_on_one_cohort_is_refused(reg, fake):
    reg.acquire_cohort_lock("c1", "up")
    with pytest.raises(LabctlError, match=r"cohort 'c1' is busy: `up` has run since .*`labctl unlock --cohort c1`"):
        up(reg, fake)
    assert fake.of("up") == []
    reg.release_cohort_lock("c1")
    assert up(reg, fake).failed == 0


def test_fake_engine_lock_of_a_dead_process_is_taken_over(reg, fake):
    reg.db.execute("INSERT INTO cohort_locks VALUES ('c1', 'up', 2147483000, ?, 'then')", (os.uname().nodename,))
    assert up(reg, fake).failed == 0
    assert reg.db.execute("SELECT COUNT(*) FROM cohort_locks").fetchone()[0] == 0


@pytest.fixture
def ctrl_c_raises():
    """Ctrl-C raises KeyboardInterrupt in the main thread, as in a terminal. A process a non-interactive
    shell starts in the background (`pytest … &`) inherits SIGINT ignored, which Python keeps, and
    `_thread.interrupt_main` then does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_fake_engine_ctrl_c_cancels_running_stacks_and_leaves_the_rest_pending(reg, fake, monkeypatch, ctrl_c_raises):
    """The CLI cancels an update gracefully on SIGINT; `pulumi cancel` only deletes a file backend's lock
    while the update runs on (pulumi docs, `pulumi cancel`), so the running CLI process is signalled."""
    monkeypatch.setattr(engine_mod, "children_have_the_interrupt", lambda: False)  # not a terminal's Ctrl-C
    fake.block = {"c1.ada"}
    fake.on_start = lambda stack: _thread.interrupt_main() if stack == "c1.ada" else None
    summary = up(reg, fake, concurrency=1)
    assert summary.interrupted and summary.cancelled == ["c1.ada"]
    assert fake.interrupted == ["c1.ada"] and fake.of("cancel") == []
    statuses = reg.stack_statuses("c1")
    assert statuses["ada"]["status"] == "failed" and statuses["ada"]["error"] == "update canceled"
    assert {statuses[s]["status"] for s in ("bob", "cy", "dee")} == {"queued"}
    assert reg.db.execute("SELECT COUNT(*) FROM cohort_locks").fetchone()[0] == 0


def test_fake_engine_preview_records_nothing_and_destroy_records_deletes(reg, fake):
    summary = up(reg, fake, operation="preview", students=("ada",))
    assert summary.runs[0].changes == {"create": 3}
    assert reg.stack_statuses("c1") == {}
    assert fake.of("preview")[0].values("--policy-pack")
    up(reg, fake)
    up(reg, fake, operation="destroy", students=("ada",))
    ada = reg.stack_statuses("c1")["ada"]
    assert (ada["operation"], ada["status"], ada["changes"]) == ("destroy", "done", {"delete": 3})
    assert "--policy-pack" not in fake.of("destroy")[0].args


def test_fake_engine_status_rows(reg, fake):
    fake.fail = {"c1.dee": "nope"}
    up(reg, fake)
    rows = {r["student"]: r for r in status_rows(reg, reg.cohort("c1"))}
    assert rows["ada"]["stack"] == "c1.ada" and rows["ada"]["status"] == "done"
    assert rows["dee"]["error"] == "c1-dee-site: nope" and rows["ada"]["last_grade"] is None


def test_fake_engine_outputs_of_a_missing_stack_are_empty_and_create_nothing(reg, fake):
    cohort = reg.cohort("c1")
    assert Engine(command=fake).outputs(cohort, cohort.students[0]) == {}
    assert fake.of("stack init") == []
    up(reg, fake, students=("ada",))
    assert Engine(command=fake).outputs(cohort, cohort.students[0])["aws_secret_access_key"] == "s3cr3t-ada"


def test_fake_engine_cli_up_status_destroy(reg, fake):
    runner = CliRunner()
    result = runner.invoke(cli, ["up", "--cohort", "c1", "--student", "ada", "--student", "bob"])
    assert result.exit_code == 0, result.output
    assert "up c1: 2 done, 0 failed" in result.output
    result = runner.invoke(cli, ["status", "--cohort", "c1", "--format", "json"])
    rows = {r["student"]: r for r in json.loads(result.output)}
    assert rows["ada"]["status"] == "done" and rows["cy"]["status"] == "never run"
    fake.fail = {"c1.cy": "quota exceeded"}
    result = runner.invoke(cli, ["up", "--cohort", "c1"])
    assert result.exit_code == 1 and "cy" in result.output and "quota exceeded" in result.output
    result = runner.invoke(cli, ["status", "--cohort", "c1"])
    assert result.exit_code == 0 and "quota" in result.output
    result = runner.invoke(cli, ["destroy", "--cohort", "c1", "--student", "ada"])
    assert result.exit_code == 0 and "destroy c1: 1 done, 0 failed" in result.output


def test_fake_engine_reset_destroys_then_ups_one_student(reg, fake):
    result = CliRunner().invoke(cli, ["reset", "--cohort", "c1", "--student", "bob"])
    assert result.exit_code == 0, result.output
    assert [(c.verb, c.stack) for c in fake.calls if c.verb in ("up", "destroy")] == [("destroy", "c1.bob"), ("up", "c1.bob")]
    assert reg.stack_statuses("c1")["bob"]["operation"] == "up"


def test_up_without_the_pulumi_cli_is_one_line(reg, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(cli, ["up", "--cohort", "c1"])
    assert result.exit_code == 1
    assert result.output.strip() == "Error: the Pulumi CLI is not installed: run `labctl engine install`"


def test_fake_engine_install_without_network_fails_in_one_line(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(engine_mod.auto.PulumiCommand, "install", offline)
    result = CliRunner().invoke(cli, ["engine", "install", "--version", "3.200.0"])
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1
    assert "could not install the Pulumi CLI" in result.output and "name resolution" in result.output


def sdk_plugin_versions() -> dict[str, str]:
    """The provider plugins the components need, at the versions of the SDKs pyproject.toml installs."""
    sdks = {"aws": "pulumi-aws", "kubernetes": "pulumi-kubernetes", "docker": "pulumi-docker",
            "postgresql": "pulumi-postgresql", "random": "pulumi-random"}
    return {plugin: importlib.metadata.version(sdk) for plugin, sdk in sdks.items()}


def test_fake_engine_install_pins_plugins_to_the_sdk_versions(monkeypatch, fake):
    """Shown failing with PLUGIN_PACKAGES mapping "random" to pulumi_aws."""
    monkeypatch.setattr(engine_mod.auto.PulumiCommand, "install", lambda **kw: fake)
    engine_mod.install(str(fake.version))
    installs = {c.args[3]: c.args[4] for c in fake.of("plugin install")}
    assert installs == {plugin: f"v{version}" for plugin, version in sdk_plugin_versions().items()}


def test_fake_engine_status_command(monkeypatch, labctl_home):
    """Reports the CLI it was given, the SDK-pinned plugins and the home's file backend."""
    given = FakePulumi(command="/opt/pulumi-test/bin/pulumi", version=VersionInfo.parse("3.201.7"))
    monkeypatch.setattr(engine_mod, "command_factory", lambda: given)
    result = CliRunner().invoke(cli, ["engine", "status", "--format", "json"])
    data = json.loads(result.output)
    assert data["cli"] == {"installed": True, "command": "/opt/pulumi-test/bin/pulumi", "version": "3.201.7"}
    assert data["plugins_pinned"] == sdk_plugin_versions()
    assert data["backend"] == f"file://{labctl_home}/pulumi-state"


# --- several labs: a student's stack holds their current lab ------------------------------------

LAB_A, LAB_B = "s3-static-website", "dynamodb-orders"


class ProgramRecordingEngine(Engine):
    """The engine, keeping the inline program each stack is opened with (the fake CLI never runs it)."""

    def __init__(self, command):
        super().__init__(command=command)
        self.programs: dict[str, object] = {}

    def stack(self, cohort, student, program=None, create=True):
        opened = super().stack(cohort, student, program, create)
        self.programs[opened.name] = opened.workspace.program
        return opened


def lab_of_program(program, stack: str) -> str:
    """The lab a stack's program builds: run it under the SDK's mock runtime, read StudentLab's `lab` output."""
    from labctl.stacks.plan import run_recorded

    resources = run_recorded(program, stack).plan_resources()
    return next(r["outputs"]["lab"] for r in resources if r["type"] == "labctl:lab:StudentLab")


@pytest.fixture
def two_labs(reg) -> Cohort:
    base = make_cohort("c2")
    reg.create_cohort(Cohort("c2", (LAB_A, LAB_B), base.target, base.students[:2]))
    return reg.cohort("c2")


def test_fake_engine_multi_lab_up_without_a_current_lab_is_refused_before_any_stack(reg, fake, two_labs):
    with pytest.raises(InputError, match=r"^--lab: cohort 'c2' takes 2 labs .* no lab is current yet for ada, bob"):
        run_cohort(reg, two_labs, "up", Engine(command=fake))
    assert fake.calls == [] and reg.stack_statuses("c2") == {}
    result = CliRunner().invoke(cli, ["up", "--cohort", "c2"])
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert "`labctl up --cohort c2 --lab s3-static-website`" in result.output
    result = CliRunner().invoke(cli, ["up", "--cohort", "c2", "--lab", "k8s-jobs"])
    assert result.exit_code == 2 and "cohort 'c2' does not take lab 'k8s-jobs'" in result.output
    assert fake.calls == []


def test_fake_engine_multi_lab_up_lab_a_then_lab_b_moves_each_stack_to_b(reg, fake, two_labs):
    engine = ProgramRecordingEngine(fake)
    first = run_cohort(reg, two_labs, "up", engine, lab=LAB_A)
    assert first.line() == "up c2: 2 done, 0 failed"
    assert [(r.lab, r.moved_from) for r in first.runs] == [(LAB_A, None), (LAB_A, None)]
    assert lab_of_program(engine.programs["c2.ada"], "c2.ada") == LAB_A
    assert reg.current_labs("c2") == {"ada": LAB_A, "bob": LAB_A}

    run_cohort(reg, two_labs, "preview", engine, lab=LAB_B)  # a preview moves nothing
    assert reg.current_labs("c2") == {"ada": LAB_A, "bob": LAB_A}

    engine.programs.clear()
    fake.calls[:] = []
    second = run_cohort(reg, two_labs, "up", engine, lab=LAB_B)
    assert second.line() == "up c2: 2 done, 0 failed, 2 moved to another lab"
    assert [r.lab_note for r in second.runs] == [f"{LAB_A} → {LAB_B}"] * 2
    # The same stacks are updated (one per student), now with lab B's program.
    assert sorted(c.stack for c in fake.of("up")) == ["c2.ada", "c2.bob"] and fake.of("stack init") == []
    assert {stack: lab_of_program(program, stack) for stack, program in engine.programs.items()} == {
        "c2.ada": LAB_B, "c2.bob": LAB_B}
    assert {r["student"]: r["lab"] for r in status_rows(reg, two_labs)} == {"ada": LAB_B, "bob": LAB_B}

    fake.calls[:] = []
    again = run_cohort(reg, two_labs, "up", engine)  # no --lab: each student's current lab, already up
    assert again.skipped == ["ada", "bob"] and fake.of("up") == []


def test_fake_engine_multi_lab_failed_move_is_retried_with_the_new_lab(reg, fake, two_labs):
    engine = ProgramRecordingEngine(fake)
    run_cohort(reg, two_labs, "up", engine, lab=LAB_A)
    fake.fail = {"c2.bob": "creating DynamoDB table: LimitExceeded"}
    moved = run_cohort(reg, two_labs, "up", engine, lab=LAB_B)
    assert moved.line() == "up c2: 1 done, 1 failed, 1 moved to another lab"
    bob = reg.stack_statuses("c2")["bob"]
    assert (bob["status"], bob["lab"]) == ("failed", LAB_B)
    fake.fail, fake.calls[:] = {}, []
    engine.programs.clear()
    retry = run_cohort(reg, two_labs, "up", engine)
    assert [c.stack for c in fake.of("up")] == ["c2.bob"] and retry.skipped == ["ada"]
    assert lab_of_program(engine.programs["c2.bob"], "c2.bob") == LAB_B


def test_fake_engine_multi_lab_cli_up_b_status_and_reset_keep_lab_b(reg, fake, two_labs, monkeypatch):
    runner = CliRunner(env={"COLUMNS": "200"})
    assert runner.invoke(cli, ["up", "--cohort", "c2", "--lab", LAB_A]).exit_code == 0
    result = runner.invoke(cli, ["up", "--cohort", "c2", "--lab", LAB_B])
    assert result.exit_code == 0, result.output
    assert result.output.count(f"{LAB_A} → {LAB_B}") == 2
    assert "up c2: 2 done, 0 failed, 2 moved to another lab" in result.output
    rows = {r["student"]: r for r in json.loads(runner.invoke(cli, ["status", "--cohort", "c2", "--format", "json"]).output)}
    assert rows["ada"]["lab"] == rows["bob"]["lab"] == LAB_B
    assert LAB_B in runner.invoke(cli, ["status", "--cohort", "c2"]).output

    built = []
    monkeypatch.setattr(engine_mod, "student_program",
                        lambda cohort, student, lab=None, account=None: built.append((student.student, lab)) or (lambda: None))
    fake.calls[:] = []
    result = runner.invoke(cli, ["reset", "--cohort", "c2", "--student", "bob"])
    assert result.exit_code == 0, result.output
    assert [(c.verb, c.stack) for c in fake.calls if c.verb in ("up", "destroy")] == [("destroy", "c2.bob"), ("up", "c2.bob")]
    assert ("bob", LAB_B) in built and {lab for _, lab in built} == {LAB_B}
    bob = reg.stack_statuses("c2")["bob"]
    assert (bob["operation"], bob["status"], bob["lab"]) == ("up", "done", LAB_B)


def test_fake_engine_multi_lab_reset_without_a_current_lab_destroys_nothing(reg, fake, two_labs):
    result = CliRunner().invoke(cli, ["reset", "--cohort", "c2", "--student", "ada"])
    assert result.exit_code == 2 and "no lab is current yet for ada" in result.output
    assert fake.calls == []


def test_fake_engine_multi_lab_destroy_keeps_the_current_lab_and_needs_none(reg, fake, two_labs):
    engine = Engine(command=fake)
    assert run_cohort(reg, two_labs, "destroy", engine, ("ada",)).failed == 0  # never provisioned: no lab
    run_cohort(reg, two_labs, "up", engine, ("bob",), lab=LAB_B)
    assert run_cohort(reg, two_labs, "destroy", engine).failed == 0
    assert reg.current_labs("c2") == {"bob": LAB_B}
    up_again = run_cohort(reg, two_labs, "up", engine, ("bob",))
    assert [(r.lab, r.moved_from) for r in up_again.runs] == [(LAB_B, None)]


@pytest.mark.engine
def test_engine_up_and_destroy_one_student_for_real(reg):
    if shutil.which("pulumi") is None:
        pytest.skip("the Pulumi CLI is not installed (no registry here ships it)")
    summary = run_cohort(reg, reg.cohort("c1"), "up", Engine(), students=("ada",))
    assert summary.failed == 0
    assert run_cohort(reg, reg.cohort("c1"), "destroy", Engine(), students=("ada",)).failed == 0
