"""`labctl grade --format junit|csv|html`, `grades history` and `student check`, through the CLI,
against the real moto server (a cohort on target localstack pointed at it)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.labs.catalog import Lab, get_lab
from labctl.labs.solutions import apply, solutions_for

pytestmark = pytest.mark.emulator

LAB = "s3-static-website"
COHORT = "cls"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def cohort(aws, moto_endpoint: str, tmp_path: Path) -> str:
    """Cohort `cls`: ada deploys the reference solution, bob the partial one, cy nothing."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nada,Ada Lovelace,ada@example.edu\nbob,Bob Builder,bob@example.edu\ncy,Cy,cy@example.edu\n")
    created = run("cohort", "create", COHORT, "--lab", LAB, "--roster", str(roster),
                  "--target", "localstack", "--endpoint", moto_endpoint)
    assert created.exit_code == 0, created.output
    solutions = {s.name: s for s in solutions_for(get_lab(LAB).folder)}
    apply(solutions["reference"], aws, moto_endpoint, f"{COHORT}-ada", "ada")
    apply(solutions["broken-partial"], aws, moto_endpoint, f"{COHORT}-bob", "bob")
    return COHORT


def test_grade_writes_junit_csv_and_html(cohort: str, tmp_path: Path) -> None:
    paths = {fmt: tmp_path / f"grades.{fmt}" for fmt in ("junit", "csv", "html")}
    for fmt, path in paths.items():
        result = run("grade", "--cohort", cohort, "--format", fmt, "--out", str(path))
        assert result.exit_code == 0, result.output
        assert result.output == ""

    root = ET.parse(paths["junit"]).getroot()
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == [f"ada · {LAB}", f"bob · {LAB}", f"cy · {LAB}"]
    assert {k: suites[f"ada · {LAB}"].get(k) for k in ("tests", "failures", "skipped")} == {
        "tests": "7", "failures": "0", "skipped": "0"}
    assert {k: suites[f"bob · {LAB}"].get(k) for k in ("tests", "failures", "skipped")} == {
        "tests": "7", "failures": "3", "skipped": "0"}
    assert {k: suites[f"cy · {LAB}"].get(k) for k in ("tests", "failures", "skipped")} == {
        "tests": "7", "failures": "1", "skipped": "6"}
    failure = suites[f"bob · {LAB}"].find("testcase[@name='versioning: Versioning is enabled']/failure")
    assert failure.get("message") == (
        "versioning is off (hint: aws s3api put-bucket-versioning --bucket cls-bob-site"
        " --versioning-configuration Status=Enabled)"
    )

    rows = list(csv.DictReader(io.StringIO(paths["csv"].read_text())))
    assert [(r["student"], r["name"], r["email"], r["score"], r["passed"]) for r in rows] == [
        ("ada", "Ada Lovelace", "ada@example.edu", "100", "true"),
        ("bob", "Bob Builder", "bob@example.edu", "55", "false"),
        ("cy", "Cy", "cy@example.edu", "0", "false"),
    ]
    assert list(rows[1])[8:14] == ["bucket-exists", "website-config", "index-content", "public-read", "versioning", "tags"]
    assert list(rows[1])[-2:] == ["floor", "error"] and all(c.startswith("penalty:") for c in list(rows[1])[14:-2])
    assert [rows[1][c] for c in list(rows[1])[8:14]] == ["15", "20", "20", "0", "0", "0"]
    for row in rows:
        assert sum(int(row[c]) for c in list(row)[8:-1]) == int(row["score"])

    table = tmp_path / "grades.txt"
    assert run("grade", "--cohort", cohort, "--out", str(table)).exit_code == 0
    assert "100/100" in table.read_text() and "\x1b[" not in table.read_text()

    page = paths["html"].read_text()
    assert page.startswith("<!doctype html>") and page.count("<svg") == 2
    assert "hint: aws s3api put-bucket-versioning --bucket cls-bob-site" in page


def test_grade_html_to_stdout(cohort: str) -> None:
    result = run("grade", "--cohort", cohort, "--student", "ada", "--format", "html")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<!doctype html>") and "ada" in result.stdout


def test_grades_history_after_two_runs_shows_both(cohort: str) -> None:
    first = json.loads(run("grade", "--cohort", cohort, "--format", "json").stdout)
    second = json.loads(run("grade", "--cohort", cohort, "--student", "bob", "--format", "json").stdout)

    history = run("grades", "history", "--cohort", cohort, "--format", "json")
    assert history.exit_code == 0, history.output
    runs = json.loads(history.stdout)["runs"]
    # Oldest first; within a run, in the order results were committed.
    assert sorted((r["student"], r["score"]) for r in runs[:3]) == [("ada", 100), ("bob", 55), ("cy", 0)]
    assert [(r["student"], r["score"]) for r in runs[3:]] == [("bob", 55)]
    assert runs[0]["graded_at"] == first["graded_at"] and runs[-1]["graded_at"] == second["graded_at"]
    assert list(runs[0]) == ["run", "graded_at", "student", "lab", "score", "max_score", "percent", "passed", "error"]

    bob = json.loads(run("grades", "history", "--cohort", cohort, "--student", "bob", "--format", "json").stdout)
    assert [(r["student"], r["lab"], r["percent"], r["passed"]) for r in bob["runs"]] == [("bob", LAB, 55.0, False)] * 2

    shown = run("grades", "history", "--cohort", cohort, "--student", "bob")
    assert shown.exit_code == 0 and shown.output.count("55/100") == 2 and "2 result(s)" in shown.output


def test_grades_history_names_an_unknown_student(cohort: str) -> None:
    result = run("grades", "history", "--cohort", cohort, "--student", "zed")
    assert result.exit_code == 2 and "--student: no student 'zed' in cohort 'cls'" in result.output


def test_student_check_shows_hints_for_a_partial_solution(cohort: str) -> None:
    result = run("student", "check", "--cohort", cohort, "--student", "bob")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{LAB}: 55/100 (55.0%) — not passed yet" in out
    assert "✗ public-read (failed, 20 points)" in out
    assert "hint: aws s3api put-bucket-versioning --bucket cls-bob-site --versioning-configuration Status=Enabled" in out
    assert "bucket-exists" not in out and "next:" not in out
    runs = json.loads(run("grades", "history", "--cohort", cohort, "--format", "json").stdout)["runs"]
    assert [r["student"] for r in runs] == ["bob"]  # recorded, and only this student graded


def test_student_check_shows_next_labs_on_a_pass(cohort: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # No catalog lab lists `next` yet: give s3-static-website one for this test.
    import labctl.validators.grading

    def with_next(lab_id: str) -> Lab:
        lab = get_lab(lab_id)
        return Lab(lab.spec.model_copy(update={"next": ["dynamodb-orders", "no-such-lab"]}), lab.folder) if lab_id == LAB else lab

    monkeypatch.setattr(labctl.validators.grading, "get_lab", with_next)
    passed = run("student", "check", "--cohort", cohort, "--student", "ada", "--lab", LAB)
    assert passed.exit_code == 0, passed.output
    assert f"{LAB}: 100/100 (100.0%) — passed" in passed.stdout
    assert "every check passed" in passed.stdout
    title = get_lab("dynamodb-orders").spec.title
    assert f"next: dynamodb-orders ({title}), no-such-lab" in passed.stdout

    partial = run("student", "check", "--cohort", cohort, "--student", "bob")
    assert partial.exit_code == 0 and "next:" not in partial.stdout


def test_student_check_penalty_is_shown(cohort: str, aws, moto_endpoint: str) -> None:
    solutions = {s.name: s for s in solutions_for(get_lab(LAB).folder)}
    apply(solutions["broken-public-write"], aws, moto_endpoint, f"{COHORT}-cy", "cy")
    result = run("student", "check", "--cohort", cohort, "--student", "cy")
    assert result.exit_code == 0, result.output
    assert f"{LAB}: 70/100 (70.0%) — not passed yet" in result.stdout
    assert "− penalty 30: no-public-write" in result.stdout


def test_an_unreachable_target_is_no_grade(tmp_path: Path) -> None:
    """Nothing listens on the endpoint: no score is stored, the reason shows once, grade exits 1."""
    from tests.conftest import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\nbob\n")
    assert run("cohort", "create", "gone", "--lab", LAB, "--roster", str(roster), "--target", "localstack",
               "--endpoint", endpoint).exit_code == 0
    graded = run("grade", "--cohort", "gone")
    assert graded.exit_code == 1
    assert "could not grade 2 students: the AWS target did not answer" in graded.output
    out = tmp_path / "grades.csv"
    to_file = CliRunner().invoke(cli, ["grade", "--cohort", "gone", "--format", "csv", "--out", str(out)])
    assert to_file.exit_code == 1 and to_file.stdout == ""
    assert to_file.stderr.startswith("could not grade 2 students: ")
    assert [(r["student"], r["score"], r["error"] != "") for r in csv.DictReader(io.StringIO(out.read_text()))] == [
        ("ada", "", True), ("bob", "", True)]
    history = json.loads(run("grades", "history", "--cohort", "gone", "--format", "json").output)["runs"]
    assert [(h["student"], h["score"], h["passed"], endpoint in h["error"]) for h in history] == [
        ("ada", None, None, True), ("bob", None, None, True)] * 2
    status = run("status", "--cohort", "gone", "--format", "json")
    assert [r["last_grade"]["error"] is not None for r in json.loads(status.output)] == [True, True]
    check = run("student", "check", "--cohort", "gone", "--student", "ada")
    assert check.exit_code == 1 and check.output.count("did not answer") == 1
    assert "0/" not in check.output


def test_a_sql_lab_needs_postgres_dsn_at_create(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    refused = CliRunner().invoke(cli, ["cohort", "create", "db1", "--lab", "s3-static-website", "--lab",
                                       "sql-joins-report", "--roster", str(roster)])
    assert refused.exit_code == 2
    assert refused.stderr == ("Error: --postgres-dsn: lab sql-joins-report needs a PostgreSQL server: give its admin"
                              " connection (without password)\n")
    assert run("cohort", "list").output.strip() == "no cohorts yet (labctl cohort create)"


def test_grading_a_sql_lab_needs_no_aws_emulator(tmp_path: Path, postgres_dsn: str) -> None:
    """Target emulator, which is not running here: a SQL lab is still graded, from the database alone."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    created = run("cohort", "create", "db2", "--lab", "sql-joins-report", "--roster", str(roster),
                  "--postgres-dsn", postgres_dsn)
    assert created.exit_code == 0, created.output
    assert json.loads(run("emulator", "status", "--format", "json").stdout)["running"] is False
    graded = run("grade", "--cohort", "db2", "--format", "json")
    assert graded.exit_code == 0, graded.output
    (ada,) = json.loads(graded.stdout)["students"]
    assert (ada["student"], ada["score"], ada["checks"][0]["status"]) == ("ada", 0, "failed")


def test_grades_export_renders_a_stored_run_without_regrading(cohort: str, moto_endpoint: str, tmp_path: Path) -> None:
    import requests

    first = run("grade", "--cohort", cohort, "--format", "json").stdout
    first_csv = tmp_path / "first.csv"
    assert run("grade", "--cohort", cohort, "--student", "bob", "--format", "csv", "--out", str(first_csv)).exit_code == 0
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()  # every bucket is gone now

    latest = tmp_path / "latest.csv"
    assert run("grades", "export", "--cohort", cohort, "--format", "csv", "--out", str(latest)).exit_code == 0
    assert latest.read_text() == first_csv.read_text()
    runs = json.loads(run("grades", "history", "--cohort", cohort, "--format", "json").stdout)["runs"]
    first_run = runs[0]["run"]
    exported = run("grades", "export", "--cohort", cohort, "--run", first_run[:8], "--format", "json")
    assert exported.exit_code == 0 and json.loads(exported.stdout) == json.loads(first)
    assert "100/100" in run("grades", "export", "--cohort", cohort, "--run", first_run).stdout
    for fmt in ("junit", "html"):
        assert run("grades", "export", "--cohort", cohort, "--format", fmt).exit_code == 0

    unknown = CliRunner().invoke(cli, ["grades", "export", "--cohort", cohort, "--run", "zz"])
    assert unknown.exit_code == 2
    assert unknown.stderr == f"Error: --run: 'zz' is no grading run of this cohort (see labctl grades history --cohort {cohort})\n"


def test_grades_export_before_any_run_is_exit_2(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\n")
    assert run("cohort", "create", "fresh", "--lab", LAB, "--roster", str(roster)).exit_code == 0
    result = CliRunner().invoke(cli, ["grades", "export", "--cohort", "fresh"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --cohort: cohort 'fresh' has no grading run yet (labctl grade --cohort fresh)\n"
