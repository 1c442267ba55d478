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
from functools import partial
from typing import Any, Callable, Iterator

from labctl.policies.aws_actions import IAM_ROLE_WRITE_ACTIONS, RESOURCE_POLICY_SERVICES
from labctl.policies.model import UNEVALUABLE, Finding, NoConfig, Stack, stack_rule
from labctl.policies.rules.iam import (
    as_list,
    boundary_policies,
    condition_clauses,
    covers,
    denies,
    deny_statements,
    own_boundary_arn,
    policy_statements,
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
    """Every `<service>` action denied outright, or with a `NotResource` that leaves a peer's resource
    (a name outside the student's prefix) denied."""
    if denies(statements, f"{service}:*"):
        return True
    for statement in deny_statements(statements, f"{service}:*"):
        own = as_list(statement.get("NotResource"))
        if own and not any(isinstance(r, str) and fnmatchcase(PEER_RESOURCE[service], r) for r in own):
            return True
    return False


@dataclass(frozen=True)
class Escalation:
    """A published escalation method: reachable when the boundary allows one of `needs` (always, when
    there are none: the identity may grant it); blocked when the boundary denies every `denied` action
    outright and `check`, if any, holds."""

    method: str
    blocker: str
    needs: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    check: Callable[[list[Any], str], bool] | None = None

    def reachable(self, statements: list[Any]) -> bool:
        return not self.needs or any(allowed(statements, need) for need in self.needs)

    def blocked(self, statements: list[Any], prefix: str) -> bool:
        outright = all(denies(statements, action) for action in self.denied)
        return outright and (self.check is None or self.check(statements, prefix))


def own_boundary_kept(statements: list[Any], prefix: str) -> bool:
    return all(denied_unless_own_boundary(statements, action, prefix) for action in IAM_ROLE_WRITE_ACTIONS)


def attach_kept(statements: list[Any], prefix: str) -> bool:
    return own_boundary_kept(statements, prefix) and attach_limited(statements)


def no_pathed_role(statements: list[Any], prefix: str) -> bool:
    return denied_on(statements, "iam:CreateRole", PATHED_ROLE.format(prefix=prefix))


def passing_limited(statements: list[Any], prefix: str) -> bool:
    return pass_role_limited(statements)


def peers_policies_closed(service: str, statements: list[Any], prefix: str) -> bool:
    return outside_own_denied(statements, service)


SELF = "DenyIamSelfManagementAndAccount"
ROLE_WRITES = "DenyRoleWritesWithoutOwnBoundary"
ESCALATIONS: tuple[Escalation, ...] = (
    Escalation("CreatePolicyVersion", SELF, denied=("iam:CreatePolicyVersion",)),
    Escalation("SetDefaultPolicyVersion", SELF, denied=("iam:SetDefaultPolicyVersion",)),
    Escalation("CreateLoginProfile", SELF, denied=("iam:CreateLoginProfile",)),
    Escalation("UpdateLoginProfile", SELF, denied=("iam:UpdateLoginProfile",)),
    Escalation("CreateAccessKey", SELF, denied=("iam:CreateAccessKey",)),
    Escalation("AttachUserPolicy", SELF, denied=("iam:AttachUserPolicy",)),
    Escalation("PutUserPolicy", SELF, denied=("iam:PutUserPolicy",)),
    Escalation("AttachGroupPolicy", SELF, denied=("iam:AttachGroupPolicy",)),
    Escalation("PutGroupPolicy", SELF, denied=("iam:PutGroupPolicy",)),
    Escalation("AddUserToGroup", SELF, denied=("iam:AddUserToGroup",)),
    Escalation("DeleteUserPermissionsBoundary", SELF, denied=("iam:DeleteUserPermissionsBoundary",)),
    Escalation("DeleteRolePermissionsBoundary", SELF, denied=("iam:DeleteRolePermissionsBoundary",)),
    Escalation(
        "UpdateAssumeRolePolicy + AssumeRole", SELF, needs=("iam:UpdateAssumeRolePolicy", "iam:CreateRole"),
        denied=("sts:AssumeRole",),
    ),
    Escalation("PutRolePolicy", ROLE_WRITES, needs=("iam:PutRolePolicy",), check=own_boundary_kept),
    Escalation("PutRolePermissionsBoundary", ROLE_WRITES, needs=("iam:PutRolePermissionsBoundary",), check=own_boundary_kept),
    Escalation(
        "AttachRolePolicy", f"{ROLE_WRITES}, DenyOtherRolePolicies", needs=("iam:AttachRolePolicy",), check=attach_kept
    ),
    Escalation("CreateRole (role-path squatting)", "DenyRolesUnderAPath", needs=("iam:CreateRole",), check=no_pathed_role),
    Escalation(
        "PassRole to EC2 / Lambda / CloudFormation / Glue / DataPipeline / CodeBuild / ECS",
        "IamPassOwnRolesCap (iam:PassedToService)", needs=("iam:PassRole",), check=passing_limited,
    ),
    # A peer's resource policy grants whatever the boundary does not explicitly deny, whether or not
    # the student's lab has the service: always reachable.
    Escalation(
        "UpdateFunctionCode of a peer's function (resource policy)", "DenyOutsideOwnResources",
        check=partial(peers_policies_closed, "lambda"),
    ),
    *(
        Escalation(f"{service} resource policy of a peer", "DenyOutsideOwnResources", check=partial(peers_policies_closed, service))
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
