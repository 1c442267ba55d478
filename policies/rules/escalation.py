"""IAM privilege escalation: every published method a student's boundary must block.

The catalog follows the published AWS IAM privilege-escalation methods (Rhino Security Labs' list and
its successors): each `Escalation` names the actions an attacker needs, when the method is reachable
(what the boundary lets through) and what in the boundary blocks it. The rule
`iam-boundary-blocks-escalation` checks every student permissions boundary against the catalog, so a
boundary missing one of those statements is a mandatory violation; platform engineers get the same
check on their own IAM through `labctl policy check`.

Why the boundary and not the identity policy: a student's roles run with policies the student writes,
capped by the boundary alone (AWS's delegation pattern), and within one account a resource policy
that names the student's user grants even where the boundary is silent; only the boundary's explicit
Deny statements hold in both cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterator

from policies.aws_actions import IAM_ROLE_WRITE_ACTIONS, RESOURCE_POLICY_SERVICES
from policies.model import UNEVALUABLE, Finding, NoConfig, Stack, stack_rule
from policies.rules.iam import (
    as_list,
    boundary_policies,
    condition_clauses,
    covers,
    denies,
    own_boundary_arn,
    policy_statements,
    wildcard_resource,
)

# A request's ARNs as the checks probe them: any account, a role under a path, a peer's resources.
SAMPLE_ACCOUNT = "123456789012"
PATHED_ROLE = f"arn:aws:iam::{SAMPLE_ACCOUNT}:role/{{prefix}}-x/someone-else"
PEER_RESOURCE = {
    "s3": "arn:aws:s3:::zz-peer-bucket/key",
    "sqs": f"arn:aws:sqs:us-east-1:{SAMPLE_ACCOUNT}:zz-peer-queue",
    "sns": f"arn:aws:sns:us-east-1:{SAMPLE_ACCOUNT}:zz-peer-topic",
    "lambda": f"arn:aws:lambda:us-east-1:{SAMPLE_ACCOUNT}:function:zz-peer-fn",
    "dynamodb": f"arn:aws:dynamodb:us-east-1:{SAMPLE_ACCOUNT}:table/zz-peer-table",
}


def allowed(statements: list[Any], need: str) -> bool:
    """An Allow statement's action and the pattern `need` overlap (either one covers the other)."""
    return any(
        isinstance(s, dict)
        and s.get("Effect") == "Allow"
        and any(
            isinstance(a, str) and (fnmatchcase(a.lower(), need.lower()) or fnmatchcase(need.lower(), a.lower()))
            for a in as_list(s.get("Action"))
        )
        for s in statements
    )


def deny_statements(statements: list[Any], action: str) -> Iterator[dict[str, Any]]:
    for statement in statements:
        if isinstance(statement, dict) and statement.get("Effect") == "Deny" and covers(as_list(statement.get("Action")), action):
            yield statement


def denied_unless_own_boundary(statements: list[Any], action: str, prefix: str) -> bool:
    """A Deny on every resource of `action` whenever iam:PermissionsBoundary is not the student's own."""
    for statement in deny_statements(statements, action):
        if "*" not in as_list(statement.get("Resource")):
            continue
        for operator in ("StringNotEquals", "ArnNotEquals"):
            values = as_list(condition_clauses(statement, operator).get("iam:permissionsboundary"))
            if values and all(own_boundary_arn(v, prefix) for v in values):
                return True
    return False


def denied_on(statements: list[Any], action: str, resource: str) -> bool:
    """An unconditional Deny of `action` whose Resource covers `resource`."""
    return any(
        not statement.get("Condition") and any(isinstance(r, str) and fnmatchcase(resource, r) for r in as_list(statement.get("Resource")))
        for statement in deny_statements(statements, action)
    )


def attach_limited(statements: list[Any]) -> bool:
    """AttachRolePolicy denied outright, or unless iam:PolicyARN is one of a list of exact ARNs."""
    if denies(statements, "iam:AttachRolePolicy"):
        return True
    for statement in deny_statements(statements, "iam:AttachRolePolicy"):
        for operator in ("ArnNotEquals", "StringNotEquals"):
            values = as_list(condition_clauses(statement, operator).get("iam:policyarn"))
            if values and all(isinstance(v, str) and "*" not in v and "?" not in v for v in values):
                return True
    return False


def pass_role_limited(statements: list[Any]) -> bool:
    """Every Allow of iam:PassRole names the services it may pass to, exactly."""
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        if not covers(as_list(statement.get("Action")), "iam:PassRole"):
            continue
        services = as_list(condition_clauses(statement, "StringEquals").get("iam:passedtoservice"))
        if not services or not all(isinstance(s, str) and "*" not in s and "?" not in s for s in services):
            return False
    return True


def outside_own_denied(statements: list[Any], service: str) -> bool:
    """Every `<service>` action denied outright, or with `NotResource` naming only the student's own
    resources (no wildcard resource), so a peer's resource ends up denied."""
    if denies(statements, f"{service}:*"):
        return True
    for statement in deny_statements(statements, f"{service}:*"):
        own = as_list(statement.get("NotResource"))
        if own and not any(wildcard_resource(r) for r in own):
            if not any(isinstance(r, str) and fnmatchcase(PEER_RESOURCE[service], r) for r in own):
                return True
    return False


@dataclass(frozen=True)
class Escalation:
    """A published escalation method: reachable when the boundary allows `needs`, blocked when `blocked`."""

    method: str
    needs: tuple[str, ...]
    blocked: Callable[[list[Any], str], bool]
    blocker: str

    def reachable(self, statements: list[Any]) -> bool:
        """No `needs`: the boundary must block the method whatever it allows (the identity may grant it)."""
        return not self.needs or any(allowed(statements, need) for need in self.needs)


def unconditional(*actions: str) -> Callable[[list[Any], str], bool]:
    return lambda statements, prefix: all(denies(statements, action) for action in actions)


def own_boundary_kept(statements: list[Any], prefix: str) -> bool:
    return all(denied_unless_own_boundary(statements, action, prefix) for action in IAM_ROLE_WRITE_ACTIONS)


IAM_ANY: tuple[str, ...] = ()
ESCALATIONS: tuple[Escalation, ...] = (
    Escalation("CreatePolicyVersion", IAM_ANY, unconditional("iam:CreatePolicyVersion"), "DenyIamSelfManagementAndAccount"),
    Escalation("SetDefaultPolicyVersion", IAM_ANY, unconditional("iam:SetDefaultPolicyVersion"), "DenyIamSelfManagementAndAccount"),
    Escalation("CreateLoginProfile", IAM_ANY, unconditional("iam:CreateLoginProfile"), "DenyIamSelfManagementAndAccount"),
    Escalation("UpdateLoginProfile", IAM_ANY, unconditional("iam:UpdateLoginProfile"), "DenyIamSelfManagementAndAccount"),
    Escalation("CreateAccessKey", IAM_ANY, unconditional("iam:CreateAccessKey"), "DenyIamSelfManagementAndAccount"),
    Escalation("AttachUserPolicy", IAM_ANY, unconditional("iam:AttachUserPolicy"), "DenyIamSelfManagementAndAccount"),
    Escalation("PutUserPolicy", IAM_ANY, unconditional("iam:PutUserPolicy"), "DenyIamSelfManagementAndAccount"),
    Escalation("AttachGroupPolicy", IAM_ANY, unconditional("iam:AttachGroupPolicy"), "DenyIamSelfManagementAndAccount"),
    Escalation("PutGroupPolicy", IAM_ANY, unconditional("iam:PutGroupPolicy"), "DenyIamSelfManagementAndAccount"),
    Escalation("AddUserToGroup", IAM_ANY, unconditional("iam:AddUserToGroup"), "DenyIamSelfManagementAndAccount"),
    Escalation(
        "DeleteUserPermissionsBoundary", IAM_ANY, unconditional("iam:DeleteUserPermissionsBoundary"),
        "DenyIamSelfManagementAndAccount",
    ),
    Escalation(
        "DeleteRolePermissionsBoundary", IAM_ANY, unconditional("iam:DeleteRolePermissionsBoundary"),
        "DenyIamSelfManagementAndAccount",
    ),
    Escalation(
        "UpdateAssumeRolePolicy + AssumeRole", ("iam:UpdateAssumeRolePolicy", "iam:CreateRole"),
        unconditional("sts:AssumeRole"), "DenyIamSelfManagementAndAccount",
    ),
    Escalation("PutRolePolicy", ("iam:PutRolePolicy",), own_boundary_kept, "DenyRoleWritesWithoutOwnBoundary"),
    Escalation("PutRolePermissionsBoundary", ("iam:PutRolePermissionsBoundary",), own_boundary_kept, "DenyRoleWritesWithoutOwnBoundary"),
    Escalation(
        "AttachRolePolicy", ("iam:AttachRolePolicy",),
        lambda statements, prefix: own_boundary_kept(statements, prefix) and attach_limited(statements),
        "DenyRoleWritesWithoutOwnBoundary, DenyOtherRolePolicies",
    ),
    Escalation(
        "CreateRole (role-path squatting)", ("iam:CreateRole",),
        lambda statements, prefix: denied_on(statements, "iam:CreateRole", PATHED_ROLE.format(prefix=prefix)),
        "DenyRolesUnderAPath",
    ),
    Escalation(
        "PassRole to EC2 / Lambda / CloudFormation / Glue / DataPipeline / CodeBuild / ECS", ("iam:PassRole",),
        lambda statements, prefix: pass_role_limited(statements), "IamPassOwnRolesCap (iam:PassedToService)",
    ),
    # A peer's resource policy grants whatever the boundary does not explicitly deny, whether or not
    # the student's lab has the service: always reachable.
    Escalation(
        "UpdateFunctionCode of a peer's function (resource policy)", (),
        lambda statements, prefix: outside_own_denied(statements, "lambda"), "DenyOutsideOwnResources",
    ),
    *(
        Escalation(
            f"{service} resource policy of a peer", (),
            lambda statements, prefix, service=service: outside_own_denied(statements, service),
            "DenyOutsideOwnResources",
        )
        for service in sorted(RESOURCE_POLICY_SERVICES - {"lambda"})
    ),
)


def escalation_problems(statements: list[Any], prefix: str) -> list[Escalation]:
    """The catalog's methods that this boundary lets through and does not block."""
    return [e for e in ESCALATIONS if e.reachable(statements) and not e.blocked(statements, prefix)]


@stack_rule(
    "iam-boundary-blocks-escalation",
    pack="isolation",
    description="Checks whether every student permissions boundary blocks the published IAM privilege-"
    "escalation methods it would let through: role writes only with the student's own boundary, no "
    "role under a path, managed policies and role passing limited, no role assumption, and no "
    "resource policy of a peer widening the student.",
)
def iam_boundary_blocks_escalation(stack: Stack, config: NoConfig) -> Iterator[Finding]:
    boundaries = boundary_policies(stack)
    for resource in stack.resources:
        if resource.urn not in boundaries:
            continue
        document = resource.props.get("policy")
        if document is None or document in UNEVALUABLE:
            continue
        statements = policy_statements(document)
        if statements is None:
            continue  # iam-boundary-denies-escalation reports a document that is not JSON
        if resource.prefix is None:
            yield Finding(
                f"{resource.type} {resource.name!r} (a permissions boundary) must say whose it is "
                "(labctl:cohort and labctl:student tags), so its escalation paths can be checked.",
                resource,
            )
            continue
        for escalation in escalation_problems(statements, resource.prefix):
            yield Finding(
                f"{resource.type} {resource.name!r} (a permissions boundary) must block {escalation.method} "
                f"(as labctl's {escalation.blocker} does).",
                resource,
            )


RULES = (iam_boundary_blocks_escalation,)
