"""The registry shared through PostgreSQL (LABCTL_DATABASE_URL): several labctl homes — several machines —
on one database see the same cohorts, grades and tokens, and never provision or grade one cohort at once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.cohorts.backend import parse_backend
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import MIGRATIONS, Registry
from labctl.labs.errors import InputError, LabctlError
from tests.conftest import REPO, fresh_schema

ROSTER = "id,name,email\nada,Ada,ada@example.edu\nbob,Bob,bob@example.edu\n"


@pytest.fixture
def shared_url(registry_database, monkeypatch) -> str:
    url = fresh_schema(registry_database)
    monkeypatch.setenv("LABCTL_DATABASE_URL", url)
    return url


def make_cohort(name: str = "sh1") -> Cohort:
    return Cohort(name, ("s3-static-website",), make_target("localstack", None, "us-east-1", None),
                  parse_roster(ROSTER, name, "r.csv"))


def as_home(monkeypatch, home: Path) -> None:
    monkeypatch.setenv("LABCTL_HOME", str(home))


def until(condition, seconds: float = 10) -> bool:
    """Whether `condition()` becomes true within `seconds` (the server ends a closed session's locks soon
    after, not at once)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def machine(monkeypatch, name: str) -> None:
    monkeypatch.setattr("labctl.cohorts.registry.socket.gethostname", lambda: name)


def test_two_homes_on_one_database_see_the_same_cohorts_grades_and_tokens(shared_url, tmp_path, monkeypatch):
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER)
    as_home(monkeypatch, tmp_path / "home-a")
    created = CliRunner().invoke(cli, ["cohort", "create", "sh1", "--lab", "s3-static-website", "--roster",
                                       str(roster), "--target", "localstack"])
    assert created.exit_code == 0, created.output
    with Registry() as reg:
        reg.record_grade("run-1", "sh1", {"student": "ada", "lab": "s3-static-website",
                                           "graded_at": "2026-12-01T10:00:00+00:00", "score": 7, "max_score": 10,
                                           "percent": 70.0, "passed": False})
    tokens = CliRunner().invoke(cli, ["portal", "tokens", "--cohort", "sh1", "--format", "json",
                                      "--url", "http://portal.example.edu"])
    assert tokens.exit_code == 0, tokens.output
    issued = {i["student"]: i["url"].split("token=", 1)[1] for i in json.loads(tokens.output)}

    as_home(monkeypatch, tmp_path / "home-b")
    assert CliRunner().invoke(cli, ["cohort", "list"]).output.split() == ["sh1"]
    shown = json.loads(CliRunner().invoke(cli, ["cohort", "show", "sh1", "--format", "json"]).output)
    assert [s["student"] for s in shown["students"]] == ["ada", "bob"]
    history = json.loads(CliRunner().invoke(cli, ["grades", "history", "--cohort", "sh1", "--format",
                                                  "json"]).output)["runs"]
    assert [(h["student"], h["score"], h["run"]) for h in history] == [("ada", 7, "run-1")]
    with Registry() as reg:
        digest = hashlib.sha256(issued["bob"].encode()).hexdigest()
        assert reg.portal_student(digest) == ("sh1", "bob")
    assert not (tmp_path / "home-a" / "registry.sqlite3").exists()
    assert not (tmp_path / "home-b" / "registry.sqlite3").exists()


@pytest.fixture
def up_on_machine_a(shared_url, monkeypatch) -> Registry:
    """Cohort sh1 whose lock an `up` on machine-a holds (its registry connection, returned); the test
    itself runs as machine-b."""
    with Registry() as reg:
        reg.create_cohort(make_cohort())
    machine(monkeypatch, "machine-a")
    first = Registry()
    first.acquire_cohort_lock("sh1", "up")
    machine(monkeypatch, "machine-b")
    yield first
    first.db.close()


def test_a_cohort_lock_held_on_one_machine_refuses_the_other_until_its_holder_dies(up_on_machine_a):
    first = up_on_machine_a
    with Registry() as second:
        with pytest.raises(LabctlError, match=r"cohort 'sh1' is busy: `up` has run since .* on machine-a\)"):
            second.acquire_cohort_lock("sh1", "destroy")
        assert second.cohort_lock("sh1")["alive"] is True
        first.db.close()  # machine-a dies without releasing: PostgreSQL ends its session and its lock
        assert until(lambda: second.cohort_lock("sh1")["alive"] is False)  # once the server has seen it go
        second.acquire_cohort_lock("sh1", "destroy")
        assert second.cohort_lock("sh1")["host"] == "machine-b"
        second.release_cohort_lock("sh1")
        assert second.cohort_lock("sh1") is None


def test_grading_locks_across_machines_wait_for_each_other(shared_url, monkeypatch):
    with Registry() as reg:
        reg.create_cohort(make_cohort())
    machine(monkeypatch, "machine-a")
    with Registry() as first, Registry() as second:
        first.acquire_grading_lock("sh1", "run-a")
        with pytest.raises(LabctlError, match=r"cohort 'sh1' is being graded since .*; rerun with --wait"):
            second.acquire_grading_lock("sh1", "run-b")
        first.acquire_student_grading_lock("sh1", "ada", "check-a")
        with pytest.raises(LabctlError, match="student 'ada' of cohort 'sh1' is being graded"):
            second.acquire_student_grading_lock("sh1", "ada", "check-b")
        second.acquire_student_grading_lock("sh1", "bob", "check-c")
        threading.Timer(0.3, first.release_grading_lock, ("sh1", "run-a")).start()
        second.acquire_grading_lock("sh1", "run-b", wait=True, poll_s=0.05)
        rows = second.db.execute("SELECT run_id, host FROM grading_locks").fetchall()
        assert [tuple(r) for r in rows] == [("run-b", "machine-a")]


HOLD_A_LOCK = """
import sys, time
from labctl.cohorts.registry import Registry
reg = Registry()
reg.acquire_grading_lock("sh1", "run-killed")
print("held", flush=True)
time.sleep(60)
"""


def test_a_holder_killed_with_sigkill_frees_its_lock_for_every_machine(shared_url):
    with Registry() as reg:
        reg.create_cohort(make_cohort())
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_LOCK], cwd=REPO, stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout.readline() == "held\n"
        with Registry() as reg:
            with pytest.raises(LabctlError, match="is being graded"):
                reg.acquire_grading_lock("sh1", "run-next")
            holder.send_signal(signal.SIGKILL)
            holder.wait(timeout=10)
            reg.acquire_grading_lock("sh1", "run-next", wait=True, poll_s=0.05)  # the server saw the session end
            assert reg.db.execute("SELECT run_id FROM grading_locks").fetchone()[0] == "run-next"
    finally:
        holder.kill()
        holder.stdout.close()


def test_write_transactions_are_serialised_so_overlapping_prefixes_never_both_land(shared_url):
    Registry().db.close()  # migrated first: the race is between the two creates
    results: list[str] = []
    barrier = threading.Barrier(2, timeout=20)

    def create(name: str) -> None:
        with Registry() as reg:
            barrier.wait()
            try:
                reg.create_cohort(make_cohort(name))
                results.append(name)
            except InputError:
                results.append("refused")

    threads = [threading.Thread(target=create, args=(name,)) for name in ("lab", "lab-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) in (["lab", "refused"], ["lab-b", "refused"])
    with Registry() as reg:
        assert len(reg.cohort_names()) == 1


def test_schema_version_is_a_table_and_a_newer_one_is_refused(shared_url):
    with Registry() as reg:
        assert reg.db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
    with Registry() as reg:  # reopening runs nothing again
        assert reg.db.execute("SELECT COUNT(*) FROM schema_version").fetchone()[0] == 1
        reg.db.execute("UPDATE schema_version SET version = version + 1")
    with pytest.raises(LabctlError, match=r"registry 127.0.0.1:5432/labctl_registry_test_\d+ is from a newer labctl"):
        Registry()


def test_a_bad_or_unreachable_database_url_is_one_line(monkeypatch):
    monkeypatch.setenv("LABCTL_DATABASE_URL", "mysql://root@db/labctl")
    result = CliRunner().invoke(cli, ["cohort", "list"])
    assert result.exit_code == 2
    assert result.output == "Error: LABCTL_DATABASE_URL: must be a postgresql://… URL (got a 'mysql' one)\n"
    monkeypatch.setenv("LABCTL_DATABASE_URL", "postgresql://labctl:hunter2secret@127.0.0.1:1/labctl")
    result = CliRunner().invoke(cli, ["cohort", "list"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert result.output.startswith("Error: cannot open the registry database 127.0.0.1:1/labctl: ")
    assert "hunter2secret" not in result.output


def test_the_passphrase_variable_not_its_value_reaches_the_shared_database(shared_url, monkeypatch):
    monkeypatch.setenv("CS_PASS", "never-in-the-database-5521")
    with Registry() as reg:
        reg.create_cohort(make_cohort())
    assert CliRunner().invoke(cli, ["cohort", "backend", "sh1", "--backend", "s3://labs-state",
                                    "--passphrase-env", "CS_PASS"]).exit_code == 0
    with psycopg.connect(shared_url) as conn:
        dump = json.dumps(conn.execute("SELECT * FROM cohort_backends").fetchall())
    assert "CS_PASS" in dump and "never-in-the-database" not in dump


def test_unlock_refuses_while_the_holder_lives_on_another_machine_and_clears_a_dead_one(up_on_machine_a):
    from labctl.stacks.lifecycle import unlock

    first = up_on_machine_a
    with Registry() as second:
        with pytest.raises(LabctlError, match=r"cohort 'sh1' is held by a running `up`"):
            unlock(second, second.cohort("sh1"), engine=None)
        first.db.close()
        assert until(lambda: second.cohort_lock("sh1")["alive"] is False)
        assert unlock(second, second.cohort("sh1"), engine=None).released["host"] == "machine-a"


def test_a_homes_sqlite_registry_is_imported_whole_and_runs_keep_their_order(shared_url, tmp_path, monkeypatch):
    def grade(run: str, student: str, score: int) -> dict:
        return {"student": student, "lab": "s3-static-website", "graded_at": f"2026-12-0{score % 9 + 1}T00:00:00+00:00",
                "score": score, "max_score": 10, "percent": score * 10.0, "passed": score >= 7}

    monkeypatch.delenv("LABCTL_DATABASE_URL")
    with Registry() as home:
        home.create_cohort(make_cohort())
        for run, score in (("run-b", 4), ("run-a", 9)):  # run-b began first: ids, not names, order runs
            home.record_grade(run, "sh1", grade(run, "ada", score))
        home.set_portal_tokens("sh1", {"bob": "f" * 64})
        home.set_stack_status("sh1", "ada", "up", "done", lab="s3-static-website")
        home.set_backend("sh1", parse_backend("s3://labs-state"))
        before = (home.cohort("sh1"), home.grade_history("sh1"), home.stack_statuses("sh1"))
    monkeypatch.setenv("LABCTL_DATABASE_URL", shared_url)
    result = CliRunner().invoke(cli, ["registry", "import"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(": 1 cohorts, 2 students, 1 stack_status, 2 grades, 1 portal_tokens,"
                                  " 1 cohort_backends\n")
    with Registry() as shared:
        assert (shared.cohort("sh1"), shared.grade_history("sh1"), shared.stack_statuses("sh1")) == before
        assert shared.portal_student("f" * 64) == ("sh1", "bob")
        assert shared.backend("sh1").url == "s3://labs-state"
        shared.record_grade("run-c", "sh1", grade("run-c", "bob", 7))  # the id sequence is past the imported ids
        assert [h["run_id"] for h in shared.grade_history("sh1")] == ["run-b", "run-a", "run-c"]
    again = CliRunner().invoke(cli, ["registry", "import"])
    assert again.exit_code == 2 and "already holds cohorts: import into an empty database" in again.output


def test_import_needs_a_shared_database_and_a_registry_to_copy(tmp_path, monkeypatch, registry_database):
    result = CliRunner().invoke(cli, ["registry", "import"])
    assert result.exit_code == 2 and result.output.startswith("Error: LABCTL_DATABASE_URL: set LABCTL_DATABASE_URL")
    monkeypatch.setenv("LABCTL_DATABASE_URL", fresh_schema(registry_database))
    result = CliRunner().invoke(cli, ["registry", "import", "--from", str(tmp_path / "none.sqlite3")])
    assert result.exit_code == 2 and f"--from: no registry at {tmp_path / 'none.sqlite3'}" in result.output
