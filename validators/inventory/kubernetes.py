"""The Kubernetes inventory: the objects of each student namespace, as the API server returns them.

Objects are kept as plain dicts in the API's JSON shape (camelCase keys, `ApiClient
.sanitize_for_serialization`), so checks can be tested on JSON fixtures and never call the cluster
(DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

KubeObject = Mapping[str, Any]


@dataclass(frozen=True)
class KubernetesInventory:
    """One student namespace's objects, each kind keyed by metadata.name."""

    namespace: str
    deployments: Mapping[str, KubeObject] = field(default_factory=dict)
    services: Mapping[str, KubeObject] = field(default_factory=dict)
    network_policies: Mapping[str, KubeObject] = field(default_factory=dict)
    pods: Mapping[str, KubeObject] = field(default_factory=dict)

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
