"""The CLI through click's CliRunner: exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.cli import cli

REPO = Path(__file__).resolve().parent.parent
ROSTER = REPO / "examples" / "roster.csv"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_labs_list_json_has_the_catalog_fields():
    result = run("labs", "list", "--format", "json")
    assert result.exit_code == 0
    labs = {lab["id"]: lab for lab in json.loads(result.output)}
    assert labs["s3-static-website"] == {
        "id": "s3-static-website", "title": "Host a static website on S3", "track": "cloud",
        "level": "beginner", "minutes": 30,
        "topics": ["s3", "static-website", "bucket-policy", "versioning", "tagging"], "max_points": 100,
    }


def test_labs_list_filters():
    assert all(lab["track"] == "data" for lab in json.loads(run("labs", "list", "--track", "data", "--format", "json").output))
    ids = [lab["id"] for lab in json.loads(run("labs", "list", "--topic", "s3", "--format", "json").output)]
    assert "s3-static-website" in ids
    assert json.loads(run("labs", "list", "--topic", "no-such-topic", "--format", "json").output) == []


def test_labs_show_markdown_and_json():
    assert "## Acceptance criteria" in run("labs", "show", "s3-static-website").output
    spec = json.loads(run("labs", "show", "s3-static-website", "--format", "json").output)
    assert spec["checks"][0]["with"] == {"bucket": "{prefix}-site"} and spec["max_points"] == 100


def test_unknown_lab_is_exit_2_one_line():
    result = run("labs", "show", "nope")
    assert result.exit_code == 2
    assert "unknown lab 'nope'" in one_line_error(result)


def test_labs_validate_the_catalog_and_a_broken_file(tmp_path):
    assert run("labs", "validate").exit_code == 0
    bad = tmp_path / "s3-static-website"
    bad.mkdir()
    (bad / "lab.yaml").write_text((REPO / "labs/s3-static-website/lab.yaml").read_text().replace("points: 20", "points: -1", 1))
    (bad / "README.md").write_text("# x\n")
    result = run("labs", "validate", str(bad))
    assert result.exit_code == 2
    assert "checks[1].points: Input should be greater than or equal to 0" in one_line_error(result)


def test_labs_validate_requires_a_readme(tmp_path):
    lab = tmp_path / "s3-static-website"
    lab.mkdir()
    (lab / "lab.yaml").write_text((REPO / "labs/s3-static-website/lab.yaml").read_text())
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and "README.md" in one_line_error(result)


def test_cohort_create_and_show(labctl_home):
    created = run("cohort", "create", "fall24", "--lab", "s3-static-website", "--roster", str(ROSTER))
    assert created.exit_code == 0, created.output
    shown = json.loads(run("cohort", "show", "fall24", "--format", "json").output)
    assert shown["cohort"] == "fall24" and shown["labs"] == ["s3-static-website"] and shown["target"] == "emulator"
    assert shown["students"][0] == {"student": "ada", "name": "Ada Lovelace", "email": "ada@example.edu", "prefix": "fall24-ada"}


@pytest.mark.parametrize(
    "roster_text, expected",
    [
        ("name\nAda\n", "roster.csv:1: roster header must have an 'id' column"),
        ("id,name\nada,A\n,x\n", "roster.csv:3: empty id"),
        ("id\nAda\nada\n", "same as id 'Ada' on line 2"),
    ],
)
def test_bad_roster_is_exit_2_and_records_nothing(tmp_path, labctl_home, roster_text, expected):
    path = tmp_path / "roster.csv"
    path.write_text(roster_text)
    result = run("cohort", "create", "fall24", "--lab", "s3-static-website", "--roster", str(path))
    assert result.exit_code == 2
    assert expected in one_line_error(result)
    assert not (labctl_home / "registry.sqlite3").exists()


def test_bad_flag_is_one_line_exit_2():
    result = run("cohort", "create", "fall24", "--lab", "s3-static-website", "--roster", str(ROSTER), "--target", "gcp")
    assert result.exit_code == 2
    assert "Invalid value for '--target'" in one_line_error(result)


def test_unknown_cohort_is_exit_2():
    result = run("cohort", "show", "nope")
    assert result.exit_code == 2 and "unknown cohort 'nope'" in one_line_error(result)


def test_labs_validate_rejects_an_unknown_next_lab(tmp_path):
    lab = tmp_path / "s3-static-website"
    lab.mkdir()
    (lab / "lab.yaml").write_text((REPO / "labs/s3-static-website/lab.yaml").read_text().replace("next: [dynamodb-orders]", "next: [no-such-lab]"))
    (lab / "README.md").write_text("# x\n")
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and "next: unknown lab 'no-such-lab'" in one_line_error(result)


def test_labs_validate_judges_checks_and_their_params_against_the_registry(tmp_path):
    lab = tmp_path / "s3-static-website"
    lab.mkdir()
    good = (REPO / "labs/s3-static-website/lab.yaml").read_text()
    (lab / "README.md").write_text("# x\n")
    (lab / "lab.yaml").write_text(good.replace("use: s3.website-config", "use: s3.websit"))
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and "checks[1].use: unknown check 's3.websit'" in one_line_error(result)
    (lab / "lab.yaml").write_text(good.replace('with: {bucket: "{prefix}-site", key: lab', 'with: {bucket: "{prefix}-site", kee: lab'))
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and "checks[5].with.kee: unknown field" in one_line_error(result)


def test_labs_validate_requires_solutions(tmp_path):
    lab = tmp_path / "s3-static-website"
    lab.mkdir()
    (lab / "lab.yaml").write_text((REPO / "labs/s3-static-website/lab.yaml").read_text())
    (lab / "README.md").write_text("# x\n")
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and "no solutions/reference" in one_line_error(result)
    import shutil

    shutil.copytree(REPO / "labs/s3-static-website/solutions", lab / "solutions")
    shutil.rmtree(lab / "solutions" / "broken-partial")
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and "at least two solutions/broken-* variants (has 1)" in one_line_error(result)


def test_bare_labctl_and_bare_groups_print_their_help():
    bare = CliRunner().invoke(cli, [])
    assert bare.exit_code == 0 and bare.stdout.startswith("Usage: ") and "Commands:" in bare.stdout
    assert bare.stderr == ""
    group = CliRunner().invoke(cli, ["cohort"])
    assert group.exit_code == 0 and "Cohorts: a roster of students" in group.stdout and "delete" in group.stdout


def test_up_on_an_unknown_cohort_says_so_before_anything_about_the_engine(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no Pulumi CLI anywhere
    result = CliRunner().invoke(cli, ["up", "--cohort", "nosuch"])
    assert result.exit_code == 2
    assert result.stderr == "Error: --cohort: unknown cohort 'nosuch' (create one with `labctl cohort create`)\n"


def test_mistyped_names_suggest_the_nearest(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("id\nada\ngrace\n")
    lab = CliRunner().invoke(cli, ["labs", "show", "s3-static-websit"])
    assert lab.stderr == "Error: --lab: unknown lab 's3-static-websit' (did you mean 's3-static-website'?)\n"
    assert CliRunner().invoke(cli, ["cohort", "create", "fall24", "--lab", "s3-static-website", "--roster",
                                    str(roster)]).exit_code == 0
    cohort = CliRunner().invoke(cli, ["cohort", "show", "fal24"])
    assert cohort.stderr == "Error: --cohort: unknown cohort 'fal24' (did you mean 'fall24'?)\n"
    student = CliRunner().invoke(cli, ["student", "env", "--cohort", "fall24", "--student", "grcae"])
    assert student.stderr == "Error: --student: no student 'grcae' in cohort 'fall24' (did you mean 'grace'?)\n"
    far = CliRunner().invoke(cli, ["student", "env", "--cohort", "fall24", "--student", "zed"])
    assert far.stderr == "Error: --student: no student 'zed' in cohort 'fall24' (known: ada, grace)\n"


def test_every_command_shows_an_example_and_human_output_is_called_table():
    import click

    from labctl.cli import commands

    for path, command in commands(cli):
        help_text = CliRunner().invoke(cli, [*path.split(), "--help"]).output
        assert "Example: labctl " in help_text or 'Example: eval "$(labctl ' in help_text, path
        fmt = next((p for p in command.params if p.name == "fmt"), None)
        if fmt is not None and isinstance(fmt.type, click.Choice) and "json" in fmt.type.choices:
            assert "text" not in fmt.type.choices, path  # one word for the human-readable output: table


@pytest.mark.parametrize(("services", "message"), [
    ("[s3, lambda, ec2]", "service 'ec2' cannot share a shared-account lab with lambda or ecs"),
    ("[s3, iam]", "service 'iam' is never granted to students"),
])
def test_labs_validate_refuses_an_aws_environment_no_sandbox_can_hold(tmp_path, services, message):
    """Found at plan time before, as a traceback: the sandbox's own rules are the lab's now."""
    lab = tmp_path / "s3-static-website"
    shutil.copytree(REPO / "labs/s3-static-website", lab)
    (lab / "lab.yaml").write_text((lab / "lab.yaml").read_text().replace("services: [s3]", f"services: {services}"))
    result = run("labs", "validate", str(lab))
    assert result.exit_code == 2 and message in one_line_error(result)
    assert "environment.aws: lab s3-static-website:" in one_line_error(result)


@pytest.fixture
def misnamed_check_catalog(tmp_path, monkeypatch):
    """A catalog whose s3-static-website `use:`s a check the registry does not know."""
    import labctl.labs.catalog

    catalog = tmp_path / "catalog"
    lab = Path(shutil.copytree(REPO / "labs/s3-static-website", catalog / "s3-static-website"))
    text = (lab / "lab.yaml").read_text()
    (lab / "lab.yaml").write_text(text.replace("use: s3.website-config", "use: s3.websit", 1))
    line = next(n for n, row in enumerate((lab / "lab.yaml").read_text().splitlines(), 1) if "s3.websit" in row)
    monkeypatch.setattr(labctl.labs.catalog, "CATALOG_DIR", catalog)
    return f"lab.yaml:{line}:10: checks[1].use: unknown check 's3.websit'"


def test_an_unknown_check_name_is_exit_2_wherever_a_lab_is_put_to_use(labctl_home, misnamed_check_catalog):
    """labs validate, cohort create, plan, policy check and grade all judge `use:` names against the
    validators' registry; reading the lab (labs show) does not need it."""
    import labctl.labs.catalog

    lab = labctl.labs.catalog.CATALOG_DIR / "s3-static-website"
    for args in (
        ("labs", "validate", str(lab)),
        ("cohort", "create", "fall24", "--lab", "s3-static-website", "--roster", str(ROSTER)),
        ("plan", "--lab", "s3-static-website", "--students", "2"),
        ("policy", "check", "--lab", "s3-static-website", "--students", "2"),
    ):
        result = run(*args)
        assert result.exit_code == 2, args
        assert one_line_error(result).endswith(misnamed_check_catalog), args
    assert not (labctl_home / "registry.sqlite3").exists()
    assert run("labs", "show", "s3-static-website").exit_code == 0


def test_grading_a_cohort_whose_lab_names_an_unknown_check_is_exit_2(labctl_home, misnamed_check_catalog):
    import labctl.labs.catalog

    lab = labctl.labs.catalog.CATALOG_DIR / "s3-static-website/lab.yaml"
    misnamed = lab.read_text()
    lab.write_text(misnamed.replace("use: s3.websit", "use: s3.website-config"))
    assert run("cohort", "create", "fall24", "--lab", "s3-static-website", "--roster", str(ROSTER)).exit_code == 0
    lab.write_text(misnamed)  # the lab changed after the cohort was recorded
    result = run("grade", "--cohort", "fall24")
    assert result.exit_code == 2 and one_line_error(result).endswith(misnamed_check_catalog)
