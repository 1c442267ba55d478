"""`labctl accounts add|list` and `cohort create --isolation account` through the CLI."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from labctl.cli import cli

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


@pytest.mark.parametrize("fmt", ["md", "env"])
def test_handouts_in_account_mode_name_the_account_and_role_and_hold_no_secret(pool_csv, tmp_path, fmt):
    run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    assert create("c1", roster(tmp_path, "ada", "bob"), "--isolation", "account", "--pool", "fall").exit_code == 0
    written = run("handouts", "--cohort", "c1", "--out", str(tmp_path / "h"), "--format", fmt)
    assert written.exit_code == 0, written.output
    path = tmp_path / "h" / f"bob.{fmt}"
    text = path.read_text()
    assert path.stat().st_mode & 0o777 == 0o600
    role = f"arn:aws:iam::{IDS[1]}:role/labctl/labctl-student"
    assert IDS[1] in text and role in text and IDS[0] not in text
    assert "labctl student env --cohort c1 --student bob" in text
    assert "AWS_ACCESS_KEY_ID" not in text and "AWS_SECRET_ACCESS_KEY" not in text and "AWS_SESSION_TOKEN" not in text
    if fmt == "env":
        assert f"export LABCTL_AWS_ACCOUNT_ID={IDS[1]}" in text and f"export LABCTL_AWS_ROLE_ARN={role}" in text
    else:
        assert f"your own AWS account: `{IDS[1]}`" in text and "region `us-east-1`" in text
        assert "appear here after your instructor runs" not in text


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


def account_buckets(session, endpoint: str) -> list[str]:
    return sorted(b["Name"] for b in session.client("s3", endpoint_url=endpoint).list_buckets()["Buckets"])


@pytest.mark.emulator
def test_proof_one_account_per_student_on_the_embedded_emulator(tmp_path):
    """The issue's proof: 5 pooled accounts; a 3-student cohort leases 3, another cohort 1; each student
    builds the reference in their own account with assumed-role credentials; grade → 100 each; sweep
    empties the three and leaves the other cohort's bucket; release returns the three."""
    from labctl.cohorts.accounts import student_session
    from labctl.cohorts.cohort import make_target
    from labctl.cohorts.targets import resolve
    from labctl.labs.catalog import get_lab
    from labctl.labs.solutions import apply, solutions_for
    from tests.conftest import free_port

    port = str(free_port())
    assert run("emulator", "start", "--port", port).exit_code == 0
    try:
        created = run("accounts", "create", "--pool", "demo", "--count", "5")
        assert created.exit_code == 0, created.output
        assert create_cohort("big", roster(tmp_path, "ada", "bob", "cy")).exit_code == 0
        assert create_cohort("other", roster(tmp_path, "zed")).exit_code == 0
        listed = json.loads(run("accounts", "list", "--format", "json").stdout)
        assert sorted((a["state"], a["cohort"] or "") for a in listed) == [
            ("available", ""), ("leased", "big"), ("leased", "big"), ("leased", "big"), ("leased", "other")]

        target = resolve(make_target("emulator", None, "us-east-1", None))
        endpoint = target.endpoint
        reference = next(s for s in solutions_for(get_lab("s3-static-website").folder) if s.name == "reference")
        accounts = {}
        for cohort in ("big", "other"):
            for student in json.loads(run("cohort", "show", cohort, "--format", "json").stdout)["students"]:
                session = student_session(target, student["account_id"])
                assert session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"] == student["account_id"]
                apply(reference, session, endpoint, student["prefix"], student["student"])
                accounts[student["prefix"]] = session
        assert {prefix: account_buckets(s, endpoint) for prefix, s in accounts.items()} == {
            p: [f"{p}-site"] for p in ("big-ada", "big-bob", "big-cy", "other-zed")}

        exports = dict(shlex.split(line)[1].split("=", 1) for line in
                       run("student", "env", "--cohort", "big", "--student", "bob").stdout.splitlines()
                       if line.startswith("export "))
        bob = next(s for s in json.loads(run("cohort", "show", "big", "--format", "json").stdout)["students"]
                   if s["student"] == "bob")
        assert exports["LABCTL_AWS_ACCOUNT_ID"] == bob["account_id"]
        own = boto3.Session(exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"],
                            exports["AWS_SESSION_TOKEN"], "us-east-1")
        assert account_buckets(own, endpoint) == ["big-bob-site"]

        graded = run("grade", "--cohort", "big", "--format", "json")
        assert graded.exit_code == 0, graded.output
        assert {r["student"]: r["score"] for r in json.loads(graded.stdout)["students"]} == {
            "ada": 100, "bob": 100, "cy": 100}

        swept = run("sweep", "--cohort", "big")
        assert swept.exit_code == 0, swept.output
        proofs = [line for line in swept.output.splitlines() if "resources left" in line]
        assert len(proofs) == 3 and all(line.endswith(": 0 resources left") for line in proofs)
        assert "deleted s3 big-ada-site in account" in swept.output
        assert {p: account_buckets(s, endpoint) for p, s in accounts.items()} == {
            "big-ada": [], "big-bob": [], "big-cy": [], "other-zed": ["other-zed-site"]}
        assert {a["state"] for a in json.loads(run("accounts", "list", "--format", "json").stdout)
                if a["cohort"] == "big"} == {"cleaning"}

        accounts["big-cy"].client("s3", endpoint_url=endpoint).create_bucket(Bucket="big-cy-stray")
        released = run("accounts", "release", "--cohort", "big")
        assert released.exit_code == 1
        assert "(cy) → quarantined: 1 left (s3 big-cy-stray)" in released.output
        assert released.output.count("→ available") == 2
        assert run("sweep", "--cohort", "big", "--student", "cy").exit_code == 0
        again = run("accounts", "release", "--cohort", "big", "--student", "cy", "--format", "json")
        assert again.exit_code == 0 and json.loads(again.stdout)[0]["state"] == "available"

        listed = json.loads(run("accounts", "list", "--format", "json").stdout)
        assert sorted((a["state"], a["cohort"] or "") for a in listed) == [
            ("available", ""), ("available", ""), ("available", ""), ("available", ""), ("leased", "other")]
        assert account_buckets(accounts["other-zed"], endpoint) == ["other-zed-site"]
    finally:
        run("emulator", "stop")


def create_cohort(name: str, roster_path: Path):
    return run("cohort", "create", name, "--lab", "s3-static-website", "--roster", str(roster_path),
               "--isolation", "account", "--pool", "demo")


def test_plan_in_account_mode_shows_each_account_and_the_scps():
    result = run("plan", "--lab", "s3-static-website", "--students", "2", "--isolation", "account", "--format", "json",
                 "--workers", "1")
    assert result.exit_code == 0, result.output
    planned = json.loads(result.stdout)
    assert planned["isolation"] == "account"
    assert [s["account_id"] for s in planned["students"]] == ["000000000001", "000000000002"]
    assert set(planned["organization"]["scps"]) == {"region-and-services", "guardrails", "cost-limits"}
    assert planned["totals"]["by_type"]["aws:organizations/policyAttachment:PolicyAttachment"] == 9
    assert planned["cost"]["monthly_usd"] > 0
    table = run("plan", "--lab", "s3-static-website", "--students", "1", "--isolation", "account", "--workers", "1")
    assert "account 000000000001" in table.output and "DenyLeaveOrganization" in table.output
    shared = json.loads(run("plan", "--lab", "s3-static-website", "--students", "1", "--format", "json").stdout)
    assert shared["isolation"] == "shared" and "organization" not in shared


def test_plan_of_a_cohort_in_account_mode_uses_its_leased_accounts(pool_csv, tmp_path):
    run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    assert create("c1", roster(tmp_path, "ada", "bob"), "--isolation", "account", "--pool", "fall").exit_code == 0
    planned = json.loads(run("plan", "--cohort", "c1", "--format", "json", "--workers", "1").stdout)
    assert [s["account_id"] for s in planned["students"]] == IDS[:2]
    refused = run("plan", "--cohort", "c1", "--isolation", "account")
    assert refused.exit_code == 2 and "give --isolation only with --lab" in refused.output


def test_up_via_operator_refuses_a_cohort_in_account_mode_before_anything_is_written(pool_csv, tmp_path):
    run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    assert create("c1", roster(tmp_path, "ada"), "--isolation", "account", "--pool", "fall").exit_code == 0
    refused = run("up", "--cohort", "c1", "--via", "operator", "--out", "manifests")
    assert refused.exit_code == 1, refused.output
    assert "runs one account per student: `--via operator` does not export that mode" in refused.output
    assert not (tmp_path / "manifests").exists()


def test_a_cohort_holding_accounts_cannot_be_deleted(pool_csv, tmp_path):
    from labctl.cohorts.accounts import list_accounts, set_state
    from labctl.cohorts.registry import Registry

    run("accounts", "add", "--pool", "fall", "--csv", str(pool_csv))
    assert create("c1", roster(tmp_path, "ada", "bob"), "--isolation", "account", "--pool", "fall").exit_code == 0
    refused = run("cohort", "delete", "c1", "--force")
    assert refused.exit_code == 1
    assert refused.output == (f"Error: cohort 'c1' still holds 2 pool account(s) ({IDS[0]}, {IDS[1]}): labctl sweep"
                              " --cohort c1, then labctl accounts release --cohort c1\n")
    with Registry() as reg:
        set_state(reg, [a.account_id for a in list_accounts(reg) if a.cohort == "c1"], "available")
    deleted = run("cohort", "delete", "c1")
    assert deleted.exit_code == 0 and run("cohort", "list").stdout.startswith("no cohorts yet")
    assert create("c1", roster(tmp_path, "ada"), "--isolation", "account", "--pool", "fall").exit_code == 0


def test_release_of_a_cohort_without_accounts_is_one_line_exit_2(tmp_path):
    assert create("c1", roster(tmp_path, "ada")).exit_code == 0
    result = run("accounts", "release", "--cohort", "c1")
    assert result.exit_code == 2 and result.output == "Error: --cohort: cohort 'c1' has no leased accounts\n"
