"""`labctl cohort delete`: a mistyped cohort does not hold its name and prefixes for ever."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from labctl.cli import cli
from labctl.cohorts.registry import Registry


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def create(tmp_path: Path, name: str) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\nbob\n")
    assert run("cohort", "create", name, "--lab", "s3-static-website", "--roster", str(roster)).exit_code == 0


def test_delete_frees_the_name_and_its_prefixes(tmp_path: Path):
    create(tmp_path, "fal")
    clash = run("cohort", "create", "fal-b", "--lab", "s3-static-website", "--roster", str(tmp_path / "roster.csv"))
    assert clash.exit_code == 2  # fal-b-… would share fal's prefixes
    with Registry() as reg:
        reg.record_grade("r1", "fal", {"student": "ada", "lab": "s3-static-website", "graded_at": "t", "score": 1,
                                       "max_score": 2, "percent": 50.0, "passed": False})
    deleted = run("cohort", "delete", "fal")
    assert (deleted.exit_code, deleted.output) == (0, "cohort fal deleted: 2 student(s), 1 grade result(s)\n")
    assert run("cohort", "list").output == "no cohorts yet (labctl cohort create)\n"
    with Registry() as reg:
        assert reg.db.execute("SELECT COUNT(*) FROM grades").fetchone()[0] == 0
    create(tmp_path, "fal-b")


def test_delete_is_refused_while_stacks_may_be_live_and_forced_after_destroy(tmp_path: Path):
    create(tmp_path, "live")
    with Registry() as reg:
        reg.set_stack_status("live", "ada", "up", "done")
        reg.set_stack_status("live", "bob", "destroy", "done")
    refused = run("cohort", "delete", "live")
    assert refused.exit_code == 1
    assert refused.stderr == ("Error: cohort 'live' has 1 stack(s) that may be live (ada): run labctl destroy --cohort"
                              " live first, or give --force if they are gone\n")
    assert run("cohort", "show", "live").exit_code == 0
    forced = run("cohort", "delete", "live", "--force")
    assert forced.exit_code == 0 and "1 stack(s) recorded as possibly live were forgotten" in forced.output


def test_delete_is_refused_while_an_operation_holds_the_cohort(tmp_path: Path):
    create(tmp_path, "busy")
    with Registry() as reg:
        reg.acquire_cohort_lock("busy", "up")
    refused = run("cohort", "delete", "busy", "--force")
    assert refused.exit_code == 1 and "is busy: up is running" in refused.stderr


def test_deleting_an_unknown_cohort_is_exit_2():
    result = run("cohort", "delete", "nosuch")
    assert result.exit_code == 2 and "unknown cohort 'nosuch'" in result.stderr
