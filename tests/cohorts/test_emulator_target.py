"""`--target emulator` is labctl's running emulator wherever it listens, resolved when used; doctor
reports cohorts whose endpoint does not answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.cohorts.registry import Registry
from tests.conftest import free_port, registry_before

pytestmark = pytest.mark.emulator


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def endpoint_findings() -> list[dict]:
    return [f for f in json.loads(run("doctor", "--format", "json").stdout) if f["name"].startswith("endpoint ")]


def test_an_emulator_cohort_follows_the_emulator_to_another_port(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    assert run("cohort", "create", "moved", "--lab", "s3-static-website", "--roster", str(roster)).exit_code == 0
    port = free_port()
    try:
        assert run("emulator", "start", "--port", str(port)).exit_code == 0
        shown = json.loads(run("cohort", "show", "moved", "--format", "json").stdout)
        assert shown["endpoint"] == f"http://127.0.0.1:{port}"
        graded = run("grade", "--cohort", "moved", "--format", "json")
        assert graded.exit_code == 0, graded.output
        assert [(s["student"], s["score"]) for s in json.loads(graded.stdout)["students"]] == [("ada", 0)]
        assert endpoint_findings() == [{"name": "endpoint emulator", "status": "ok", "fix": "",
                                        "detail": f"http://127.0.0.1:{port} answers (cohort moved)"}]
    finally:
        run("emulator", "stop")
    (down,) = endpoint_findings()
    assert (down["status"], down["fix"]) == ("warn", "labctl emulator start")
    assert down["detail"].endswith("does not answer: cohort moved cannot be graded")


def test_a_localstack_cohort_that_does_not_answer_is_reported(tmp_path: Path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    endpoint = f"http://127.0.0.1:{free_port()}"
    for name in ("ls1", "ls2"):
        assert run("cohort", "create", name, "--lab", "s3-static-website", "--roster", str(roster), "--target",
                   "localstack", "--endpoint", endpoint).exit_code == 0
    assert endpoint_findings() == [{"name": "endpoint localstack", "status": "warn", "fix": f"start localstack at {endpoint}",
                                    "detail": f"{endpoint} does not answer: cohorts ls1, ls2 cannot be graded"}]


def test_cohorts_that_froze_the_default_port_follow_the_emulator_after_migration(tmp_path: Path):
    path = tmp_path / "registry.db"
    old = registry_before(path, "SET endpoint = NULL")
    rows = [("frozen", "emulator", "http://127.0.0.1:4566"), ("chosen", "emulator", "http://127.0.0.1:4599"),
            ("stack", "localstack", "http://127.0.0.1:4566")]
    for name, kind, endpoint in rows:
        old.execute("INSERT INTO cohorts (name, labs, target, endpoint, region, created_at) VALUES (?, '[]', ?, ?, 'r', 't')",
                    (name, kind, endpoint))
    old.commit()
    old.close()
    with Registry(path) as registry:
        stored = dict(registry.db.execute("SELECT name, endpoint FROM cohorts").fetchall())
    assert stored == {"frozen": None, "chosen": "http://127.0.0.1:4599", "stack": "http://127.0.0.1:4566"}


CLOUD_LABS = ("s3-static-website", "dynamodb-orders", "sqs-dlq", "iam-function-role", "cloudwatch-alarms")


def test_grades_are_the_same_after_the_emulator_restarts_on_another_port(tmp_path: Path):
    """Reference solutions of several cloud labs, graded, the emulator stopped and started elsewhere,
    graded again: every score is the same, because the students' work is still there."""
    from labctl.app import emulator
    from labctl.cohorts import emulator_client
    from labctl.labs.catalog import get_lab
    from labctl.labs.solutions import apply, solutions_for

    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\nbob\n")
    args = ["cohort", "create", "keep", "--roster", str(roster)] + [a for lab in CLOUD_LABS for a in ("--lab", lab)]
    assert run(*args).exit_code == 0
    try:
        emulator.start(port=free_port())
        env = emulator_client.credentials()
        session = emulator_client.session(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
        for lab in CLOUD_LABS:
            reference = next(s for s in solutions_for(get_lab(lab).folder) if s.name == "reference")
            apply(reference, session, env["AWS_ENDPOINT_URL"], "keep-ada", "ada")
        before = json.loads(run("grade", "--cohort", "keep", "--format", "json").stdout)["students"]
        assert [(s["student"], s["lab"], s["score"] == s["max_score"]) for s in before if s["student"] == "ada"] == [
            ("ada", lab, True) for lab in CLOUD_LABS]
        assert run("emulator", "stop").output == "emulator stopped, state saved\n"
        restarted = run("emulator", "start", "--port", str(free_port()))
        assert ", state saved " in restarted.output and " restored" in restarted.output
        after = json.loads(run("grade", "--cohort", "keep", "--format", "json").stdout)["students"]
    finally:
        run("emulator", "stop")
    assert [(s["student"], s["lab"], s["score"]) for s in after] == [(s["student"], s["lab"], s["score"]) for s in before]


def test_emulator_reset_says_what_it_erases_and_asks(tmp_path: Path):
    from labctl.app import emulator

    assert run("emulator", "reset").output == "nothing to reset: the emulator has no saved state\n"
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    assert run("cohort", "create", "held", "--lab", "s3-static-website", "--roster", str(roster)).exit_code == 0
    try:
        emulator.start(port=free_port())
        running = run("emulator", "reset", "--yes")
        assert running.exit_code == 1 and "stop it first" in running.output
    finally:
        run("emulator", "stop")
    declined = CliRunner().invoke(cli, ["emulator", "reset"], input="n\n")
    assert "it holds the work of cohort(s) held" in declined.output and declined.exit_code != 0
    assert emulator.saved_state() is not None
    erased = run("emulator", "reset", "--yes")
    assert erased.exit_code == 0 and erased.output.endswith("emulator state erased: the next start is empty\n")
    assert emulator.saved_state() is None
