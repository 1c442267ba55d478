"""One student namespace's objects as the collector hands them to the Kubernetes checks.

`wire` sends an object through JSON, as the API server's answer is decoded: every string is then a new
object, never the literal a check compares it with, so `==` and `is` tell apart (as in production).
"""

from __future__ import annotations

import json
from typing import Any

from labctl.validators.inventory.kubernetes import KubernetesInventory

NAMESPACE = "c1-ada"
FIELDS = {
    "Deployment": "deployments",
    "Service": "services",
    "NetworkPolicy": "network_policies",
    "Pod": "pods",
    "Job": "jobs",
    "CronJob": "cron_jobs",
}


def wire(obj: Any) -> Any:
    return json.loads(json.dumps(obj))


def namespace_inventory(*objects: dict[str, Any], namespace: str = NAMESPACE) -> KubernetesInventory:
    """The inventory of `namespace` holding `objects` (each keyed by metadata.name, as the collector does)."""
    grouped: dict[str, dict[str, Any]] = {}
    for obj in objects:
        grouped.setdefault(FIELDS[obj["kind"]], {})[obj["metadata"]["name"]] = wire(obj)
    return KubernetesInventory(namespace=namespace, **grouped)


def deployment(name: str, labels: dict[str, str], *containers: dict[str, Any], replicas: int = 1) -> dict[str, Any]:
    """An apps/v1 Deployment as the API server returns it, with every wanted replica available."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels, "generation": 1},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": list(containers), "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
            },
        },
        "status": {"observedGeneration": 1, "replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }
