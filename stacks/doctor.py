"""`labctl doctor`: one line per check — ok / warn / fail, and how to fix it."""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass

REQUIRED_PACKAGES = (
    "pulumi", "pulumi-aws", "pulumi-kubernetes", "pulumi-docker", "pulumi-policy",
    "boto3", "moto", "kubernetes", "click", "rich", "pydantic", "ruamel.yaml", "psycopg",
)
DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Finding:
    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def check_python() -> Finding:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= (3, 11):
        return Finding("python", "ok", version)
    return Finding("python", "fail", version, "install Python 3.11 or newer")


def check_packages() -> Finding:
    missing = []
    for name in REQUIRED_PACKAGES:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Finding("packages", "fail", f"missing: {', '.join(missing)}", "pip install -e . (or make demo)")
    return Finding("packages", "ok", f"{len(REQUIRED_PACKAGES)} required packages installed")


def check_pulumi_cli() -> Finding:
    path = shutil.which("pulumi")
    if path is None:
        return Finding(
            "pulumi cli", "warn", "not on PATH: plan, policy check and grading work; provisioning (up) needs it",
            "install the Pulumi CLI",
        )
    try:
        version = subprocess.run([path, "version"], capture_output=True, text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Finding("pulumi cli", "warn", f"{path} did not answer: {exc}", "reinstall the Pulumi CLI")
    return Finding("pulumi cli", "ok", f"{version} at {path}")


def check_emulator() -> Finding:
    from stacks import emulator

    status = emulator.status()
    if status.running:
        mode = ", IAM enforced" if status.enforce_iam else ""
        return Finding("emulator", "ok", f"running at {status.endpoint} (pid {status.pid}{mode})")
    return Finding("emulator", "warn", "not running", "labctl emulator start")


def check_credentials() -> list[Finding]:
    from stacks.registry import Registry
    from stacks.targets import has_credentials

    with Registry() as reg:
        cohorts = [reg.cohort(name) for name in reg.cohort_names()]
    findings = []
    for target in {c.target for c in cohorts}:
        ok, detail = has_credentials(target)
        fix = "" if ok else ("labctl emulator start" if target.kind == "emulator" else "configure AWS credentials")
        findings.append(Finding(f"credentials {target.kind}", "ok" if ok else "warn", detail, fix))
    return findings or [Finding("credentials", "ok", "no cohorts yet: nothing to check")]


def check_postgres(dsn: str = DEFAULT_POSTGRES_DSN) -> Finding:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=3) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
        return Finding(
            "postgresql", "warn", f"not reachable at 127.0.0.1:5432: {str(exc).splitlines()[0]}",
            "start PostgreSQL (needed by data labs only)",
        )
    return Finding("postgresql", "ok", f"server {version} at 127.0.0.1:5432")


def run_checks() -> list[Finding]:
    return [
        check_python(), check_packages(), check_pulumi_cli(), check_emulator(),
        *check_credentials(), check_postgres(),
    ]
