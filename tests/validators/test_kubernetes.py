"""k8s-web-deployment: checks on realistic API objects (no cluster here), collector on a fake client.

Fixtures in fixtures/kubernetes/ are JSON as the API server returns them. The collector test
replaces the kubernetes client's cluster-wide list methods with a fake that serves those fixtures.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client as k8s

from labs.catalog import get_lab
from labs.spec import LabSpec, render
from stacks.cohort import Cohort, Student, Target, prefix_for
from tests.kube_fake import FakeLists
from validators import checks as check_modules
from validators.collectors import COLLECTORS, CollectRequest
from validators.collectors import kubernetes as kubernetes_collector
from validators.collectors.kubernetes import collect_kubernetes
from validators.inventory.kubernetes import KubernetesInventory
from validators.runner import grade_cohort

LAB = "k8s-web-deployment"
COHORT = "c1"
FIXTURES = Path(__file__).parent / "fixtures" / "kubernetes"
CHECK_IDS = ("deployment", "image-pinned", "resources", "probes", "service", "netpol")
GUARD = "no-privileged"


def fixture(name: str, namespace: str = "c1-ada") -> dict[str, Any]:
    obj = json.loads((FIXTURES / f"{name}.json").read_text())
    obj["metadata"]["namespace"] = namespace
    return obj


def inventory(*objects: dict[str, Any], namespace: str = "c1-ada") -> KubernetesInventory:
    kinds = {
        "Deployment": "deployments",
        "Service": "services",
        "NetworkPolicy": "network_policies",
        "Pod": "pods",
    }
    grouped: dict[str, dict[str, Any]] = {kind: {} for kind in kinds.values()}
    for obj in objects:
        grouped[kinds[obj["kind"]]][obj["metadata"]["name"]] = obj
    return KubernetesInventory(namespace=namespace, **grouped)


def complete() -> list[dict[str, Any]]:
    return [
        fixture("deployment-web"),
        fixture("service-web"),
        fixture("networkpolicy-web-from-frontend"),
        fixture("pod-web"),
    ]


@pytest.fixture(scope="module")
def lab() -> LabSpec:
    return get_lab(LAB).spec


def results(lab: LabSpec, inv: KubernetesInventory, student: str = "ada") -> dict:
    registered = check_modules.load()
    context = {"prefix": prefix_for(COHORT, student), "student": student, "cohort": COHORT, "lab": LAB}
    out = {}
    for spec in (*lab.checks, *lab.guards):
        check = registered[spec.use]
        out[spec.id] = check.fn(inv, check.params.model_validate(render(spec.with_, context)))
    return out


def statuses(lab: LabSpec, inv: KubernetesInventory) -> dict[str, str]:
    return {k: r.status for k, r in results(lab, inv).items()}


def test_complete_solution(lab):
    assert statuses(lab, inventory(*complete())) == {**dict.fromkeys(CHECK_IDS, "passed"), GUARD: "passed"}


def test_empty_namespace(lab):
    assert statuses(lab, inventory()) == {
        "deployment": "failed",
        **dict.fromkeys(CHECK_IDS[1:], "skipped"),
        GUARD: "passed",
    }


def test_partial_kubectl_create_deployment_only(lab):
    """`kubectl create deployment web --image=nginx:latest --replicas=3`, one pod not yet available."""
    result = results(lab, inventory(fixture("deployment-web-kubectl-create")))
    assert {k: r.status for k, r in result.items()} == {
        "deployment": "failed",
        "image-pinned": "failed",
        "resources": "failed",
        "probes": "failed",
        "service": "failed",
        "netpol": "failed",
        GUARD: "passed",
    }
    assert result["deployment"].message == "deployment web has 2 of 3 replicas available"
    assert result["image-pinned"].message.startswith("nginx uses nginx:latest")
    assert (
        result["resources"].message == "nginx has no requests.cpu, requests.memory, limits.cpu, limits.memory"
    )


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("nginx:latest", False),
        ("nginx", False),
        ("registry.local:5000/nginx", False),
        ("registry.local:5000/nginx:1.27", True),
        ("nginx@sha256:" + "a" * 64, True),
        ("nginx:1.27.3", True),
    ],
)
def test_image_pinning(lab, image, pinned):
    deployment = fixture("deployment-web")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = image
    assert statuses(lab, inventory(deployment))["image-pinned"] == ("passed" if pinned else "failed")


def test_netpol_allowing_all_fails_even_next_to_a_good_one(lab):
    """Ingress policies add up: an allow-all policy selecting the web pods opens them to everyone."""
    allow_all = fixture("networkpolicy-allow-all")
    assert statuses(lab, inventory(fixture("deployment-web"), allow_all))["netpol"] == "failed"
    result = results(lab, inventory(*complete(), allow_all))["netpol"]
    assert result.status == "failed"
    assert result.message == "allow-all rule 1 allows ingress from everywhere"


@pytest.mark.parametrize(
    ("peer", "message"),
    [
        ({"ipBlock": {"cidr": "0.0.0.0/0"}}, "allows the IP block 0.0.0.0/0"),
        (
            {"namespaceSelector": {}, "podSelector": {"matchLabels": {"role": "frontend"}}},
            "allows pods of other namespaces (namespaceSelector)",
        ),
        ({"podSelector": {}}, "allows pods that are not labelled role=frontend"),
        (
            {"podSelector": {"matchLabels": {"role": "backend"}}},
            "allows pods that are not labelled role=frontend",
        ),
    ],
)
def test_netpol_peers_wider_than_frontend_fail(lab, peer, message):
    policy = fixture("networkpolicy-web-from-frontend")
    policy["spec"]["ingress"][0]["from"].append(peer)
    result = results(lab, inventory(fixture("deployment-web"), policy))["netpol"]
    assert (result.status, result.message) == ("failed", f"web-from-frontend rule 1 {message}")


def test_netpol_variants_that_pass_or_deny_everything(lab):
    deployment = fixture("deployment-web")
    expression = fixture("networkpolicy-web-from-frontend")
    expression["spec"]["podSelector"] = {
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]
    }
    expression["spec"]["ingress"][0]["from"] = [
        {"podSelector": {"matchExpressions": [{"key": "role", "operator": "In", "values": ["frontend"]}]}}
    ]
    assert statuses(lab, inventory(deployment, expression))["netpol"] == "passed"
    deny_all = fixture("networkpolicy-web-from-frontend")
    deny_all["spec"]["ingress"] = []
    assert statuses(lab, inventory(deployment, deny_all))["netpol"] == "failed"
    other_pods = fixture("networkpolicy-web-from-frontend")
    other_pods["spec"]["podSelector"] = {"matchLabels": {"app": "api"}}
    assert statuses(lab, inventory(deployment, other_pods))["netpol"] == "failed"
    egress_only = fixture("networkpolicy-web-from-frontend")
    egress_only["spec"]["policyTypes"] = ["Egress"]
    assert statuses(lab, inventory(deployment, egress_only))["netpol"] == "failed"


def test_service_wrong_type_port_and_selector(lab):
    service = fixture("service-web")
    service["spec"].update(
        type="NodePort",
        ports=[{"port": 8080, "targetPort": 80, "nodePort": 30080}],
        selector={"app": "website"},
    )
    result = results(lab, inventory(fixture("deployment-web"), service))["service"]
    assert result.status == "failed"
    assert result.message == (
        "service web: type is NodePort, expected ClusterIP; ports are 8080, expected 80; "
        "its selector app=website does not match the pods of deployment web"
    )


def test_missing_probe_and_limits_in_one_of_two_containers(lab):
    deployment = fixture("deployment-web")
    sidecar = {
        "name": "log-shipper",
        "image": "fluent/fluent-bit:3.1",
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
        "readinessProbe": {"exec": {"command": ["true"]}},
    }
    deployment["spec"]["template"]["spec"]["containers"].append(sidecar)
    result = results(lab, inventory(deployment))
    assert result["resources"].message == "log-shipper has no limits.cpu, limits.memory"
    assert result["probes"].message == "log-shipper has no livenessProbe"
    assert result["image-pinned"].status == "passed"


@pytest.mark.parametrize(
    ("where", "context", "message"),
    [
        ("container", {"privileged": True}, "is privileged"),
        ("container", {"allowPrivilegeEscalation": True}, "allows privilege escalation"),
        ("container", {"runAsUser": 0}, "runs as user 0"),
        ("pod", {"runAsUser": 0}, "runs as user 0"),
    ],
)
def test_privileged_guard_applies(lab, where, context, message):
    deployment = fixture("deployment-web")
    spec = deployment["spec"]["template"]["spec"]
    target = spec["containers"][0] if where == "container" else spec
    target["securityContext"] = context
    result = results(lab, inventory(deployment))[GUARD]
    assert (result.status, result.message) == ("failed", f"deployment web container nginx {message}")


def test_a_bare_privileged_pod_trips_the_guard_but_not_pods_of_the_deployment(lab):
    result = results(lab, inventory(*complete(), fixture("pod-debug-privileged")))[GUARD]
    assert result.status == "failed"
    assert (
        result.message == "pod debug container debug is privileged; pod debug container debug runs as user 0"
    )


def cluster_objects() -> list[dict[str, Any]]:
    return [
        *complete(),
        fixture("deployment-web-kubectl-create", "c1-bob"),
        fixture("networkpolicy-allow-all", "c1-bob"),
        fixture("pod-debug-privileged", "c1-bob"),
        fixture("deployment-web", "c1-ada-x"),
        fixture("service-web", "c2-ada"),
        fixture("deployment-web", "kube-system"),
    ]


def request_for(students: list[str]) -> CollectRequest:
    return CollectRequest(
        cohort=COHORT,
        prefixes=tuple(prefix_for(COHORT, s) for s in students),
        session=None,  # type: ignore[arg-type] - Kubernetes needs no AWS session
        endpoint_url=None,
        wanted=(),
    )


def test_collector_partitions_by_namespace_with_a_fake_of_the_client_list_methods(lab, monkeypatch):
    api = k8s.ApiClient()
    fake = FakeLists(api, cluster_objects())
    fake.install(monkeypatch)
    monkeypatch.setattr(kubernetes_collector, "PAGE_SIZE", 2)
    snapshot = collect_kubernetes(request_for(["ada", "bob", "cy"]), api_client=api)
    ada, bob, cy = (snapshot.for_prefix(f"c1-{s}") for s in ("ada", "bob", "cy"))
    assert set(ada.deployments) == {"web"} and set(ada.services) == {"web"}
    assert set(ada.network_policies) == {"web-from-frontend"} and set(ada.pods) == {"web-7d9c5b8f6c-x2k9p"}
    assert (
        ada.deployment("web")["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"][
            "port"
        ]
        == 80
    )
    assert ada.deployment("web")["status"]["availableReplicas"] == 3
    assert set(bob.pods) == {"debug"} and set(bob.network_policies) == {"allow-all"}
    assert cy == KubernetesInventory(namespace="c1-cy")
    assert statuses(lab, ada) == {**dict.fromkeys(CHECK_IDS, "passed"), GUARD: "passed"}
    assert statuses(lab, bob)[GUARD] == "failed"
    # One list per kind; four deployments come in two pages of two. Calls follow the cluster's size,
    # not the number of students graded.
    assert [kind for kind, _ in fake.calls] == ["Deployment", "Deployment", "Service", "NetworkPolicy", "Pod"]
    assert fake.calls[1][1]["_continue"] == "2"
    fake.calls.clear()
    collect_kubernetes(request_for(["ada"]), api_client=api)
    assert len(fake.calls) == 5


def test_end_to_end_through_the_runner_with_a_fake_of_the_client_list_methods(lab, monkeypatch):
    api = k8s.ApiClient()
    FakeLists(api, cluster_objects()).install(monkeypatch)
    monkeypatch.setitem(COLLECTORS, "kubernetes", functools.partial(collect_kubernetes, api_client=api))
    students = tuple(Student(s, s, s.title(), "", prefix_for(COHORT, s)) for s in ("ada", "bob"))
    cohort = Cohort(COHORT, (LAB,), Target("emulator", None, "us-east-1"), students)
    ada, bob = grade_cohort(cohort, [lab], None, None).results  # type: ignore[arg-type] - no AWS needed
    assert (ada.score, ada.passed) == (100, True)
    assert {c.id: c.status for c in bob.checks} == dict.fromkeys(CHECK_IDS, "failed")
    assert [(g.id, g.deducted) for g in bob.guards] == [(GUARD, 30)]
    assert bob.score == 0
