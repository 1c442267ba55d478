"""Deployment and pod checks on one namespace's objects in the API server's JSON shape (no cluster).

The namespace is k8s-web-deployment's solution: Deployment web (app=web, 3 replicas of a pinned nginx
with requests, limits and both probes) behind the ClusterIP Service web on port 80. Each test changes
what a student could get wrong and states the outcome from the lab's rule: replicas as asked and all
available (a rollout's surge pod is no fault), images pinned by a tag other than latest or by a digest,
every container with requests and limits and both probes, the Service of the asked type and port
selecting the pods, and no container of any pod the student wrote privileged or running as uid 0.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from tests.validators.k8s_objects import NAMESPACE, from_api, labelled_deployment
from labctl.validators.checks.kubernetes import workloads
from labctl.validators.checks.kubernetes.objects import DeploymentParams, NamespaceParams

WEB = DeploymentParams(deployment="web")
SERVICE = workloads.ServiceParams(deployment="web", service="web", port=80)
NAMESPACE_ONLY = NamespaceParams()


def container(name: str = "nginx", image: str = "nginx:1.27.3", **fields: Any) -> dict[str, Any]:
    good = {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "readinessProbe": {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/", "port": 80, "scheme": "HTTP"}, "periodSeconds": 10},
        "imagePullPolicy": "IfNotPresent",
    }
    return {**good, **fields}


def web(*containers: dict[str, Any], replicas: int = 3) -> dict[str, Any]:
    return labelled_deployment("web", {"app": "web"}, *(containers or (container(),)), replicas=replicas)


def service(**spec: Any) -> dict[str, Any]:
    good = {"type": "ClusterIP", "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP"}], "selector": {"app": "web"}}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NAMESPACE}, "spec": {**good, **spec}}


def outcome(result) -> tuple[str, str]:
    return result.status, result.message


def test_the_reference_solution_passes_every_check():
    inv = from_api(web(), service())
    assert workloads.deployment_replicas(inv, workloads.ReplicasParams(deployment="web", replicas=3)).status == "passed"
    for check in (workloads.images_pinned, workloads.resources, workloads.probes):
        assert check(inv, WEB).status == "passed"
    assert workloads.service(inv, SERVICE).status == "passed"
    assert workloads.no_privileged(inv, NAMESPACE_ONLY).status == "passed"
    assert workloads.deployments_available(inv, workloads.DeploymentsParams(deployments=["web"])).status == "passed"


@pytest.mark.parametrize("check", [workloads.images_pinned, workloads.resources, workloads.probes])
def test_a_deployment_that_does_not_exist_skips_its_container_checks(check):
    assert outcome(check(from_api(), WEB)) == ("skipped", f"deployment web does not exist in namespace {NAMESPACE}")


# --- k8s.deployment-replicas ----------------------------------------------------------------------

def replicas(inv, wanted: int = 3):
    return workloads.deployment_replicas(inv, workloads.ReplicasParams(deployment="web", replicas=wanted))


def test_replicas_fail_for_a_missing_deployment_with_the_command_that_makes_it():
    result = replicas(from_api())
    assert outcome(result) == ("failed", f"deployment web does not exist in namespace {NAMESPACE}")
    assert result.hint == f"kubectl -n {NAMESPACE} create deployment web ..."


@pytest.mark.parametrize("count", [2, 5])
def test_the_deployment_must_want_exactly_the_asked_replicas(count):
    assert outcome(replicas(from_api(web(replicas=count)))) == (
        "failed", f"deployment web wants {count} replicas, expected 3"
    )


def test_every_wanted_replica_must_be_available_and_a_surge_pod_is_no_fault():
    rolling = web()
    rolling["status"]["availableReplicas"] = 2
    result = replicas(from_api(rolling))
    assert outcome(result) == ("failed", "deployment web has 2 of 3 replicas available")
    assert result.hint == f"kubectl -n {NAMESPACE} describe deployment web"
    rolling["status"]["availableReplicas"] = 4
    assert replicas(from_api(rolling)).status == "passed"


def test_no_available_replica_is_left_out_of_the_status_and_replicas_default_to_one():
    """The API server leaves zero counts out of status, and a Deployment without spec.replicas wants one."""
    starting = web(replicas=1)
    del starting["spec"]["replicas"], starting["status"]["availableReplicas"]
    assert outcome(replicas(from_api(starting), 1)) == ("failed", "deployment web has 0 of 1 replicas available")
    assert outcome(replicas(from_api(starting), 3)) == ("failed", "deployment web wants 1 replicas, expected 3")
    scaled_down = web(replicas=0)
    del scaled_down["status"]["availableReplicas"]
    assert replicas(from_api(scaled_down), 0).status == "passed"


# --- k8s.image-pinned -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("nginx:1.27.3", True),
        ("nginx:mainline", True),
        ("registry.local:5000/nginx:1.27", True),
        ("nginx@sha256:" + "a" * 64, True),
        ("nginx:latest", False),
        ("nginx", False),
        ("registry.local:5000/nginx", False),
        ("registry.local:5000/team/nginx", False),
    ],
)
def test_an_image_is_pinned_by_a_tag_other_than_latest_or_a_digest(image, pinned):
    result = workloads.images_pinned(from_api(web(container(image=image))), WEB)
    expected = f"nginx uses {image} (use an explicit tag other than latest, or a digest)"
    assert outcome(result) == (("passed", "") if pinned else ("failed", expected))


def test_init_containers_and_containers_without_an_image_are_named_too():
    sidecar = container("sidecar")
    del sidecar["image"]
    deployment_web = web(container(), sidecar)
    deployment_web["spec"]["template"]["spec"]["initContainers"] = [container("setup", image="busybox:latest")]
    assert outcome(workloads.images_pinned(from_api(deployment_web), WEB)) == (
        "failed", "setup uses busybox:latest; sidecar uses (no image) (use an explicit tag other than latest, or a digest)"
    )


# --- k8s.resources and k8s.probes -----------------------------------------------------------------

def test_each_container_names_the_requests_limits_and_probes_it_lacks():
    sidecar = container("log-shipper", image="fluent/fluent-bit:3.1", resources={"requests": {"cpu": "10m", "memory": "16Mi"}})
    del sidecar["livenessProbe"]
    bare = container("debug", image="busybox:1.36")
    for field in ("resources", "readinessProbe", "livenessProbe"):
        del bare[field]
    inv = from_api(web(container(), sidecar, bare))
    resources = workloads.resources(inv, WEB)
    assert outcome(resources) == (
        "failed",
        "log-shipper has no limits.cpu, limits.memory; debug has no requests.cpu, requests.memory, limits.cpu, limits.memory",
    )
    assert resources.hint
    probes = workloads.probes(inv, WEB)
    assert outcome(probes) == ("failed", "log-shipper has no livenessProbe; debug has no readinessProbe and no livenessProbe")
    assert probes.hint


# --- k8s.service ------------------------------------------------------------------------------------

def test_a_missing_service_fails_with_the_command_that_makes_it():
    assert workloads.service(from_api(service()), SERVICE).status == "skipped"
    result = workloads.service(from_api(web()), SERVICE)
    assert outcome(result) == ("failed", "service web does not exist")
    assert result.hint == f"kubectl -n {NAMESPACE} expose deployment web --name web --port 80"


@pytest.mark.parametrize(
    ("spec", "wanted_type", "problem"),
    [
        ({"type": "NodePort"}, "ClusterIP", "type is NodePort, expected ClusterIP"),
        ({"type": "ClusterIP"}, "NodePort", "type is ClusterIP, expected NodePort"),
        ({"type": "NodePort"}, "NodePort", None),
        ({"ports": [{"port": 443}, {"port": 80}]}, "ClusterIP", None),
        ({"ports": [{"port": 8080, "targetPort": 80}]}, "ClusterIP", "ports are 8080, expected 80"),
        ({"ports": None, "clusterIP": "None"}, "ClusterIP", "ports are none, expected 80"),
        ({"selector": None}, "ClusterIP", "it has no selector"),
        ({"selector": {"app": "website"}}, "ClusterIP", "its selector app=website does not match the pods of deployment web"),
        ({"selector": {"app": "api"}}, "ClusterIP", "its selector app=api does not match the pods of deployment web"),
        ({"selector": {"app": "web", "tier": "frontend"}}, "ClusterIP",
         "its selector app=web,tier=frontend does not match the pods of deployment web"),
    ],
)
def test_the_service_has_the_type_and_port_and_selects_the_pods(spec, wanted_type, problem):
    svc = service(**spec)
    svc["spec"] = {k: v for k, v in svc["spec"].items() if v is not None}
    params = workloads.ServiceParams(deployment="web", service="web", port=80, type=wanted_type)
    result = workloads.service(from_api(web(), svc), params)
    assert outcome(result) == (("passed", "") if problem is None else ("failed", f"service web: {problem}"))


def test_the_service_selects_a_subset_of_the_pod_labels_and_reports_every_problem():
    pods = labelled_deployment("web", {"app": "web", "tier": "frontend"}, container())
    assert workloads.service(from_api(pods, service()), SERVICE).status == "passed"
    wrong = service(type="NodePort", ports=[{"port": 8080, "targetPort": 80, "nodePort": 30080}], selector={"app": "website"})
    assert workloads.service(from_api(web(), wrong), SERVICE).message == (
        "service web: type is NodePort, expected ClusterIP; ports are 8080, expected 80; "
        "its selector app=website does not match the pods of deployment web"
    )


# --- k8s.no-privileged ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("container_context", "pod_context", "problem"),
    [
        ({"privileged": True}, None, "is privileged"),
        ({"allowPrivilegeEscalation": True}, None, "allows privilege escalation"),
        ({"runAsUser": 0}, None, "runs as user 0"),
        (None, {"runAsUser": 0}, "runs as user 0"),
        ({"runAsUser": 0}, {"runAsUser": 1000}, "runs as user 0"),
        ({"runAsUser": 1000}, {"runAsUser": 0}, None),
        ({"runAsUser": 1000}, None, None),
        ({"privileged": False, "allowPrivilegeEscalation": False, "runAsNonRoot": True}, None, None),
        (None, None, None),
    ],
)
def test_a_container_is_privileged_escalates_or_runs_as_root_by_its_own_or_its_pods_context(
    container_context, pod_context, problem
):
    nginx = container() if container_context is None else container(securityContext=container_context)
    deployment_web = web(nginx)
    if pod_context is not None:
        deployment_web["spec"]["template"]["spec"]["securityContext"] = pod_context
    result = workloads.no_privileged(from_api(deployment_web), NAMESPACE_ONLY)
    assert outcome(result) == (("passed", "") if problem is None else ("failed", f"deployment web container nginx {problem}"))


def pod(name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE, **metadata}, "spec": spec}


def test_every_pod_the_student_wrote_is_guarded_and_pods_of_a_controller_through_it():
    privileged = {"containers": [container("debug", image="busybox:1.36", securityContext={"privileged": True})]}
    replica_pod = pod("web-7d9c5b8f6c-x2k9p", privileged, ownerReferences=[{"kind": "ReplicaSet", "name": "web-7d9c5b8f6c", "controller": True}])
    report = {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "report", "namespace": NAMESPACE},
        "spec": {"schedule": "*/30 * * * *", "jobTemplate": {"spec": {"template": {"spec": {
            "containers": [container("report", image="busybox:1.36", securityContext={"runAsUser": 0})],
            "restartPolicy": "OnFailure"}}}}},
    }
    deployment_web = web()
    deployment_web["spec"]["template"]["spec"]["initContainers"] = [
        container("setup", image="busybox:1.36", securityContext={"allowPrivilegeEscalation": True})
    ]
    inv = from_api(deployment_web, report, pod("debug", privileged), replica_pod)
    assert outcome(workloads.no_privileged(inv, NAMESPACE_ONLY)) == (
        "failed",
        "deployment web container setup allows privilege escalation; cronjob report container report runs as user 0; "
        "pod debug container debug is privileged",
    )


# --- k8s.deployments-available --------------------------------------------------------------------

def available(*deployments: dict[str, Any], names: tuple[str, ...] = ("frontend", "api", "db")):
    return workloads.deployments_available(from_api(*deployments), workloads.DeploymentsParams(deployments=list(names)))


def tier(name: str, replicas: int, ready: int | None = None) -> dict[str, Any]:
    obj = labelled_deployment(name, {"tier": name}, container(), replicas=replicas)
    if ready is not None:
        obj["status"]["availableReplicas"] = ready
    return obj


def test_every_named_deployment_must_exist_want_a_replica_and_have_all_available():
    assert available(tier("frontend", 2), tier("api", 1), tier("db", 1)).status == "passed"
    result = available(tier("frontend", 2, ready=1), tier("db", 0))
    assert outcome(result) == (
        "failed",
        "deployment frontend has 1 of 2 replicas available; deployment api does not exist; deployment db is scaled to 0",
    )
    assert result.hint == f"kubectl -n {NAMESPACE} get deployments,pods"
    assert outcome(available(names=("api", "db"))) == ("failed", "deployment api does not exist; deployment db does not exist")


def test_a_surge_pod_is_no_fault_and_an_unset_count_wants_one():
    assert available(tier("frontend", 2, ready=3), tier("api", 1), tier("db", 1)).status == "passed"
    db = tier("db", 1)
    del db["spec"]["replicas"], db["status"]["availableReplicas"]
    assert outcome(available(tier("frontend", 2), tier("api", 1), db)) == ("failed", "deployment db has 0 of 1 replicas available")


# --- what a lab may ask -----------------------------------------------------------------------------

def test_a_lab_asks_for_zero_or_more_replicas_a_real_port_and_at_least_one_deployment():
    assert workloads.ReplicasParams(deployment="web", replicas=0).replicas == 0
    assert workloads.ServiceParams(deployment="web", service="web", port=1).port == 1
    assert workloads.ServiceParams(deployment="web", service="web", port=65535).port == 65535
    for invalid in (
        lambda: workloads.ReplicasParams(deployment="web", replicas=-1),
        lambda: workloads.ServiceParams(deployment="web", service="web", port=0),
        lambda: workloads.ServiceParams(deployment="web", service="web", port=65536),
        lambda: workloads.DeploymentsParams(deployments=[]),
    ):
        with pytest.raises(ValidationError):
            invalid()
