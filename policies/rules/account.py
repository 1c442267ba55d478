"""Isolation mode `account`: the student's role in their own account must carry labctl's boundary.

There the student has broad rights (AdministratorAccess) and trusts the management account by design,
so the shared-account IAM rules do not judge labctl's in-account roles (`PolicyResource.in_student_account`).
What isolates instead is the cohort's SCPs (`policies.rules.scp`) and this boundary: it must protect
labctl's own roles, keep itself from being removed, and make every role or user the student creates
carry it too — else the student could mint an unbounded role and, through it, touch labctl's roles,
budget or CloudTrail wherever an SCP exempts nothing.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from labctl.cohorts.accounts import LABCTL_PATH, STUDENT_BOUNDARY, STUDENT_ROLE
from labctl.policies.model import UNEVALUABLE, Finding, PolicyResource, Stack, stack_rule

ROLE_TYPE = "aws:iam/role:Role"
POLICY_TYPE = "aws:iam/policy:Policy"
PROTECTED_ROLES = f":role{LABCTL_PATH}*"
REQUIRED_DENIALS = {
    "deny every IAM action on labctl's roles (role/labctl/*)": lambda s: covers(s, "iam:DeleteRole") and any(
        str(r).endswith(PROTECTED_ROLES) for r in as_list(s.get("Resource"))),
    "deny removing a permissions boundary, on every resource": lambda s: covers(
        s, "iam:DeleteRolePermissionsBoundary") and covers(s, "iam:DeleteUserPermissionsBoundary")
    and not s.get("Condition") and "*" in as_list(s.get("Resource")),
    "deny creating a role or user without this boundary (iam:PermissionsBoundary)": lambda s: covers(
        s, "iam:CreateRole") and covers(s, "iam:CreateUser") and boundary_condition(s),
}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value] if value is not None else []


def covers(statement: dict, action: str) -> bool:
    service = action.split(":", 1)[0]
    return any(p in ("*", action, f"{service}:*") for p in as_list(statement.get("Action")))


def boundary_condition(statement: dict) -> bool:
    block = (statement.get("Condition") or {}).get("StringNotEquals") or {}
    return isinstance(block, dict) and any(
        str(arn).endswith(f":policy{LABCTL_PATH}{STUDENT_BOUNDARY}") for arn in as_list(block.get("iam:PermissionsBoundary")))


def denials(policy: PolicyResource) -> list[dict]:
    try:
        document = json.loads(policy.props.get("policy") or "{}")
    except (TypeError, ValueError):
        return []
    found = document.get("Statement", []) if isinstance(document, dict) else []
    return [s for s in as_list(found) if isinstance(s, dict) and s.get("Effect") == "Deny"]


def boundary_gaps(policy: PolicyResource) -> Iterator[str]:
    if policy.props.get("policy") in UNEVALUABLE:
        return
    found = denials(policy)
    for what, present in REQUIRED_DENIALS.items():
        if not any(present(s) for s in found):
            yield what


@stack_rule(
    "account-student-role-boundary",
    pack="isolation",
    description="Checks whether the student's role in their own account (isolation mode `account`) carries "
    "labctl's permissions boundary, and whether that boundary protects labctl's roles, keeps boundaries "
    "on and makes every role or user the student creates carry it.",
)
def account_student_role_boundary(stack: Stack, _config: Any) -> Iterator[Finding]:
    own = [r for r in stack.resources if r.in_student_account]
    boundaries = {r.student: r for r in own if r.type == POLICY_TYPE and r.props.get("name") == STUDENT_BOUNDARY}
    for role in own:
        if role.type != ROLE_TYPE or role.props.get("name") != STUDENT_ROLE:
            continue
        who = f"{ROLE_TYPE} {role.name!r} (the student's role in their own account)"
        arn = role.props.get("permissionsBoundary")
        if not isinstance(arn, str) or not arn:
            yield Finding(f"{who} must carry the permissions boundary {STUDENT_BOUNDARY}.", role)
            continue
        if arn not in UNEVALUABLE and not arn.endswith(f":policy{LABCTL_PATH}{STUDENT_BOUNDARY}"):
            yield Finding(f"{who} must carry the permissions boundary {STUDENT_BOUNDARY} (it has {arn!r}).", role)
        boundary = boundaries.get(role.student)
        if boundary is None:
            yield Finding(f"{who} must have its boundary {STUDENT_BOUNDARY} beside it in the account.", role)
            continue
        for gap in boundary_gaps(boundary):
            yield Finding(f"{POLICY_TYPE} {boundary.name!r} ({STUDENT_BOUNDARY}) must {gap}.", boundary)


RULES = (account_student_role_boundary,)
