"""S3: a student bucket may serve a public website, but nobody outside may write to it."""

from __future__ import annotations

from typing import Any, Iterator

from labctl.policies.model import PolicyResource, resource_rule
from labctl.policies.rules.iam import as_list, is_unevaluable, policy_statements

BUCKET_TYPES = frozenset({"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"})
ACL_TYPES = frozenset({"aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"})
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
READ_VERBS = ("get", "list", "head")


@resource_rule(
    "s3-no-public-acl",
    pack="isolation",
    description="Checks whether student S3 buckets block public ACLs and are never given a public ACL.",
    types=BUCKET_TYPES | ACL_TYPES | {PUBLIC_ACCESS_BLOCK},
)
def s3_no_public_acl(resource: PolicyResource, _config: Any) -> Iterator[str]:
    if resource.type == PUBLIC_ACCESS_BLOCK:
        off = [p for p in ("blockPublicAcls", "ignorePublicAcls") if resource.props.get(p) is not True]
        if off:
            yield f"{resource.type} {resource.name!r} must set {' and '.join(off)} to true."
        return
    acl = resource.props.get("acl")
    if isinstance(acl, str) and acl in PUBLIC_ACLS:
        yield f"{resource.type} {resource.name!r} must not use the public ACL {acl!r}."


def is_everyone(principal: Any) -> bool:
    """Principal `*` or `{"AWS": "*"}` (also inside a list): anyone on the internet."""
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(p == "*" for p in as_list(principal.get("AWS")))
    return False


def write_actions(actions: list[Any]) -> list[str]:
    """Actions that are not reads: anything but s3:Get*/List*/Head*."""
    writes = []
    for action in actions:
        if not isinstance(action, str):
            continue
        service, _, verb = action.partition(":")
        if action == "*" or service.lower() not in ("s3", "*") or not verb.lower().startswith(READ_VERBS):
            writes.append(action)
    return writes


@resource_rule(
    "s3-no-public-write",
    pack="isolation",
    description="Checks whether no S3 bucket policy grants anything but reads to principal '*'.",
    types=BUCKET_TYPES | {BUCKET_POLICY},
)
def s3_no_public_write(resource: PolicyResource, _config: Any) -> Iterator[str]:
    document = resource.props.get("policy")
    if is_unevaluable(document):
        return
    statements = policy_statements(document)
    if statements is None:
        yield f"{resource.type} {resource.name!r} must have a JSON bucket policy."
        return
    for statement in statements:
        if not isinstance(statement, dict) or str(statement.get("Effect", "Allow")) != "Allow":
            continue
        if not (is_everyone(statement.get("Principal")) or "NotPrincipal" in statement):
            continue
        if "NotAction" in statement:
            yield f"{resource.type} {resource.name!r} must not allow NotAction to principal '*'."
            continue
        writes = write_actions(as_list(statement.get("Action")))
        if writes:
            yield f"{resource.type} {resource.name!r} must not allow {', '.join(writes)} to principal '*'."


RULES = (s3_no_public_acl, s3_no_public_write)
