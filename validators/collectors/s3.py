"""Collect a cohort's S3 buckets once: one listing, then bounded reads per student-owned bucket.

Missing configuration (no website, no policy, ...) becomes None. A ClientError while reading one
bucket is recorded on that bucket (its checks report an error); anything else, such as an
unreachable endpoint or a failed listing, propagates to the runner.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from typing import Any, Callable

from botocore.config import Config
from botocore.exceptions import ClientError

from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.s3 import (
    MAX_OBJECT_BYTES,
    Bucket,
    S3Inventory,
    S3Object,
    S3Snapshot,
    Website,
)

REQUEST_TIMEOUT_S = 5
MISSING_CONFIG = frozenset(
    {
        "NoSuchWebsiteConfiguration",
        "NoSuchBucketPolicy",
        "NoSuchTagSet",
        "NoSuchPublicAccessBlockConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchLifecycleConfiguration",
    }
)
MISSING_OBJECT = frozenset({"404", "NoSuchKey", "NotFound"})


def s3_client(request: CollectRequest):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max(10, request.concurrency),
        # Emulators answer on one host name; virtual-hosted buckets would need DNS for each.
        s3={"addressing_style": "path"} if request.endpoint_url else None,
    )
    return request.session.client("s3", endpoint_url=request.endpoint_url, config=config)


def code_of(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def optional(call: Callable[..., dict], **kwargs: Any) -> dict | None:
    """The response, or None when the API says the configuration does not exist."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if code_of(exc) in MISSING_CONFIG:
            return None
        raise


def list_bucket_names(client, cohort: str) -> list[str]:
    names: list[str] = []
    kwargs: dict[str, Any] = {"Prefix": f"{cohort}-"}
    while True:
        page = client.list_buckets(**kwargs)
        names += [b["Name"] for b in page.get("Buckets", [])]
        token = page.get("ContinuationToken")
        if not token:
            return names
        kwargs["ContinuationToken"] = token


def parse_policy(text: str) -> tuple[dict | None, str | None]:
    """Bucket policy text → (document, None), or (None, why it is not a JSON object)."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        return None, f"invalid JSON ({exc})"
    if not isinstance(document, dict):
        return None, "not a JSON object"
    return document, None


def read_object(client, bucket: str, key: str) -> S3Object | None:
    """HEAD, then GET at most MAX_OBJECT_BYTES + 1 bytes; larger objects are marked too large."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if code_of(exc) in MISSING_OBJECT:
            return None
        raise
    size = int(head.get("ContentLength", 0))
    content_type = head.get("ContentType")
    if size > MAX_OBJECT_BYTES:
        return S3Object(key, content_type, size, None, too_large=True)
    response = client.get_object(Bucket=bucket, Key=key)
    with closing(response["Body"]) as body:
        data = body.read(MAX_OBJECT_BYTES + 1)
    if len(data) > MAX_OBJECT_BYTES:
        return S3Object(key, content_type, len(data), None, too_large=True)
    return S3Object(key, response.get("ContentType", content_type), len(data), data)


def read_bucket(client, name: str, keys: frozenset[str], lifecycle: bool = False) -> Bucket | None:
    """Everything the S3 checks read about one bucket; None if it vanished since the listing.

    Lifecycle rules cost one more call per bucket, so they are read only when a check asks (`lifecycle`)."""
    try:
        website = optional(client.get_bucket_website, Bucket=name)
        policy_text = optional(client.get_bucket_policy, Bucket=name)
        versioning = client.get_bucket_versioning(Bucket=name)
        tagging = optional(client.get_bucket_tagging, Bucket=name)
        block = optional(client.get_public_access_block, Bucket=name)
        encryption = optional(client.get_bucket_encryption, Bucket=name)
        rules = optional(client.get_bucket_lifecycle_configuration, Bucket=name) if lifecycle else None
        objects = {key: read_object(client, name, key) for key in sorted(keys)}
    except ClientError as exc:
        if code_of(exc) == "NoSuchBucket":
            return None
        message = exc.response.get("Error", {}).get("Message", "")
        return Bucket(name=name, error=f"{exc.operation_name} failed: {code_of(exc)} {message}".strip())
    policy, policy_error = (None, None)
    if policy_text is not None:
        policy, policy_error = parse_policy(policy_text.get("Policy", ""))
    return Bucket(
        name=name,
        website=website_of(website),
        policy=policy,
        policy_error=policy_error,
        versioning=versioning.get("Status"),
        tags={t["Key"]: t["Value"] for t in tagging.get("TagSet", [])} if tagging else None,
        public_access_block=dict(block["PublicAccessBlockConfiguration"]) if block else None,
        encryption=(
            tuple(encryption["ServerSideEncryptionConfiguration"].get("Rules", []))
            if encryption
            else None
        ),
        lifecycle=tuple(rules.get("Rules", [])) if rules else None,
        objects=objects,
    )


def website_of(response: dict | None) -> Website | None:
    if response is None:
        return None
    redirect = response.get("RedirectAllRequestsTo")
    return Website(
        index=(response.get("IndexDocument") or {}).get("Suffix"),
        error=(response.get("ErrorDocument") or {}).get("Key"),
        redirect_all_to=redirect.get("HostName") if redirect else None,
    )


def collect_s3(request: CollectRequest) -> S3Snapshot:
    """List once, keep buckets the graded students own, read details of the buckets checks name."""
    client = s3_client(request)
    owned: dict[str, str] = {}
    for name in list_bucket_names(client, request.cohort):
        prefix = owner(name, request.prefixes)
        if prefix is not None:
            owned[name] = prefix

    named = {getattr(p, "bucket", None) for p in request.wanted}
    detail_all = None in named
    keys: dict[str, set[str]] = {}
    for params in request.wanted:
        for bucket, key in getattr(params, "objects", lambda: ())():
            keys.setdefault(bucket, set()).add(key)
    detailed = [n for n in owned if detail_all or n in named]
    lifecycle = any(getattr(p, "reads_lifecycle", False) for p in request.wanted)

    with ThreadPoolExecutor(max_workers=max(1, request.concurrency)) as pool:
        read = pool.map(lambda n: read_bucket(client, n, frozenset(keys.get(n, ())), lifecycle), detailed)
        details = dict(zip(detailed, read))

    by_prefix: dict[str, dict[str, Bucket]] = {p: {} for p in request.prefixes}
    for name, prefix in owned.items():
        bucket = details[name] if name in details else Bucket(name=name, detailed=False)
        if bucket is not None:
            by_prefix[prefix][name] = bucket
    return S3Snapshot({p: S3Inventory(buckets) for p, buckets in by_prefix.items()})
