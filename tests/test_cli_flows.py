"""End-to-end CLI flows on real services: emulator lifecycle, plan, policy check, grade, demo."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.labs.catalog import get_lab
from labctl.labs.solutions import apply, solutions_for
from tests.conftest import free_port

REPO = Path(__file__).resolve().parent.parent
ROSTER = REPO / "examples" / "roster.csv"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_emulator_lifecycle_through_the_cli(labctl_home):
    port = str(free_port())
    try:
        started = run("emulator", "start", "--port", port, "--enforce-iam")
        assert started.exit_code == 0, started.output
        status = json.loads(run("emulator", "status", "--format", "json").stdout)
        assert status == {"running": True, "endpoint": f"http://127.0.0.1:{port}", "pid": status["pid"], "enforce_iam": True,
                          "host": "127.0.0.1"}
        env = json.loads(run("emulator", "env", "--format", "json").stdout)
        assert env["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}" and env["AWS_ACCESS_KEY_ID"] != "test"
        creds = labctl_home / "emulator" / "credentials.json"
        assert stat.S_IMODE(creds.stat().st_mode) == 0o600
        shell = run("emulator", "env").stdout
        assert f"export AWS_ENDPOINT_URL=http://127.0.0.1:{port}" in shell
        again = run("emulator", "start", "--port", port)
        assert again.exit_code == 1 and "already running" in again.output
    finally:
        stopped = run("emulator", "stop")
    assert stopped.exit_code == 0 and "stopped" in stopped.output
    assert json.loads(run("emulator", "status", "--format", "json").stdout)["running"] is False
    down = run("emulator", "env")
    assert down.exit_code == 1 and "labctl emulator start" in down.output


def test_plan_json_shape_and_secrets(tmp_path):
    out = tmp_path / "plan.json"
    result = run("plan", "--lab", "s3-static-website", "--students", "3", "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    planned = json.loads(out.read_text())
    assert planned["cohort"] == "preview" and [s["student"] for s in planned["students"]] == ["s001", "s002", "s003"]
    assert planned["totals"]["resources"] == sum(len(s["resources"]) for s in planned["students"])
    provider = next(r for r in planned["students"][0]["resources"] if r["type"] == "pulumi:providers:aws")
    assert provider["inputs"]["accessKey"] == "[secret]" and provider["inputs"]["secretKey"] == "[secret]"


def test_plan_needs_a_cohort_or_a_lab_with_students():
    result = run("plan", "--lab", "s3-static-website")
    assert result.exit_code == 2 and "give --cohort NAME, or --lab ID with --students N" in result.output


def test_policy_check_on_planted_violations_exits_1(tmp_path):
    planned = json.loads(run("plan", "--lab", "s3-static-website", "--students", "1", "--format", "json").stdout)
    policy = next(r for r in planned["students"][0]["resources"] if r["name"].endswith("-identity-1"))
    policy["inputs"]["policy"] = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    user = next(r for r in planned["students"][0]["resources"] if r["type"] == "aws:iam/user:User")
    del user["inputs"]["tags"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(planned))
    result = run("policy", "check", "--plan", str(path), "--format", "json")
    assert result.exit_code == 1
    policies = {v["policy"] for v in json.loads(result.stdout)["violations"]}
    assert {"iam-no-wildcards", "tags-required"} <= policies


def test_policy_check_bad_input_is_exit_2(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text("{not json")
    result = run("policy", "check", "--plan", str(bad))
    assert result.exit_code == 2 and "not valid JSON" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("flag", "content", "found"),
    [
        ("--preview-json", "{}", "the preview has no steps (an empty object)"),
        ("--preview-json", '{"diagnostics": [{"message": "error: preview failed", "severity": "error"}]}',
         "only 1 diagnostic, the first: error: preview failed"),
        ("--preview-json", '{"cohort": "c", "students": []}', "this is a labctl plan, not a pulumi preview --json"),
    ],
)
def test_policy_check_on_nothing_to_check_is_exit_2(tmp_path, flag, content, found):
    path = tmp_path / "in.json"
    path.write_text(content)
    result = run("policy", "check", flag, str(path), "--format", "sarif", "--out", str(tmp_path / "r.sarif"))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and found in result.output
    assert not (tmp_path / "r.sarif").exists()


@pytest.mark.emulator
def test_grade_a_cohort_on_the_emulator(aws, moto_endpoint, tmp_path):
    created = run("cohort", "create", "c1", "--lab", "s3-static-website", "--roster", str(ROSTER),
                  "--target", "localstack", "--endpoint", moto_endpoint)
    assert created.exit_code == 0, created.output
    solutions = {s.name: s for s in solutions_for(get_lab("s3-static-website").folder)}
    apply(solutions["reference"], aws, moto_endpoint, "c1-ada", "ada")
    apply(solutions["broken-public-write"], aws, moto_endpoint, "c1-grace", "grace")
    result = run("grade", "--cohort", "c1", "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    scores = {s["student"]: (s["score"], s["passed"]) for s in report["students"]}
    assert scores == {"ada": (100, True), "grace": (70, False), "linus": (0, False)}
    assert report["schema"] == 1 and report["cohort"] == "c1" and report["lab"] == "s3-static-website"
    linus = next(s for s in report["students"] if s["student"] == "linus")
    assert [c["status"] for c in linus["checks"]] == ["failed"] + ["skipped"] * 5
    one = json.loads(run("grade", "--cohort", "c1", "--student", "ada", "--format", "json").stdout)
    assert [s["student"] for s in one["students"]] == ["ada"]


def test_grade_unknown_student_is_exit_2():
    run("cohort", "create", "c2", "--lab", "s3-static-website", "--roster", str(ROSTER))
    result = run("grade", "--cohort", "c2", "--student", "nobody")
    assert result.exit_code == 2 and "no student 'nobody'" in result.output


@pytest.mark.emulator
def test_demo_tells_the_whole_story(labctl_home):
    result = run("demo")
    assert result.exit_code == 0, result.output
    assert "started the embedded AWS emulator" in result.output and "stopped the emulator" in result.output
    assert "100/100" in result.output and "55/100" in result.output and "0/100" in result.output
    assert "1/3 students passed" in result.output
    assert not (labctl_home / "emulator" / "state.json").exists()


def test_a_clean_policy_check_says_so_in_one_line():
    result = run("policy", "check", "--lab", "s3-static-website", "--students", "2")
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1].endswith("0 mandatory · 0 advisory: no violations")


@pytest.mark.parametrize(
    "args",
    [
        ["plan", "--lab", "s3-static-website", "--students", "1"],
        ["policy", "check", "--lab", "s3-static-website", "--students", "1"],
        ["grade", "--cohort", "nosuch"],
    ],
)
def test_out_into_a_missing_folder_is_one_line_and_exit_2(tmp_path, args):
    missing = tmp_path / "no" / "such"
    result = CliRunner().invoke(cli, [*args, "--out", str(missing / "out.json")])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and f"folder '{missing}' does not exist" in result.stderr
    assert "Traceback" not in result.output and not missing.exists()


def test_out_that_cannot_be_written_is_one_line_and_exit_2(tmp_path):
    too_long = tmp_path / ("x" * 300)  # no file system takes a 300-byte name
    result = CliRunner().invoke(cli, ["plan", "--lab", "s3-static-website", "--students", "1", "--format", "json",
                                      "--out", str(too_long)])
    assert result.exit_code == 2 and result.stderr == "Error: --out: cannot write: File name too long\n"
    assert run("cohort", "create", "c3", "--lab", "s3-static-website", "--roster", str(ROSTER)).exit_code == 0
    taken = tmp_path / "taken"
    taken.write_text("")
    handouts = CliRunner().invoke(cli, ["handouts", "--cohort", "c3", "--out", str(taken / "sub")])
    assert handouts.exit_code == 2 and handouts.stderr.count("\n") == 1 and "cannot write handouts" in handouts.stderr


def test_policy_check_out_honours_the_table_format(tmp_path):
    out = tmp_path / "policy.txt"
    result = run("policy", "check", "--lab", "s3-static-website", "--students", "2", "--out", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text().strip().endswith("0 mandatory · 0 advisory: no violations")
    planned = json.loads(run("plan", "--lab", "s3-static-website", "--students", "1", "--format", "json").stdout)
    user = next(r for r in planned["students"][0]["resources"] if r["type"] == "aws:iam/user:User")
    del user["inputs"]["tags"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(planned))
    table = tmp_path / "violations.txt"
    assert run("policy", "check", "--plan", str(path), "--out", str(table)).exit_code == 1
    text = table.read_text()
    assert "tags-required" in text and "\x1b[" not in text and not text.lstrip().startswith("{")


def test_policy_config_with_a_string_for_a_number_is_exit_2(tmp_path):
    config = tmp_path / "policy-config.json"
    config.write_text('{"cost-budget-limit": {"maxBudgetUsd": "20"}}')
    result = run("policy", "check", "--lab", "s3-static-website", "--students", "1", "--config", str(config))
    assert result.exit_code == 2
    assert result.output == f"Error: {config}: cost-budget-limit.maxBudgetUsd: Input should be a valid number\n"
