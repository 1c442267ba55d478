"""Starting, stopping and resetting the embedded AWS emulator (DESIGN decision 5): moto's server in
the background on 127.0.0.1. Whether it runs, its credentials and sessions for it are
`cohorts.emulator_client`'s, which every part reads.

State lives under `cohorts.home.emulator_dir()`: `state.json` (pid, port, enforce_iam, started_at),
`server.log`, with IAM enforcement `credentials.json` (0600) holding the administrator's key, and
`saved-state.pickle` (0600): everything the emulator holds, written by the server at stop and every
half minute (`app.emulator_server`) and restored at start, so students' work survives a stop, a
start on another port and a machine restart. `reset()` is the one way to empty it.

IAM enforcement uses moto's `INITIAL_NO_AUTH_ACTION_COUNT`: moto serves that many authorised
actions without checking credentials (every request that reaches its authorisation step counts, even
one that then fails), then checks the signature and the IAM policies of every request. We set it to
exactly the number of calls the bootstrap makes, so the administrator's user, policy and key are the
last unauthenticated actions the server ever accepts. Note that moto's `/moto-api/reset-auth` and
`/moto-api/reset` endpoints are unauthenticated: enforcement is a teaching aid, not a security
boundary against anyone who can reach the port.

By default the emulator listens on loopback only. A classroom (`--host ADDR`) makes it reachable
from other machines: anyone who can reach the port can then use it, as any identity when IAM is not
enforced, hence the warning `exposure_warning` gives.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from labctl.cohorts.aws_errors import error_text
from labctl.cohorts.emulator_client import (
    HOST,
    REGION,
    SERVER_MODULE,
    EmulatorStatus,
    credentials_path,
    endpoint_for,
    is_emulator,
    read_state,
    state_path,
    status,
)
from labctl.cohorts.home import emulator_dir, write_secret
from labctl.labs.errors import InputError, LabctlError

DEFAULT_PORT = 4566
ADMIN_USER = "labctl-admin"
ADMIN_POLICY_NAME = "labctl-administrator"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# CreateUser, PutUserPolicy, CreateAccessKey: the bootstrap's calls, each one counted action.
BOOTSTRAP_ACTIONS = 3
STOP_GRACE_SECONDS = 30.0
"""The server saves its state when told to stop: time for that before it is killed."""
# One attempt per call: a retry would spend another of the counted unauthenticated actions.
BOOTSTRAP_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=15)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def log_path() -> Path:
    return emulator_dir() / "server.log"


def saved_state_path() -> Path:
    return emulator_dir() / "saved-state.pickle"


def check_host(host: str) -> str:
    """The address to listen on: an IPv4 or IPv6 address of this machine, or 0.0.0.0 / :: for
    every interface (a name would resolve to who knows which interface). No IPv6 zone (`%eth0`):
    a URL cannot carry one as written."""
    try:
        if "%" in host:
            raise ValueError(host)
        return str(ipaddress.ip_address(host))
    except ValueError:
        raise InputError(
            f"{host!r} is not an IP address to listen on (like 0.0.0.0 for every interface, or 192.168.1.20)",
            "--host",
        ) from None


def exposure_warning(host: str, enforce_iam: bool) -> str | None:
    """One line for an emulator reachable beyond this machine without IAM enforcement; None otherwise."""
    if enforce_iam or ipaddress.ip_address(host).is_loopback:
        return None
    return (
        f"warning: the emulator listens on {host} without IAM enforcement: anyone who can reach the port can"
        " read and change every student's resources (add --enforce-iam to require each student's keys)"
    )


def server_command(port: int, persist: bool = True, host: str = HOST) -> list[str]:
    """moto's server through labctl's entry point, which keeps its state in `saved_state_path()`.
    `-P`: the working directory is not put first on the module path, so a folder named `app` where
    labctl was run cannot stand in for labctl's own."""
    command = [sys.executable, "-P", "-m", SERVER_MODULE, "--host", host, "--port", str(port)]
    return command + (["--state", str(saved_state_path())] if persist else [])


def start(port: int = DEFAULT_PORT, enforce_iam: bool = False, timeout: float = 30.0, persist: bool = True,
          host: str = HOST) -> EmulatorStatus:
    """Launch the emulator detached with its saved state (unless not `persist`) listening on `host`,
    wait until it answers, bootstrap IAM when enforcing (unless the saved state already holds the
    administrator whose key `credentials.json` keeps), record it."""
    host = check_host(host)
    if not 1 <= port <= 65535:
        raise InputError(f"port {port} is not between 1 and 65535", "--port")
    current = status()
    if current.running:
        raise LabctlError(
            f"emulator is already running (pid {current.pid}, {current.endpoint}); "
            "stop it with `labctl emulator stop`"
        )
    clear_state()
    ensure_port_free(port, host)

    admin_kept = persist and saved_state_path().exists() and credentials_path().exists()
    env = dict(os.environ)
    env.pop("INITIAL_NO_AUTH_ACTION_COUNT", None)
    if enforce_iam:
        env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0" if admin_kept else str(BOOTSTRAP_ACTIONS)
    endpoint = endpoint_for(port, host)
    with open(log_path(), "wb") as log:
        process = subprocess.Popen(
            server_command(port, persist, host),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        wait_until_answering(process, endpoint, timeout)
        if enforce_iam:
            if not admin_kept:
                write_secret(credentials_path(), json.dumps(bootstrap_admin(endpoint)))
            prove_enforcement(endpoint)
        write_state(
            {
                "pid": process.pid,
                "port": port,
                "enforce_iam": enforce_iam,
                "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "host": host,
            }
        )
    except BaseException:
        terminate(process.pid)
        reap(process)
        if not admin_kept:
            credentials_path().unlink(missing_ok=True)
        raise
    return EmulatorStatus(running=True, endpoint=endpoint, pid=process.pid, enforce_iam=enforce_iam, host=host)


def saved_state() -> tuple[int, str] | None:
    """(size in bytes, when it was saved, ISO 8601 UTC) of the emulator's saved state, if any."""
    try:
        stat = saved_state_path().stat()
    except FileNotFoundError:
        return None
    return stat.st_size, datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(timespec="seconds")


def ensure_stopped() -> None:
    if status().running:
        raise LabctlError("the emulator is running: stop it first (`labctl emulator stop`), then reset")


def reset() -> bool:
    """Erase the emulator's saved state and administrator key (the emulator must be stopped): the
    next start is empty. True when there was a saved state."""
    ensure_stopped()
    existed = saved_state_path().exists()
    saved_state_path().unlink(missing_ok=True)
    credentials_path().unlink(missing_ok=True)
    return existed


def stop() -> bool:
    """Stop the recorded emulator (it saves its state as it stops); True when a live one was
    stopped. Stale state is removed quietly."""
    state = read_state()
    stopped = False
    if state is not None and is_emulator(state["pid"]):
        terminate(state["pid"])
        stopped = True
    clear_state()
    return stopped


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nothing listens on now, for an emulator that must not take the default one."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def ensure_port_free(port: int, host: str = HOST) -> None:
    """Fail fast when something already listens on the port, or the address is not this machine's,
    instead of launching into a clash."""
    family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # The server sets SO_REUSEADDR too: a port left in TIME_WAIT is free for it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                raise InputError(f"{host} is not an address of this machine", "--host") from None
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                reason = "is already in use" if exc.errno == errno.EADDRINUSE else "is not allowed"
                raise LabctlError(f"port {port} on {host} {reason}; choose another with --port") from None
            raise LabctlError(f"cannot bind {host}:{port}: {exc.strerror}") from None


def wait_until_answering(process: subprocess.Popen, endpoint: str, timeout: float) -> None:
    """Poll moto's own API (which never counts as an AWS action) until it answers HTTP."""
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            raise LabctlError(f"emulator exited during start (exit code {code}): {last_log_line()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/config", timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() >= deadline:
            raise LabctlError(f"emulator did not answer on {endpoint} within {timeout:g}s: {last_log_line()}")
        time.sleep(0.1)


def bootstrap_admin(endpoint: str) -> dict[str, str]:
    """Spend the unauthenticated actions on an administrator user and its access key."""
    iam = boto3.client(
        "iam",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=BOOTSTRAP_CONFIG,
    )
    try:
        iam.create_user(UserName=ADMIN_USER)
        iam.put_user_policy(
            UserName=ADMIN_USER, PolicyName=ADMIN_POLICY_NAME, PolicyDocument=json.dumps(ADMIN_POLICY)
        )
        key = iam.create_access_key(UserName=ADMIN_USER)["AccessKey"]
    except (ClientError, BotoCoreError) as exc:
        raise LabctlError(f"could not create the emulator's administrator: {error_text(exc)}") from None
    return {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}


def prove_enforcement(endpoint: str) -> None:
    """The default `test` keys must be refused and the administrator's accepted."""
    try:
        caller_identity(endpoint, "test", "test")
    except ClientError:
        pass
    except BotoCoreError as exc:
        raise LabctlError(f"could not verify IAM enforcement: {error_text(exc)}") from None
    else:
        raise LabctlError("IAM enforcement did not take effect: the emulator accepted the `test` credentials")
    stored = json.loads(credentials_path().read_text(encoding="utf-8"))
    try:
        caller_identity(endpoint, stored["aws_access_key_id"], stored["aws_secret_access_key"])
    except (ClientError, BotoCoreError) as exc:
        raise LabctlError(f"the emulator refused its administrator's credentials: {error_text(exc)}") from None


def caller_identity(endpoint: str, key_id: str, secret: str) -> dict[str, Any]:
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=BOOTSTRAP_CONFIG,
    )
    return sts.get_caller_identity()


def last_log_line() -> str:
    try:
        text = ANSI_ESCAPE.sub("", log_path().read_text(encoding="utf-8", errors="replace"))
        lines = text.strip().splitlines()
    except OSError:
        lines = []
    last = lines[-1].strip() if lines else "(the log is empty)"
    return f"{last} (log: {log_path()})"


def write_state(state: dict[str, Any]) -> None:
    path = state_path()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def clear_state() -> None:
    """Forget the process; the administrator's key stays with the saved state it belongs to."""
    state_path().unlink(missing_ok=True)


def terminate(pid: int) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it outlives the grace period."""
    for sig, grace in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
        try:
            # start_new_session made the server its group's leader; its children share the group.
            if os.getpgid(pid) == pid:
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_gone(pid, grace):
            return


def wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass  # not our child: its parent (or init) reaps it
        if not is_emulator(pid):
            return True
        time.sleep(0.05)
    return False


def reap(process: subprocess.Popen) -> None:
    try:
        process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        pass
