"""How every part reaches the embedded emulator (DESIGN decision 5) without managing it: whether it
runs and where (its recorded state, checked against the process table), its administrator's
credentials, and boto3 sessions that it verifies. Starting, stopping and resetting it is
`app.emulator`'s; the state files are its record under `cohorts.home.emulator_dir()`.

Clients of an enforced emulator must come from `session()`: moto 5.2.5 verifies a SigV4 signature by
rebuilding the request with the *parsed query string, or failing that the request headers* as its
body whenever the body is empty (see `sign_payload_in_header`), so every bodiless GET/DELETE of a
REST-JSON service (Lambda, API Gateway) is refused with `SignatureDoesNotMatch` unless the client
states its payload hash in a signed `X-Amz-Content-SHA256` header, which moto's check then uses.
"""

from __future__ import annotations

import ipaddress
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.auth import SigV4Auth

from labctl.cohorts.home import emulator_dir
from labctl.labs.errors import LabctlError

HOST = "127.0.0.1"
"""Where the emulator listens unless `labctl emulator start --host` says otherwise."""
SERVER_MODULE = "labctl.app.emulator_server"
EARLIER_SERVER_MODULES = ("app.emulator_server", "stacks.emulator_server", "moto.server")
"""What emulators started by earlier labctl versions run: still recognised, so that an upgrade while
one runs can stop it instead of leaving it holding its port."""
REGION = "us-east-1"
NOT_RUNNING = "emulator is not running (start it with `labctl emulator start`)"


@dataclass(frozen=True)
class EmulatorStatus:
    running: bool
    endpoint: str | None
    pid: int | None
    enforce_iam: bool
    host: str | None = None
    """The address it listens on (HOST, or a classroom's `--host`); `endpoint` is how this machine reaches it."""

    def to_dict(self) -> dict:
        return asdict(self)


STOPPED = EmulatorStatus(running=False, endpoint=None, pid=None, enforce_iam=False)


def state_path() -> Path:
    return emulator_dir() / "state.json"


def credentials_path() -> Path:
    return emulator_dir() / "credentials.json"


def endpoint_for(port: int, host: str = HOST) -> str:
    """The URL this machine reaches an emulator listening on `host` at: loopback for a wildcard
    address (every interface), the address itself otherwise."""
    address = ipaddress.ip_address(host)
    if address.is_unspecified:
        address = ipaddress.ip_address("::1" if address.version == 6 else HOST)
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{port}"


def sign_payload_in_header(request: Any, signature_version: str | None = None, **kwargs: Any) -> None:
    """botocore `before-sign` hook: put the SigV4 payload hash in a signed `X-Amz-Content-SHA256` header.

    moto's signature check (`moto.iam.access_control.IAMRequestBase._create_aws_request`) rebuilds
    the request as `AWSRequest(data=self._body or self._data)`; for an empty body `_data` is the
    query string dict, or, when there is none, the request's headers (`BaseResponse.setup_class`
    falls back to `querystring.update(headers)`). botocore form-encodes that dict into a body, so
    the payload hash moto signs is not the empty-body hash the client signed. botocore's
    `SigV4Auth.canonical_request` takes the hash from this header whenever it is present, on our
    side and on moto's (it is a signed header, so moto copies it), and the two then agree. The hash
    is the real one, so the header is true for every request. S3 (`s3v4`) sets it itself.
    """
    if signature_version != "v4" or "X-Amz-Content-SHA256" in request.headers:
        return
    request.headers["X-Amz-Content-SHA256"] = SigV4Auth(None, "", "").payload(request)


def session(key_id: str, secret: str, region: str = REGION, token: str | None = None) -> boto3.Session:
    """A boto3 session whose clients the emulator (enforcing or not) verifies correctly; `token` for
    assumed-role credentials."""
    result = boto3.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token,
                           region_name=region)
    result.events.register("before-sign", sign_payload_in_header)
    return result


def status() -> EmulatorStatus:
    """What the state file says, checked against the process table: a dead pid means not running."""
    state = read_state()
    if state is None or not is_emulator(state["pid"]):
        return STOPPED
    return EmulatorStatus(
        running=True,
        endpoint=endpoint_for(state["port"], state["host"]),
        pid=state["pid"],
        enforce_iam=state["enforce_iam"],
        host=state["host"],
    )


def credentials() -> dict[str, str]:
    """Environment variables that point an AWS SDK or CLI at the running emulator."""
    current = status()
    if not current.running:
        raise LabctlError(NOT_RUNNING)
    key_id, secret = "test", "test"
    if current.enforce_iam:
        path = credentials_path()
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            key_id, secret = stored["aws_access_key_id"], stored["aws_secret_access_key"]
        except (OSError, ValueError, KeyError, TypeError):
            raise LabctlError(
                f"the emulator's administrator credentials are missing or unreadable ({path}); "
                "restart it with `labctl emulator stop` and `labctl emulator start --enforce-iam`"
            ) from None
    return {
        "AWS_ENDPOINT_URL": current.endpoint,
        "AWS_ACCESS_KEY_ID": key_id,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
    }


def read_state() -> dict[str, Any] | None:
    """The recorded state, or None when there is none; a corrupt file counts as stale."""
    try:
        state = json.loads(state_path().read_text(encoding="utf-8"))
        return {
            "pid": int(state["pid"]),
            "port": int(state["port"]),
            "enforce_iam": bool(state["enforce_iam"]),
            "started_at": str(state.get("started_at", "")),
            "host": str(ipaddress.ip_address(state.get("host", HOST))),
        }
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_emulator(pid: int) -> bool:
    """True when `pid` is alive and (where /proc tells) is a moto server, not a recycled pid."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    if not Path("/proc/self").exists():
        return True
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    # A zombie has an empty command line: it is dead.
    return any(module.encode() in argv for module in (SERVER_MODULE, *EARLIER_SERVER_MODULES))
