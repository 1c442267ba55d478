"""Leases: the --expires/--ttl parser (property-tested: an InputError naming the flag, never a traceback),
`cohort create` with a lease, `status` showing it, and `labctl reap` on the fake engine."""

from __future__ import annotations

import fcntl
import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labctl.cli import cli
from labctl.cohorts.home import home
from labctl.cohorts.registry import Registry
from labctl.labs.errors import InputError
from labctl.stacks.engine import Engine
from labctl.stacks.leases import MAX_LEASE, lease_end, parse_duration
from labctl.stacks.lifecycle import reap, run_cohort

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, expected", [
    ("14d", timedelta(days=14)), ("36h", timedelta(hours=36)), ("90m", timedelta(minutes=90)),
    ("1d12h", timedelta(days=1, hours=12)), (" 2H ", timedelta(hours=2)), ("3650d", MAX_LEASE),
])
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", "not a duration"), ("14", "not a duration"), ("d", "not a duration"), ("1.5d", "not a duration"),
    ("-3d", "not a duration"), ("12h1d", "not a duration"), ("0d", "longer than zero"),
    ("3651d", "longer than ten years"), ("99999999m", "longer than ten years"),
])
def test_bad_durations_name_the_flag(text, message):
    with pytest.raises(InputError, match=message) as caught:
        parse_duration(text)
    assert caught.value.where == "--ttl"


def test_a_date_lease_runs_through_that_day_and_a_naive_datetime_is_utc():
    assert lease_end("2026-03-05", None, NOW) == datetime(2026, 3, 6, tzinfo=timezone.utc)
    assert lease_end("2026-03-05T17:30", None, NOW) == datetime(2026, 3, 5, 17, 30, tzinfo=timezone.utc)
    assert lease_end("2026-03-05T17:30+02:00", None, NOW) == datetime(2026, 3, 5, 15, 30, tzinfo=timezone.utc)
    assert lease_end(None, "36h", NOW) == NOW + timedelta(hours=36)
    assert lease_end(None, None, NOW) is None


@pytest.mark.parametrize("expires, ttl, message", [
    ("2026-02-28", None, "is in the past"), ("next friday", None, "not an ISO 8601"),
    ("2040-01-01", None, "more than ten years"), ("9999-12-31", None, "out of range"),
    ("2026-04-01", "3d", "not both"),
])
def test_bad_leases_are_input_errors(expires, ttl, message):
    with pytest.raises(InputError, match=message):
        lease_end(expires, ttl, NOW)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30) | st.from_regex(r"\A[0-9]{0,12}[dhmDHM]{0,3}[0-9]{0,6}[dhm]?\Z"))
def test_property_any_ttl_is_a_future_instant_or_an_input_error_naming_the_flag(text):
    try:
        end = lease_end(None, text, NOW)
    except InputError as exc:
        assert exc.where == "--ttl" and "\n" not in exc.message.replace(text, "")
    else:
        assert NOW < end <= NOW + MAX_LEASE


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40) | st.datetimes().map(datetime.isoformat) | st.dates().map(str))
def test_property_any_expires_is_a_future_instant_or_an_input_error_naming_the_flag(text):
    try:
        end = lease_end(text, None, NOW)
    except InputError as exc:
        assert exc.where == "--expires"
    else:
        assert end.tzinfo is not None and NOW < end <= NOW + MAX_LEASE


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flag=st.sampled_from(["--ttl", "--expires", "--now"]), value=st.text(min_size=1, max_size=20))
def test_property_cli_lease_flags_exit_0_or_2_with_one_line_never_a_traceback(tmp_path, flag, value):
    if value.startswith("-"):
        value = " " + value  # click would read it as an option
    roster = tmp_path / "r.csv"
    roster.write_text("id\nada\n")
    args = ["reap", "--dry-run", "--now", value] if flag == "--now" else [
        "cohort", "create", "lease", "--lab", "s3-static-website", "--roster", str(roster), flag, value]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if result.exit_code == 2:
        assert len(result.output.strip().splitlines()) == 1 and flag in result.output
    with Registry() as reg:  # the next example starts without the cohort
        if "lease" in reg.cohort_names():
            reg.db.execute("DELETE FROM cohorts WHERE name = 'lease'")


def create(*flags: str, name: str = "c1"):
    roster = home() / "roster.csv"
    roster.write_text("id,name\nada,Ada\nbob,Bob\n")
    return CliRunner().invoke(cli, ["cohort", "create", name, "--lab", "s3-static-website", "--roster", str(roster),
                                    "--target", "localstack", *flags])


def test_cohort_create_records_the_lease_and_status_shows_it():
    result = create("--expires", "2099-06-30")
    assert result.exit_code == 2 and "more than ten years" in result.output
    result = create("--ttl", "14d")
    assert result.exit_code == 0 and "lease until 20" in result.output
    with Registry() as reg:
        end = datetime.fromisoformat(reg.lease("c1"))
    assert timedelta(days=13) < end - datetime.now(timezone.utc) <= timedelta(days=14)
    rows = json.loads(CliRunner().invoke(cli, ["status", "--cohort", "c1", "--format", "json"]).output)
    assert {r["lease_expires"] for r in rows} == {end.isoformat()}
    table = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["status", "--cohort", "c1"]).output
    assert end.strftime("%Y-%m-%d") in table and "expired" not in table


def test_bad_lease_flags_exit_2_in_one_line_and_record_nothing():
    result = create("--ttl", "soon")
    assert result.exit_code == 2
    assert result.output == "Error: --ttl: 'soon' is not a duration like 14d, 36h or 90m\n"
    result = create("--ttl", "1d", "--expires", "2026-12-01")
    assert result.exit_code == 2 and "either --expires or --ttl" in result.output
    with Registry() as reg:
        assert reg.cohort_names() == []


@pytest.fixture
def leased(fake):
    """c1 (lease ends 2026-03-01) with ada and bob up, cy never run; c2 (lease ends 2026-06-01) up."""
    roster = home() / "roster.csv"
    roster.write_text("id\nada\nbob\ncy\n")
    for name in ("c1", "c2"):
        assert CliRunner().invoke(cli, ["cohort", "create", name, "--lab", "s3-static-website", "--roster",
                                        str(roster), "--target", "localstack"]).exit_code == 0
    with Registry() as reg:
        reg.set_lease("c1", "2026-03-01T00:00:00+00:00")
        reg.set_lease("c2", "2026-06-01T00:00:00+00:00")
        assert run_cohort(reg, reg.cohort("c1"), "up", Engine(command=fake), ("ada", "bob")).failed == 0
        assert run_cohort(reg, reg.cohort("c2"), "up", Engine(command=fake)).failed == 0
    fake.calls.clear()
    return fake


def test_fake_engine_reap_destroys_expired_stacks_only_once_in_one_line(leased):
    result = CliRunner().invoke(cli, ["reap", "--now", "2026-03-02"])
    assert result.exit_code == 0, result.output
    assert result.output == "reap: destroyed 2 of 2 expired stack(s) in 1 cohort(s)\n"
    assert sorted(c.stack for c in leased.of("destroy")) == ["c1.ada", "c1.bob"]
    with Registry() as reg:
        assert reg.stack_statuses("c1")["ada"]["operation"] == "destroy"
        assert reg.stack_statuses("c2")["ada"]["operation"] == "up"
    leased.calls.clear()
    again = CliRunner().invoke(cli, ["reap", "--now", "2026-03-02"])
    assert (again.exit_code, again.output, leased.calls) == (0, "", [])


def test_fake_engine_reap_dry_run_and_nothing_due(leased):
    result = CliRunner().invoke(cli, ["reap", "--dry-run", "--now", "2026-07-01T00:00Z"])
    assert result.output == ("reap (dry run): would destroy 5 stack(s): c1.ada, c1.bob, c2.ada, c2.bob, c2.cy\n")
    assert leased.calls == []
    quiet = CliRunner().invoke(cli, ["reap", "--now", "2026-02-01"])
    assert (quiet.exit_code, quiet.output, leased.calls) == (0, "", [])


def test_reap_with_nothing_due_needs_no_pulumi_cli(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    result = CliRunner().invoke(cli, ["reap"])
    assert (result.exit_code, result.output) == (0, "")


def test_fake_engine_reap_failure_exits_1_and_is_retried_next_time(leased):
    leased.fail = {"c1.bob": "DeleteBucket: BucketNotEmpty"}
    result = CliRunner().invoke(cli, ["reap", "--now", "2026-03-02"])
    assert result.exit_code == 1
    assert result.output == "reap: destroyed 1 of 2 expired stack(s) in 1 cohort(s); not destroyed: c1.bob\n"
    leased.fail, leased.calls[:] = {}, []
    assert CliRunner().invoke(cli, ["reap", "--now", "2026-03-02"]).exit_code == 0
    assert [c.stack for c in leased.of("destroy")] == ["c1.bob"]


def test_fake_engine_reap_leaves_a_busy_cohort_for_the_next_run(leased):
    with Registry() as reg:
        reg.acquire_cohort_lock("c1", "up")
        result = reap(reg, datetime(2026, 3, 2, tzinfo=timezone.utc), lambda name: Engine(command=leased))
        reg.release_cohort_lock("c1")
    assert result.summaries == [] and "c1" in result.busy
    assert result.line().startswith("reap: destroyed 0 of 2 expired stack(s) in 1 cohort(s); not run (retried next reap): c1: cohort 'c1' is busy")


def test_fake_engine_overlapping_reaps_do_nothing_twice(leased):
    with (home() / "reap.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = CliRunner().invoke(cli, ["reap", "--now", "2026-03-02"])
    assert (result.exit_code, result.output) == (0, "reap: another `labctl reap` is running; nothing done\n")
    assert leased.calls == []
