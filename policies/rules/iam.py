"""IAM: student credentials stay inside the student's sandbox.

A student who can write IAM (or assume roles) can grant themselves anything, and a student allowed a
mutating action on every resource (`Resource: "*"`) can touch the other students' resources: both
break isolation. `Resource: "*"` stays allowed for list/describe actions and for statements scoped
to the owner by a `StringEquals` condition on `aws:ResourceTag/labctl:student` or
`aws:RequestTag/labctl:student` (attribute-based access, as components/aws_policies.py does) —
except for tagging actions: a tag write conditioned only on the request's tags lets a student
re-tag another student's resource as their own, so it also needs the resource's own tag, an
untagged resource (`Null`) or a `*:CreateAction` condition.

The IAM actions a student may have are exactly those for roles their own code runs under (Lambda,
ECS): on roles `arn:aws:iam::*:role/<prefix>-*` only, the writes only with an
`iam:PermissionsBoundary` condition naming the student's own boundary `<prefix>-boundary`, and
`iam:PassRole` only with `iam:PassedToService` naming services.

A permissions boundary grants nothing: it is checked by `iam-boundary-denies-escalation`, not here.
A managed policy is a boundary when a user or role of the same stack names it as
`permissionsBoundary`, or — because in a plan that reference is `[unknown]` until the policy
exists — when it follows the AwsSandbox convention: named `<prefix>-boundary` under path
`/labctl/<cohort>/` and tagged for that student. A policy also attached as a grant (by a policy
attachment naming it, or `managedPolicyArns`) is a grant whatever its name. Every other managed
policy is a grant too: AwsSandbox's identity policies (`<prefix>-identity-<n>` under the same path,
attached to the user, since IAM caps an inline user policy at 2,048 characters) are checked exactly
as an inline policy would be.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any, Iterable, Iterator, Mapping

from pydantic import Field

from labctl.policies.aws_actions import (
    IAM_ROLE_OTHER_ACTIONS,
    IAM_ROLE_WRITE_ACTIONS,
    TAG_CHANGE_ACTIONS,
    UNCONDITIONAL_TAG_ACTIONS,
)
from labctl.policies.model import (
    TAG_COHORT,
    UNEVALUABLE,
    Finding,
    NoConfig,
    PolicyResource,
    RuleConfig,
    Stack,
    resource_rule,
    stack_rule,
)

# Resources whose `policy` input is an identity-based IAM policy document.
IDENTITY_POLICY_TYPES = frozenset(
    {
        "aws:iam/policy:Policy",
        "aws:iam/userPolicy:UserPolicy",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/groupPolicy:GroupPolicy",
    }
)
MANAGED_POLICY_TYPE = "aws:iam/policy:Policy"
ROLE_TYPE = "aws:iam/role:Role"
USER_TYPE = "aws:iam/user:User"
PRINCIPAL_TYPES = frozenset({USER_TYPE, ROLE_TYPE})
# Resources that attach a managed policy (by ARN in `policyArn`) as a grant.
ATTACHMENT_TYPES = frozenset(
    {
        "aws:iam/policyAttachment:PolicyAttachment",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    }
)
BOUNDARY_SUFFIX = "-boundary"

# Role actions for the student's own code, by what they need besides the role's name.
ROLE_WRITE_ACTIONS = frozenset(a.lower() for a in IAM_ROLE_WRITE_ACTIONS)
ROLE_OTHER_ACTIONS = frozenset(a.lower() for a in IAM_ROLE_OTHER_ACTIONS)
PASS_ROLE = "iam:passrole"
TAGGING_VERBS = (
    "tag",
    "untag",
    "createtags",
    "deletetags",
    "putbuckettagging",
    "deletebuckettagging",
    "addtags",
    "removetags",
)


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


def tagging_verb(action: str) -> bool:
    """An action that writes or removes tags (`sqs:TagQueue`, `ec2:CreateTags`, `sns:UntagResource`,
    `rds:AddTagsToResource`)."""
    verb = action.split(":", 1)[1].lower() if ":" in action else ""
    return verb.startswith(TAGGING_VERBS) or verb == "*"


def read_only_verb(action: str) -> bool:
    """An action whose verb only lists or describes (wildcards included: `ec2:Describe*`)."""
    verb = action.split(":", 1)[1].lower() if ":" in action else ""
    return verb.startswith(("list", "describe"))


class WildcardConfig(RuleConfig):
    forbidden_services: list[str] = Field(
        default=["iam", "organizations", "account", "sts", "sso"], alias="forbiddenServices"
    )


OWNER_CONDITION_KEYS = ("aws:resourcetag/labctl:student", "aws:requesttag/labctl:student")


def condition_clauses(statement: dict[str, Any], operator: str) -> dict[str, Any]:
    """The clauses of one condition operator, keys lowercased (IAM condition keys are case-insensitive)."""
    condition = statement.get("Condition")
    clauses = condition.get(operator) if isinstance(condition, dict) else None
    return {k.lower(): v for k, v in clauses.items() if isinstance(k, str)} if isinstance(clauses, dict) else {}


def pinned(value: Any, wanted: str | None = None) -> str | None:
    """The single string a condition value pins (and equal to `wanted`, when given); else None."""
    values = as_list(value)
    if len(values) == 1 and isinstance(values[0], str) and values[0] in (wanted or values[0],):
        return values[0]
    return None


def scoped_to_owner(statement: dict[str, Any], student: str | None, keys: Iterable[str] = OWNER_CONDITION_KEYS) -> bool:
    """True when a StringEquals condition pins the labctl:student tag to one student (this one, if known)."""
    clauses = condition_clauses(statement, "StringEquals")
    return any(key in clauses and pinned(clauses[key], student) for key in keys)


def tagging_scoped_to_owner(statement: dict[str, Any], student: str | None) -> bool:
    """Tag writes on `*` need more than the request's tags: the resource must already be the owner's,
    be untagged (`Null` on its labctl:student tag), or the write must be part of a create call."""
    if scoped_to_owner(statement, student, ("aws:resourcetag/labctl:student",)):
        return True
    if not scoped_to_owner(statement, student, ("aws:requesttag/labctl:student",)):
        return False
    untagged = condition_clauses(statement, "Null").get("aws:resourcetag/labctl:student")
    creating = any(k.endswith(":createaction") for k in condition_clauses(statement, "StringEquals"))
    return pinned(untagged, "true") is not None or creating


def own_role_arn(arn: Any, prefix: str) -> bool:
    """`arn:aws:iam::<account or *>:role/<prefix>-…`, with at most a trailing `*`."""
    match = re.fullmatch(r"arn:aws:iam::(?:\d{12}|\*):role/(.+)", arn) if isinstance(arn, str) else None
    if not match:
        return False
    name = match.group(1)
    return name.startswith(f"{prefix}-") and "*" not in name[:-1] and "?" not in name and "/" not in name


def own_boundary_arn(arn: Any, prefix: str) -> bool:
    """`arn:aws:iam::<account, * or ${aws:PrincipalAccount}>:policy/<path>/<prefix>-boundary`, no other wildcard."""
    if not isinstance(arn, str):
        return False
    match = re.fullmatch(r"arn:aws:iam::(?:\d{12}|\*|\$\{aws:PrincipalAccount\}):policy/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)", arn)
    return bool(match) and match.group(1) == f"{prefix}{BOUNDARY_SUFFIX}"


def role_action_problem(action: str, statement: dict[str, Any], prefix: str | None) -> str | None:
    """Why an IAM action in this statement is not one of the student's legitimate role actions (None if it is)."""
    name = action.lower()
    if name not in ROLE_WRITE_ACTIONS | ROLE_OTHER_ACTIONS | {PASS_ROLE}:
        return "iam actions are forbidden to students"
    if prefix is None:
        return "the student's prefix is unknown, so its roles cannot be told apart"
    resources = as_list(statement.get("Resource"))
    if "NotResource" in statement or not resources or not all(own_role_arn(r, prefix) for r in resources):
        return f"role actions are allowed only on roles arn:aws:iam::*:role/{prefix}-*"
    if name in ROLE_WRITE_ACTIONS:
        boundaries = [
            condition_clauses(statement, operator).get("iam:permissionsboundary")
            for operator in ("StringEquals", "StringLike", "ArnEquals", "ArnLike")
        ]
        values = [v for value in boundaries if value is not None for v in as_list(value)]
        if not values or not all(own_boundary_arn(v, prefix) for v in values):
            return f"role writes need an iam:PermissionsBoundary condition naming {prefix}{BOUNDARY_SUFFIX}"
    if name == PASS_ROLE:
        services = [
            v
            for operator in ("StringEquals", "StringLike")
            for value in [condition_clauses(statement, operator).get("iam:passedtoservice")]
            if value is not None
            for v in as_list(value)
        ]
        if not services or not all(isinstance(s, str) and s and "*" not in s and "?" not in s for s in services):
            return "iam:PassRole needs an iam:PassedToService condition naming the services"
    return None


def statement_problems(
    statement: Any, config: WildcardConfig, student: str | None = None, prefix: str | None = None
) -> Iterator[str]:
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
        elif service == "iam" and "iam" in forbidden:
            problem = role_action_problem(action, statement, prefix)
            if problem:
                yield f"allow {action}{sid}: {problem}"
        elif service in forbidden or service == "*":
            yield f"allow {action}{sid}: {service} actions are forbidden to students"
    resources = as_list(statement.get("Resource"))
    on_everything = "NotResource" in statement or any(wildcard_resource(r) for r in resources)
    if on_everything and scoped_to_owner(statement, student):
        retagging = [a for a in actions if tagging_verb(a) and a.split(":", 1)[0].lower() not in forbidden]
        if retagging and not tagging_scoped_to_owner(statement, student):
            yield (
                f"allow {', '.join(retagging)} on every resource{sid} conditioned only on the request's tags: "
                "a student could re-tag another student's resource as their own (also condition on "
                "aws:ResourceTag/labctl:student, a Null resource tag or a CreateAction)"
            )
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


def known(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and value not in UNEVALUABLE


def policy_arn_suffix(policy: PolicyResource) -> str | None:
    """`:policy/<path>/<name>`, how every ARN of this managed policy ends; None if the name is unknown."""
    name, path = policy.props.get("name"), policy.props.get("path") or "/"
    if not known(name) or not known(path):
        return None
    return f":policy{path}{name}"


def boundary_by_convention(policy: PolicyResource) -> bool:
    """AwsSandbox's boundary: `<prefix>-boundary` under `/labctl/<cohort>/`, tagged for that student."""
    cohort = policy.tags.get(TAG_COHORT)
    return (
        policy.prefix is not None
        and known(cohort)
        and policy.props.get("name") == f"{policy.prefix}{BOUNDARY_SUFFIX}"
        and policy.props.get("path") == f"/labctl/{cohort}/"
    )


def boundary_policies(stack: Stack) -> set[str]:
    """URNs of the managed policies that act as permissions boundaries in this stack (see the module)."""
    referenced, granted = [], []
    for resource in stack.resources:
        if resource.type in PRINCIPAL_TYPES:
            referenced.append(resource.props.get("permissionsBoundary"))
            granted += as_list(resource.props.get("managedPolicyArns"))
        elif resource.type in ATTACHMENT_TYPES:
            granted.append(resource.props.get("policyArn"))
    referenced = [r for r in referenced if known(r)]
    granted = [g for g in granted if known(g)]
    boundaries = set()
    for resource in stack.resources:
        suffix = policy_arn_suffix(resource) if resource.type == MANAGED_POLICY_TYPE else None
        if suffix is None or any(g.endswith(suffix) for g in granted):
            continue
        if any(r.endswith(suffix) for r in referenced) or boundary_by_convention(resource):
            boundaries.add(resource.urn)
    return boundaries


def shared_identity(resource: PolicyResource, boundaries: set[str]) -> bool:
    """A student's identity policy or role in a shared account: not a boundary, not in their own account."""
    return (resource.type in IDENTITY_POLICY_TYPES | {ROLE_TYPE} and resource.urn not in boundaries
            and not resource.in_student_account)


def owner_prefix(resource: PolicyResource, stack: Stack) -> str | None:
    """The prefix of the policy's owner: its own, else that of the user or role it is inline in."""
    if resource.prefix:
        return resource.prefix
    holder_type = {"aws:iam/userPolicy:UserPolicy": USER_TYPE, "aws:iam/rolePolicy:RolePolicy": ROLE_TYPE}
    wanted = holder_type.get(resource.type)
    holder = resource.props.get("user" if wanted == USER_TYPE else "role")
    for other in stack.resources:
        if wanted and other.type == wanted and known(holder) and other.props.get("name") == holder:
            return other.prefix
    return None


@stack_rule(
    "iam-no-wildcards",
    pack="isolation",
    description="Checks whether student IAM policies (not permissions boundaries) avoid Action '*', "
    "IAM/Organizations/account actions other than the student's own role actions, non-list actions "
    "on Resource '*', and tag writes on '*' conditioned only on the request's tags.",
    config=WildcardConfig,
)
def iam_no_wildcards(stack: Stack, config: WildcardConfig) -> Iterator[Finding]:
    boundaries = boundary_policies(stack)
    for resource in stack.resources:
        if not shared_identity(resource, boundaries):
            continue
        prefix = owner_prefix(resource, stack)
        for label, document in documents(resource):
            if is_unevaluable(document):
                continue
            statements = policy_statements(document)
            if statements is None:
                yield Finding(f"{resource.type} {resource.name!r} must have a JSON policy document as its {label}.", resource)
                continue
            for statement in statements:
                for problem in statement_problems(statement, config, resource.student, prefix):
                    yield Finding(f"{resource.type} {resource.name!r} {label} must not {problem}.", resource)


def covers(patterns: Iterable[Any], action: str) -> bool:
    return any(isinstance(p, str) and fnmatchcase(action.lower(), p.lower()) for p in patterns)


def deny_statements(statements: list[Any], action: str) -> Iterator[dict[str, Any]]:
    """The Deny statements whose actions cover `action`, on whatever resources."""
    for statement in statements:
        if isinstance(statement, dict) and statement.get("Effect") == "Deny" and covers(as_list(statement.get("Action")), action):
            yield statement


def denies(statements: list[Any], action: str, when: Mapping[str, Any] | None = None) -> bool:
    """True when a Deny statement on every resource covers `action` unconditionally, or (with `when`,
    an operator and key that must be among its conditions) under that condition."""
    for statement in deny_statements(statements, action):
        if "*" not in as_list(statement.get("Resource")):
            continue
        condition = statement.get("Condition")
        if not condition:
            return True
        if when is not None and isinstance(condition, dict):
            operator, key, value = when["operator"], when["key"], when["value"]
            clauses = condition_clauses(statement, operator)
            if any(isinstance(v, str) and fnmatchcase(value, v) for v in as_list(clauses.get(key.lower()))):
                return True
    return False


LABCTL_TAG_KEY_CONDITION = {"operator": "ForAnyValue:StringLike", "key": "aws:TagKeys", "value": "labctl:student"}


class BoundaryDeniesConfig(RuleConfig):
    required_denied_actions: list[str] = Field(
        default=[
            "iam:CreateUser",
            "iam:CreateAccessKey",
            "iam:CreateLoginProfile",
            "iam:PutUserPolicy",
            "iam:AttachUserPolicy",
            "iam:AddUserToGroup",
            "iam:PutUserPermissionsBoundary",
            "iam:DeleteUserPermissionsBoundary",
            "iam:DeleteRolePermissionsBoundary",
            "iam:CreatePolicy",
            "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion",
            "iam:DeletePolicy",
        ],
        alias="requiredDeniedActions",
    )


def allowed_services(statements: list[Any]) -> set[str]:
    """The services a document allows actions of (every known one for `*`)."""
    services: set[str] = set()
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect", "Allow") != "Allow":
            continue
        for action in as_list(statement.get("Action")):
            if not isinstance(action, str):
                continue
            service = action.split(":", 1)[0].lower() if ":" in action else "*"
            services |= set(TAG_CHANGE_ACTIONS) if service == "*" else {service}
    return services


@stack_rule(
    "iam-boundary-denies-escalation",
    pack="isolation",
    description="Checks whether every student permissions boundary denies IAM user/policy/boundary "
    "self-management outright and changes to labctl:* tags on every tagging API it lets through.",
    config=BoundaryDeniesConfig,
)
def iam_boundary_denies_escalation(stack: Stack, config: BoundaryDeniesConfig) -> Iterator[Finding]:
    boundaries = boundary_policies(stack)
    for resource in stack.resources:
        if resource.urn not in boundaries:
            continue
        who = f"{resource.type} {resource.name!r} (a permissions boundary)"
        document = resource.props.get("policy")
        if is_unevaluable(document):
            continue
        statements = policy_statements(document)
        if statements is None:
            yield Finding(f"{who} must have a JSON policy document as its policy.", resource)
            continue
        missing = [a for a in config.required_denied_actions if not denies(statements, a)]
        if missing:
            yield Finding(f"{who} must deny {', '.join(missing)} on every resource, unconditionally.", resource)
        let_through = [
            action for service in sorted(allowed_services(statements) & set(TAG_CHANGE_ACTIONS))
            for action in TAG_CHANGE_ACTIONS[service]
        ]
        tagging = [
            action for action in let_through
            if action not in UNCONDITIONAL_TAG_ACTIONS and not denies(statements, action, LABCTL_TAG_KEY_CONDITION)
        ]
        if tagging:
            yield Finding(
                f"{who} must deny {', '.join(tagging)} when aws:TagKeys has a labctl:* key "
                "(ForAnyValue:StringLike), so the student cannot disown or take over a resource.",
                resource,
            )
        keyless = [a for a in let_through if a in UNCONDITIONAL_TAG_ACTIONS and not denies(statements, a)]
        if keyless:
            yield Finding(
                f"{who} must deny {', '.join(keyless)} on every resource, unconditionally: its requests carry no "
                "tag keys a condition could check.",
                resource,
            )


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
    if boundary in UNEVALUABLE or resource.in_student_account:  # see policies.rules.account
        return
    if not isinstance(boundary, str) or not boundary:
        yield f"{resource.type} {resource.name!r} must have a permissionsBoundary."
    elif config.boundary_arn_contains and config.boundary_arn_contains not in boundary:
        yield (
            f"{resource.type} {resource.name!r} must have a permissionsBoundary containing "
            f"{config.boundary_arn_contains!r} (it is {boundary!r})."
        )


def trust_problems(document: Any) -> Iterator[str]:
    """What a student role's trust policy must not name: any principal but an AWS service."""
    for statement in policy_statements(document) or []:
        if not isinstance(statement, dict) or statement.get("Effect", "Allow") != "Allow":
            continue
        if "NotPrincipal" in statement:
            yield "NotPrincipal"
        principal = statement.get("Principal")
        if not isinstance(principal, dict):
            yield f"principal {principal!r}"
            continue
        for kind, names in principal.items():
            if kind != "Service":
                yield f"{kind} principal {', '.join(map(str, as_list(names)))}"


@resource_rule(
    "iam-role-trusts-services-only",
    pack="isolation",
    description="Checks whether every student IAM role may be assumed only by AWS services (no account, "
    "user, role, federated or '*' principal): no IAM condition key can limit what a trust policy names.",
    types={ROLE_TYPE},
)
def iam_role_trusts_services_only(resource: PolicyResource, config: NoConfig) -> Iterator[str]:
    document = resource.props.get("assumeRolePolicy")
    # In their own account labctl's roles trust the management account, by design.
    if resource.student is None or resource.in_student_account or is_unevaluable(document):
        return
    if policy_statements(document) is None:
        yield f"{resource.type} {resource.name!r} must have a JSON trust policy as its assumeRolePolicy."
        return
    for problem in trust_problems(document):
        yield (
            f"{resource.type} {resource.name!r} must be assumable only by AWS services, not by {problem}: "
            "a trust policy naming an account or user is a way into the student's sandbox from outside it."
        )


# Reads that AWS authorises only on `*` and that return other principals' secrets: every function's
# environment variables, every task definition's container environment and secrets.
SECRET_READS = ("lambda:ListFunctions", "ecs:DescribeTaskDefinition")


@stack_rule(
    "iam-no-account-wide-secret-reads",
    pack="isolation",
    description="Checks whether student IAM policies avoid reads on every resource that return other "
    "students' secrets (lambda:ListFunctions, ecs:DescribeTaskDefinition on '*').",
    enforcement="advisory",
)
def iam_no_account_wide_secret_reads(stack: Stack, config: NoConfig) -> Iterator[Finding]:
    boundaries = boundary_policies(stack)
    for resource in stack.resources:
        if not shared_identity(resource, boundaries):
            continue
        for label, document in documents(resource):
            statements = None if is_unevaluable(document) else policy_statements(document)
            for statement in statements or []:
                if not isinstance(statement, dict) or statement.get("Effect", "Allow") != "Allow":
                    continue
                resources = as_list(statement.get("Resource"))
                if "NotResource" not in statement and not any(wildcard_resource(r) for r in resources):
                    continue
                reads = [a for a in SECRET_READS if covers(as_list(statement.get("Action")), a)]
                if reads:
                    yield Finding(
                        f"{resource.type} {resource.name!r} {label} must not allow {', '.join(reads)} on every "
                        "resource: it returns other students' function environments or container secrets "
                        "(grant GetFunction / DescribeTaskDefinition on the student's own ARNs).",
                        resource,
                    )


RULES = (
    iam_no_wildcards,
    iam_boundary_denies_escalation,
    iam_permissions_boundary,
    iam_role_trusts_services_only,
    iam_no_account_wide_secret_reads,
)
