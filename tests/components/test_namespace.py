"""StudentNamespace under the SDK's mock runtime, and the pure kubeconfig builder.

What the component registers is read through the plan's recording monitor (`stacks.plan.run_recorded`,
a preview); resolved values and providers through an `up` under the mock runtime whose mocks fill in
what the cluster would (the service-account token).
"""

from __future__ import annotations

import base64

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from mock_up import EchoMocks, resolve

from labctl.components.k8s_namespace import (
    NamespaceArgs,
    StudentNamespace,
    container_defaults,
    network_policy_specs,
    pod_security_labels,
    protected_writes,
    quantity,
    role_rules,
)
from labctl.components.kubeconfig import build_kubeconfig, cluster_endpoint
from labctl.components.tags import student_tags
from labctl.labs.spec import KubernetesEnvironment
from labctl.stacks.plan import run_recorded

PREFIX = "c1-alice"
TAGS = student_tags("c1", "alice", "k8s-basics")
LABELS = {"labctl/cohort": "c1", "labctl/student": "alice", "labctl/lab": "k8s-basics"}
SERVER = "https://cluster.example:6443"
CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n").decode()
SPEC = KubernetesEnvironment(cpu="4", memory="8Gi", pods=30, services=5, pvcs=2, storage="20Gi")


# A lab that lets the student write their own network policies and RBAC, and grades tier isolation.
MANAGING = SPEC.model_copy(update={"student_manages": ["networkpolicies", "rbac"], "allow_same_namespace": False})


def build(spec: KubernetesEnvironment = SPEC) -> StudentNamespace:
    provider = k8s.Provider(f"{PREFIX}-k8s-provider", kubeconfig="{}", context="lab")
    return StudentNamespace(
        f"{PREFIX}-k8s",
        NamespaceArgs(prefix=PREFIX, tags=TAGS, server=SERVER, ca_data=CA, spec=spec),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


@pytest.fixture(scope="module")
def recorded() -> list[dict]:
    return run_recorded(build, "c1.alice").plan_resources()


@pytest.fixture(scope="module")
def managing() -> list[dict]:
    return run_recorded(lambda: build(MANAGING), "c1.alice").plan_resources()


def one(recorded: list[dict], name: str) -> dict:
    (found,) = [r for r in recorded if r["name"] == f"{PREFIX}-k8s-{name}"]
    return found


# The token controller fills the service-account token Secret's data after creation.
CLUSTER_VALUES = {"kubernetes:core/v1:Secret": {"data": {"token": base64.b64encode(b"the-sa-token").decode()}}}


# Kinds the Kubernetes API serves outside any namespace (`kubectl api-resources --namespaced=false`):
# one of these made for a student would reach past their namespace.
CLUSTER_SCOPED = {
    "Namespace", "Node", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding",
    "CustomResourceDefinition", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
    "PriorityClass", "RuntimeClass", "IngressClass", "CertificateSigningRequest",
}


def test_nothing_reaches_past_the_namespace_and_the_fence_is_complete(recorded):
    """The Namespace is the one cluster-scoped object; the quota, the limit range, a default-deny
    policy and a namespaced Role bound to the student's service account are all there, under the
    component. Shown failing with a ClusterRoleBinding added, and with the LimitRange removed."""
    children = [r for r in recorded if r["type"].startswith("kubernetes:")]
    kinds = [r["type"].rsplit(":", 1)[1] for r in children]
    assert [k for k in kinds if k in CLUSTER_SCOPED] == ["Namespace"]
    assert {"ResourceQuota", "LimitRange", "NetworkPolicy", "Role", "RoleBinding", "ServiceAccount"} <= set(kinds)
    assert all(r["parent"] == "labctl:k8s:StudentNamespace" for r in children)


def test_every_object_is_named_by_the_prefix_labelled_and_in_the_namespace(recorded):
    objects = [r for r in recorded if r["type"].startswith("kubernetes:")]
    assert len(objects) == 10
    for r in objects:
        metadata = r["inputs"]["metadata"]
        assert r["name"].startswith(PREFIX) and metadata["name"].startswith(PREFIX), r["name"]
        assert LABELS.items() <= metadata["labels"].items(), r["name"]
        if r["type"] != "kubernetes:core/v1:Namespace":
            assert metadata["namespace"] == PREFIX, r["name"]


def test_namespace_enforces_restricted_pod_security(recorded):
    labels = one(recorded, "ns")["inputs"]["metadata"]["labels"]
    assert one(recorded, "ns")["inputs"]["metadata"]["name"] == PREFIX
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert pod_security_labels()["pod-security.kubernetes.io/enforce"] == "restricted"


# A second lab's figures, all different from SPEC's: a component that ignored the lab would fit one.
SMALL = KubernetesEnvironment(cpu="1500m", memory="3Gi", pods=7, services=2, pvcs=1, storage="5Gi")


@pytest.mark.parametrize("spec", [SPEC, SMALL], ids=["lab", "small-lab"])
def test_quota_follows_the_lab(spec):
    """Compute, memory, objects and storage as the lab declares them; no NodePort or LoadBalancer
    services, which would publish outside the cluster."""
    recorded = run_recorded(lambda: build(spec), "c1.alice").plan_resources()
    assert one(recorded, "quota")["inputs"]["spec"]["hard"] == {
        "requests.cpu": spec.cpu,
        "limits.cpu": spec.cpu,
        "requests.memory": spec.memory,
        "limits.memory": spec.memory,
        "pods": str(spec.pods),
        "services": str(spec.services),
        "services.nodeports": "0",
        "services.loadbalancers": "0",
        "persistentvolumeclaims": str(spec.pvcs),
        "requests.storage": spec.storage,
    }


def test_containers_without_figures_get_the_platform_defaults(recorded):
    (limit,) = one(recorded, "limits")["inputs"]["spec"]["limits"]
    assert limit == {
        "type": "Container",
        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
        "default": {"cpu": "500m", "memory": "512Mi"},
    }


def test_container_defaults_never_exceed_a_small_quota():
    request, limit = container_defaults(KubernetesEnvironment(cpu="250m", memory="64Mi"))
    assert limit == {"cpu": "250m", "memory": "64Mi"}
    assert request == {"cpu": "100m", "memory": "64Mi"}
    assert quantity("1.5") == quantity("1500m") and quantity("1Gi") == 1024 * quantity("1Mi")
    with pytest.raises(ValueError):
        quantity("lots")


def test_default_deny_blocks_both_directions(recorded):
    spec = one(recorded, "default-deny")["inputs"]["spec"]
    assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}


def test_traffic_is_allowed_only_inside_the_namespace_and_to_dns(recorded):
    same = one(recorded, "allow-same-namespace")["inputs"]["spec"]
    assert same["ingress"] == [{"from": [{"podSelector": {}}]}]
    assert same["egress"] == [{"to": [{"podSelector": {}}]}]
    dns = one(recorded, "allow-dns")["inputs"]["spec"]
    assert dns["policyTypes"] == ["Egress"] and "ingress" not in dns
    assert dns["egress"] == [
        {
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        }
    ]


def test_role_edits_workloads_but_cannot_touch_rbac_quota_limits_or_policies(recorded):
    rules = one(recorded, "role")["inputs"]["rules"]
    assert protected_writes(rules) == []
    assert all("rbac.authorization.k8s.io" not in r["apiGroups"] and "*" not in r["apiGroups"] for r in rules)
    assert all("*" not in r["resources"] and "*" not in r["verbs"] for r in rules)
    writable = {(g, res) for r in rules if "create" in r["verbs"] for g in r["apiGroups"] for res in r["resources"]}
    assert {
        ("", "pods"),
        ("apps", "deployments"),
        ("", "services"),
        ("", "configmaps"),
        ("", "secrets"),
        ("batch", "jobs"),
        ("networking.k8s.io", "ingresses"),
        ("autoscaling", "horizontalpodautoscalers"),
    } <= writable
    assert not {
        ("", "resourcequotas"),
        ("", "limitranges"),
        ("networking.k8s.io", "networkpolicies"),
        ("", "endpoints"),
        ("", "serviceaccounts"),
    } & writable


def test_protected_writes_catches_what_the_role_must_not_grant():
    assert protected_writes(role_rules()) == []
    def rule(group: str, resource: str, verb: str) -> list[dict]:
        return [{"apiGroups": [group], "resources": [resource], "verbs": [verb]}]

    assert protected_writes(rule("rbac.authorization.k8s.io", "rolebindings", "create"))
    assert protected_writes(rule("rbac.authorization.k8s.io", "roles", "escalate"))
    assert protected_writes(rule("*", "*", "*"))
    assert protected_writes([{"api_groups": [""], "resources": ["resourcequotas"], "verbs": ["patch"]}])
    assert protected_writes(rule("networking.k8s.io", "networkpolicies", "delete"))
    assert not protected_writes(rule("networking.k8s.io", "networkpolicies", "list"))


def test_the_default_role_declares_no_opt_in(recorded):
    assert "annotations" not in one(recorded, "role")["inputs"]["metadata"]


def writable_by(rules: list[dict]) -> set[tuple[str, str]]:
    return {(g, res) for r in rules if "create" in r["verbs"] for g in r["apiGroups"] for res in r["resources"]}


def test_an_opted_in_role_writes_its_own_policies_and_rbac_but_cannot_escalate(managing):
    inputs = one(managing, "role")["inputs"]
    rules = inputs["rules"]
    assert inputs["metadata"]["annotations"] == {"labctl/student-manages": "networkpolicies,rbac"}
    assert {
        ("networking.k8s.io", "networkpolicies"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
        ("", "serviceaccounts"),
    } <= writable_by(rules)
    assert not {("", "resourcequotas"), ("", "limitranges"), ("", "endpoints")} & writable_by(rules)
    verbs = {v for r in rules for v in r["verbs"]}
    assert not verbs & {"bind", "escalate", "impersonate", "*"}
    assert all("*" not in r["apiGroups"] and "*" not in r["resources"] for r in rules)
    assert not {res for r in rules for res in r["resources"]} & {"clusterroles", "clusterrolebindings"}
    # each resource is granted once: what became writable is no longer listed read-only as well
    granted = [(g, res) for r in rules for g in r["apiGroups"] for res in r["resources"]]
    assert len(granted) == len(set(granted))
    assert protected_writes(rules, ["networkpolicies", "rbac"]) == []
    assert protected_writes(rules) and protected_writes(rules, ["networkpolicies"])


def test_opting_in_never_allows_escalating_verbs_or_cluster_rbac():
    def rule(group: str, resource: str, verb: str) -> list[dict]:
        return [{"apiGroups": [group], "resources": [resource], "verbs": [verb]}]

    both = ["networkpolicies", "rbac"]
    assert protected_writes(rule("rbac.authorization.k8s.io", "roles", "create"), both) == []
    assert protected_writes(rule("rbac.authorization.k8s.io", "roles", "bind"), both)
    assert protected_writes(rule("rbac.authorization.k8s.io", "roles", "escalate"), both)
    assert protected_writes(rule("rbac.authorization.k8s.io", "clusterroles", "create"), both)
    assert protected_writes(rule("rbac.authorization.k8s.io", "clusterrolebindings", "create"), both)
    assert protected_writes(rule("rbac.authorization.k8s.io", "*", "create"), both)
    assert protected_writes(rule("networking.k8s.io", "networkpolicies", "*"), both)
    assert protected_writes(rule("", "resourcequotas", "patch"), both)


def test_tier_isolation_keeps_the_default_deny_and_dns_but_admits_nothing(managing, recorded):
    names = {r["name"] for r in managing if r["type"] == "kubernetes:networking.k8s.io/v1:NetworkPolicy"}
    assert names == {f"{PREFIX}-k8s-{s}" for s in ("default-deny", "allow-same-namespace-egress", "allow-dns")}
    for suffix in ("default-deny", "allow-dns"):
        assert one(managing, suffix)["inputs"]["spec"] == one(recorded, suffix)["inputs"]["spec"]
    # Pods may still send to each other; no platform policy admits ingress, so the student's decide.
    egress = one(managing, "allow-same-namespace-egress")["inputs"]["spec"]
    assert egress == {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"to": [{"podSelector": {}}]}]}
    assert all("ingress" not in spec or spec["ingress"] == [] for spec in network_policy_specs(False).values())


def test_student_manages_lists_each_known_kind_once():
    assert KubernetesEnvironment(student_manages=["rbac", "networkpolicies"]).student_manages == ["networkpolicies", "rbac"]
    with pytest.raises(ValueError, match="once"):
        KubernetesEnvironment(student_manages=["rbac", "rbac"])
    with pytest.raises(ValueError):
        KubernetesEnvironment(student_manages=["clusterroles"])


def test_binding_gives_the_role_to_the_students_service_account_only(recorded):
    inputs = one(recorded, "binding")["inputs"]
    assert inputs["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{PREFIX}-edit"}
    assert inputs["subjects"] == [{"kind": "ServiceAccount", "name": f"{PREFIX}-student", "namespace": PREFIX}]
    assert one(recorded, "sa")["inputs"]["automountServiceAccountToken"] is False


def test_token_secret_belongs_to_the_service_account(recorded):
    inputs = one(recorded, "token")["inputs"]
    assert inputs["type"] == "kubernetes.io/service-account-token"
    assert inputs["metadata"]["annotations"] == {"kubernetes.io/service-account.name": f"{PREFIX}-student"}


def test_outputs_kubeconfig_is_secret_in_the_plan(recorded):
    (outputs,) = [r["outputs"] for r in recorded if r["type"] == "labctl:k8s:StudentNamespace"]
    assert outputs == {"namespace": PREFIX, "kubeconfig": "[secret]"}


def test_kubeconfig_carries_the_token_and_every_child_uses_the_given_provider():
    mocks = EchoMocks(CLUSTER_VALUES)
    settled = resolve(lambda: {"kubeconfig": (ns := build()).kubeconfig, "namespace": ns.namespace}, mocks)
    kubeconfig, secret = settled["kubeconfig"]
    assert secret and settled["namespace"] == (PREFIX, False)
    config = yaml.safe_load(kubeconfig)
    assert config["users"] == [{"name": f"{PREFIX}-student", "user": {"token": "the-sa-token"}}]
    assert config["contexts"][0]["context"]["namespace"] == PREFIX
    children = [a for a in mocks.created if a.typ.startswith("kubernetes:")]
    assert len(children) == 10
    assert {a.provider.split("::")[3] for a in children} == {f"{PREFIX}-k8s-provider"}


def test_build_kubeconfig_is_valid_and_pinned_to_the_namespace():
    text = build_kubeconfig(SERVER, CA, PREFIX, f"{PREFIX}-student", "tok.en")
    config = yaml.safe_load(text)
    assert config["apiVersion"] == "v1" and config["kind"] == "Config"
    assert config["current-context"] == PREFIX
    (context,) = config["contexts"]
    assert context == {"name": PREFIX, "context": {"cluster": PREFIX, "user": f"{PREFIX}-student", "namespace": PREFIX}}
    assert config["clusters"] == [{"name": PREFIX, "cluster": {"server": SERVER, "certificate-authority-data": CA}}]
    assert config["users"] == [{"name": f"{PREFIX}-student", "user": {"token": "tok.en"}}]


def test_cluster_endpoint_reads_the_contexts_cluster(tmp_path):
    ca_file = tmp_path / "ca.crt"
    ca_file.write_bytes(b"PEM")
    admin = yaml.safe_dump(
        {
            "clusters": [
                {"name": "kind", "cluster": {"server": SERVER, "certificate-authority-data": CA}},
                {"name": "other", "cluster": {"server": "https://other:6443", "certificate-authority": str(ca_file)}},
            ],
            "contexts": [
                {"name": "kind-lab", "context": {"cluster": "kind", "user": "admin"}},
                {"name": "other", "context": {"cluster": "other", "user": "admin"}},
            ],
            "current-context": "kind-lab",
        }
    )
    assert cluster_endpoint(admin) == (SERVER, CA)
    assert cluster_endpoint(admin, "other") == ("https://other:6443", base64.b64encode(b"PEM").decode())
    with pytest.raises(ValueError, match="no context 'missing'"):
        cluster_endpoint(admin, "missing")
