"""Collect a cohort's IAM roles once: one paginated ListRoles, then bounded policy reads per named role.

IAM is global and ListRoles cannot filter by name, so the listing covers the account once per
cohort; only roles a graded student's prefix owns are kept, and only those a check names have their
inline policies (at most MAX_POLICIES) and attached policies' default versions read.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

from botocore.exceptions import ClientError

from labctl.validators.collectors.aws_common import aws_client, code_of, failure, named, pages, partition
from labctl.validators.collectors.base import CollectRequest
from labctl.validators.inventory.iam import MAX_POLICIES, IamInventory, IamSnapshot, Role


def document(value) -> dict | None:
    """A policy document as boto3 returns it (already a dict) or as URL-encoded JSON text."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            parsed = json.loads(unquote(value))
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def read_role(client, name: str, listed: dict) -> Role | None:
    try:
        inline_names = client.list_role_policies(RoleName=name, MaxItems=MAX_POLICIES)
        inline = {
            policy: document(client.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]) or {}
            for policy in inline_names.get("PolicyNames", [])[:MAX_POLICIES]
        }
        attached_page = client.list_attached_role_policies(RoleName=name, MaxItems=MAX_POLICIES)
        attached: dict[str, dict | None] = {}
        for item in attached_page.get("AttachedPolicies", [])[:MAX_POLICIES]:
            attached[item["PolicyArn"]] = managed_document(client, item["PolicyArn"])
    except ClientError as exc:
        if code_of(exc) == "NoSuchEntity":
            return None
        return Role(name=name, arn=listed.get("Arn", ""), error=failure(exc))
    return Role(
        name=name,
        arn=listed.get("Arn", ""),
        trust=document(listed.get("AssumeRolePolicyDocument")),
        inline=inline,
        attached=attached,
        truncated=bool(inline_names.get("IsTruncated") or attached_page.get("IsTruncated")),
    )


def managed_document(client, arn: str) -> dict | None:
    """The default version's document of a managed policy; None when it cannot be read."""
    try:
        policy = client.get_policy(PolicyArn=arn)["Policy"]
        version = client.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
    except ClientError:
        return None
    return document(version["PolicyVersion"].get("Document"))


def collect_iam(request: CollectRequest) -> IamSnapshot:
    client = aws_client(request, "iam")
    # A role under a path is nobody's lab role: students may only create roles at the root path, and a
    # pathed role named like another student's must not be graded as theirs.
    listed = {r["RoleName"]: r for r in pages(client.list_roles, "Roles", "Marker", "Marker") if r.get("Path", "/") == "/"}
    by_prefix = partition(
        request,
        listed,
        named(request, "role"),
        lambda name, summary: read_role(client, name, summary),
        lambda name, summary: Role(name=name, arn=summary.get("Arn", ""), detailed=False),
    )
    return IamSnapshot({p: IamInventory(roles) for p, roles in by_prefix.items()})
