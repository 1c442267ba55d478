"""Crash safety (kill -9 mid-run) and concurrency (two runs on one cohort) against real subprocesses:
grading against the real moto server, `up` against the recording fake engine (`fake_engine`)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.app import emulator
from labctl.cli import cli
from labctl.cohorts.registry import Registry
from tests.conftest import free_port
from tests.stacks.fake_pulumi import FakePulumi

DRIVER = Path(__file__).with_name("paused_labctl.py")
REPO = Path(__file__).resolve().parents[2]
STUDENTS = 8
PAUSE_AFTER = 3
# A guard against a hung subprocess, not a timing assertion: the pause is reached by events, not time.
GUARD_S = 120


@pytest.fixture
def graded_cohort(labctl_home: Path, tmp_path: Path):
    """A cohort of 8 students on the s3-static-website lab, its target a real moto server."""
    status = emulator.start(port=free_port())
    try:
        roster = tmp_path / "roster.csv"
        roster.write_text("id\n" + "".join(f"st{i}\n" for i in range(STUDENTS)), encoding="utf-8")
        result = CliRunner().invoke(cli, ["cohort", "create", "crash", "--lab", "s3-static-website", "--roster",
                                          str(roster), "--endpoint", status.endpoint])
        assert result.exit_code == 0, result.output
        yield "crash"
    finally:
        emulator.stop()


def paused(args: list[str], ready: Path, **pause: int) -> subprocess.Popen:
    """Start `labctl args` in a subprocess that pauses (see paused_labctl.py); return once paused."""
    env = {**os.environ, "LABCTL_TEST_READY": str(ready), **{f"LABCTL_TEST_PAUSE_{k.upper()}": str(v)
                                                           for k, v in pause.items()}}
    process = subprocess.Popen([sys.executable, str(DRIVER), *args], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + GUARD_S
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            out, err = process.communicate()
            pytest.fail(f"the paused run never paused (exit {process.returncode}): {err.decode()[-2000:]}")
        time.sleep(0.05)
    return process


def kill9(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def integrity(home: Path) -> str:
    db = sqlite3.connect(home / "registry.sqlite3")
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


def grade_rows(cohort: str) -> list[tuple[str, str, str]]:
    with Registry() as reg:
        return [tuple(r) for r in reg.db.execute(
            "SELECT run_id, student, lab FROM grades WHERE cohort = ? ORDER BY id", (cohort,))]


@pytest.mark.emulator
def test_grading_killed_midway_keeps_finished_grades_once_and_a_rerun_completes(graded_cohort, labctl_home, tmp_path):
    process = paused(["-q", "grade", "--cohort", graded_cohort, "--format", "json"], tmp_path / "ready",
                     grade_after=PAUSE_AFTER)
    kill9(process)

    assert integrity(labctl_home) == "ok"
    rows = grade_rows(graded_cohort)
    assert len(rows) == PAUSE_AFTER
    assert len({r[0] for r in rows}) == 1 and len(set(rows)) == PAUSE_AFTER  # one run, each student once

    # The dead run's grading lock is replaced: the rerun grades everyone, once each.
    result = CliRunner().invoke(cli, ["-q", "grade", "--cohort", graded_cohort, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = grade_rows(graded_cohort)
    latest = [r for r in rows if r[0] == rows[-1][0]]
    assert len(latest) == STUDENTS and len(set(latest)) == STUDENTS
    assert len(rows) == PAUSE_AFTER + STUDENTS
    assert integrity(labctl_home) == "ok"


@pytest.mark.emulator
def test_second_grade_refuses_in_one_line_and_waits_with_wait(graded_cohort, labctl_home, tmp_path):
    first = paused(["-q", "grade", "--cohort", graded_cohort, "--format", "json"], tmp_path / "ready",
                   grade_after=1)
    try:
        second = CliRunner().invoke(cli, ["-q", "grade", "--cohort", graded_cohort, "--format", "json"])
        assert second.exit_code == 1
        assert second.stderr.count("\n") == 1
        assert f"cohort '{graded_cohort}' is being graded" in second.stderr and "--wait" in second.stderr
        assert "Traceback" not in second.output

        # Returns once the waiter has found the lock held; it may take the lock only once the holder dies.
        waiter = paused(["-q", "grade", "--cohort", graded_cohort, "--format", "json", "--wait"],
                        tmp_path / "waiting", report_lock=1)
    finally:
        kill9(first)
    out, err = waiter.communicate(timeout=GUARD_S)
    assert waiter.returncode == 0, err.decode()
    assert f"took the grading lock from pid {first.pid}, which was gone" in err.decode()
    rows = grade_rows(graded_cohort)
    runs = {}
    for run_id, student, lab in rows:
        runs.setdefault(run_id, []).append((student, lab))
    assert sorted(len(v) for v in runs.values()) == [1, STUDENTS]
    assert all(len(set(v)) == len(v) for v in runs.values())
    assert integrity(labctl_home) == "ok"


ROSTER = "id\nada\nbob\ncy\ndee\neve\n"


@pytest.fixture
def up_cohort(tmp_path: Path) -> str:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    result = CliRunner().invoke(cli, ["cohort", "create", "upc", "--lab", "s3-static-website", "--roster", str(roster),
                                      "--target", "localstack"])
    assert result.exit_code == 0, result.output
    return "upc"


def test_fake_engine_up_killed_midway_leaves_consistent_statuses_and_rerun_resumes(up_cohort, labctl_home, tmp_path,
                                                                                   monkeypatch):
    process = paused(["-q", "up", "--cohort", up_cohort, "--concurrency", "1"], tmp_path / "ready", up_after=2)
    kill9(process)

    assert integrity(labctl_home) == "ok"
    with Registry() as reg:
        statuses = {s: v["status"] for s, v in reg.stack_statuses(up_cohort).items()}
    assert sorted(statuses.values()) == ["done", "done", "queued", "queued", "running"]

    from labctl.stacks import engine as engine_mod

    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    result = CliRunner().invoke(cli, ["-q", "up", "--cohort", up_cohort])
    assert result.exit_code == 0, result.output
    assert "3 done, 0 failed, 2 already up (skipped)" in result.stdout
    rerun = {c.stack.split(".")[1] for c in fake.of("up")}
    assert rerun == {s for s, v in statuses.items() if v != "done"}
    with Registry() as reg:
        assert {v["status"] for v in reg.stack_statuses(up_cohort).values()} == {"done"}
    assert integrity(labctl_home) == "ok"


def test_fake_engine_second_up_refuses_while_the_first_holds_the_cohort_lock(up_cohort, labctl_home, tmp_path,
                                                                            monkeypatch):
    first = paused(["-q", "up", "--cohort", up_cohort, "--concurrency", "1"], tmp_path / "ready", up_after=1)
    try:
        from labctl.stacks import engine as engine_mod

        monkeypatch.setattr(engine_mod, "command_factory", lambda: FakePulumi())
        second = CliRunner().invoke(cli, ["-q", "up", "--cohort", up_cohort])
        assert second.exit_code == 1
        assert second.stderr.count("\n") == 1 and f"cohort '{up_cohort}' is busy" in second.stderr
        with Registry() as reg:
            statuses = reg.stack_statuses(up_cohort)
        # The refused run wrote nothing: the first run's rows are as it left them.
        assert sorted(v["status"] for v in statuses.values()) == ["done", "queued", "queued", "queued", "running"]
    finally:
        kill9(first)
    assert integrity(labctl_home) == "ok"
