"""One student's Kubernetes namespace: quota, limits, default-deny networking, a scoped identity.

The pieces that decide security (Pod Security labels, the Role's rules, the network policies) are
small pure functions and constants here, so tests and the policy packs can reuse them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping, Sequence

import pulumi
import pulumi_kubernetes as k8s

from labctl.components.kubeconfig import build_kubeconfig
from labctl.components.tags import COHORT_TAG, LAB_TAG, STUDENT_TAG
from labctl.labs.spec import KubernetesEnvironment

K8S_LABELS = {COHORT_TAG: "labctl/cohort", STUDENT_TAG: "labctl/student", LAB_TAG: "labctl/lab"}
PSA_LEVEL = "restricted"
READ_VERBS = ("get", "list", "watch")
WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
RBAC_GROUP = "rbac.authorization.k8s.io"
# What the student must never change: their own rights, their quota and limits, their network fence.
PROTECTED_RESOURCES = (
    (RBAC_GROUP, "*"),
    ("", "resourcequotas"),
    ("", "limitranges"),
    ("networking.k8s.io", "networkpolicies"),
)
# Workloads a student edits: (api group, resources).
EDITABLE = (
    ("", ("pods", "pods/exec", "pods/portforward", "services", "configmaps", "secrets", "persistentvolumeclaims")),
    ("apps", ("deployments", "deployments/scale", "replicasets", "replicasets/scale", "statefulsets",
              "statefulsets/scale")),
    ("batch", ("jobs", "cronjobs")),
    ("networking.k8s.io", ("ingresses",)),
    ("autoscaling", ("horizontalpodautoscalers",)),
    ("policy", ("poddisruptionbudgets",)),
)
# Visible but read-only: logs, events, the student's own identity, and the limits they work within.
# Endpoints stay read-only: writing them lets a Service point at any IP (CVE-2021-25740).
READABLE = (
    ("", ("pods/log", "events", "endpoints", "serviceaccounts", "resourcequotas", "limitranges")),
    ("networking.k8s.io", ("networkpolicies",)),
    ("events.k8s.io", ("events",)),
)
# Extra writes a lab may opt into (KubernetesEnvironment.student_manages), in the student's own
# namespace only: its Role never reaches another namespace, and nothing here is cluster-scoped.
#
# networkpolicies: the student can rewrite their own namespace's fence, the platform's policies
# included (RBAC cannot grant "all but these names"), so their own pods may end up open to, or able to
# reach, anything the cluster does not fence otherwise: the internet, node and cloud metadata
# addresses, unfenced system namespaces. They cannot open another student's pods: traffic between two
# namespaces needs the sender's egress and the receiver's ingress allowed, and every other student's
# namespace keeps its own default-deny both ways, which this student cannot touch (only that student,
# in a lab that opts them in too, can open their own side).
#
# rbac: Roles, RoleBindings and ServiceAccounts, without `bind` and `escalate`, so the API server's
# escalation prevention holds: a Role they write, or one they bind, may only hold rights they already
# have (https://kubernetes.io/docs/reference/access-authn-authz/rbac/#privilege-escalation-prevention-and-bootstrapping).
# They can share their namespace with any subject by a RoleBinding, or lock themselves out; they cannot
# widen their own rights, nor touch their quota, limits or (unless opted in) their network fence.
STUDENT_MANAGED: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "networkpolicies": (("networking.k8s.io", ("networkpolicies",)),),
    "rbac": ((RBAC_GROUP, ("roles", "rolebindings")), ("", ("serviceaccounts",))),
}
# Declares the opt-in on the Role, so a policy can tell an intended grant from a mistake.
MANAGES_ANNOTATION = "labctl/student-manages"
DNS_NAMESPACE = "kube-system"
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi"}


def k8s_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """The ownership tags as Kubernetes labels (`labctl:cohort` → `labctl/cohort`: ':' is not allowed)."""
    return {K8S_LABELS[key]: value for key, value in tags.items() if key in K8S_LABELS}


def pod_security_labels(level: str = PSA_LEVEL) -> dict[str, str]:
    """Pod Security Admission at `level` for enforce, audit and warn, tracking the cluster's version."""
    labels: dict[str, str] = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


def managed_resources(manages: Sequence[str] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """(api group, resources) the student may write because the lab opts into `manages`."""
    return [entry for kind in sorted(set(manages)) for entry in STUDENT_MANAGED[kind]]


def role_rules(manages: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The student's namespaced Role: edit workloads, read their limits, nothing in RBAC — unless the
    lab opts into managing network policies or RBAC (`manages`), and then never `bind` or `escalate`."""
    editable = [*EDITABLE, *managed_resources(manages)]
    written = {(group, resource) for group, resources in editable for resource in resources}
    rules = [
        {"api_groups": [group], "resources": list(resources), "verbs": [*READ_VERBS, *WRITE_VERBS]}
        for group, resources in editable
    ]
    for group, resources in READABLE:
        read_only = [resource for resource in resources if (group, resource) not in written]
        if read_only:
            rules.append({"api_groups": [group], "resources": read_only, "verbs": list(READ_VERBS)})
    return rules


def protected_writes(rules: list[Mapping[str, Any]], manages: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """(group, resource, verb) for every write the rules grant on a protected resource; [] is safe.

    Wildcards count: a `*` group, resource or verb matches everything it could stand for. The plain
    write verbs on exactly the resources the lab opts into (`manages`) are allowed; `bind`,
    `escalate`, `impersonate` and `*` never are. Accepts snake_case (`api_groups`) or wire/API
    camelCase (`apiGroups`) keys.
    """
    allowed = {(group, resource) for group, resources in managed_resources(manages) for resource in resources}
    found = []
    for rule in rules:
        groups = rule.get("api_groups", rule.get("apiGroups", []))
        verbs = rule.get("verbs", [])
        for group in groups:
            for resource in rule.get("resources", []):
                for verb in verbs:
                    if verb not in (*WRITE_VERBS, "*", "escalate", "bind", "impersonate"):
                        continue
                    if verb in WRITE_VERBS and (group, resource) in allowed:
                        continue
                    for p_group, p_resource in PROTECTED_RESOURCES:
                        group_hit = group in ("*", p_group)
                        resource_hit = "*" in (resource, p_resource) or resource.split("/")[0] == p_resource
                        if group_hit and resource_hit:
                            found.append((group, resource, verb))
    return sorted(set(found))


# What StudentNamespace names `<prefix>-<suffix>` besides its fence of network policies, by the
# grader's inventory kind.
PLATFORM_SUFFIXES = {"service_accounts": "student", "roles": "edit", "role_bindings": "edit", "secrets": "token"}


def platform_object_names(prefix: str) -> dict[str, frozenset[str]]:
    """The objects the platform itself creates in a student's namespace, by inventory kind.

    Graders leave them out, so a student is scored on what they built (the platform's default-deny
    must not pass a lab's own default-deny check) and is never penalised for their own identity.
    """
    fences = {suffix for allow in (True, False) for suffix in network_policy_specs(allow)}
    return {
        "network_policies": frozenset(f"{prefix}-{suffix}" for suffix in fences),
        **{kind: frozenset({f"{prefix}-{suffix}"}) for kind, suffix in PLATFORM_SUFFIXES.items()},
    }


def network_policy_specs(allow_same_namespace: bool = True) -> dict[str, dict[str, Any]]:
    """The namespace's fence by suffix: deny all, then allow traffic inside it and DNS to kube-system.

    Without `allow_same_namespace` the pods may still send to each other, but which pod may receive
    from which is left to the student's own policies (policies add up, so a platform rule admitting
    every pod would undo any tier isolation they build). The default deny stays in every case.
    """
    everything: dict[str, Any] = {}
    same_namespace = [{"pod_selector": everything}]
    inside: dict[str, dict[str, Any]] = (
        {
            "allow-same-namespace": {
                "pod_selector": everything,
                "policy_types": ["Ingress", "Egress"],
                "ingress": [{"from": same_namespace}],
                "egress": [{"to": same_namespace}],
            }
        }
        if allow_same_namespace
        else {
            "allow-same-namespace-egress": {
                "pod_selector": everything,
                "policy_types": ["Egress"],
                "egress": [{"to": same_namespace}],
            }
        }
    )
    return {
        "default-deny": {
            "pod_selector": everything,
            "policy_types": ["Ingress", "Egress"],
            "ingress": [],
            "egress": [],
        },
        **inside,
        "allow-dns": {
            "pod_selector": everything,
            "policy_types": ["Egress"],
            "egress": [
                {
                    "to": [{"namespace_selector": {"match_labels": {"kubernetes.io/metadata.name": DNS_NAMESPACE}}}],
                    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
                }
            ],
        },
    }


QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
SUFFIXES = {"": 1, "m": Decimal("0.001"), "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: str) -> Decimal:
    """A Kubernetes quantity (`500m`, `2`, `4Gi`) as a number, for comparisons only."""
    match = QUANTITY.match(value.strip())
    if not match or match.group(2) not in SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return Decimal(match.group(1)) * SUFFIXES[match.group(2)]


def container_defaults(env: KubernetesEnvironment) -> tuple[dict[str, str], dict[str, str]]:
    """(default requests, default limits) per container, never above the namespace quota.

    A default limit above the quota would make every pod without explicit limits unschedulable.
    """
    quota = {"cpu": env.cpu, "memory": env.memory}
    limit = {k: v if quantity(v) <= quantity(quota[k]) else quota[k] for k, v in DEFAULT_LIMIT.items()}
    request = {k: v if quantity(v) <= quantity(limit[k]) else limit[k] for k, v in DEFAULT_REQUEST.items()}
    return request, limit


def quota_hard(env: KubernetesEnvironment) -> dict[str, str]:
    """The ResourceQuota's `hard` map from the lab's environment."""
    return {
        "requests.cpu": env.cpu,
        "limits.cpu": env.cpu,
        "requests.memory": env.memory,
        "limits.memory": env.memory,
        "pods": str(env.pods),
        "services": str(env.services),
        # NodePorts and load balancers reach outside the namespace fence (and cost money): none.
        "services.nodeports": "0",
        "services.loadbalancers": "0",
        "persistentvolumeclaims": str(env.pvcs),
        "requests.storage": env.storage,
    }


@dataclass(frozen=True)
class NamespaceArgs:
    """`server` and `ca_data` (base64 PEM) describe the cohort's cluster for the student's kubeconfig."""

    prefix: str
    tags: Mapping[str, str]
    server: str
    ca_data: str
    spec: KubernetesEnvironment = field(default_factory=KubernetesEnvironment)


class StudentNamespace(pulumi.ComponentResource):
    """A namespace named by the prefix that the student can use but not escape; pass the k8s provider in `opts`."""

    def __init__(self, name: str, args: NamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:k8s:StudentNamespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        prefix = args.prefix
        labels = k8s_labels(args.tags)
        self.ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": prefix, "labels": {**labels, **pod_security_labels()}},
            opts=child,
        )
        namespace = self.ns.metadata["name"]

        def meta(suffix: str, **extra: Any) -> dict[str, Any]:
            return {"name": f"{prefix}-{suffix}", "namespace": namespace, "labels": labels, **extra}

        self.quota = k8s.core.v1.ResourceQuota(
            f"{name}-quota", metadata=meta("quota"), spec={"hard": quota_hard(args.spec)}, opts=child
        )
        request, limit = container_defaults(args.spec)
        self.limits = k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("limits"),
            spec={"limits": [{"type": "Container", "default_request": request, "default": limit}]},
            opts=child,
        )
        self.policies = [
            k8s.networking.v1.NetworkPolicy(f"{name}-{suffix}", metadata=meta(suffix), spec=spec, opts=child)
            for suffix, spec in network_policy_specs(args.spec.allow_same_namespace).items()
        ]
        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=meta(PLATFORM_SUFFIXES["service_accounts"]),
            # This account is the student's own identity: pods must not carry its token around.
            automount_service_account_token=False,
            opts=child,
        )
        account = self.service_account.metadata["name"]
        manages = args.spec.student_manages
        declared = {"annotations": {MANAGES_ANNOTATION: ",".join(manages)}} if manages else {}
        self.role = k8s.rbac.v1.Role(
            f"{name}-role", metadata=meta(PLATFORM_SUFFIXES["roles"], **declared), rules=role_rules(manages), opts=child
        )
        self.role_binding = k8s.rbac.v1.RoleBinding(
            f"{name}-binding",
            metadata=meta(PLATFORM_SUFFIXES["role_bindings"]),
            role_ref={"api_group": RBAC_GROUP, "kind": "Role", "name": self.role.metadata["name"]},
            subjects=[{"kind": "ServiceAccount", "name": account, "namespace": namespace}],
            opts=child,
        )
        self.token_secret = k8s.core.v1.Secret(
            f"{name}-token",
            metadata=meta(PLATFORM_SUFFIXES["secrets"], annotations={"kubernetes.io/service-account.name": account}),
            type="kubernetes.io/service-account-token",
            opts=child,
        )
        # The token is filled in by the cluster's token controller, so it only exists after creation.
        token = self.token_secret.data.apply(
            lambda data: base64.b64decode(data["token"]).decode() if data and data.get("token") else ""
        )
        self.namespace = namespace
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(namespace, account, token).apply(
                lambda parts: build_kubeconfig(args.server, args.ca_data, parts[0], parts[1], parts[2])
            )
        )
        self.register_outputs({"namespace": self.namespace, "kubeconfig": self.kubeconfig})
