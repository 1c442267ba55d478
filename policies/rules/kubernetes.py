"""Kubernetes: a student namespace is fenced (quota, limits, default-deny, restricted pods), its RBAC
never reaches beyond it, the workloads planned in it cannot reach the node, and its quota stays
within the cost limits."""

from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

from pydantic import Field, field_validator

from labctl.policies.model import UNEVALUABLE, Finding, PolicyResource, RuleConfig, Stack, resource_rule, stack_rule
from labctl.policies.rules.tagging import has_prefix

NAMESPACE = "kubernetes:core/v1:Namespace"
RESOURCE_QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
STUDENT_LABEL = "labctl/student"


def mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def metadata(resource: PolicyResource) -> dict[str, Any]:
    return mapping(resource.props.get("metadata"))


def is_student_namespace(resource: PolicyResource) -> bool:
    labels = mapping(metadata(resource).get("labels"))
    return bool(resource.student) or STUDENT_LABEL in labels


@resource_rule(
    "k8s-namespace-restricted",
    pack="isolation",
    description="Checks whether every student namespace enforces the Pod Security 'restricted' level.",
    types={NAMESPACE},
)
def k8s_namespace_restricted(resource: PolicyResource, _config: Any) -> Iterator[str]:
    if not is_student_namespace(resource):
        return
    level = mapping(metadata(resource).get("labels")).get(PSA_ENFORCE)
    if level != "restricted" and level not in UNEVALUABLE:
        yield f"{resource.type} {resource.name!r} must have the label {PSA_ENFORCE}=restricted."


def is_default_deny(spec: dict[str, Any]) -> bool:
    """Selects every pod, covers both directions, allows nothing."""
    selector = mapping(spec.get("podSelector"))
    types = spec.get("policyTypes")
    return (
        not selector.get("matchLabels")
        and not selector.get("matchExpressions")
        and isinstance(types, list)
        and {"Ingress", "Egress"} <= set(t for t in types if isinstance(t, str))
        and not spec.get("ingress")
        and not spec.get("egress")
    )


@stack_rule(
    "k8s-namespace-guarded",
    pack="isolation",
    description="Checks whether every student namespace has a ResourceQuota, a LimitRange and a "
    "default-deny NetworkPolicy.",
)
def k8s_namespace_guarded(stack: Stack, _config: Any) -> Iterator[Finding]:
    guards: dict[str, set[str]] = defaultdict(set)
    for resource in stack.resources:
        namespace = metadata(resource).get("namespace")
        if not isinstance(namespace, str):
            continue
        if resource.type in (RESOURCE_QUOTA, LIMIT_RANGE):
            guards[namespace].add(resource.type)
        elif resource.type == NETWORK_POLICY and is_default_deny(mapping(resource.props.get("spec"))):
            guards[namespace].add(NETWORK_POLICY)
    wanted = {RESOURCE_QUOTA: "a ResourceQuota", LIMIT_RANGE: "a LimitRange", NETWORK_POLICY: "a default-deny NetworkPolicy"}
    for resource in stack.resources:
        if resource.type != NAMESPACE or not is_student_namespace(resource):
            continue
        name = metadata(resource).get("name")
        if not isinstance(name, str) or name in UNEVALUABLE:
            continue
        missing = [label for kind, label in wanted.items() if kind not in guards[name]]
        if missing:
            yield Finding(f"{resource.type} {resource.name!r} ({name}) must have {', '.join(missing)}.", resource)


def subjects(resource: PolicyResource) -> list[dict[str, Any]]:
    value = resource.props.get("subjects")
    return [s for s in value if isinstance(s, dict)] if isinstance(value, list) else []


@resource_rule(
    "k8s-rbac-scoped",
    pack="isolation",
    description="Checks whether student RoleBindings bind only a ServiceAccount of their own namespace "
    "and no ClusterRoleBinding names a student.",
    types={ROLE_BINDING, CLUSTER_ROLE_BINDING},
)
def k8s_rbac_scoped(resource: PolicyResource, _config: Any) -> Iterator[str]:
    if resource.type == CLUSTER_ROLE_BINDING:
        prefix = resource.prefix
        for subject in subjects(resource):
            names = [subject.get("namespace"), subject.get("name")]
            if prefix and any(isinstance(n, str) and has_prefix(n, prefix) for n in names):
                yield f"{resource.type} {resource.name!r} must not name the student's {subject.get('kind')} {subject.get('name')!r}."
        return
    namespace = metadata(resource).get("namespace")
    for subject in subjects(resource):
        kind, where = subject.get("kind"), subject.get("namespace")
        if kind != "ServiceAccount":
            yield f"{resource.type} {resource.name!r} must bind only ServiceAccounts (it binds {kind} {subject.get('name')!r})."
        elif where not in UNEVALUABLE and namespace not in UNEVALUABLE and where != namespace:
            yield (
                f"{resource.type} {resource.name!r} must bind only ServiceAccounts of namespace {namespace!r} "
                f"(it binds one of {where!r})."
            )


RBAC_GROUP = "rbac.authorization.k8s.io"
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
# Verbs that step around RBAC's escalation prevention: never granted to a student, on anything.
ESCALATING_VERBS = ("bind", "escalate", "impersonate")
IMPERSONABLE = ("serviceaccounts", "users", "groups")  # a `*` verb on these includes impersonate
# What a student's Role must not write: its own rights, its quota and limits, its network fence...
GUARDS = ((RBAC_GROUP, "*"), ("", "resourcequotas"), ("", "limitranges"), ("networking.k8s.io", "networkpolicies"))
# ...unless the lab opts in (components/k8s_namespace.py STUDENT_MANAGED), declared on the Role by
# this annotation: then the plain write verbs on exactly these resources, never a wildcard.
MANAGES_ANNOTATION = "labctl/student-manages"
OPT_INS = {
    "networkpolicies": {("networking.k8s.io", "networkpolicies")},
    "rbac": {(RBAC_GROUP, "roles"), (RBAC_GROUP, "rolebindings")},
}


def strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def forbidden_grants(rules: Any, allowed: set[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(group, resource, verb) of each grant on a guard (wildcards match what they stand for) or of an
    escalating verb, except the plain writes on `allowed` (group, resource) pairs."""
    found = []
    for rule in rules if isinstance(rules, list) else []:
        rule = mapping(rule)
        for group in strings(rule.get("apiGroups")):
            for resource in strings(rule.get("resources")):
                for verb in strings(rule.get("verbs")):
                    if verb in ESCALATING_VERBS:
                        found.append((group, resource, verb))
                        continue
                    if verb not in (*WRITE_VERBS, "*") or (verb in WRITE_VERBS and (group, resource) in allowed):
                        continue
                    if guarded(group, resource) or (verb == "*" and resource.split("/")[0] in IMPERSONABLE):
                        found.append((group, resource, verb))
    return sorted(set(found))


def guarded(group: str, resource: str) -> bool:
    base = resource.split("/")[0]
    return any(group in ("*", g) and ("*" in (resource, r) or base == r) for g, r in GUARDS)


def shown_grant(group: str, resource: str, verb: str) -> str:
    return f"{verb} on {resource}" + (f".{group}" if group else "")


@resource_rule(
    "k8s-role-scoped",
    pack="isolation",
    description="Checks whether a student's Role writes neither RBAC, its quota, its limits nor its "
    "network policies beyond what its lab opts into, never grants bind, escalate or impersonate, and "
    "whether no ClusterRole belongs to a student.",
    types={ROLE, CLUSTER_ROLE},
)
def k8s_role_scoped(resource: PolicyResource, _config: Any) -> Iterator[str]:
    if not is_student_namespace(resource):
        return
    if resource.type == CLUSTER_ROLE:
        yield f"{resource.type} {resource.name!r} must not belong to a student: their rights stay in their namespace."
        return
    rules, annotations = resource.props.get("rules"), metadata(resource).get("annotations")
    declared = mapping(annotations).get(MANAGES_ANNOTATION, "")
    if any(value in UNEVALUABLE for value in (rules, annotations, declared)):
        return
    kinds = [kind.strip() for kind in str(declared).split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in OPT_INS]
    if unknown:
        yield (
            f"{resource.type} {resource.name!r} must declare only {', '.join(sorted(OPT_INS))} in "
            f"{MANAGES_ANNOTATION} (it declares {', '.join(unknown)})."
        )
    allowed = set().union(*(OPT_INS[kind] for kind in kinds if kind in OPT_INS))
    for group, name, verb in forbidden_grants(rules, allowed):
        yield f"{resource.type} {resource.name!r} must not grant {shown_grant(group, name, verb)}."


QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
SUFFIXES = {"": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity (`500m`, `2`, `4Gi`) as a number; None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = QUANTITY.match(value.strip()) if isinstance(value, str) else None
    if not match or match.group(2) not in SUFFIXES:
        return None
    try:
        return Decimal(match.group(1)) * SUFFIXES[match.group(2)]
    except InvalidOperation:
        return None


class QuotaConfig(RuleConfig):
    max_cpu: str = Field(default="4", alias="maxCpu")
    max_memory: str = Field(default="8Gi", alias="maxMemory")

    @field_validator("max_cpu", "max_memory")
    @classmethod
    def is_quantity(cls, value: str) -> str:
        if quantity(value) is None:
            raise ValueError(f"not a Kubernetes quantity: {value!r}")
        return value


@resource_rule(
    "cost-k8s-quota",
    pack="cost",
    description="Checks whether every ResourceQuota caps CPU at maxCpu and memory at maxMemory.",
    types={RESOURCE_QUOTA},
    config=QuotaConfig,
)
def cost_k8s_quota(resource: PolicyResource, config: QuotaConfig) -> Iterator[str]:
    hard = mapping(mapping(resource.props.get("spec")).get("hard"))
    if not hard:
        if resource.props.get("spec") not in UNEVALUABLE:
            yield f"{resource.type} {resource.name!r} must set spec.hard limits for cpu and memory."
        return
    for resource_name, limit in (("cpu", config.max_cpu), ("memory", config.max_memory)):
        keys = [k for k in (resource_name, f"requests.{resource_name}", f"limits.{resource_name}") if k in hard]
        if not keys:
            yield f"{resource.type} {resource.name!r} must set a {resource_name} limit in spec.hard."
        for key in keys:
            value = quantity(hard[key])
            if value is not None and value > quantity(limit):
                yield f"{resource.type} {resource.name!r} must have {key} of at most {limit} (it has {hard[key]})."


# Workload kinds and where each keeps its pod spec.
POD_SPEC_PATHS = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")


def pod_spec(resource: PolicyResource) -> dict[str, Any]:
    spec: Any = resource.props
    for key in POD_SPEC_PATHS[resource.type]:
        spec = mapping(spec).get(key)
    return mapping(spec)


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for key in CONTAINER_LISTS if isinstance(spec.get(key), list) for c in spec[key] if isinstance(c, dict)]


def student_workloads(stack: Stack) -> Iterator[tuple[PolicyResource, dict[str, Any]]]:
    """(workload, pod spec) of every workload planned in a student namespace: owned by a student
    (plan, labels or parent) or placed in a namespace of the stack labelled as a student's."""
    fenced = {
        metadata(r).get("name")
        for r in stack.resources
        if r.type == NAMESPACE and is_student_namespace(r)
    }
    for resource in stack.resources:
        if resource.type in POD_SPEC_PATHS and (resource.student or metadata(resource).get("namespace") in fenced):
            yield resource, pod_spec(resource)


def container_label(container: dict[str, Any]) -> str:
    return f"container {container.get('name')!r}"


@stack_rule(
    "k8s-workload-isolated",
    pack="isolation",
    description="Checks whether workloads planned in student namespaces stay off the node: no privileged "
    "container, no hostPath volume, no host network, PID or IPC namespace.",
)
def k8s_workload_isolated(stack: Stack, _config: Any) -> Iterator[Finding]:
    for resource, spec in student_workloads(stack):
        who = f"{resource.type} {resource.name!r}"
        for key in HOST_NAMESPACES:
            if spec.get(key) is True:
                yield Finding(f"{who} must not use the node's namespace ({key}: true).", resource)
        for volume in (v for v in spec.get("volumes") or [] if isinstance(v, dict)):
            if volume.get("hostPath") is not None:
                yield Finding(f"{who} must not mount a hostPath volume ({volume.get('name')!r}).", resource)
        for container in containers(spec):
            if mapping(container.get("securityContext")).get("privileged") is True:
                yield Finding(f"{who} {container_label(container)} must not be privileged.", resource)


def runs_as_non_root(pod: dict[str, Any], container: dict[str, Any]) -> bool | None:
    """True/False when the pod or container says; None when the values are unknown at plan time."""
    values = []
    for context in (mapping(container.get("securityContext")), mapping(pod.get("securityContext"))):
        non_root, user = context.get("runAsNonRoot"), context.get("runAsUser")
        if non_root in UNEVALUABLE or user in UNEVALUABLE:
            return None
        if user is not None and not isinstance(user, bool):
            values.append(user != 0)
        if non_root is not None:
            values.append(non_root is True)
        if values:
            return values[0]  # the container's own setting wins over the pod's
    return False


@stack_rule(
    "k8s-workload-hardened",
    pack="isolation",
    enforcement="advisory",
    description="Checks whether containers planned in student namespaces run as non-root, without "
    "privilege escalation, with all capabilities dropped and with CPU and memory limits.",
)
def k8s_workload_hardened(stack: Stack, _config: Any) -> Iterator[Finding]:
    for resource, spec in student_workloads(stack):
        for container in containers(spec):
            who = f"{resource.type} {resource.name!r} {container_label(container)}"
            context = mapping(container.get("securityContext"))
            if runs_as_non_root(spec, container) is False:
                yield Finding(f"{who} must run as non-root (runAsNonRoot: true or a non-zero runAsUser).", resource)
            if context.get("allowPrivilegeEscalation") not in (False, *UNEVALUABLE):
                yield Finding(f"{who} must set allowPrivilegeEscalation: false.", resource)
            drops = mapping(context.get("capabilities")).get("drop")
            if drops not in UNEVALUABLE and not (
                isinstance(drops, list) and any(isinstance(d, str) and d.upper() == "ALL" for d in drops)
            ):
                yield Finding(f"{who} must drop all capabilities (capabilities.drop: [ALL]).", resource)
            limits = mapping(container.get("resources")).get("limits")
            if limits not in UNEVALUABLE:
                missing = [k for k in ("cpu", "memory") if not mapping(limits).get(k)]
                if missing:
                    yield Finding(f"{who} must have {' and '.join(missing)} limits (resources.limits).", resource)


RULES = (
    k8s_namespace_restricted,
    k8s_namespace_guarded,
    k8s_rbac_scoped,
    k8s_role_scoped,
    k8s_workload_isolated,
    k8s_workload_hardened,
    cost_k8s_quota,
)
