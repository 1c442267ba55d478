"""The Kubernetes rules' building blocks one by one, on the shapes that tell a right answer from a
plausible wrong one, each expectation taken from the Kubernetes documentation (quantities, network
policy semantics, RBAC), not from the code. (Each case was a surviving mutant of
policies/rules/kubernetes.py, see docs/testing.md.)"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from labctl.policies.model import UNKNOWN, PolicyResource, Stack
from labctl.policies.rules.kubernetes import (
    CLUSTER_ROLE_BINDING,
    NAMESPACE,
    NETWORK_POLICY,
    cost_k8s_quota,
    PSA_ENFORCE as PSA,
    ROLE,
    ROLE_BINDING,
    QuotaConfig,
    is_default_deny,
    k8s_namespace_guarded,
    k8s_namespace_restricted,
    k8s_rbac_scoped,
    k8s_role_scoped,
    k8s_workload_hardened,
    k8s_workload_isolated,
    quantity,
)

PREFIX, STUDENT = "c1-s1", "s1"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", Decimal(2)),
        ("500m", Decimal("0.5")),
        ("1k", Decimal(1000)),
        ("1M", Decimal(10**6)),
        ("1G", Decimal(10**9)),
        ("1T", Decimal(10**12)),
        ("1Ki", Decimal(1024)),
        ("1Mi", Decimal(1024**2)),
        ("1Gi", Decimal(1024**3)),
        ("1.5Gi", Decimal("1.5") * 1024**3),
        ("1Ti", Decimal(1024**4)),
        (" 4Gi ", Decimal(4 * 1024**3)),
        (3, Decimal(3)),
        (0.25, Decimal("0.25")),
    ],
)
def test_quantities_in_decimal_and_binary_suffixes(text: Any, value: Decimal) -> None:
    """kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity: k, M, G, T are powers
    of 1000, Ki, Mi, Gi, Ti powers of 1024, m a thousandth."""
    assert quantity(text) == value


@pytest.mark.parametrize("text", ["lots", "1Xi", "1..5", "", "-1", "1 Gi", True, None, ["1"]])
def test_what_is_not_a_quantity_is_none(text: Any) -> None:
    assert quantity(text) is None


@pytest.mark.parametrize("field", ["maxCpu", "maxMemory"])
def test_the_quota_limits_must_be_quantities(field: str) -> None:
    with pytest.raises(ValidationError, match="not a Kubernetes quantity: 'lots'"):
        QuotaConfig(**{field: "lots"})


@pytest.mark.parametrize(
    ("spec", "deny"),
    [
        ({"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}, True),
        ({"podSelector": {}, "policyTypes": ["Egress", "Ingress"], "ingress": [], "egress": []}, True),
        ({"podSelector": {}, "policyTypes": ["Ingress"]}, False),  # egress left open
        ({"podSelector": {}}, False),
        ({"podSelector": {"matchLabels": {"app": "db"}}, "policyTypes": ["Ingress", "Egress"]}, False),
        ({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [{}]}, False),  # allow all in
        ({"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "egress": [{"to": []}]}, False),
    ],
)
def test_a_default_deny_selects_every_pod_both_ways_and_allows_nothing(spec: dict, deny: bool) -> None:
    assert is_default_deny(spec) is deny


def resource(type_: str, name: str, student: str | None = STUDENT, **props: Any) -> PolicyResource:
    return PolicyResource(type_, name, f"urn:{name}", props, student, f"c1-{student}" if student else None)


def test_a_cluster_wide_binding_of_nobody_in_particular_is_not_judged() -> None:
    """A ClusterRoleBinding no student owns (no prefix) binding a system account: nothing to say."""
    binding = resource(CLUSTER_ROLE_BINDING, "system-view", None,
                       subjects=[{"kind": "ServiceAccount", "name": "metrics", "namespace": "kube-system"}])
    assert list(k8s_rbac_scoped.check(binding, None)) == []


def test_a_student_owned_object_that_is_not_a_namespace_fences_nothing() -> None:
    """Only a student's Namespace makes the workloads in it the student's: a ConfigMap of theirs named
    like a namespace does not pull an unowned workload in that namespace under the rule."""
    config_map = resource("kubernetes:core/v1:ConfigMap", "cm", metadata={"name": "shared"})
    workload = resource("kubernetes:core/v1:Pod", "tool", None, metadata={"namespace": "shared"},
                        spec={"hostNetwork": True})
    assert list(k8s_workload_isolated.check(Stack([config_map, workload]), None)) == []
    namespace = resource(NAMESPACE, "ns", metadata={"name": "shared"})
    assert [f.message for f in k8s_workload_isolated.check(Stack([namespace, workload]), None)] == [
        "kubernetes:core/v1:Pod 'tool' must not use the node's namespace (hostNetwork: true)."
    ]


def test_unknown_values_are_not_judged_a_workload_without_a_student_namespace() -> None:
    workload = resource("kubernetes:core/v1:Pod", "tool", None, metadata={"namespace": UNKNOWN}, spec={"hostPID": True})
    assert list(k8s_workload_isolated.check(Stack([workload]), None)) == []


def fresh(text: str) -> str:
    """`text` as a new string object, as a value decoded from a plan's JSON is (not the interned literal)."""
    return "".join(list(text))


def test_a_namespace_is_a_students_by_owner_or_by_label() -> None:
    by_label = resource(NAMESPACE, "ns", None, metadata={"labels": {"labctl/student": STUDENT}})
    by_owner = resource(NAMESPACE, "ns2", metadata={"labels": {}})
    nobodys = resource(NAMESPACE, "tools", None, metadata={"labels": {}})
    assert list(k8s_namespace_restricted.check(by_label, None)) == [f"{NAMESPACE} 'ns' must have the label {PSA}=restricted."]
    assert list(k8s_namespace_restricted.check(by_owner, None)) == [f"{NAMESPACE} 'ns2' must have the label {PSA}=restricted."]
    assert list(k8s_namespace_restricted.check(nobodys, None)) == []
    ok = resource(NAMESPACE, "ns", metadata={"labels": {PSA: fresh("restricted")}})
    assert list(k8s_namespace_restricted.check(ok, None)) == []


@pytest.mark.parametrize("level", ["privileged", "baseline", "unrestricted", None])
def test_any_level_but_restricted_is_reported(level: str | None) -> None:
    labels = {PSA: level} if level else {}
    namespace = resource(NAMESPACE, "ns", metadata={"labels": labels})
    assert len(list(k8s_namespace_restricted.check(namespace, None))) == 1


def guarded_namespace(*extra: PolicyResource, name: Any = "c1-s1") -> list[PolicyResource]:
    meta = {"namespace": name}
    return [
        resource(fresh(NAMESPACE), "ns", metadata={"name": name} if name is not None else {}),
        resource("kubernetes:core/v1:ResourceQuota", "quota", metadata=meta),
        resource("kubernetes:core/v1:LimitRange", "limits", metadata=meta),
        *extra,
    ]


DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_only_a_network_policy_is_a_network_fence() -> None:
    """A Deployment or a PodDisruptionBudget whose spec happens to look like a default deny fences nothing."""
    lookalikes = [resource(kind, "x", metadata={"namespace": "c1-s1"}, spec=DENY_ALL)
                  for kind in ("kubernetes:apps/v1:Deployment", "kubernetes:policy/v1:PodDisruptionBudget")]
    assert [f.message for f in k8s_namespace_guarded.check(Stack(guarded_namespace(*lookalikes)), None)] == [
        f"{NAMESPACE} 'ns' (c1-s1) must have a default-deny NetworkPolicy."
    ]
    fence = resource(NETWORK_POLICY, "deny", metadata={"namespace": "c1-s1"}, spec=DENY_ALL)
    assert list(k8s_namespace_guarded.check(Stack(guarded_namespace(fence)), None)) == []


def test_a_namespace_whose_name_is_not_known_yet_is_skipped_not_the_rest() -> None:
    first = [resource("kubernetes:core/v1:ConfigMap", "settings", metadata={"namespace": "c1-s1-b"})]
    unnamed = first + guarded_namespace(name=None)[:1]
    unknown = [resource(NAMESPACE, "later", metadata={"name": UNKNOWN})]
    bare = [resource(NAMESPACE, "bare", metadata={"name": "c1-s1-b"})]
    assert [f.message for f in k8s_namespace_guarded.check(Stack(unnamed + unknown + bare), None)] == [
        f"{NAMESPACE} 'bare' (c1-s1-b) must have a ResourceQuota, a LimitRange, a default-deny NetworkPolicy."
    ]


def test_a_students_cluster_wide_binding_is_judged_by_the_names_it_binds() -> None:
    def found(subject: dict) -> list[str]:
        return list(k8s_rbac_scoped.check(resource(CLUSTER_ROLE_BINDING, "crb", subjects=[subject]), None))

    assert found({"kind": "ServiceAccount", "name": "metrics", "namespace": "kube-system"}) == []
    assert found({"kind": "ServiceAccount", "name": "viewer", "namespace": "c1-s1"}) == [
        f"{CLUSTER_ROLE_BINDING} 'crb' must not name the student's ServiceAccount 'viewer'."
    ]
    assert found({"kind": "User", "name": "c1-s1-admin"}) == [f"{CLUSTER_ROLE_BINDING} 'crb' must not name the student's User 'c1-s1-admin'."]


def role_binding(*subjects: dict) -> PolicyResource:
    return resource(ROLE_BINDING, "rb", metadata={"namespace": "c1-s1"}, subjects=list(subjects))


def test_a_role_binding_binds_only_its_own_namespaces_service_accounts() -> None:
    assert list(k8s_rbac_scoped.check(role_binding({"kind": fresh("ServiceAccount"), "name": "v", "namespace": fresh("c1-s1")}), None)) == []
    assert list(k8s_rbac_scoped.check(role_binding({"kind": "ServiceAccount", "name": "v", "namespace": "a-team"}), None)) == [
        f"{ROLE_BINDING} 'rb' must bind only ServiceAccounts of namespace 'c1-s1' (it binds one of 'a-team')."
    ]
    assert list(k8s_rbac_scoped.check(role_binding({"kind": "Group", "name": "system:authenticated"}), None)) == [
        f"{ROLE_BINDING} 'rb' must bind only ServiceAccounts (it binds Group 'system:authenticated')."
    ]


def test_a_subresource_of_a_guard_is_guarded() -> None:
    """RBAC names subresources `resource/subresource`: writing resourcequotas/status writes the quota."""
    role = resource(ROLE, "r", metadata={"namespace": "c1-s1"},
                    rules=[{"apiGroups": [""], "resources": ["resourcequotas/status"], "verbs": ["update"]}])
    assert list(k8s_role_scoped.check(role, None)) == [f"{ROLE} 'r' must not grant update on resourcequotas/status."]


def test_only_a_students_namespace_fences_the_workloads_in_it() -> None:
    """Another kind of object the student owns, named like a namespace (before or after Namespace in
    type order), fences nothing; their Namespace does, whatever string object spells its type."""
    workload = resource("kubernetes:core/v1:Pod", "tool", None, metadata={"namespace": "shared"}, spec={"hostIPC": True})
    lookalikes = [resource(kind, "x", metadata={"name": "shared"}) for kind in ("kubernetes:core/v1:ConfigMap", "kubernetes:core/v1:Secret")]
    assert list(k8s_workload_isolated.check(Stack([*lookalikes, workload]), None)) == []
    namespace = resource(fresh(NAMESPACE), "ns", metadata={"name": "shared"})
    assert len(list(k8s_workload_isolated.check(Stack([namespace, workload]), None))) == 1


def hardened(pod_context: dict | None = None, **container_context: Any) -> list[str]:
    container = {"name": "c", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}, **container_context},
                 "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
    pod = resource("kubernetes:core/v1:Pod", "p", spec={"containers": [container], "securityContext": pod_context or {}})
    return [f.message.removeprefix("kubernetes:core/v1:Pod 'p' container 'c' ") for f in k8s_workload_hardened.check(Stack([pod]), None)]


NON_ROOT = "must run as non-root (runAsNonRoot: true or a non-zero runAsUser)."


@pytest.mark.parametrize(
    ("pod", "container", "non_root"),
    [
        ({}, {"runAsUser": 1000}, True),
        ({}, {"runAsUser": 0}, False),
        ({}, {"runAsNonRoot": True}, True),
        ({}, {"runAsNonRoot": "true"}, False),  # a string is not the boolean the API wants
        ({}, {"runAsUser": 0, "runAsNonRoot": True}, False),  # the kubelet refuses to start it: not non-root
        ({"runAsUser": 1000}, {}, True),
        ({"runAsUser": 1000}, {"runAsUser": 0}, False),  # the container's own setting wins
        ({}, {}, False),
    ],
)
def test_non_root_is_what_the_container_or_else_the_pod_says(pod: dict, container: dict, non_root: bool) -> None:
    assert (NON_ROOT not in hardened(pod, **container)) is non_root


@pytest.mark.parametrize("context", [{"runAsNonRoot": UNKNOWN}, {"runAsUser": UNKNOWN}, {"runAsNonRoot": UNKNOWN, "runAsUser": 0}])
def test_non_root_unknown_at_plan_time_is_not_judged(context: dict) -> None:
    assert NON_ROOT not in hardened(None, **context)


@pytest.mark.parametrize(("drop", "dropped"), [(["ALL"], True), (["all"], True), (["NET_RAW"], False), ([""], False), ([1], False), ("ALL", False)])
def test_capabilities_are_dropped_only_by_all(drop: Any, dropped: bool) -> None:
    messages = hardened(None, capabilities={"drop": drop})
    assert ("must drop all capabilities (capabilities.drop: [ALL])." not in messages) is dropped


def test_a_quota_without_hard_limits_is_reported_unless_unknown() -> None:
    def found(spec: Any) -> list[str]:
        return list(cost_k8s_quota.check(resource("kubernetes:core/v1:ResourceQuota", "q", spec=spec), QuotaConfig()))

    assert found({}) == ["kubernetes:core/v1:ResourceQuota 'q' must set spec.hard limits for cpu and memory."]
    assert found({"hard": {}}) == found({})
    assert found(UNKNOWN) == []
    assert found({"hard": {"requests.cpu": "4", "limits.memory": "8Gi"}}) == []
    assert found({"hard": {"cpu": "4001m", "memory": "9Gi"}}) == [
        "kubernetes:core/v1:ResourceQuota 'q' must have cpu of at most 4 (it has 4001m).",
        "kubernetes:core/v1:ResourceQuota 'q' must have memory of at most 8Gi (it has 9Gi).",
    ]


def test_a_students_own_workload_is_judged_wherever_it_runs() -> None:
    pod = resource("kubernetes:core/v1:Pod", "p", metadata={"namespace": "elsewhere"}, spec={"hostPID": True})
    assert [f.message for f in k8s_workload_isolated.check(Stack([pod]), None)] == [
        "kubernetes:core/v1:Pod 'p' must not use the node's namespace (hostPID: true)."
    ]


def test_every_verb_on_a_service_accounts_token_is_refused() -> None:
    """`*` on serviceaccounts/token includes create, a TokenRequest: credentials of any service
    account in the namespace, the same reach as impersonating it."""
    role = resource(ROLE, "r", metadata={"namespace": "c1-s1"},
                    rules=[{"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["*"]}])
    assert list(k8s_role_scoped.check(role, None)) == [f"{ROLE} 'r' must not grant * on serviceaccounts/token."]
