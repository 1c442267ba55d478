"""`labctl doctor`: one finding per check, warnings with a fix, real probes of this machine."""

from __future__ import annotations

import json

from click.testing import CliRunner

from labctl.app import doctor
from labctl.cli import cli


def test_engine_absent_is_a_warning_naming_engine_install(monkeypatch):
    monkeypatch.setattr(doctor.shutil, "which", lambda name: None)
    cli, plugins = doctor.check_engine()
    assert cli.status == "warn" and "provisioning" in cli.detail and cli.fix == "labctl engine install"
    assert plugins.status == "warn" and "aws" in plugins.detail and plugins.fix == "labctl engine install"


def fake_cli(path, version: str = "v3.200.0"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def test_engine_under_the_home_with_its_version_and_plugins(monkeypatch, labctl_home, tmp_path):
    from labctl.stacks.engine import plugin_versions

    fake_cli(labctl_home / "pulumi/bin/pulumi")
    on_path = fake_cli(tmp_path / "path/pulumi", "v3.100.0")
    monkeypatch.setenv("PATH", f"{on_path.parent}:/usr/bin:/bin")
    for name, version in plugin_versions().items():
        (labctl_home / f"pulumi/plugins/resource-{name}-v{version}").mkdir(parents=True)
    cli, plugins = doctor.check_engine()
    assert cli.status == "ok"
    assert cli.detail == (f"pulumi v3.200.0 at {labctl_home}/pulumi/bin/pulumi (labctl home), at least 3.181.0;"
                          f" also {on_path} (PATH)")
    assert plugins.status == "ok" and f"aws {plugin_versions()['aws']}" in plugins.detail


def test_engine_on_path_only_that_does_not_answer(monkeypatch, tmp_path):
    broken = tmp_path / "pulumi"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    cli, _ = doctor.check_engine()
    assert (cli.status, cli.fix) == ("warn", "labctl engine install") and "did not answer" in cli.detail


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
    assert names[:5] == ["python", "packages", "engine", "engine plugins", "emulator"] and names[-1] == "postgresql"
    assert {f["status"] for f in findings} <= {"ok", "warn", "fail"}
    assert result.exit_code == (1 if any(f["status"] == "fail" for f in findings) else 0)


def test_packages_are_checked_against_labctls_own_requirements(monkeypatch):
    assert "pulumi-aws" in doctor.required_packages() and "pytest" not in doctor.required_packages()
    real_version = doctor.importlib.metadata.version

    def without_moto(name):
        if name == "moto":
            raise doctor.importlib.metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(doctor.importlib.metadata, "version", without_moto)
    finding = doctor.check_packages()
    assert (finding.status, finding.detail) == ("fail", "missing: moto")
