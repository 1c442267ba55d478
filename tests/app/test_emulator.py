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

from labctl.app import emulator
from labctl.cohorts import emulator_client
from labctl.cohorts.cohort import Target
from labctl.cohorts.targets import instructor_session
from labctl.labs.errors import LabctlError
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
    assert started == emulator_client.EmulatorStatus(running=True, endpoint=endpoint, pid=started.pid, enforce_iam=False,
                                                     host="127.0.0.1")
    assert emulator_client.status() == started
    assert started.to_dict() == {"running": True, "endpoint": endpoint, "pid": started.pid, "enforce_iam": False,
                                 "host": "127.0.0.1"}
    state = json.loads(emulator_client.state_path().read_text())
    assert set(state) == {"pid", "port", "enforce_iam", "started_at", "host"}

    env = emulator_client.credentials()
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
    assert emulator_client.status() == emulator_client.STOPPED
    assert not emulator_client.state_path().exists()
    assert not emulator_client.is_emulator(started.pid)
    assert emulator.stop() is False
    with pytest.raises(LabctlError, match=r"emulator is not running \(start it with `labctl emulator start`\)"):
        emulator_client.credentials()


def test_an_app_folder_in_the_working_directory_does_not_replace_the_server(port: int, tmp_path, monkeypatch) -> None:
    """`app` is a common folder name: started from a project that has one, the emulator is still moto."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "emulator_server.py").write_text("raise SystemExit(3)\n")
    monkeypatch.chdir(tmp_path)
    started = emulator.start(port=port)
    assert emulator_client.status() == started and started.running


def sleeper(argument: str) -> subprocess.Popen:
    """A process with `argument` on its command line, returned once it runs its own program (before
    that, a forked child still shows the test runner's command line)."""
    process = subprocess.Popen([sys.executable, "-c", "print('up', flush=True); input()", argument],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "up\n"
    return process


@pytest.mark.parametrize("module", ["labctl.app.emulator_server", "app.emulator_server", "stacks.emulator_server", "moto.server"])
def test_a_server_of_this_or_an_earlier_labctl_is_recognised_by_its_command_line(module: str) -> None:
    """An emulator started before an upgrade moved its entry module can still be stopped."""
    process = sleeper(module)
    try:
        assert emulator_client.is_emulator(process.pid)
    finally:
        process.kill()
        process.communicate()
    assert not emulator_client.is_emulator(process.pid)


def test_another_process_is_not_taken_for_the_emulator() -> None:
    process = sleeper("my.server")
    try:
        assert not emulator_client.is_emulator(process.pid)
    finally:
        process.kill()
        process.communicate()


def test_busy_port_is_a_clear_error_before_anything_is_launched(port: int, monkeypatch) -> None:
    def no_launch(*args, **kwargs):
        raise AssertionError("the emulator was launched on a busy port")

    monkeypatch.setattr(emulator.subprocess, "Popen", no_launch)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(LabctlError, match=rf"port {port} on 127.0.0.1 is already in use"):
            emulator.start(port=port)
    assert emulator_client.status() == emulator_client.STOPPED
    assert not emulator_client.state_path().exists()


def test_enforced_iam_admits_only_the_admin_key(port: int) -> None:
    started = emulator.start(port=port, enforce_iam=True)
    assert started.enforce_iam and emulator_client.status().enforce_iam

    env = emulator_client.credentials()
    assert env["AWS_ACCESS_KEY_ID"] not in ("", "test")
    assert stat.S_IMODE(emulator_client.credentials_path().stat().st_mode) == 0o600
    assert client("sts", env).get_caller_identity()["Arn"].endswith(":user/labctl-admin")
    client("s3", env).create_bucket(Bucket="admin-bucket")

    anonymous = dict(env, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        client("s3", anonymous).list_buckets()
    with pytest.raises(ClientError, match="InvalidClientTokenId"):
        client("iam", anonymous).list_users()

    assert emulator.stop() is True
    # The administrator's key stays with the saved state it belongs to: the next start keeps both.
    assert stat.S_IMODE(emulator_client.credentials_path().stat().st_mode) == 0o600
    restarted = emulator.start(port=free_port(), enforce_iam=True)
    again = emulator_client.credentials()
    assert again["AWS_ACCESS_KEY_ID"] == env["AWS_ACCESS_KEY_ID"] and restarted.endpoint != started.endpoint
    assert [b["Name"] for b in client("s3", again).list_buckets()["Buckets"]] == ["admin-bucket"]
    with pytest.raises(ClientError, match="InvalidAccessKeyId"):
        client("s3", dict(again, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test")).list_buckets()


def test_enforced_emulator_verifies_admin_signed_lambda_and_api_gateway_requests(port: int) -> None:
    """Bodiless GETs of REST-JSON services: moto 5.2.5 refuses them unless signed via emulator_client.session."""
    emulator.start(port=port, enforce_iam=True)
    env = emulator_client.credentials()
    session = instructor_session(Target(kind="emulator", endpoint=env["AWS_ENDPOINT_URL"], region="us-east-1"))

    def c(service: str):
        return session.client(service, endpoint_url=env["AWS_ENDPOINT_URL"])

    assert c("lambda").list_functions()["Functions"] == []
    assert c("lambda").list_functions(MaxItems=5)["Functions"] == []  # with a query string too
    rest = c("apigateway").create_rest_api(name="graded-rest")
    assert [a["name"] for a in c("apigateway").get_rest_apis()["items"]] == ["graded-rest"]
    c("apigateway").delete_rest_api(restApiId=rest["id"])  # a bodiless DELETE
    http = c("apigatewayv2").create_api(Name="graded-http", ProtocolType="HTTP")
    assert [a["Name"] for a in c("apigatewayv2").get_apis()["Items"]] == ["graded-http"]
    c("apigatewayv2").delete_api(ApiId=http["ApiId"])
    assert c("apigateway").get_rest_apis()["items"] == [] and c("apigatewayv2").get_apis()["Items"] == []
    # Services that already worked still do, S3 (which signs its own payload header) included.
    c("s3").create_bucket(Bucket="admin-bucket")
    assert c("sts").get_caller_identity()["Arn"].endswith(":user/labctl-admin")

    # The payload header does not weaken the check: a wrong secret is still refused.
    wrong = emulator_client.session(env["AWS_ACCESS_KEY_ID"], "not-the-secret")
    with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
        wrong.client("lambda", endpoint_url=env["AWS_ENDPOINT_URL"]).list_functions()


def test_moto_still_refuses_bodiless_lambda_and_api_gateway_gets_signed_without_payload_header(port: int) -> None:
    """Pins moto's bug (docs/security.md): when this fails, moto verifies plain SigV4 for these
    services and `emulator_client.sign_payload_in_header` can go."""
    emulator.start(port=port, enforce_iam=True)
    env = emulator_client.credentials()
    for service, call in (("lambda", "list_functions"), ("apigateway", "get_rest_apis"), ("apigatewayv2", "get_apis")):
        with pytest.raises(ClientError, match="SignatureDoesNotMatch"):
            getattr(client(service, env), call)()


def test_stale_state_means_not_running_and_is_cleaned_quietly() -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    emulator.write_state({"pid": dead.pid, "port": free_port(), "enforce_iam": False, "started_at": "x"})

    assert emulator_client.status() == emulator_client.STOPPED
    assert emulator.stop() is False
    assert not emulator_client.state_path().exists()


def test_server_that_exits_during_start_reports_its_last_log_line(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # moto's (werkzeug's) log lines carry ANSI colours; the error shows them stripped.
    crash = r"import sys; print('starting'); print('\x1b[31mboom: no luck\x1b[0m', flush=True); sys.exit(3)"
    monkeypatch.setattr(emulator, "server_command", lambda port, persist, host: [sys.executable, "-c", crash])
    with pytest.raises(LabctlError, match=r"exited during start \(exit code 3\): boom: no luck \(log: "):
        emulator.start(port=port, timeout=10)
    assert emulator_client.status() == emulator_client.STOPPED


def test_server_that_never_answers_is_stopped_after_the_timeout(
    port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    hang = "import time; print('still booting', flush=True); time.sleep(60)"
    launched: list[subprocess.Popen] = []
    real_popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        launched.append(real_popen(*args, **kwargs))
        return launched[-1]

    monkeypatch.setattr(emulator, "server_command", lambda port, persist, host: [sys.executable, "-c", hang])
    monkeypatch.setattr(emulator.subprocess, "Popen", recording_popen)
    with pytest.raises(LabctlError, match=r"did not answer on http://127.0.0.1:\d+ within 0.5s: still booting"):
        emulator.start(port=port, timeout=0.5)
    assert launched[0].poll() is not None
    assert emulator_client.status() == emulator_client.STOPPED


def test_students_work_survives_stop_start_on_another_port_until_reset(port: int) -> None:
    """moto keeps state in memory; labctl's server saves it at stop and restores it at start."""
    emulator.start(port=port)
    env = emulator_client.credentials()
    s3, iam, sqs = client("s3", env), client("iam", env), client("sqs", env)
    s3.create_bucket(Bucket="c1-ada-site")
    s3.put_object(Bucket="c1-ada-site", Key="index.html", Body=b"Hello from ada")
    iam.create_user(UserName="c1-ada")
    key = iam.create_access_key(UserName="c1-ada")["AccessKey"]
    queue = sqs.create_queue(QueueName="c1-ada-orders")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="order 1")
    assert emulator.stop() is True
    size, _ = emulator.saved_state()
    assert size > 0 and stat.S_IMODE(emulator.saved_state_path().stat().st_mode) == 0o600

    emulator.start(port=free_port())
    env = emulator_client.credentials()
    s3, iam, sqs = client("s3", env), client("iam", env), client("sqs", env)
    assert s3.get_object(Bucket="c1-ada-site", Key="index.html")["Body"].read() == b"Hello from ada"
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName="c1-ada")["AccessKeyMetadata"]] == [key["AccessKeyId"]]
    queue = sqs.get_queue_url(QueueName="c1-ada-orders")["QueueUrl"]
    assert [m["Body"] for m in sqs.receive_message(QueueUrl=queue)["Messages"]] == ["order 1"]

    with pytest.raises(LabctlError, match="stop it first"):
        emulator.reset()
    emulator.stop()
    assert emulator.reset() is True and emulator.saved_state() is None
    emulator.start(port=free_port())
    assert client("s3", emulator_client.credentials()).list_buckets()["Buckets"] == []


def test_a_server_killed_without_warning_keeps_what_it_saved_periodically(port: int, monkeypatch) -> None:
    """A crash or a power cut loses at most the last SAVE_EVERY_S seconds (shortened here)."""
    import os
    import signal
    import time

    monkeypatch.setenv("LABCTL_EMULATOR_SAVE_EVERY_S", "0.5")
    started = emulator.start(port=port)
    client("s3", emulator_client.credentials()).create_bucket(Bucket="c1-bob-site")
    created = time.time()
    deadline = time.monotonic() + 20

    def saved_since() -> bool:
        path = emulator.saved_state_path()
        return path.exists() and path.stat().st_mtime > created

    while not saved_since() and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(started.pid, signal.SIGKILL)
    emulator.wait_gone(started.pid, 10)
    emulator.start(port=free_port())
    assert [b["Name"] for b in client("s3", emulator_client.credentials()).list_buckets()["Buckets"]] == ["c1-bob-site"]
