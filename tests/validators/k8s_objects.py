"""Kubernetes objects for the checks' tests, as the API server returns them, and the inventory they make.

`inventory` groups objects by kind as the collector does (a Secret reduced to its summary); `from_api` decodes them from JSON, as the collector does: every string is then a new object, never the
literal a lab names (a check comparing with `is` would fail, as it would against a cluster).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from labctl.validators.inventory.kubernetes import KubernetesInventory, secret_summary

NAMESPACE = "c1-ada"


def inventory(*objects: dict[str, Any], namespace: str = NAMESPACE) -> KubernetesInventory:
    """One namespace's inventory: each object under its kind, keyed by name."""
    kinds = {
        "Deployment": "deployments",
        "Service": "services",
        "NetworkPolicy": "network_policies",
        "Pod": "pods",
        "Ingress": "ingresses",
        "ConfigMap": "config_maps",
        "Secret": "secrets",
        "HorizontalPodAutoscaler": "horizontal_pod_autoscalers",
        "Job": "jobs",
        "CronJob": "cron_jobs",
        "ServiceAccount": "service_accounts",
        "Role": "roles",
        "RoleBinding": "role_bindings",
        "ClusterRoleBinding": "cluster_role_bindings",
    }
    grouped: dict[str, dict[str, Any]] = {kind: {} for kind in kinds.values()}
    for obj in objects:
        summary = secret_summary(obj) if obj["kind"] == "Secret" else obj
        grouped[kinds[obj["kind"]]][obj["metadata"]["name"]] = summary
    return KubernetesInventory(namespace=namespace, **grouped)


def wire(obj: Any) -> Any:
    """`obj` sent through JSON, as the API server's answer is decoded."""
    return json.loads(json.dumps(obj))


def from_api(*objects: dict[str, Any], namespace: str = NAMESPACE) -> KubernetesInventory:
    return inventory(*wire(objects), namespace=namespace)


def metadata(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": NAMESPACE,
        "uid": f"uid-{name}",
        "creationTimestamp": "2026-11-20T14:00:05Z",
        **extra,
    }


def container(name: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": "nginxinc/nginx-unprivileged:1.27.3",
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        **fields,
    }


def pod_spec(*containers: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"containers": list(containers), "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", **fields}


def deployment(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, labels=labels, generation=1),
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
        "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2},
    }


def labelled_deployment(name: str, labels: dict[str, str], *containers: dict[str, Any], replicas: int = 1) -> dict[str, Any]:
    """An apps/v1 Deployment whose pods carry `labels`, with every wanted replica available."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, labels=labels, generation=1),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec(*containers)},
        },
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def job_spec(*containers: dict[str, Any], init_containers: tuple[dict[str, Any], ...] = (), **fields: Any) -> dict[str, Any]:
    pod = pod_spec(*containers, restartPolicy="Never", **({"initContainers": list(init_containers)} if init_containers else {}))
    return {"template": {"spec": pod}, **fields}


def job(name: str, spec: dict[str, Any], status: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata(name, **meta),
        "spec": spec,
        "status": status or {},
    }


def cron_job(name: str, schedule: str, template: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A CronJob as the API server returns it, with the defaults it fills in unless `fields` say otherwise."""
    spec = {
        "schedule": schedule,
        "concurrencyPolicy": "Allow",
        "suspend": False,
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
        "jobTemplate": {"metadata": {}, "spec": template},
        **fields,
    }
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": metadata(name), "spec": spec}


def owned_by(kind: str, name: str) -> dict[str, Any]:
    """The metadata a controller's object carries (pass as `**owned_by(...)` to `metadata`)."""
    api_version = "apps/v1" if kind == "ReplicaSet" else "batch/v1"
    reference = {"apiVersion": api_version, "kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}
    return {"ownerReferences": [reference]}


def pod(name: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata(name, **meta), "spec": spec, "status": {"phase": "Running"}}


def lab_may_ask(model: type[BaseModel], fields: dict[str, Any]) -> bool:
    """Whether a lab's `with:` of `fields` validates against a check's params `model`."""
    try:
        model(**fields)
    except ValidationError:
        return False
    return True
