"""What every collector receives, and what it must return."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

import boto3
from botocore.exceptions import ClientError
from botocore.exceptions import ConnectionError as AwsConnectionError

from labctl.labs.errors import LabctlError
from labctl.validators.registry import Params


class Unreachable(LabctlError):
    """The target, cluster or database did not answer (or is not configured): nobody whose checks
    read this inventory can be graded, and no score is recorded for them."""


REFUSED_CREDENTIALS = frozenset({
    "InvalidAccessKeyId", "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch",
    "ExpiredToken", "ExpiredTokenException", "AuthFailure",
})
"""Error codes that only the grader's own credentials can cause (never a student's resources)."""


def unreachable(exc: BaseException) -> str | None:
    """The reason, when a collector's failure means its service could not be reached at all (or
    refused the grader's credentials); None for any other failure (which may come from what a
    student built)."""
    if isinstance(exc, Unreachable):
        return str(exc)
    if isinstance(exc, AwsConnectionError):
        return f"the AWS target did not answer: {exc}"
    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in REFUSED_CREDENTIALS:
        return f"the AWS target refused the grader's credentials: {exc.response['Error'].get('Message') or exc}"
    return None


@dataclass(frozen=True)
class CollectRequest:
    """One pass over a service for a cohort.

    `prefixes` are the owner prefixes of the students being graded; `wanted` holds the rendered,
    validated params of every check that reads this inventory kind, so a collector can bound its
    work to what the checks will look at.
    """

    cohort: str
    prefixes: tuple[str, ...]
    session: boto3.Session | None
    """None when the graded labs read no AWS inventory."""
    endpoint_url: str | None
    wanted: tuple[Params, ...]
    concurrency: int = 8
    postgres_dsn: str | None = None
    """The cohort's admin DSN for database labs (its password comes from PGPASSWORD or ~/.pgpass)."""
    kubeconfig: str | None = None
    kube_context: str | None = None
    wanted_by_prefix: Mapping[str, tuple[Params, ...]] = field(default_factory=dict)
    """`wanted` split by the owner prefix of the student whose checks asked, for collectors whose
    targets (such as URLs) do not carry the prefix."""


class Snapshot(Protocol):
    def for_prefix(self, prefix: str) -> Any:
        """The inventory one student's checks read."""


Collector = Callable[[CollectRequest], Snapshot]


def owner(name: str, prefixes: tuple[str, ...]) -> str | None:
    """The prefix that owns resource `name`: equal to it or followed by `-`; the longest wins.

    Longest first, so student `ab` of cohort `c` never takes `c-ab-x-site` from student `ab-x`.
    """
    for prefix in sorted(prefixes, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "-"):
            return prefix
    return None
