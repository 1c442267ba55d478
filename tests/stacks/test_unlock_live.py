"""`labctl unlock` after a crashed run, and the live per-student progress of up/destroy. Engine calls go
to the recording fake of PulumiCommand (tests named `fake_engine`)."""

from __future__ import annotations

import io
import os

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi
from rich.console import Console

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.labs.errors import LabctlError
from labctl.stacks.engine import Engine
from labctl.stacks.lifecycle import INTERRUPTED, run_cohort, unlock
from labctl.stacks.live import LiveRuns


@pytest.fixture
def reg():
    students = parse_roster("id\nada\nbob\ncy\n", "c1", "r.csv")
    with Registry() as registry:
        registry.create_cohort(Cohort("c1", ("s3-static-website",), make_target("localstack", None, "us-east-1", None),
                                      students))
        yield registry


def crash(reg: Registry, fake: FakePulumi) -> None:
    """What a run killed mid-way leaves: ada and bob up, ada's next update running, the lock held by a
    process on another host (so nothing can tell it is dead)."""
    assert run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake), ("ada", "bob")).failed == 0
    reg.set_stack_status("c1", "ada", "up", "running", started_at="2026-01-01T00:00:00+00:00")
    reg.db.execute("INSERT INTO cohort_locks VALUES ('c1', 'up', 4242, 'lab-host-2', '2026-01-01T00:00:00+00:00')")
    fake.calls.clear()


def test_fake_engine_unlock_cancels_stacks_releases_the_lock_and_marks_the_interrupted(reg, fake):
    crash(reg, fake)
    result = CliRunner().invoke(cli, ["unlock", "--cohort", "c1"])
    assert result.exit_code == 0, result.output
    assert sorted(c.stack for c in fake.of("cancel")) == ["c1.ada", "c1.bob"]  # cy never ran: no stack
    assert result.output.splitlines() == [
        "cancelled c1.ada",
        "cancelled c1.bob",
        "released cohort lock of `up` (pid 4242 on lab-host-2, since 2026-01-01T00:00:00+00:00)",
        "marked failed (interrupted): ada; `labctl up` retries them",
        "unlock c1: 2 stack(s) cancelled, lock released",
    ]
    assert reg.cohort_lock("c1") is None
    ada = reg.stack_statuses("c1")["ada"]
    assert (ada["status"], ada["error"]) == ("failed", INTERRUPTED)
    fake.calls.clear()
    assert run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake)).failed == 0
    assert sorted(c.stack for c in fake.of("up")) == ["c1.ada", "c1.cy"]


def test_fake_engine_unlock_one_student_and_a_stack_that_does_not_exist(reg, fake):
    crash(reg, fake)
    result = CliRunner().invoke(cli, ["unlock", "--cohort", "c1", "--student", "cy"])
    assert result.exit_code == 0
    assert "c1.cy: nothing cancelled (no such stack)" in result.output
    assert result.output.endswith("unlock c1: 0 stack(s) cancelled, lock released\n")
    assert fake.of("cancel") == []


def test_fake_engine_unlock_is_refused_while_the_lock_holder_runs_here(reg, fake):
    reg.acquire_cohort_lock("c1", "destroy")  # this very (live) process
    with pytest.raises(LabctlError, match=rf"held by a running `destroy` \(pid {os.getpid()}\)"):
        unlock(reg, reg.cohort("c1"), Engine(command=fake))
    assert reg.cohort_lock("c1")["alive"] and fake.calls == []


def test_fake_engine_locked_stack_message_names_unlock_which_clears_it(reg, fake):
    fake.locked = {"c1.bob"}
    result = CliRunner(env={"COLUMNS": "300"}).invoke(cli, ["up", "--cohort", "c1"])
    assert result.exit_code == 1 and "`labctl unlock --cohort c1 --student bob`" in result.output
    fake.locked = set()
    assert CliRunner().invoke(cli, ["unlock", "--cohort", "c1", "--student", "bob"]).exit_code == 0
    assert [c.stack for c in fake.of("cancel")] == ["c1.bob"]


def render(live: LiveRuns) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=120, no_color=True).print(live.table())
    return buffer.getvalue()


def test_fake_engine_live_table_follows_every_student_from_queued_to_done(reg, fake):
    fake.fail = {"c1.cy": "quota exceeded"}
    seen: list[tuple[str, str, int]] = []
    live = LiveRuns(Console(file=io.StringIO()), "up c1", enabled=False)

    def progress(run) -> None:
        live(run)
        seen.append((run.student, run.status, run.steps))

    run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake), concurrency=1, progress=progress)
    assert seen[:3] == [("ada", "queued", 0), ("bob", "queued", 0), ("cy", "queued", 0)]
    ada = [(status, steps) for student, status, steps in seen if student == "ada"]
    assert ada[1:] == [("running", 0), ("running", 1), ("running", 2), ("running", 3), ("done", 3)]
    text = render(live)
    assert "up c1 · 2 done, 1 failed" in text
    assert "ada" in text and "quota exceeded" in text


def test_live_table_draws_on_a_terminal_and_is_silent_otherwise(reg, fake):
    terminal = io.StringIO()
    with LiveRuns(Console(file=terminal, force_terminal=True, width=100), "destroy c1") as live:
        run_cohort(reg, reg.cohort("c1"), "destroy", Engine(command=fake), progress=live)
    assert "destroy c1 · 3 done" in terminal.getvalue()
    pipe = io.StringIO()
    with LiveRuns(Console(file=pipe, force_terminal=False), "destroy c1", enabled=False) as live:
        run_cohort(reg, reg.cohort("c1"), "destroy", Engine(command=fake), progress=live)
    assert pipe.getvalue() == ""


def test_fake_engine_cli_up_without_a_terminal_prints_only_the_table_and_summary(reg, fake):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["up", "--cohort", "c1"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[-1] == "up c1: 3 done, 0 failed" and "queued" not in result.output
