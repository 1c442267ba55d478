"""A cohort's public endpoint: where students reach its target (a classroom emulator on the
instructor's LAN address). Recorded by `cohort create --public-endpoint` or `cohort set`, shown in
handouts and `student env` instead of the instructor's 127.0.0.1; `student deploy`, which runs on
the instructor's machine, keeps the instructor's endpoint."""

from __future__ import annotations

import sqlite3
import subprocess
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from labctl.cli import cli
from labctl.cohorts.cohort import Target, check_public_endpoint
from labctl.cohorts.home import registry_path
from labctl.cohorts.registry import Registry
from labctl.labs.errors import InputError
from labctl.stacks.handouts import env_text, markdown_text, student_env
from tests.conftest import registry_before

LOCALSTACK = Target("localstack", "http://127.0.0.1:4566", "eu-west-1")
PUBLIC = "http://192.168.1.20:4566"
BAD = "Error: --public-endpoint: public endpoint {!r} must be http(s)://HOST[:PORT], like http://192.168.1.20:4566\n"


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,name\nada,Ada Lovelace\nbob,\n")
    return path


def create(roster, *extra: str):
    return run("cohort", "create", "c1", "--lab", "s3-static-website", "--roster", str(roster),
               "--target", "localstack", "--region", "eu-west-1", *extra)


@pytest.mark.parametrize(("url", "kept"), [
    ("http://192.168.1.20:4566", "http://192.168.1.20:4566"), ("https://lab.example.edu", "https://lab.example.edu"),
    ("http://lab.example.edu:4566/", "http://lab.example.edu:4566"), ("HTTP://[fd00::5]:4566", "http://[fd00::5]:4566"),
])
def test_good_public_endpoints_are_kept_without_a_trailing_slash(url: str, kept: str) -> None:
    assert check_public_endpoint(url, LOCALSTACK) == kept


@pytest.mark.parametrize("url", [
    "192.168.1.20:4566", "ftp://host", "http://", "http://:4566", "http://host:99999", "http://host:port",
    "http://user:pw@host", "http://host/aws", "http://host?x=1", "http://host#top", "http://ho st", " http://host",
    "http://host:", "http://[::1",
])
def test_bad_public_endpoints_are_refused_naming_the_flag(url: str) -> None:
    with pytest.raises(InputError, match=r"must be http\(s\)://HOST\[:PORT\]") as raised:
        check_public_endpoint(url, LOCALSTACK)
    assert raised.value.where == "--public-endpoint"


def test_real_aws_has_no_public_endpoint() -> None:
    with pytest.raises(InputError, match="real AWS takes no public endpoint"):
        check_public_endpoint(PUBLIC, Target("aws", None, "us-east-1"))


@given(st.text(max_size=60))
def test_any_text_is_refused_or_becomes_a_plain_http_url(text: str) -> None:
    try:
        kept = check_public_endpoint(text, LOCALSTACK)
    except InputError:
        return
    parts = urlsplit(kept)
    assert parts.scheme in ("http", "https") and parts.hostname and parts.port == urlsplit(text).port
    assert kept == f"{parts.scheme}://{parts.netloc}" and "@" not in parts.netloc
    assert check_public_endpoint(kept, LOCALSTACK) == kept  # what is stored is accepted again


def test_create_records_it_and_students_are_shown_it_in_handouts_and_env(roster, tmp_path) -> None:
    created = create(roster, "--public-endpoint", PUBLIC + "/")
    assert created.exit_code == 0, created.output
    assert f"students use {PUBLIC}" in created.output
    with Registry() as reg:
        cohort = reg.cohort("c1")
    assert cohort.public_endpoint == PUBLIC and cohort.target.endpoint == "http://127.0.0.1:4566"

    handed = run("handouts", "--cohort", "c1", "--out", str(tmp_path / "h"))
    assert handed.exit_code == 0, handed.output
    markdown = (tmp_path / "h" / "ada.md").read_text()
    assert f"- target: localstack at `{PUBLIC}`" in markdown and f"export AWS_ENDPOINT_URL={PUBLIC}\n" in markdown
    assert "127.0.0.1" not in markdown

    env = run("student", "env", "--cohort", "c1", "--student", "ada")
    assert env.exit_code == 0, env.output
    script = env.output + 'printf "%s" "$AWS_ENDPOINT_URL"'
    assert subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout == PUBLIC

    shown = run("cohort", "show", "c1", "--format", "json")
    assert '"public_endpoint": "http://192.168.1.20:4566"' in shown.output


def test_set_changes_it_and_clears_it(roster) -> None:
    assert create(roster).exit_code == 0
    env = run("student", "env", "--cohort", "c1", "--student", "bob").output
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:4566\n" in env

    changed = run("cohort", "set", "c1", "--public-endpoint", "https://lab.example.edu")
    assert changed.exit_code == 0, changed.output
    assert changed.output.startswith("cohort c1: students are shown https://lab.example.edu;")
    assert "export AWS_ENDPOINT_URL=https://lab.example.edu\n" in run("student", "env", "--cohort", "c1", "--student", "bob").output

    cleared = run("cohort", "set", "c1", "--no-public-endpoint")
    assert cleared.exit_code == 0, cleared.output
    assert "the target's own endpoint (http://127.0.0.1:4566)" in cleared.output
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:4566\n" in run("student", "env", "--cohort", "c1", "--student", "bob").output


def test_bad_input_is_one_line_exit_2_and_nothing_written(roster) -> None:
    refused = create(roster, "--public-endpoint", "192.168.1.20:4566")
    assert (refused.exit_code, refused.stderr) == (2, BAD.format("192.168.1.20:4566"))
    assert not registry_path().exists()  # nothing recorded, not even an empty registry

    assert create(roster).exit_code == 0
    for args, line in [
        (("--public-endpoint", "http://host/path"), BAD.format("http://host/path")),
        ((), "Error: --public-endpoint: give either --public-endpoint URL or --no-public-endpoint\n"),
        (("--public-endpoint", PUBLIC, "--no-public-endpoint"),
         "Error: --public-endpoint: give either --public-endpoint URL or --no-public-endpoint\n"),
    ]:
        result = run("cohort", "set", "c1", *args)
        assert (result.exit_code, result.stderr) == (2, line), args
    with Registry() as reg:
        assert reg.cohort("c1").public_endpoint is None
    unknown = run("cohort", "set", "nosuch", "--public-endpoint", PUBLIC)
    assert unknown.exit_code == 2 and "unknown cohort 'nosuch'" in unknown.stderr
    aws = run("cohort", "create", "c2", "--lab", "s3-static-website", "--roster", "unused.csv", "--target", "aws",
              "--public-endpoint", PUBLIC)
    assert (aws.exit_code, aws.stderr) == (2, "Error: --public-endpoint: real AWS takes no public endpoint: students use AWS's own\n")


def test_student_deploy_runs_against_the_instructors_endpoint(roster) -> None:
    assert create(roster, "--public-endpoint", PUBLIC).exit_code == 0
    with Registry() as reg:
        cohort = reg.cohort("c1")
    ada = cohort.students[0]
    assert student_env(cohort, ada, {})["AWS_ENDPOINT_URL"] == PUBLIC
    assert student_env(cohort, ada, {}, local=True)["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert f"export AWS_ENDPOINT_URL={PUBLIC}" in env_text(cohort, ada, {})
    assert f"at `{PUBLIC}`" in markdown_text(cohort, ada, {})


def test_the_migration_leaves_existing_cohorts_on_their_own_endpoint(tmp_path) -> None:
    path = tmp_path / "r.db"
    old = registry_before(path, "public_endpoint")
    old.execute("INSERT INTO cohorts (name, labs, target, endpoint, region, created_at) VALUES"
                " ('old', '[\"s3-static-website\"]', 'localstack', 'http://127.0.0.1:4566', 'us-east-1', 'then')")
    old.commit()
    old.close()
    with Registry(path) as reg:
        cohort = reg.cohort("old")
        assert cohort.public_endpoint is None and cohort.student_endpoint == "http://127.0.0.1:4566"
        reg.set_public_endpoint("old", PUBLIC)
        assert reg.cohort("old").student_endpoint == PUBLIC
    column = sqlite3.connect(path).execute("SELECT type FROM pragma_table_info('cohorts') WHERE name = 'public_endpoint'")
    assert column.fetchone() == ("TEXT",)
