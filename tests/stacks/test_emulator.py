"""The embedded emulator against real moto server subprocesses on free loopback ports."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
from typing import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from labs.errors import LabctlError
from stacks import emulator
from tests.conftest import free_port

pytestmark = pytest.mark.emulator


@pytest.fixture
def port() -> Iterator[int]:
    """A free port; whatever the test started is stopped afterwards."""
    yield free_port()
    emulator.stop()


def client(service: str, env: dict[str, str]):
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )


def test_start_status_stop_round_trip(port: int) -> None:
    started = emulator.start(port=port)
    endpoint = f"http://127.0.0.1:{port}"
    assert started == emulator.EmulatorStatus(running=True, endpoint=endpoint, pid=started.pid, enforce_iam=False)
    assert emulator.status() == started
    assert started.to_dict() == {"running": True, "endpoint": endpoint, "pid": started.pid, "enforce_iam": False}
    state = json.loads(emulator.state_path().read_text())
    assert set(state) == {"pid", "port", "enforce_iam", "started_at"}

    env = emulator.credentials()
    assert env == {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    client("s3", env).create_bucket(Bucket="round-trip")
    assert [b["Name"] for b in client("s3", env).list_buckets()["Buckets"]] == ["round-trip"]

    with pytest.raises(LabctlError, match=rf"already running \(pid {started.pid}, {endpoint}\)"):
        emulator.start(port=free_port())

    assert emulator.stop() is True
    assert emulator.status() == emulator.STOPPED
    assert not emulator.state_path().exists()
    assert not emulator.is_emulator(started.pid)
    assert emulator.stop() is False
    with pytest.raises(LabctlError, match=r"emulator is not running \(start it with `labctl emulator start`\)"):
        emulator.credentials()


def test_busy_port_is_a_clear_error_before_anything_is_launched(port: int, monkeypatch) -> None:
    def no_launch(*args, **kwargs):
        raise AssertionError("the emulator was launched on a busy port")

    monkeypatch.setattr(emulator.subprocess, "Popen", no_launch)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(LabctlError, match=rf"port {port} on 127.0.0.1 is already in use"):
            emulator.start(port=port)
    assert emulator.status() == emulator.STOPPED
    assert not emulator.state_path().exists()


def test_enforced_iam_admits_only_the_admin_key(port: int) -> None:
    started = emulator.start(port=port, enforce_iam=True)
    assert started.enforce_iam and emulator.status().enforce_iam

    env = emulator.credentials()
    assert env["AWS_ACCESS_KEY_ID"] not in ("", "test")
    assert stat.S_IMODE(emulator.credentials_path().stat().st_mode) == 0o600
    assert client("sts", env).get_caller_identity()["Arn"].endswith(":user/labctl-admin")
    client("s3", env).create_bucket(Bucket="admin-bucket")

    anonymous = dict(env, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        client("s3", anonymous).list_buckets()
    with pytest.raises(ClientError, match="InvalidClientTokenId"):
        client("iam", anonymous).list_users()

    assert emulator.stop() is True
    assert not emulator.credentials_path().exists()


def test_stale_state_means_not_running_and_is_cleaned_quietly() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    emulator.write_state({"pid": dead.pid, "port": free_port(), "enforce_iam": False, "started_at": "x"})

    assert emulator.status() == emulator.STOPPED
    assert emulator.stop() is False
    assert not emulator.state_path().exists()


def test_server_that_exits_during_start_reports_its_last_log_line(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto's (werkzeug's) log lines carry ANSI colours; the error shows them stripped.
    crash = r"import sys; print('starting'); print('\x1b[31mboom: no luck\x1b[0m', flush=True); sys.exit(3)"
    monkeypatch.setattr(emulator, "server_command", lambda port: [sys.executable, "-c", crash])
    with pytest.raises(LabctlError, match=r"exited during start \(exit code 3\): boom: no luck \(log: "):
        emulator.start(port=port, timeout=10)
    assert emulator.status() == emulator.STOPPED


def test_server_that_never_answers_is_stopped_after_the_timeout(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = "import time; print('still booting', flush=True); time.sleep(60)"
    launched: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        launched.append(real_popen(*args, **kwargs))
        return launched[-1]

    monkeypatch.setattr(emulator, "server_command", lambda port: [sys.executable, "-c", hang])
    monkeypatch.setattr(emulator.subprocess, "Popen", recording_popen)
    with pytest.raises(LabctlError, match=r"did not answer on http://127.0.0.1:\d+ within 0.5s: still booting"):
        emulator.start(port=port, timeout=0.5)
    assert launched[0].poll() is not None
    assert emulator.status() == emulator.STOPPED
