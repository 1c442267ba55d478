"""What every Kubernetes check reads from a namespace's objects (API server JSON shape, no cluster):
a path through nested fields, a pod spec's containers (init containers first, as the kubelet runs
them), the pod template of a Deployment, Job or CronJob, which pods and jobs a controller owns, and
which of requests and limits a container leaves unset."""

from __future__ import annotations

from typing import Any

from tests.validators.k8s_objects import NAMESPACE, from_api, labelled_deployment
from labctl.validators.checks.kubernetes import objects
from labctl.validators.registry import Result

NGINX = {"name": "nginx", "image": "nginx:1.27.3"}
SETUP = {"name": "setup", "image": "busybox:1.36"}


def pod_spec(*containers: dict[str, Any], init: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers), "restartPolicy": "Always"}
    if init:
        spec["initContainers"] = list(init)
    return spec


def workload(kind: str, name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": name, "namespace": NAMESPACE, **metadata}, "spec": spec}


def job(name: str, template: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return workload("Job", name, {"backoffLimit": 6, "template": {"spec": template}}, **metadata)


def cron_job(name: str, template: dict[str, Any]) -> dict[str, Any]:
    return workload("CronJob", name, {"schedule": "*/30 * * * *", "jobTemplate": {"spec": {"template": {"spec": template}}}})


def pod(name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NAMESPACE, **metadata}, "spec": spec}


OWNED_BY = {"ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "report", "controller": True}]}


def test_a_deployment_is_found_by_name_or_its_check_is_skipped():
    inv = from_api(labelled_deployment("web", {"app": "web"}, NGINX))
    assert objects.deployment_or_result(inv, "web") is inv.deployments["web"]
    missing = objects.deployment_or_result(inv, "api")
    assert isinstance(missing, Result)
    assert (missing.status, missing.message) == ("skipped", f"deployment api does not exist in namespace {NAMESPACE}")


def test_dig_follows_a_path_of_keys_and_gives_none_where_it_breaks():
    obj = {"spec": {"template": {"metadata": {"labels": {"app": "web"}}}, "containers": [NGINX]}}
    assert objects.dig(obj, "spec", "template", "metadata", "labels") == {"app": "web"}
    assert objects.dig(obj) is obj
    assert objects.dig(obj, "spec", "selector", "matchLabels") is None
    assert objects.dig(obj, "spec", "containers", "name") is None
    assert objects.dig(obj, "spec", "template", "metadata", "labels", "app", "x") is None
    assert objects.dig(None, "spec") is None


def test_containers_come_init_first_only_when_asked_and_skip_what_is_not_a_container():
    spec = pod_spec(NGINX, {"name": "sidecar", "image": "fluent/fluent-bit:3.1"}, init=(SETUP,))
    assert objects.containers(spec) == [NGINX, {"name": "sidecar", "image": "fluent/fluent-bit:3.1"}]
    assert objects.containers(spec, init=True) == [SETUP, NGINX, {"name": "sidecar", "image": "fluent/fluent-bit:3.1"}]
    assert objects.containers(pod_spec(init=(SETUP,)), init=True) == [SETUP]
    assert objects.containers(pod_spec(NGINX), init=True) == [NGINX]
    assert objects.containers({"containers": [NGINX, "nginx", None]}) == [NGINX]
    assert objects.containers(None, init=True) == []
    assert objects.containers({}) == []


def test_template_labels_are_a_copy_of_the_pod_templates_labels():
    web = labelled_deployment("web", {"app": "web", "tier": "frontend"}, NGINX)
    web["metadata"]["labels"] = {"app.kubernetes.io/name": "web"}
    labels = objects.template_labels(web)
    assert labels == {"app": "web", "tier": "frontend"}
    labels["tier"] = "backend"
    assert web["spec"]["template"]["metadata"]["labels"]["tier"] == "frontend"
    del web["spec"]["template"]["metadata"]
    assert objects.template_labels(web) == {}


def test_the_pod_template_of_a_deployment_a_job_and_a_cronjob():
    web = labelled_deployment("web", {"app": "web"}, NGINX)
    assert objects.pod_template(web) == web["spec"]["template"]["spec"]
    assert objects.pod_template(job("migrate", pod_spec(SETUP))) == pod_spec(SETUP)
    assert objects.pod_template(cron_job("report", pod_spec(NGINX, init=(SETUP,)))) == pod_spec(NGINX, init=(SETUP,))
    assert objects.pod_template(workload("CronJob", "broken", {"schedule": "@hourly"})) == {}
    assert objects.pod_template({"kind": "Deployment", "metadata": {"name": "new"}}) == {}


def test_a_controller_owns_what_carries_owner_references():
    assert objects.owned(job("report-29385930", pod_spec(NGINX), **OWNED_BY))
    assert not objects.owned(job("migrate", pod_spec(NGINX)))
    assert not objects.owned(pod("debug", pod_spec(NGINX), ownerReferences=[]))


def test_pod_specs_are_the_templates_and_the_jobs_and_pods_no_controller_owns_in_order():
    debug, runner = pod_spec({"name": "debug", "image": "busybox:1.36"}), pod_spec({"name": "runner", "image": "alpine:3.20"})
    web, api = labelled_deployment("web", {"app": "web"}, NGINX), labelled_deployment("api", {"app": "api"}, SETUP)
    inv = from_api(
        web,
        api,
        cron_job("report", pod_spec(NGINX)),
        cron_job("backup", pod_spec(SETUP)),
        job("report-29385930", pod_spec(NGINX), **OWNED_BY),
        job("seed", pod_spec(SETUP)),
        job("migrate", runner),
        pod("web-7d9c5b8f6c-x2k9p", pod_spec(NGINX), ownerReferences=[{"kind": "ReplicaSet", "name": "web-7d9c5b8f6c"}]),
        pod("debug", debug),
        pod("curl", runner),
    )
    assert list(objects.pod_specs(inv)) == [
        ("deployment api", api["spec"]["template"]["spec"]),
        ("deployment web", web["spec"]["template"]["spec"]),
        ("cronjob backup", pod_spec(SETUP)),
        ("cronjob report", pod_spec(NGINX)),
        ("job migrate", runner),
        ("job seed", pod_spec(SETUP)),
        ("pod curl", runner),
        ("pod debug", debug),
    ]


def test_a_pod_without_a_spec_has_an_empty_one():
    bare = pod("debug", pod_spec(NGINX))
    del bare["spec"]
    assert list(objects.pod_specs(from_api(bare))) == [("pod debug", {})]


def test_missing_resources_names_each_unset_request_and_limit_in_order():
    full = {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}}
    assert objects.missing_resources({**NGINX, "resources": full}) == []
    assert objects.missing_resources(NGINX) == ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]
    assert objects.missing_resources({**NGINX, "resources": {"requests": {"memory": "64Mi"}, "limits": {"cpu": "200m"}}}) == [
        "requests.cpu", "limits.memory"
    ]
    assert objects.missing_resources({**NGINX, "resources": {"requests": {"cpu": "50m"}, "limits": {"memory": "128Mi"}}}) == [
        "requests.memory", "limits.cpu"
    ]
