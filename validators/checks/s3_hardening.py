"""S3 hardening checks (default encryption, public access block, lifecycle): pure functions of one
student's S3Inventory (validators.inventory.s3)."""

from __future__ import annotations

from typing import Any, ClassVar, Iterator, Mapping

from pydantic import Field

from labctl.validators.checks.s3 import BucketParams, bucket_or_result
from labctl.validators.inventory.s3 import S3Inventory
from labctl.validators.registry import Result, check

READS = "s3"
BLOCK_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


class EncryptionParams(BucketParams):
    algorithms: list[str] = Field(default_factory=lambda: ["aws:kms", "aws:kms:dsse"])


class LifecycleParams(BucketParams):
    reads_lifecycle: ClassVar[bool] = True
    """Tells the S3 collector to read lifecycle rules (one more call per bucket)."""


class TransitionParams(LifecycleParams):
    storage_classes: list[str]
    max_days: int = Field(ge=0)


class ExpirationParams(LifecycleParams):
    current_max_days: int | None = Field(default=None, ge=1)
    noncurrent_max_days: int | None = Field(default=None, ge=1)


def enabled_rules(rules: tuple[Mapping[str, Any], ...] | None) -> Iterator[Mapping[str, Any]]:
    return (r for r in rules or () if r.get("Status") == "Enabled")


@check("s3.default-encryption", title="Default encryption uses {algorithms}", reads=READS, params=EncryptionParams)
def default_encryption(inv: S3Inventory, p: EncryptionParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    used = [
        str((rule.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", ""))
        for rule in bucket.encryption or ()
    ]
    if any(algorithm in p.algorithms for algorithm in used):
        return Result.passed()
    wanted = " or ".join(p.algorithms)
    if not used:
        return Result.failed(f"bucket {p.bucket} has no default encryption, expected {wanted}")
    return Result.failed(f"default encryption is {', '.join(used)}, expected {wanted}")


@check(
    "s3.public-access-blocked", title="All four public access block settings are on", reads=READS, params=BucketParams
)
def public_access_blocked(inv: S3Inventory, p: BucketParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if bucket.public_access_block is None:
        return Result.failed(f"bucket {p.bucket} has no public access block", hint="put-public-access-block")
    off = [flag for flag in BLOCK_FLAGS if not bucket.public_access_block.get(flag)]
    if off:
        return Result.failed(f"public access block settings off: {', '.join(off)}")
    return Result.passed()


@check(
    "s3.lifecycle-transition",
    title="A lifecycle rule moves objects to {storage_classes} within {max_days} days",
    reads=READS,
    params=TransitionParams,
)
def lifecycle_transition(inv: S3Inventory, p: TransitionParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if not bucket.lifecycle:
        return Result.failed(f"bucket {p.bucket} has no lifecycle rules", hint="put-bucket-lifecycle-configuration")
    seen = []
    for rule in enabled_rules(bucket.lifecycle):
        for transition in rule.get("Transitions", []):
            days, storage = transition.get("Days"), transition.get("StorageClass")
            seen.append(f"{storage} after {days if days is not None else transition.get('Date')} days")
            if storage in p.storage_classes and days is not None and int(days) <= p.max_days:
                return Result.passed()
    if not any(True for _ in enabled_rules(bucket.lifecycle)):
        return Result.failed("no lifecycle rule is Enabled")
    found = ", ".join(seen) or "none"
    return Result.failed(
        f"no enabled rule transitions to {' or '.join(p.storage_classes)} within {p.max_days} days (found: {found})"
    )


@check("s3.lifecycle-expiration", title="A lifecycle rule expires old data", reads=READS, params=ExpirationParams)
def lifecycle_expiration(inv: S3Inventory, p: ExpirationParams) -> Result:
    """Passes when an enabled rule expires current objects within `current_max_days`, or noncurrent
    versions within `noncurrent_max_days` (whichever bounds are given)."""
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if not bucket.lifecycle:
        return Result.failed(f"bucket {p.bucket} has no lifecycle rules", hint="put-bucket-lifecycle-configuration")
    for rule in enabled_rules(bucket.lifecycle):
        current = (rule.get("Expiration") or {}).get("Days")
        noncurrent = (rule.get("NoncurrentVersionExpiration") or {}).get("NoncurrentDays")
        if p.current_max_days is not None and current is not None and int(current) <= p.current_max_days:
            return Result.passed()
        if p.noncurrent_max_days is not None and noncurrent is not None and int(noncurrent) <= p.noncurrent_max_days:
            return Result.passed()
    wanted = " or ".join(
        text
        for bound, text in (
            (p.current_max_days, f"objects within {p.current_max_days} days"),
            (p.noncurrent_max_days, f"noncurrent versions within {p.noncurrent_max_days} days"),
        )
        if bound is not None
    )
    return Result.failed(f"no enabled lifecycle rule expires {wanted or 'anything'}")
