"""S3 checks: pure functions of one student's S3Inventory (validators.inventory.s3)."""

from __future__ import annotations

from typing import Iterator

from labctl.validators import iam
from labctl.validators.inventory.s3 import MAX_OBJECT_BYTES, Bucket, S3Inventory
from labctl.validators.registry import Params, Result, check

READS = "s3"


class BucketParams(Params):
    bucket: str


class WebsiteParams(BucketParams):
    index: str
    error: str


class ObjectContentParams(BucketParams):
    key: str
    content_type: str | None = None
    contains: str | None = None

    def objects(self) -> Iterator[tuple[str, str]]:
        """The (bucket, key) pairs the S3 collector must read for this check."""
        yield self.bucket, self.key


class PublicReadParams(BucketParams):
    action: str
    resource: str


class TagParams(BucketParams):
    key: str
    value: str


class PublicReadOnlyParams(BucketParams):
    allow: list[str]


def bucket_or_result(inv: S3Inventory, name: str) -> Bucket | Result:
    """The bucket, or the Result a check on it must return: skipped when missing, error when unread."""
    bucket = inv.bucket(name)
    if bucket is None:
        return Result.skipped(f"bucket {name} does not exist")
    if bucket.error:
        return Result.error(f"could not read bucket {name}: {bucket.error}")
    if not bucket.detailed:
        return Result.error(f"bucket {name} was not collected in detail")
    return bucket


@check("s3.bucket-exists", title="Bucket {bucket} exists", reads=READS, params=BucketParams)
def bucket_exists(inv: S3Inventory, p: BucketParams) -> Result:
    if inv.bucket(p.bucket) is None:
        return Result.failed(f"bucket {p.bucket} does not exist", hint="create-bucket")
    return Result.passed()


@check("s3.website-config", title="Static website hosting is configured", reads=READS, params=WebsiteParams)
def website_config(inv: S3Inventory, p: WebsiteParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    site = bucket.website
    if site is None:
        return Result.failed(f"static website hosting is not enabled on {p.bucket}")
    if site.redirect_all_to:
        return Result.failed(f"the website redirects every request to {site.redirect_all_to}")
    problems = [
        f"{what} document is {actual or 'not set'}, expected {wanted}"
        for what, actual, wanted in (("index", site.index, p.index), ("error", site.error, p.error))
        if actual != wanted
    ]
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check(
    "s3.object-content",
    title="Object {key} has the expected content",
    reads=READS,
    params=ObjectContentParams,
)
def object_content(inv: S3Inventory, p: ObjectContentParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if p.key not in bucket.objects:
        return Result.error(f"object {p.key} was not collected")
    obj = bucket.object(p.key)
    if obj is None:
        return Result.failed(f"object {p.key} does not exist in {p.bucket}")
    if p.content_type is not None:
        actual = (obj.content_type or "").strip()
        if not actual.lower().startswith(p.content_type.lower()):
            return Result.failed(
                f"{p.key} has Content-Type {actual or '(none)'}, expected {p.content_type}"
            )
    if p.contains is not None:
        if obj.too_large or obj.body is None:
            return Result.failed(
                f"{p.key} is larger than {MAX_OBJECT_BYTES // 1024 // 1024} MiB, so its content was not read"
            )
        if p.contains not in obj.body.decode("utf-8", errors="replace"):
            return Result.failed(f"{p.key} does not contain {p.contains!r}")
    return Result.passed()


@check(
    "s3.public-read",
    title="The bucket policy lets anyone {action} on {resource}",
    reads=READS,
    params=PublicReadParams,
)
def public_read(inv: S3Inventory, p: PublicReadParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if bucket.policy_error:
        return Result.failed(f"the bucket policy cannot be read: {bucket.policy_error}")
    if bucket.policy is None:
        return Result.failed(f"bucket {p.bucket} has no bucket policy")
    block = bucket.public_access_block or {}
    if block.get("RestrictPublicBuckets") or block.get("BlockPublicPolicy"):
        return Result.failed(
            "the bucket's public access block stops a public policy from taking effect",
            hint="delete-public-access-block",
        )

    def applies(statement) -> bool:
        return (
            iam.is_public(statement)
            and "Condition" not in statement
            and iam.covers_action(statement, p.action)
            and iam.covers_resource(statement, p.resource)
        )

    statements = iam.statements(bucket.policy)
    if any(iam.effect(s) == "Deny" and applies(s) for s in statements):
        return Result.failed(f"a Deny statement takes {p.action} on {p.resource} away from the public")
    if any(iam.effect(s) == "Allow" and applies(s) for s in statements):
        return Result.passed()
    return Result.failed(
        f"no unconditional Allow statement grants {p.action} to principal * on {p.resource}"
    )


@check("s3.versioning", title="Versioning is enabled", reads=READS, params=BucketParams)
def versioning(inv: S3Inventory, p: BucketParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if bucket.versioning == "Enabled":
        return Result.passed()
    return Result.failed(f"versioning is {bucket.versioning or 'off'}", hint="put-bucket-versioning")


@check("s3.tag", title="The bucket is tagged {key}={value}", reads=READS, params=TagParams)
def tag(inv: S3Inventory, p: TagParams) -> Result:
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    tags = bucket.tags or {}
    if p.key not in tags:
        return Result.failed(f"tag {p.key} is missing")
    if tags[p.key] != p.value:
        return Result.failed(f"tag {p.key} is {tags[p.key]!r}, expected {p.value!r}")
    return Result.passed()


@check(
    "s3.public-read-only",
    title="The public may be granted only {allow}",
    reads=READS,
    params=PublicReadOnlyParams,
)
def public_read_only(inv: S3Inventory, p: PublicReadOnlyParams) -> Result:
    """Fails when an Allow statement for principal `*` grants an action outside `allow`.

    Conditions are ignored on purpose: a conditional public write is still a public write.
    """
    bucket = bucket_or_result(inv, p.bucket)
    if isinstance(bucket, Result):
        return bucket
    if bucket.policy_error:
        return Result.error(f"the bucket policy cannot be read: {bucket.policy_error}")
    if bucket.policy is None:
        return Result.passed("no bucket policy")
    problems = []
    for index, statement in enumerate(iam.statements(bucket.policy)):
        if iam.effect(statement) != "Allow" or not iam.is_public(statement):
            continue
        beyond = iam.actions_beyond(statement, p.allow)
        if beyond:
            name = statement.get("Sid") or f"#{index + 1}"
            problems.append(f"statement {name} grants {', '.join(beyond)} to principal *")
    if problems:
        allowed = ", ".join(p.allow) or "nothing"
        return Result.failed("; ".join(problems) + f" (the public may only have {allowed})")
    return Result.passed()

