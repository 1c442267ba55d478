"""`labctl doctor`: one finding per check, warnings with a fix, real probes of this machine."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli import cli
from stacks import doctor


def test_pulumi_cli_absent_is_a_warning_with_a_fix(monkeypatch):
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    finding = doctor.check_pulumi_cli()
    assert finding.status == "warn" and "provisioning" in finding.detail and finding.fix


def test_postgres_unreachable_is_a_warning(monkeypatch):
    finding = doctor.check_postgres("postgresql://postgres@127.0.0.1:1/postgres")
    assert finding.status == "warn" and "not reachable" in finding.detail


def test_postgres_reachable(postgres_dsn):
    assert doctor.check_postgres(postgres_dsn).status == "ok"


def test_emulator_down_is_a_warning():
    finding = doctor.check_emulator()
    assert finding.status == "warn" and finding.fix == "labctl emulator start"


def test_doctor_json_lists_every_check():
    result = CliRunner().invoke(cli, ["doctor", "--format", "json"])
    findings = json.loads(result.stdout)
    names = [f["name"] for f in findings]
    assert names[:4] == ["python", "packages", "pulumi cli", "emulator"] and names[-1] == "postgresql"
    assert {f["status"] for f in findings} <= {"ok", "warn", "fail"}
    assert result.exit_code == (1 if any(f["status"] == "fail" for f in findings) else 0)
