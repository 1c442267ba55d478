"""Where a cohort's cloud lives and the instructor's credentials for it — resolved at run time,
never stored in the registry: the emulator's own keys, `test`/`test` for LocalStack, the named
profile or the default chain for AWS."""

from __future__ import annotations

from dataclasses import replace

import boto3

from labctl.cohorts import emulator_client
from labctl.cohorts.cohort import DEFAULT_EMULATOR_ENDPOINT, Target
from labctl.labs.errors import LabctlError

LOCALSTACK_KEYS = ("test", "test")


def resolve(target: Target) -> Target:
    """The target with its endpoint as of now: an emulator target without an endpoint of its own is
    labctl's running emulator, wherever it listens (the default port when it is not running, so that
    whatever needs it fails as unreachable, never on another server's state)."""
    if target.kind != "emulator" or target.endpoint:
        return target
    current = emulator_client.status()
    return replace(target, endpoint=current.endpoint if current.running else DEFAULT_EMULATOR_ENDPOINT)


def instructor_session(target: Target) -> boto3.Session:
    """A boto3 session with the instructor's credentials for `target`."""
    if target.kind == "emulator":
        creds = emulator_client.credentials()
        # emulator_client.session, not boto3.Session: it signs so that moto verifies Lambda and API Gateway.
        return emulator_client.session(creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"], target.region)
    if target.kind == "localstack":
        key, secret = LOCALSTACK_KEYS
        return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=target.region)
    try:
        return boto3.Session(profile_name=target.profile, region_name=target.region)
    except Exception as exc:  # botocore's ProfileNotFound and friends
        raise LabctlError(f"AWS credentials for profile {target.profile!r}: {exc}") from None


def has_credentials(target: Target) -> tuple[bool, str]:
    """(ok, detail) for doctor: can we get the instructor's credentials for this target?"""
    try:
        session = instructor_session(target)
    except LabctlError as exc:
        return False, str(exc)
    if session.get_credentials() is None:
        return False, "no AWS credentials found (set a profile or the default credential chain)"
    return True, f"{target.kind} credentials available"
