"""No secret leaks: with known secrets present (passphrase, PGPASSWORD, AWS keys in the environment,
the enforced emulator's administrator keys, a student's key from the fake engine), every command that
touches secrets runs and its stdout/stderr, every file under the home and every registry row are
scanned. Secrets appear only in their designed places: `emulator env` stdout, `student env` stdout,
handouts and the emulator's credentials file — and those files are 0600."""

from __future__ import annotations

import json
import sqlite3
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from labctl.app import emulator
from labctl.cli import cli
from labctl.cohorts import emulator_client
from labctl.stacks import engine as engine_mod
from tests.conftest import free_port
from tests.stacks.fake_pulumi import FakePulumi

PASSPHRASE = "pp-Secret-7f3a9c"
PGPASSWORD = "pg-Secret-51be02"
ENV_KEY_ID = "AKIAENVSECRET0000001"
ENV_SECRET = "env-Secret-aws-c0ffee"
DSN_PASSWORD = "dsn-Secret-9911"


def home_text(home: Path, skip: set[Path]) -> dict[str, str]:
    """Every file under the home as text (the registry as its rows), except the designed holders."""
    found = {}
    for path in home.rglob("*"):
        if not path.is_file() or path in skip:
            continue
        if path.name.startswith("registry.sqlite3"):
            continue
        found[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    db = sqlite3.connect(home / "registry.sqlite3")
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found["registry"] = json.dumps({t: [list(r) for r in db.execute(f"SELECT * FROM {t}")] for t in tables})
    finally:
        db.close()
    return found


def leaks(texts: dict[str, str], secrets: list[str]) -> list[str]:
    return [f"{secret!r} in {where}" for where, text in texts.items() for secret in secrets if secret in text]


@pytest.mark.emulator
def test_secrets_appear_only_where_designed(labctl_home, tmp_path, monkeypatch):
    for var, val in (("LABCTL_PASSPHRASE", PASSPHRASE), ("PGPASSWORD", PGPASSWORD),
                     ("AWS_ACCESS_KEY_ID", ENV_KEY_ID), ("AWS_SECRET_ACCESS_KEY", ENV_SECRET)):
        monkeypatch.setenv(var, val)
    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    runner = CliRunner()
    outputs: dict[str, str] = {}

    def run(name: str, args: list[str], codes=(0,)) -> str:
        result = runner.invoke(cli, args)
        assert result.exit_code in codes, (name, result.output)
        outputs[f"{name} stderr"] = result.stderr
        return result.stdout

    status = emulator.start(port=free_port(), enforce_iam=True)
    try:
        creds = json.loads(emulator_client.credentials_path().read_text(encoding="utf-8"))
        admin_key, admin_secret = creds["aws_access_key_id"], creds["aws_secret_access_key"]
        env_out = run("emulator env", ["emulator", "env"])
        assert admin_key in env_out and admin_secret in env_out  # by design, for eval
        run("emulator status", ["emulator", "status"])

        roster = tmp_path / "roster.csv"
        roster.write_text("id,name,email\nada,Ada,ada@example.com\nbob,Bob,bob@example.com\n", encoding="utf-8")
        # A DSN carrying a password is refused without echoing it.
        for dsn in (f"postgresql://postgres:{DSN_PASSWORD}@127.0.0.1:5432/postgres",
                    f"host=127.0.0.1 password={DSN_PASSWORD} dbname=postgres"):
            outputs[f"dsn {dsn[:10]}"] = run("cohort create (password dsn)", [
                "cohort", "create", "leaky", "--lab", "s3-static-website", "--roster", str(roster),
                "--endpoint", status.endpoint, "--postgres-dsn", dsn], codes=(2,))
        outputs["cohort create"] = run("cohort create", [
            "cohort", "create", "sec", "--lab", "s3-static-website", "--roster", str(roster), "--endpoint",
            status.endpoint, "--postgres-dsn", "postgresql://postgres@127.0.0.1:5432/postgres"])
        outputs["plan"] = run("plan", ["plan", "--cohort", "sec", "--format", "json"])
        outputs["up"] = run("up (fake engine)", ["up", "--cohort", "sec"])
        student_secret = fake.stacks["sec.ada"]["aws_secret_access_key"]
        handouts = tmp_path / "handouts"
        outputs["handouts"] = run("handouts", ["handouts", "--cohort", "sec", "--out", str(handouts)])
        student_env = run("student env", ["student", "env", "--cohort", "sec", "--student", "ada"])
        outputs["grade"] = run("grade", ["grade", "--cohort", "sec", "--format", "json"])
        outputs["status"] = run("status", ["status", "--cohort", "sec", "--format", "json"])
        outputs["grades history"] = run("grades history", ["grades", "history", "--cohort", "sec"])
        outputs["doctor"] = run("doctor", ["doctor", "--format", "json"], codes=(0, 1))
        outputs["engine status"] = run("engine status", ["engine", "status"])
    finally:
        emulator.stop()

    secrets = [PASSPHRASE, PGPASSWORD, ENV_KEY_ID, ENV_SECRET, DSN_PASSWORD, admin_key, admin_secret, student_secret]
    assert student_secret in student_env  # by design, for eval
    handout_files = sorted(p for p in handouts.iterdir() if p.is_file())
    assert handout_files and any(student_secret in p.read_text(encoding="utf-8") for p in handout_files)
    for path in handout_files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path

    assert leaks(outputs, secrets) == []
    # The emulator's saved state is everything moto holds, the keys it issued included: 0600, by design.
    designed = {emulator_client.credentials_path(), emulator.saved_state_path()}
    assert stat.S_IMODE(emulator.saved_state_path().stat().st_mode) == 0o600
    assert leaks(home_text(labctl_home, designed), secrets) == []
    # The fake engine was handed the passphrase only through the environment, never an argument.
    assert all(PASSPHRASE not in " ".join(c.args) for c in fake.calls)

    for path in labctl_home.rglob("*"):
        if path.is_file() and ("passphrase" in path.name or path.name == "credentials.json"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
