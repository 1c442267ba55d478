"""Collect a cohort's Kubernetes namespaces: one cluster-wide, paginated list per kind.

Every kind the checks read is listed across all namespaces once (so the number of API calls does
not grow with the cohort) and partitioned by namespace; only the graded students' namespaces
(namespace = prefix) are kept. Objects become plain dicts in the API's JSON shape, except Secrets,
reduced to name, type and keys as soon as they arrive (no value is ever kept). ClusterRoleBindings
have no namespace: each is kept in the namespaces of its ServiceAccount subjects. A cluster that does
not answer is Unreachable (nobody is graded on it); any other API error
propagates to the runner, which reports it on every Kubernetes check.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from urllib3.exceptions import MaxRetryError, NewConnectionError

from labctl.components.k8s_namespace import platform_object_names
from labctl.validators.collectors.base import CollectRequest, Unreachable
from labctl.validators.inventory.kubernetes import KubernetesInventory, KubernetesSnapshot, secret_summary

PAGE_SIZE = 500
REQUEST_TIMEOUT_S = 10


def api_client_of(request: CollectRequest, api_client: k8s.ApiClient | None) -> k8s.ApiClient:
    """The given client, the request's, or one built from the cohort's kubeconfig and context."""
    if api_client is not None:
        return api_client
    if request.kubeconfig is None:
        raise Unreachable(f"cohort {request.cohort} has no cluster (cohort create --kubeconfig PATH --context NAME)")
    try:
        return k8s_config.new_client_from_config(config_file=request.kubeconfig, context=request.kube_context)
    except (OSError, k8s_config.ConfigException) as exc:
        raise Unreachable(f"kubeconfig {request.kubeconfig}: {exc}") from None


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


def reachable(items: Iterator[Any]) -> Iterator[Any]:
    """`items`, with a cluster that does not answer (no connection after the client's retries)
    turned into Unreachable."""
    try:
        yield from items
    except (MaxRetryError, NewConnectionError) as exc:
        raise Unreachable(f"the Kubernetes API server did not answer: {getattr(exc, 'reason', None) or exc}") from None


def list_calls(api: k8s.ApiClient) -> dict[str, Callable[..., Any]]:
    """The cluster-wide list call of each inventory kind, in the order they are made."""
    apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
    networking, batch = k8s.NetworkingV1Api(api), k8s.BatchV1Api(api)
    rbac, autoscaling = k8s.RbacAuthorizationV1Api(api), k8s.AutoscalingV2Api(api)
    return {
        "deployments": apps.list_deployment_for_all_namespaces,
        "services": core.list_service_for_all_namespaces,
        "network_policies": networking.list_network_policy_for_all_namespaces,
        "pods": core.list_pod_for_all_namespaces,
        "ingresses": networking.list_ingress_for_all_namespaces,
        "config_maps": core.list_config_map_for_all_namespaces,
        "secrets": core.list_secret_for_all_namespaces,
        "horizontal_pod_autoscalers": autoscaling.list_horizontal_pod_autoscaler_for_all_namespaces,
        "jobs": batch.list_job_for_all_namespaces,
        "cron_jobs": batch.list_cron_job_for_all_namespaces,
        "service_accounts": core.list_service_account_for_all_namespaces,
        "roles": rbac.list_role_for_all_namespaces,
        "role_bindings": rbac.list_role_binding_for_all_namespaces,
        "cluster_role_bindings": rbac.list_cluster_role_binding,
    }


def owning_namespaces(kind: str, obj: dict[str, Any]) -> set[str]:
    """The namespaces an object belongs to: its own, or for a ClusterRoleBinding its subjects'."""
    if kind == "cluster_role_bindings":
        return {
            s.get("namespace")
            for s in obj.get("subjects") or []
            if s.get("kind") == "ServiceAccount" and s.get("namespace")
        }
    return {(obj.get("metadata") or {}).get("namespace")}


def collect_kubernetes(
    request: CollectRequest, api_client: k8s.ApiClient | None = None
) -> KubernetesSnapshot:
    """List each kind once for the whole cluster and keep the graded students' namespaces."""
    api = api_client_of(request, api_client)
    kinds = list_calls(api)
    namespaces = set(request.prefixes)
    platform = {ns: platform_object_names(ns) for ns in namespaces}
    found: dict[str, dict[str, dict[str, Any]]] = {ns: {kind: {} for kind in kinds} for ns in namespaces}
    for kind, list_call in kinds.items():
        for item in reachable(list_all(list_call)):
            obj = api.sanitize_for_serialization(item)
            if kind == "secrets":
                obj = secret_summary(obj)
            name = (obj.get("metadata") or {}).get("name")
            for namespace in owning_namespaces(kind, obj) & namespaces:
                if name and name not in platform[namespace].get(kind, ()):
                    found[namespace][kind][name] = obj
    return KubernetesSnapshot(
        {ns: KubernetesInventory(namespace=ns, **objects) for ns, objects in found.items()}
    )
