"""Collect a cohort's Kubernetes namespaces: one cluster-wide, paginated list per kind.

Deployments, services, network policies and pods are listed across all namespaces once (so the
number of API calls does not grow with the cohort) and partitioned by namespace; only the graded
students' namespaces (namespace = prefix) are kept. Objects become plain dicts in the API's JSON
shape. Any API error propagates to the runner, which reports it on every Kubernetes check.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from kubernetes import client as k8s
from kubernetes import config as k8s_config

from labs.errors import LabctlError
from validators.collectors.base import CollectRequest
from validators.inventory.kubernetes import KubernetesInventory, KubernetesSnapshot

PAGE_SIZE = 500
REQUEST_TIMEOUT_S = 10


def api_client_of(request: CollectRequest, api_client: k8s.ApiClient | None) -> k8s.ApiClient:
    """The given client, the request's, or one built from the cohort's kubeconfig and context."""
    if api_client is not None:
        return api_client
    if request.kubeconfig is None:
        raise LabctlError(f"cohort {request.cohort} has no cluster (cohort create --kubeconfig PATH --context NAME)")
    return k8s_config.new_client_from_config(config_file=request.kubeconfig, context=request.kube_context)


def list_all(list_call: Callable[..., Any]) -> Iterator[Any]:
    """Every item of a cluster-wide list call, page by page (`limit` / `_continue`)."""
    token = None
    while True:
        kwargs: dict[str, Any] = {"limit": PAGE_SIZE, "_request_timeout": REQUEST_TIMEOUT_S}
        if token:
            kwargs["_continue"] = token
        page = list_call(**kwargs)
        yield from page.items or []
        token = page.metadata._continue if page.metadata is not None else None
        if not token:
            return


def collect_kubernetes(
    request: CollectRequest, api_client: k8s.ApiClient | None = None
) -> KubernetesSnapshot:
    """List each kind once for the whole cluster and keep the graded students' namespaces."""
    api = api_client_of(request, api_client)
    apps, core, networking = k8s.AppsV1Api(api), k8s.CoreV1Api(api), k8s.NetworkingV1Api(api)
    kinds = {
        "deployments": apps.list_deployment_for_all_namespaces,
        "services": core.list_service_for_all_namespaces,
        "network_policies": networking.list_network_policy_for_all_namespaces,
        "pods": core.list_pod_for_all_namespaces,
    }
    namespaces = set(request.prefixes)
    found: dict[str, dict[str, dict[str, Any]]] = {ns: {kind: {} for kind in kinds} for ns in namespaces}
    for kind, list_call in kinds.items():
        for item in list_all(list_call):
            obj = api.sanitize_for_serialization(item)
            metadata = obj.get("metadata") or {}
            namespace = metadata.get("namespace")
            if namespace in namespaces and metadata.get("name"):
                found[namespace][kind][metadata["name"]] = obj
    return KubernetesSnapshot(
        {ns: KubernetesInventory(namespace=ns, **objects) for ns, objects in found.items()}
    )
