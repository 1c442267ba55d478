"""`labctl accounts add|list` and `cohort create --isolation account` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli

IDS = [f"2222222222{n:02d}" for n in range(5)]


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def pool_csv(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text("account_id,email\n" + "".join(f"{i},root+{n}@example.edu\n" for n, i in enumerate(IDS[:4])))
    return path


def roster(tmp_path: Path, *ids: str) -> Path:
    path = tmp_path / f"roster-{len(ids)}.csv"
    path.write_text("id\n" + "\n".join(ids) + "\n")
    return path


def create(name: str, roster_path: Path, *extra: str):
    return run("cohort", "create", name, "--lab", "s3-static-website", "--roster", str(roster_path),
               "--endpoint", "http://127.0.0.1:4599", *extra)


def test_add_then_list_as_json_and_table(pool_csv):
    added = run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    assert added.exit_code == 0 and added.output == "pool fall: 4 accounts added, available\n"
    listed = json.loads(run("accounts", "list", "--format", "json").stdout)
    assert listed == [{"account_id": i, "pool": "fall", "state": "available", "cohort": None, "student": None}
                      for i in IDS[:4]]
    assert json.loads(run("accounts", "list", "--pool", "other", "--format", "json").stdout) == []
    assert "4 accounts" in run("accounts", "list").stdout


def test_adding_an_account_twice_is_one_line_exit_2_and_writes_nothing(pool_csv, tmp_path):
    assert run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv)).exit_code == 0
    again = tmp_path / "again.csv"
    again.write_text(f"account_id,email\n{IDS[4]},new@example.edu\n{IDS[2]},old@example.edu\n")
    result = run("accounts", "add", "--pool", "spring", "--csv", str(again))
    assert result.exit_code == 2
    assert result.output == f"Error: {again}:3: account {IDS[2]} is already in pool 'fall'\n"
    assert len(json.loads(run("accounts", "list", "--format", "json").stdout)) == 4


def test_cohort_in_account_mode_leases_and_shows_each_students_account(pool_csv, tmp_path):
    run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    created = create("c1", roster(tmp_path, "ada", "bob", "cy"), "--isolation", "account", "--pool", "fall")
    assert created.exit_code == 0, created.output
    assert "3 accounts leased from pool fall" in created.output
    shown = json.loads(run("cohort", "show", "c1", "--format", "json").stdout)
    assert (shown["isolation"], shown["pool"]) == ("account", "fall")
    assert [(s["student"], s["account_id"]) for s in shown["students"]] == list(zip(["ada", "bob", "cy"], IDS))
    assert IDS[0] in run("cohort", "show", "c1").stdout
    listed = json.loads(run("accounts", "list", "--format", "json").stdout)
    assert [(a["state"], a["cohort"], a["student"]) for a in listed] == [
        ("leased", "c1", "ada"), ("leased", "c1", "bob"), ("leased", "c1", "cy"), ("available", None, None)]


def test_a_short_pool_refuses_the_cohort_in_one_line(pool_csv, tmp_path):
    run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    result = create("c1", roster(tmp_path, *"abcde"), "--isolation", "account", "--pool", "fall")
    assert result.exit_code == 2
    assert result.output == "Error: --pool: pool 'fall' has 4 available account(s), 5 students need one each\n"
    assert run("cohort", "list").stdout == "no cohorts yet (labctl cohort create)\n"
    assert {a["state"] for a in json.loads(run("accounts", "list", "--format", "json").stdout)} == {"available"}


def test_shared_cohorts_show_no_accounts(tmp_path):
    assert create("c1", roster(tmp_path, "ada")).exit_code == 0
    shown = json.loads(run("cohort", "show", "c1", "--format", "json").stdout)
    assert shown["isolation"] == "shared" and "account_id" not in shown["students"][0]


def test_account_mode_on_localstack_is_refused(tmp_path):
    result = create("c1", roster(tmp_path, "ada"), "--target", "localstack", "--isolation", "account", "--pool", "p")
    assert result.exit_code == 2 and "needs --target aws or emulator, not localstack" in result.output
