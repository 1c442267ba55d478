"""IAM: student credentials stay inside the student's sandbox.

A student who can write IAM (or assume roles) can grant themselves anything, and a student allowed a
mutating action on every resource (`Resource: "*"`) can touch the other students' resources: both
break isolation. `Resource: "*"` stays allowed for list/describe actions and for statements scoped
to the owner by a `StringEquals` condition on `aws:ResourceTag/labctl:student` or
`aws:RequestTag/labctl:student` (attribute-based access, as components/aws_policies.py does).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

from pydantic import Field

from policies.model import UNEVALUABLE, PolicyResource, RuleConfig, resource_rule

# Resources whose `policy` input is an identity-based IAM policy document.
IDENTITY_POLICY_TYPES = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
ROLE_TYPE = "aws:iam/role:Role"
PRINCIPAL_TYPES = frozenset({"aws:iam/user:User", ROLE_TYPE})


def as_list(value: Any) -> list[Any]:
    """IAM allows a single value or a list wherever a list is meant."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_statements(document: Any) -> list[Any] | None:
    """The statements of a policy document (a JSON string or a dict); None when it is not one."""
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, dict):
        return None
    statements = as_list(document.get("Statement"))
    return statements


def is_unevaluable(document: Any) -> bool:
    """Secrets and values unknown at preview cannot be read: not a violation, nothing to check."""
    return document is None or document in UNEVALUABLE


def wildcard_resource(resource: Any) -> bool:
    """`*`, or an ARN whose resource part is `*` (all of a service's resources in every account)."""
    if not isinstance(resource, str):
        return False
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    return len(parts) == 6 and parts[0] == "arn" and parts[5] == "*"


def read_only_verb(action: str) -> bool:
    """An action whose verb only lists or describes (wildcards included: `ec2:Describe*`)."""
    verb = action.split(":", 1)[1].lower() if ":" in action else ""
    return verb.startswith(("list", "describe"))


class WildcardConfig(RuleConfig):
    forbidden_services: list[str] = Field(
        default=["iam", "organizations", "account", "sts", "sso"], alias="forbiddenServices"
    )


OWNER_CONDITION_KEYS = ("aws:resourcetag/labctl:student", "aws:requesttag/labctl:student")


def scoped_to_owner(statement: dict[str, Any], student: str | None) -> bool:
    """True when a StringEquals condition pins the labctl:student tag to one student (this one, if known)."""
    condition = statement.get("Condition")
    clauses = condition.get("StringEquals") if isinstance(condition, dict) else None
    if not isinstance(clauses, dict):
        return False
    for key, value in clauses.items():
        if isinstance(key, str) and key.lower() in OWNER_CONDITION_KEYS:
            values = as_list(value)
            if len(values) == 1 and isinstance(values[0], str) and values[0] in (student or values[0],):
                return True
    return False


def statement_problems(statement: Any, config: WildcardConfig, student: str | None = None) -> Iterator[str]:
    """What an Allow statement must not do, as phrases completing "must not …"."""
    if not isinstance(statement, dict):
        yield "contain a statement that is not an object"
        return
    if str(statement.get("Effect", "Allow")) != "Allow":
        return
    sid = f" (statement {statement['Sid']!r})" if isinstance(statement.get("Sid"), str) else ""
    if "NotAction" in statement:
        yield f"allow NotAction{sid}: it grants every action not listed"
    actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
    forbidden = {s.lower() for s in config.forbidden_services}
    for action in actions:
        service = action.split(":", 1)[0].lower() if ":" in action else ""
        if action == "*" or action == "*:*":
            yield f"allow Action '*'{sid}"
        elif service in forbidden or service == "*":
            yield f"allow {action}{sid}: {service} actions are forbidden to students"
    resources = as_list(statement.get("Resource"))
    on_everything = "NotResource" in statement or any(wildcard_resource(r) for r in resources)
    if on_everything and not scoped_to_owner(statement, student):
        mutating = [
            a for a in actions if a not in ("*", "*:*") and a.split(":", 1)[0].lower() not in forbidden
            and not read_only_verb(a)
        ]
        if mutating:
            yield (
                f"allow {', '.join(mutating)} on every resource{sid}: only List*/Describe* actions, or "
                "statements conditioned on the owner's labctl:student tag, may use Resource '*'"
            )


def documents(resource: PolicyResource) -> Iterator[tuple[str, Any]]:
    """(label, document) for each identity policy document a resource carries."""
    if resource.type in IDENTITY_POLICY_TYPES:
        yield "policy", resource.props.get("policy")
    if resource.type == ROLE_TYPE:
        for inline in as_list(resource.props.get("inlinePolicies")):
            if isinstance(inline, dict):
                yield f"inline policy {inline.get('name')!r}", inline.get("policy")


@resource_rule(
    "iam-no-wildcards",
    pack="isolation",
    description="Checks whether student IAM policies avoid Action '*', IAM/Organizations/account "
    "actions, and non-list actions on Resource '*'.",
    types=IDENTITY_POLICY_TYPES | {ROLE_TYPE},
    config=WildcardConfig,
)
def iam_no_wildcards(resource: PolicyResource, config: WildcardConfig) -> Iterator[str]:
    for label, document in documents(resource):
        if is_unevaluable(document):
            continue
        statements = policy_statements(document)
        if statements is None:
            yield f"{resource.type} {resource.name!r} must have a JSON policy document as its {label}."
            continue
        for statement in statements:
            for problem in statement_problems(statement, config, resource.student):
                yield f"{resource.type} {resource.name!r} {label} must not {problem}."


class BoundaryConfig(RuleConfig):
    boundary_arn_contains: str | None = Field(default=None, alias="boundaryArnContains")


@resource_rule(
    "iam-permissions-boundary",
    pack="isolation",
    description="Checks whether every student IAM user and role has a permissions boundary.",
    types=PRINCIPAL_TYPES,
    config=BoundaryConfig,
)
def iam_permissions_boundary(resource: PolicyResource, config: BoundaryConfig) -> Iterator[str]:
    boundary = resource.props.get("permissionsBoundary")
    if boundary in UNEVALUABLE:
        return
    if not isinstance(boundary, str) or not boundary:
        yield f"{resource.type} {resource.name!r} must have a permissionsBoundary."
    elif config.boundary_arn_contains and config.boundary_arn_contains not in boundary:
        yield (
            f"{resource.type} {resource.name!r} must have a permissionsBoundary containing "
            f"{config.boundary_arn_contains!r} (it is {boundary!r})."
        )


RULES = (iam_no_wildcards, iam_permissions_boundary)
