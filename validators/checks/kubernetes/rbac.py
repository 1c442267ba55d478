"""RBAC checks: ServiceAccounts, what a Role grants or leaves out, its binding, and no write or cluster-wide right."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import READS, dig
from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result, check

READ_VERBS = ("get", "list", "watch")


class ServiceAccountParams(Params):
    service_account: str


class RoleParams(Params):
    role: str


class RoleResourcesParams(RoleParams):
    resources: list[str] = Field(min_length=1, description="as kubectl writes them: `pods/log`, `deployments.apps`")


class RoleGrantsParams(RoleResourcesParams):
    verbs: list[str] = Field(default_factory=lambda: list(READ_VERBS), min_length=1)


class RoleBindingParams(RoleParams):
    service_account: str


class RbacGuardParams(Params):
    allowed_cluster_roles: list[str] = Field(default_factory=lambda: ["view"])


def split_resource(resource: str) -> tuple[str, str]:
    """kubectl's `resource[/subresource][.group]` as (group, resource): `deployments.apps` → ("apps", "deployments")."""
    name, _, group = resource.partition(".")
    return group, name


def rule_grants(
    rule: Mapping[str, Any], group: str, resource: str, verb: str, *, named_too: bool = False
) -> bool:
    """Whether a PolicyRule grants `verb` on `group/resource`, wildcards included.

    A rule limited by resourceNames grants only those objects: it counts only when `named_too`.
    """
    return (
        any(g in ("*", group) for g in rule.get("apiGroups") or [])
        and any(r in ("*", resource) for r in rule.get("resources") or [])
        and any(v in ("*", verb) for v in rule.get("verbs") or [])
        and (named_too or not rule.get("resourceNames"))
    )


def rule_problems(rule: Mapping[str, Any]) -> list[str]:
    """What makes a PolicyRule more than read-only: write verbs and wildcards."""
    problems = []
    writes = [v for v in rule.get("verbs") or [] if v not in READ_VERBS]
    if writes:
        problems.append(f"verbs {', '.join(writes)}")
    if "*" in (rule.get("resources") or []):
        problems.append("every resource (*)")
    if "*" in (rule.get("apiGroups") or []):
        problems.append("every API group (*)")
    return problems


def role_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    role = inv.roles.get(name)
    if role is None:
        return Result.skipped(f"role {name} does not exist in namespace {inv.namespace}")
    return role


@check(
    "k8s.service-account", title="ServiceAccount {service_account} exists", reads=READS, params=ServiceAccountParams
)
def service_account(inv: KubernetesInventory, p: ServiceAccountParams) -> Result:
    if p.service_account in inv.service_accounts:
        return Result.passed()
    return Result.failed(
        f"serviceaccount {p.service_account} does not exist in namespace {inv.namespace}",
        hint=f"kubectl -n {inv.namespace} create serviceaccount {p.service_account}",
    )


@check("k8s.role-read-only", title="Role {role} only reads", reads=READS, params=RoleParams)
def role_read_only(inv: KubernetesInventory, p: RoleParams) -> Result:
    role = inv.roles.get(p.role)
    if role is None:
        return Result.failed(
            f"role {p.role} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create role {p.role} --verb=get,list,watch --resource=...",
        )
    rules = role.get("rules") or []
    if not rules:
        return Result.failed(f"role {p.role} has no rules")
    problems = [
        f"rule {number} grants {' and '.join(found)}"
        for number, rule in enumerate(rules, 1)
        if (found := rule_problems(rule))
    ]
    if problems:
        return Result.failed(f"role {p.role}: " + "; ".join(problems), hint="verbs: [get, list, watch] only")
    return Result.passed()


@check(
    "k8s.role-grants", title="Role {role} grants {verbs} on {resources}", reads=READS, params=RoleGrantsParams
)
def role_grants(inv: KubernetesInventory, p: RoleGrantsParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    rules = role.get("rules") or []
    problems = []
    for resource in p.resources:
        group, name = split_resource(resource)
        missing = [v for v in p.verbs if not any(rule_grants(r, group, name, v) for r in rules)]
        if missing:
            problems.append(f"{resource} lacks {', '.join(missing)}")
    if problems:
        return Result.failed(f"role {p.role}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.role-excludes", title="Role {role} grants nothing on {resources}", reads=READS, params=RoleResourcesParams
)
def role_excludes(inv: KubernetesInventory, p: RoleResourcesParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    problems = []
    for resource in p.resources:
        group, name = split_resource(resource)
        for number, rule in enumerate(role.get("rules") or [], 1):
            verbs = [v for v in rule.get("verbs") or [] if rule_grants(rule, group, name, v, named_too=True)]
            if verbs:
                problems.append(f"rule {number} grants {', '.join(verbs)} on {resource}")
    if problems:
        return Result.failed(f"role {p.role}: " + "; ".join(problems))
    return Result.passed()


def subject_is(subject: Mapping[str, Any], account: str, namespace: str) -> bool:
    return (
        subject.get("kind") == "ServiceAccount"
        and subject.get("name") == account
        and subject.get("namespace") == namespace
    )


@check(
    "k8s.role-binding",
    title="A RoleBinding gives Role {role} to ServiceAccount {service_account}",
    reads=READS,
    params=RoleBindingParams,
)
def role_binding(inv: KubernetesInventory, p: RoleBindingParams) -> Result:
    to_role = [
        (name, b)
        for name, b in sorted(inv.role_bindings.items())
        if dig(b, "roleRef", "kind") == "Role" and dig(b, "roleRef", "name") == p.role
    ]
    if any(subject_is(s, p.service_account, inv.namespace) for _, b in to_role for s in b.get("subjects") or []):
        return Result.passed()
    if to_role:
        subjects = [
            f"{s.get('kind')} {s.get('name')}" + (f" of namespace {s['namespace']}" if s.get("namespace") else "")
            for _, b in to_role
            for s in b.get("subjects") or []
        ]
        return Result.failed(
            f"rolebinding {to_role[0][0]} binds role {p.role} to {', '.join(subjects) or 'no subject'}, "
            f"not to ServiceAccount {p.service_account} of namespace {inv.namespace}"
        )
    cluster = sorted(inv.cluster_role_bindings)
    detail = f" (clusterrolebinding {', '.join(cluster)} is cluster-wide, not a RoleBinding)" if cluster else ""
    return Result.failed(
        f"no RoleBinding in namespace {inv.namespace} binds role {p.role}{detail}",
        hint=f"kubectl -n {inv.namespace} create rolebinding {p.role} --role={p.role} "
        f"--serviceaccount={inv.namespace}:{p.service_account}",
    )


@check(
    "k8s.rbac-read-only",
    title="No RBAC object grants writes, wildcards or cluster-wide rights",
    reads=READS,
    params=RbacGuardParams,
)
def rbac_read_only(inv: KubernetesInventory, p: RbacGuardParams) -> Result:
    """The platform's own Role and RoleBinding (the student's identity) never reach the inventory."""
    problems = []
    for name, role in sorted(inv.roles.items()):
        for number, rule in enumerate(role.get("rules") or [], 1):
            found = rule_problems(rule)
            if found:
                problems.append(f"role {name} rule {number} grants {' and '.join(found)}")
    for name, binding in sorted(inv.role_bindings.items()):
        ref = binding.get("roleRef") or {}
        if ref.get("kind") != "ClusterRole":
            continue
        if ref.get("name") not in p.allowed_cluster_roles:
            problems.append(f"rolebinding {name} grants clusterrole {ref.get('name')}")
    for name, binding in sorted(inv.cluster_role_bindings.items()):
        ref = binding.get("roleRef") or {}
        problems.append(
            f"clusterrolebinding {name} grants clusterrole {ref.get('name')} to a ServiceAccount of "
            f"{inv.namespace} in every namespace"
        )
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()
