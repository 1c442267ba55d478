"""Shared fixtures: a temp labctl home for every test, the real moto server, the real PostgreSQL.

Services that are missing skip their tests with a reason, unless LABCTL_REQUIRE_SERVICES=1 (set by
.ci/run), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

if TYPE_CHECKING:  # boto3 and requests load in the fixtures that use them: most test files never touch AWS
    import boto3

REQUIRE_SERVICES = os.environ.get("LABCTL_REQUIRE_SERVICES") == "1"
REPO = Path(__file__).resolve().parent.parent


def service_missing(reason: str) -> None:
    """Skip with `reason`, or fail when CI requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"LABCTL_REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def registry_before(path: Path, marker: str) -> sqlite3.Connection:
    """A registry at `path` as an older labctl left it: every migration before the first whose script
    contains `marker`, and the schema version that says so."""
    from labctl.cohorts.registry import MIGRATIONS

    before = next(i for i, script in enumerate(MIGRATIONS) if marker in script)
    old = sqlite3.connect(path)
    for script in MIGRATIONS[:before]:
        old.executescript(script)
    old.execute(f"PRAGMA user_version = {before}")
    return old


@pytest.fixture(autouse=True)
def labctl_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes under its own temp home, never ~/.labctl."""
    home = tmp_path / "labctl-home"
    monkeypatch.setenv("LABCTL_HOME", str(home))
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "LABCTL_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The real moto server over HTTP on a free loopback port, for the whole session."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the install
        service_missing(f"moto[server] is not installed: {exc}")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[boto3.Session]:
    """A clean emulator for one test: state reset, a boto3 session with test credentials."""
    import boto3
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    yield boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


def aws_client(session: boto3.Session, service: str, endpoint: str):
    return session.client(service, endpoint_url=endpoint)


@pytest.fixture(scope="session")
def registry_database(postgres_dsn: str) -> Iterator[str]:
    """A throwaway PostgreSQL database for the shared-registry tests of this session, dropped after it."""
    import psycopg

    name = f"labctl_registry_test_{os.getpid()}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_dsn.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def fresh_schema(database: str) -> str:
    """A URL of `database` whose connections work in a new, empty schema (one per test)."""
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    return f"{database}?options=-csearch_path%3D{schema}"


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test on both registries: SQLite under the test's home, and PostgreSQL
    (LABCTL_DATABASE_URL, an empty schema of the session's throwaway database)."""
    if request.param == "postgresql":
        monkeypatch.setenv("LABCTL_DATABASE_URL", fresh_schema(request.getfixturevalue("registry_database")))
    return request.param


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """Admin DSN of the machine's PostgreSQL (127.0.0.1:5432, user postgres, trust auth)."""
    dsn = os.environ.get("LABCTL_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        import psycopg

        with psycopg.connect(dsn, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means the service is not usable
        service_missing(f"PostgreSQL not reachable at {dsn}: {str(exc).splitlines()[0]}")
    return dsn
