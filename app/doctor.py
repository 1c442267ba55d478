"""`labctl doctor`: one line per check — ok / warn / fail, and how to fix it."""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass

REQUIREMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")
DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
ENDPOINT_TIMEOUT_S = 3


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


def required_packages() -> list[str]:
    """labctl's own runtime requirements, as pyproject.toml declares them (extras left out)."""
    requirements = importlib.metadata.requires("labctl") or []
    return [REQUIREMENT_NAME.match(r).group(0) for r in requirements if "extra ==" not in r]


def check_packages() -> Finding:
    try:
        required = required_packages()
    except importlib.metadata.PackageNotFoundError:
        return Finding("packages", "fail", "labctl itself is not installed", "pip install -e . (or make demo)")
    missing = []
    for name in required:
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing:
        return Finding("packages", "fail", f"missing: {', '.join(missing)}", "pip install -e . (or make demo)")
    return Finding("packages", "ok", f"{len(required)} required packages installed")


def cli_version(path: str) -> str | None:
    try:
        done = subprocess.run([path, "version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def cli_finding(path: str, where: str, others: str) -> Finding:
    """The CLI the engine would use, against the minimum version labctl needs."""
    from labctl.stacks import engine

    version = cli_version(path)
    if not version:
        return Finding("engine", "warn", f"{path} ({where}) did not answer `pulumi version`", "labctl engine install")
    try:
        problem = engine.too_old(version.lstrip("v"))
    except ValueError:
        problem = f"`pulumi version` answered {version!r}, not a version"
    if problem:
        return Finding("engine", "warn", f"{problem}: {path} ({where}){others}", "labctl engine install")
    return Finding("engine", "ok", f"pulumi {version} at {path} ({where}), at least {engine.MINIMUM_CLI}{others}")


def check_engine() -> list[Finding]:
    """The Pulumi CLI the engine adapter would use (under the labctl home first, else on PATH) and the
    provider plugins it needs, against the versions pinned by the installed Python SDKs."""
    from labctl.stacks import engine

    root = engine.cli_root()
    at_home = root / "bin" / "pulumi"
    on_path = shutil.which("pulumi")
    candidates = [(str(at_home), "labctl home")] if at_home.is_file() else []
    if on_path and on_path != str(at_home):
        candidates.append((on_path, "PATH"))
    if not candidates:
        cli = Finding(
            "engine", "warn",
            f"no Pulumi CLI in {root / 'bin'} nor on PATH: plan, policy check and grading work;"
            " provisioning (up, destroy, reap) needs it",
            "labctl engine install",
        )
    else:
        path, where = candidates[0]
        others = "".join(f"; also {p} ({w})" for p, w in candidates[1:])
        cli = cli_finding(path, where, others)
    plugin_dir = root / "plugins"
    installed = {p.name for p in plugin_dir.iterdir()} if plugin_dir.is_dir() else set()
    pinned = engine.plugin_versions()
    missing = [f"{name} {v}" for name, v in pinned.items() if f"resource-{name}-v{v}" not in installed]
    if missing:
        plugins = Finding("engine plugins", "warn", f"missing in {plugin_dir}: {', '.join(missing)}",
                          "labctl engine install")
    else:
        plugins = Finding("engine plugins", "ok", ", ".join(f"{name} {v}" for name, v in pinned.items()))
    return [cli, plugins]


def check_emulator() -> Finding:
    from labctl.cohorts import emulator_client

    status = emulator_client.status()
    if status.running:
        mode = ", IAM enforced" if status.enforce_iam else ""
        return Finding("emulator", "ok", f"running at {status.endpoint} (pid {status.pid}{mode})")
    return Finding("emulator", "warn", "not running", "labctl emulator start")


def check_credentials() -> list[Finding]:
    from labctl.cohorts.registry import Registry
    from labctl.cohorts.targets import has_credentials

    with Registry() as reg:
        cohorts = [reg.cohort(name) for name in reg.cohort_names()]
    findings = []
    for target in {c.target for c in cohorts}:
        ok, detail = has_credentials(target)
        fix = "" if ok else ("labctl emulator start" if target.kind == "emulator" else "configure AWS credentials")
        findings.append(Finding(f"credentials {target.kind}", "ok" if ok else "warn", detail, fix))
    return findings or [Finding("credentials", "ok", "no cohorts yet: nothing to check")]


def answers(endpoint: str, timeout: float = ENDPOINT_TIMEOUT_S) -> bool:
    """Whether an HTTP server answers at `endpoint` at all (any status code counts)."""
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(endpoint, timeout=timeout).close()
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def check_cohort_endpoints() -> list[Finding]:
    """One finding per emulator or LocalStack endpoint the registry's cohorts use, as resolved now."""
    from labctl.cohorts.registry import Registry

    with Registry() as reg:
        cohorts = [reg.cohort(name) for name in reg.cohort_names()]
    by_endpoint: dict[tuple[str, str], list[str]] = {}
    for cohort in cohorts:
        if cohort.target.endpoint:
            by_endpoint.setdefault((cohort.target.kind, cohort.target.endpoint), []).append(cohort.name)
    findings = []
    for (kind, endpoint), names in by_endpoint.items():
        which = f"cohort{'' if len(names) == 1 else 's'} {', '.join(names)}"
        if answers(endpoint):
            findings.append(Finding(f"endpoint {kind}", "ok", f"{endpoint} answers ({which})"))
        else:
            fix = "labctl emulator start" if kind == "emulator" else f"start {kind} at {endpoint}"
            findings.append(Finding(f"endpoint {kind}", "warn", f"{endpoint} does not answer: {which} cannot be graded", fix))
    return findings


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
        check_python(), check_packages(), *check_engine(), check_emulator(),
        *check_credentials(), *check_cohort_endpoints(), check_postgres(),
    ]
