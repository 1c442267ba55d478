"""IAM role checks: pure functions of one student's IamInventory (validators.inventory.iam).

Resource scopes in params are IAM wildcards (`arn:aws:logs:*:*:log-group:/aws/lambda/x:*`): a
grant is "within" a scope when the scope covers every resource the student's pattern matches, so
`Resource: "*"` is never within a narrower scope.
"""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict

from labctl.validators import iam
from labctl.validators.inventory.iam import IamInventory, Role
from labctl.validators.registry import Params, Result, check
from labctl.validators.resource_policies import principals

READS = "iam"
ADMIN_POLICY_NAMES = frozenset({"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"})
Document = Mapping[str, Any]


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    action: str
    within: str


class RoleParams(Params):
    role: str


class TrustParams(RoleParams):
    service: str


class GrantsParams(RoleParams):
    actions: list[str]
    within: str


class OnlyGrantsParams(RoleParams):
    allow: list[Grant]


def trust_problems(trust: Document | None, service: str) -> list[str]:
    """Why a trust policy does not let exactly `service` assume the role (empty when it does)."""
    if not trust:
        return ["the role has no trust policy"]
    problems = []
    trusted = False
    for index, statement in enumerate(iam.statements(trust)):
        if iam.effect(statement) != "Allow":
            continue
        name = statement.get("Sid") or f"#{index + 1}"
        if "NotPrincipal" in statement:
            problems.append(f"statement {name} uses NotPrincipal, which trusts almost everyone")
            continue
        others = [p for p in principals(statement) if p != f"Service:{service}"]
        if others:
            problems.append(f"statement {name} also trusts {', '.join(others)}")
        elif iam.covers_action(statement, "sts:AssumeRole"):
            trusted = True
    if not trusted and not problems:
        problems.append(f"no statement lets {service} call sts:AssumeRole")
    return problems


def allow_pairs(documents: list[tuple[str, Document]]):
    """(where, statement, action pattern, resource pattern) for every Allow statement's pairs."""
    for where, doc in documents:
        for statement in iam.statements(doc):
            if iam.effect(statement) != "Allow":
                continue
            for action in iam.as_list(statement.get("Action")) or ["(NotAction)"]:
                for resource in iam.as_list(statement.get("Resource")) or ["(NotResource)"]:
                    yield where, statement, str(action), str(resource)


def grant_scope(documents: list[tuple[str, Document]], action: str, within: str) -> tuple[bool, list[str]]:
    """(is `action` granted on some resource inside `within`, resources it is granted on outside it)."""
    outside = []
    for _, statement, pattern, resource in allow_pairs(documents):
        if "NotAction" in statement or not iam.glob_covers(pattern, action, ignore_case=True):
            continue
        if "NotResource" not in statement and iam.glob_covers(within, resource):
            return True, []
        outside.append(resource)
    return False, outside


def excess_grants(documents: list[tuple[str, Document]], allow: list[Grant]) -> list[str]:
    """Every Allow (action, resource) pair that no `allow` entry covers, as readable text."""
    excess = []
    for where, statement, action, resource in allow_pairs(documents):
        if "NotAction" in statement or "NotResource" in statement:
            excess.append(f"{where} uses NotAction/NotResource")
            continue
        if not any(
            iam.glob_covers(g.action, action, ignore_case=True) and iam.glob_covers(g.within, resource) for g in allow
        ):
            excess.append(f"{action} on {resource} ({where})")
    return sorted(set(excess))


def admin_grants(role: Role) -> list[str]:
    """Administrator-like grants: a broad AWS managed policy, or `*` / `*:*` actions, or NotAction."""
    found = [
        f"managed policy {arn}"
        for arn in sorted(role.attached)
        if arn.startswith("arn:aws:iam::aws:policy/") and arn.rsplit("/", 1)[-1] in ADMIN_POLICY_NAMES
    ]
    for where, statement, action, _ in allow_pairs(role.documents()):
        if "NotAction" in statement:
            found.append(f"NotAction in {where}")
        elif action.strip() in ("*", "*:*"):
            found.append(f"action {action} in {where}")
    return sorted(set(found))


def role_or_result(inv: IamInventory, name: str) -> Role | Result:
    role = inv.role(name)
    if role is None:
        return Result.skipped(f"role {name} does not exist")
    if role.error:
        return Result.error(f"could not read role {name}: {role.error}")
    if not role.detailed:
        return Result.error(f"role {name} was not collected in detail")
    return role


@check("iam.role-exists", title="Role {role} exists", reads=READS, params=RoleParams)
def role_exists(inv: IamInventory, p: RoleParams) -> Result:
    if inv.role(p.role) is None:
        return Result.failed(f"role {p.role} does not exist", hint="aws iam create-role")
    return Result.passed()


@check("iam.trust-only", title="Only {service} may assume the role", reads=READS, params=TrustParams)
def trust_only(inv: IamInventory, p: TrustParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    problems = trust_problems(role.trust, p.service)
    if problems:
        return Result.failed("; ".join(problems) + f" (only Service {p.service} may assume {p.role})")
    return Result.passed()


@check("iam.grants", title="The role may {actions} within {within}", reads=READS, params=GrantsParams)
def grants(inv: IamInventory, p: GrantsParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    documents = role.documents()
    problems = []
    for action in p.actions:
        ok, outside = grant_scope(documents, action, p.within)
        if ok:
            continue
        if outside:
            problems.append(f"{action} is granted only on {', '.join(sorted(set(outside)))}, not within {p.within}")
        else:
            problems.append(f"{action} is not granted")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check("iam.only-grants", title="The role's permissions grant nothing more", reads=READS, params=OnlyGrantsParams)
def only_grants(inv: IamInventory, p: OnlyGrantsParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    unread = [arn for arn, doc in role.attached.items() if doc is None]
    if unread:
        return Result.failed(f"attached policy {', '.join(sorted(unread))} cannot be read, so it may grant anything")
    excess = excess_grants(role.documents(), p.allow)
    if excess:
        return Result.failed("more than needed: " + "; ".join(excess[:10]) + (" …" if len(excess) > 10 else ""))
    if role.truncated:
        return Result.error(f"role {p.role} has more policies than the grader reads")
    return Result.passed()


@check("iam.no-admin", title="The role is not an administrator", reads=READS, params=RoleParams)
def no_admin(inv: IamInventory, p: RoleParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    found = admin_grants(role)
    if found:
        return Result.failed("administrator-like grants: " + "; ".join(found))
    return Result.passed()
