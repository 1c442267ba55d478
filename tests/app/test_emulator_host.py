"""`labctl emulator start --host`: the emulator reachable beyond loopback for a classroom, with a
warning unless IAM is enforced, and bad addresses refused before anything is launched."""

from __future__ import annotations

import ipaddress
import json
import socket
from typing import Iterator

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from labctl.app import emulator
from labctl.cli import cli
from labctl.cohorts import emulator_client
from labctl.labs.errors import InputError
from tests.conftest import free_port

pytestmark = pytest.mark.emulator


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()
    emulator.stop()


def start(*args: str):
    return CliRunner().invoke(cli, ["emulator", "start", *args], catch_exceptions=False)


def answers(host: str, port: int) -> bool:
    """Whether something accepts a TCP connection at host:port."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def no_launch(*args, **kwargs):
    raise AssertionError("the emulator was launched")


def test_by_default_it_listens_on_loopback_only_and_warns_nobody(port: int) -> None:
    result = start("--port", str(port))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith(f"emulator running at http://127.0.0.1:{port} (pid ")
    assert "listening on" not in result.stdout
    # 127.0.0.2 is loopback too, but a socket bound to 127.0.0.1 does not accept it.
    assert answers("127.0.0.1", port) and not answers("127.0.0.2", port)


def test_every_interface_without_iam_warns_in_one_line_on_stderr(port: int) -> None:
    result = start("--port", str(port), "--host", "0.0.0.0")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "warning: the emulator listens on 0.0.0.0 without IAM enforcement: anyone who can reach the port can read"
        " and change every student's resources (add --enforce-iam to require each student's keys)\n"
    )
    assert f"emulator running at http://127.0.0.1:{port} (pid " in result.stdout
    assert "listening on 0.0.0.0" in result.stdout and "--public-endpoint URL" in result.stdout
    assert answers("127.0.0.2", port)  # beyond the one loopback address: every interface
    status = json.loads(CliRunner().invoke(cli, ["emulator", "status", "--format", "json"]).stdout)
    assert status["host"] == "0.0.0.0" and status["endpoint"] == f"http://127.0.0.1:{port}"
    assert emulator_client.credentials()["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{port}"
    shown = CliRunner().invoke(cli, ["emulator", "status"]).stdout
    assert shown.startswith(f"running at http://127.0.0.1:{port} (pid ") and ", listening on 0.0.0.0)" in shown


def test_enforced_iam_beyond_loopback_starts_without_the_warning(port: int) -> None:
    result = start("--port", str(port), "--host", "0.0.0.0", "--enforce-iam")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "with IAM enforcement" in result.stdout


def test_a_specific_address_is_where_this_machine_reaches_it_too(port: int) -> None:
    """Bound to one address (here a second loopback one), 127.0.0.1 would not reach it."""
    result = start("--port", str(port), "--host", "127.0.0.2")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # loopback: nothing exposed
    assert emulator_client.status().endpoint == f"http://127.0.0.2:{port}"
    assert answers("127.0.0.2", port) and not answers("127.0.0.1", port)


@pytest.mark.parametrize("host", ["nope", "localhost", "0.0.0.0:4566", "300.1.1.1", "", " 127.0.0.1", "fe80::1%lo"])
def test_an_address_that_is_not_an_ip_is_one_line_and_exit_2(host: str, monkeypatch) -> None:
    monkeypatch.setattr(emulator.subprocess, "Popen", no_launch)
    result = start("--host", host)
    assert result.exit_code == 2
    assert result.stderr == (f"Error: --host: {host!r} is not an IP address to listen on (like 0.0.0.0 for every"
                             " interface, or 192.168.1.20)\n")
    assert not emulator_client.state_path().exists()


def test_an_address_of_another_machine_is_one_line_and_exit_2(monkeypatch) -> None:
    monkeypatch.setattr(emulator.subprocess, "Popen", no_launch)
    result = start("--port", str(free_port()), "--host", "192.0.2.1")  # TEST-NET-1: nobody's address
    assert result.exit_code == 2
    assert result.stderr == "Error: --host: 192.0.2.1 is not an address of this machine\n"
    assert not emulator_client.state_path().exists()


@pytest.mark.parametrize(("host", "endpoint"), [
    ("127.0.0.1", "http://127.0.0.1:4566"), ("0.0.0.0", "http://127.0.0.1:4566"), ("::", "http://[::1]:4566"),
    ("192.168.1.20", "http://192.168.1.20:4566"), ("fd00::5", "http://[fd00::5]:4566"),
])
def test_the_endpoint_this_machine_uses_for_each_kind_of_address(host: str, endpoint: str) -> None:
    assert emulator_client.endpoint_for(4566, host) == endpoint


@pytest.mark.parametrize(("host", "warned"), [
    ("127.0.0.1", False), ("127.0.0.2", False), ("::1", False), ("0.0.0.0", True), ("::", True), ("10.1.2.3", True),
])
def test_only_an_address_beyond_loopback_without_iam_is_warned_about(host: str, warned: bool) -> None:
    assert (emulator.exposure_warning(host, enforce_iam=False) is not None) == warned
    assert emulator.exposure_warning(host, enforce_iam=True) is None


@given(st.text(max_size=40))
def test_check_host_accepts_exactly_the_ip_addresses(text: str) -> None:
    try:
        expected = str(ipaddress.ip_address(text))
    except ValueError:
        expected = None
    if expected is None or "%" in text:
        with pytest.raises(InputError, match=r"is not an IP address to listen on"):
            emulator.check_host(text)
    else:
        assert emulator.check_host(text) == expected


def test_a_state_file_with_a_bad_host_counts_as_stale() -> None:
    emulator_client.state_path().parent.mkdir(parents=True, exist_ok=True)
    emulator_client.state_path().write_text(json.dumps({"pid": 1, "port": 4566, "enforce_iam": False, "host": "x"}))
    assert emulator_client.read_state() is None
