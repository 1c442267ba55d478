"""The Kubernetes inventory: the objects of each student namespace, as the API server returns them.

Objects are kept as plain dicts in the API's JSON shape (camelCase keys, `ApiClient
.sanitize_for_serialization`), so checks can be tested on JSON fixtures and never call the cluster
(DESIGN decision 4). Secrets are the exception: only their name, labels, type and data keys are
kept (see `secret_summary`), never a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

KubeObject = Mapping[str, Any]


def secret_summary(secret: Mapping[str, Any]) -> dict[str, Any]:
    """What a check may know of a Secret: name, namespace, labels, type and the sorted data keys.

    Values are dropped, and so are annotations: `kubectl.kubernetes.io/last-applied-configuration`
    holds the whole manifest, values included.
    """
    metadata = secret.get("metadata") or {}
    keys = {*(secret.get("data") or {}), *(secret.get("stringData") or {})}
    return {
        "metadata": {k: metadata[k] for k in ("name", "namespace", "labels") if k in metadata},
        "type": secret.get("type") or "Opaque",
        "keys": sorted(keys),
    }


@dataclass(frozen=True)
class KubernetesInventory:
    """One student namespace's objects, each kind keyed by metadata.name.

    `cluster_role_bindings` are cluster-scoped: those with a subject in this namespace are kept here.
    """

    namespace: str
    deployments: Mapping[str, KubeObject] = field(default_factory=dict)
    services: Mapping[str, KubeObject] = field(default_factory=dict)
    network_policies: Mapping[str, KubeObject] = field(default_factory=dict)
    pods: Mapping[str, KubeObject] = field(default_factory=dict)
    ingresses: Mapping[str, KubeObject] = field(default_factory=dict)
    config_maps: Mapping[str, KubeObject] = field(default_factory=dict)
    secrets: Mapping[str, KubeObject] = field(default_factory=dict)
    horizontal_pod_autoscalers: Mapping[str, KubeObject] = field(default_factory=dict)
    jobs: Mapping[str, KubeObject] = field(default_factory=dict)
    cron_jobs: Mapping[str, KubeObject] = field(default_factory=dict)
    service_accounts: Mapping[str, KubeObject] = field(default_factory=dict)
    roles: Mapping[str, KubeObject] = field(default_factory=dict)
    role_bindings: Mapping[str, KubeObject] = field(default_factory=dict)
    cluster_role_bindings: Mapping[str, KubeObject] = field(default_factory=dict)

    def deployment(self, name: str) -> KubeObject | None:
        return self.deployments.get(name)

    def service(self, name: str) -> KubeObject | None:
        return self.services.get(name)


@dataclass(frozen=True)
class KubernetesSnapshot:
    """A cohort's namespaces (namespace = student prefix), from one cluster-wide list per kind."""

    by_namespace: Mapping[str, KubernetesInventory]

    def for_prefix(self, prefix: str) -> KubernetesInventory:
        return self.by_namespace.get(prefix, KubernetesInventory(namespace=prefix))
