"""`labctl serve` and `labctl portal tokens` through the CLI: the one-time prints, the 0600 token
file, and bad input refused in one line with exit 2 and nothing written."""

from __future__ import annotations

import json
import stat
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from labctl.app.portal import server
from labctl.app.portal.tokens import check_url, digest
from labctl.cli import cli
from labctl.cohorts.home import registry_path
from labctl.labs.errors import InputError


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def cohort(tmp_path: Path) -> str:
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nada,Ada,ada@example.edu\nbob,Bob,bob@example.edu\n")
    assert run("cohort", "create", "cls", "--lab", "s3-static-website", "--roster", str(roster)).exit_code == 0
    return "cls"


def stored_digests() -> dict[str, str]:
    return dict(sqlite3.connect(registry_path()).execute("SELECT student, token_sha256 FROM portal_tokens"))


def test_serve_prints_the_instructor_link_once_and_keeps_the_token_0600(monkeypatch, labctl_home: Path) -> None:
    ran = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: ran.append(kw))
    first = run("serve", "--port", "8099")
    assert first.exit_code == 0, first.output
    lines = first.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("instructor: http://127.0.0.1:8099/signin?token=")
    token = lines[0].rsplit("=", 1)[1]
    path = labctl_home / "portal" / "instructor-token"
    assert path.read_text().strip() == token and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ran == [{"host": "127.0.0.1", "port": 8099, "access_log": False, "log_level": "warning"}]
    again = run("serve", "--host", "::1", "--port", "8100")
    assert again.output == f"instructor: http://[::1]:8100/signin?token={token}\n"  # the same token, kept


def test_tokens_default_to_where_the_portal_was_served(monkeypatch, cohort: str) -> None:
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: None)
    run("serve", "--host", "10.0.0.5", "--port", "9000")
    issued = json.loads(run("portal", "tokens", "--cohort", cohort, "--format", "json").output)
    assert [i["student"] for i in issued] == ["ada", "bob"]
    assert all(i["url"] == f"http://10.0.0.5:9000/signin?token={i['token']}" for i in issued)
    assert stored_digests() == {i["student"]: digest(i["token"]) for i in issued}
    table = run("portal", "tokens", "--cohort", cohort, "--student", "bob")
    assert table.exit_code == 0 and "bob" in table.output and "ada" not in table.output.split("\n", 2)[-1]


@pytest.mark.parametrize("args, message", [
    (["--cohort", "nope"], "unknown cohort 'nope'"),
    (["--cohort", "cls", "--student", "ada", "--student", "zed"], "no student 'zed' in cohort 'cls'"),
    (["--cohort", "cls", "--url", "ftp://x"], "must be http(s)://HOST"),
    (["--cohort", "cls", "--url", "http://[::1"], "must be http(s)://HOST"),
    (["--cohort", "cls", "--url", "http://host:99999"], "must be http(s)://HOST"),
    (["--cohort", "cls", "--format", "xml"], "Invalid value for '--format'"),
])
def test_bad_input_is_one_line_exit_2_and_rotates_nothing(cohort: str, args: list[str], message: str) -> None:
    before = json.loads(run("portal", "tokens", "--cohort", cohort, "--format", "json").output)
    result = run("portal", "tokens", *args)
    assert result.exit_code == 2 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert stored_digests() == {i["student"]: digest(i["token"]) for i in before}


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_check_url_accepts_only_http_urls_with_a_host(url: str) -> None:
    try:
        checked = check_url(url)
    except InputError:
        return
    assert checked.split("://")[0] in ("http", "https") and not checked.endswith("/")


def test_handouts_carry_each_students_own_portal_link(cohort: str, tmp_path: Path) -> None:
    result = run("handouts", "--cohort", cohort, "--out", str(tmp_path / "h"), "--portal-links")
    assert result.exit_code == 0, result.output
    digests = stored_digests()
    for student, other in (("ada", "bob"), ("bob", "ada")):
        text = (tmp_path / "h" / f"{student}.md").read_text()
        [link] = [line for line in text.splitlines() if line.startswith("- lab portal: <")]
        token = link.split("/signin?token=")[1].split(">")[0]
        assert digest(token) == digests[student] and digest(token) != digests[other]
        assert "keep it to yourself" in link


def test_handouts_name_the_portal_without_a_token_unless_asked(monkeypatch, cohort: str, tmp_path: Path) -> None:
    assert run("handouts", "--cohort", cohort, "--out", str(tmp_path / "a")).exit_code == 0
    assert "lab portal" not in (tmp_path / "a" / "ada.md").read_text()  # no portal known yet
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: None)
    run("serve", "--port", "8111")
    assert run("handouts", "--cohort", cohort, "--out", str(tmp_path / "b"), "--format", "env").exit_code == 0
    assert "# check your work in the lab portal: http://127.0.0.1:8111/\n" in (tmp_path / "b" / "ada.env").read_text()
    assert not stored_digests()  # no token was issued
