"""The S3 inventory: every student-owned bucket of a cohort as plain frozen data.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

MAX_OBJECT_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Website:
    index: str | None
    error: str | None
    redirect_all_to: str | None = None


@dataclass(frozen=True)
class S3Object:
    key: str
    content_type: str | None
    size: int
    body: bytes | None
    """The first bytes of the object; None when it is larger than MAX_OBJECT_BYTES (`too_large`)."""
    too_large: bool = False


@dataclass(frozen=True)
class Bucket:
    name: str
    detailed: bool = True
    """False when no check names this bucket, so only its existence was recorded."""
    website: Website | None = None
    policy: Mapping[str, Any] | None = None
    policy_error: str | None = None
    """Why the policy text could not be read as a JSON object (the policy is then None)."""
    versioning: str | None = None
    tags: Mapping[str, str] | None = None
    public_access_block: Mapping[str, bool] | None = None
    encryption: tuple[Mapping[str, Any], ...] | None = None
    lifecycle: tuple[Mapping[str, Any], ...] | None = None
    """Lifecycle rules as GetBucketLifecycleConfiguration returns them; None when there are none or
    no check asked for them."""
    objects: Mapping[str, S3Object | None] = field(default_factory=dict)
    """Objects some check asked for, by key; None means the object does not exist."""
    error: str | None = None
    """Set when reading this bucket's details failed (AccessDenied, ...): checks report an error."""

    def object(self, key: str) -> S3Object | None:
        return self.objects.get(key)


@dataclass(frozen=True)
class S3Inventory:
    """One student's buckets."""

    buckets: Mapping[str, Bucket] = field(default_factory=dict)

    def bucket(self, name: str) -> Bucket | None:
        return self.buckets.get(name)


@dataclass(frozen=True)
class S3Snapshot:
    """A cohort's buckets partitioned by owner prefix, from one listing."""

    by_prefix: Mapping[str, S3Inventory]

    def for_prefix(self, prefix: str) -> S3Inventory:
        return self.by_prefix.get(prefix, S3Inventory())
