"""A fake of the kubernetes client's cluster-wide list methods, shared by the grading tests.

No cluster runs here: the collector's real client code runs, and only the list calls are served
from API objects held in memory (JSON as the API server returns it).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client as k8s


class FakeLists:
    """A fake of the kubernetes client's cluster-wide list methods, serving fixture objects in pages.

    It records every call, so the test can assert the calls do not grow with the number of students.
    """

    def __init__(self, api: k8s.ApiClient, objects: list[dict[str, Any]]):
        self.api, self.objects = api, objects
        self.calls: list[tuple[str, dict]] = []

    def method(self, kind: str, list_type: str):
        def list_for_all_namespaces(_self, **kwargs):
            self.calls.append((kind, kwargs))
            items = [o for o in self.objects if o["kind"] == kind]
            start = int(kwargs.get("_continue") or 0)
            page = items[start : start + kwargs["limit"]]
            more = start + kwargs["limit"] < len(items)
            body = {
                "apiVersion": "v1",
                "kind": f"{kind}List",
                "items": page,
                "metadata": {
                    "resourceVersion": "50200",
                    **({"continue": str(start + kwargs["limit"])} if more else {}),
                },
            }
            return self.api.deserialize(json.dumps(body), list_type, "application/json")

        return list_for_all_namespaces

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for api_class, name, kind, list_type in LIST_METHODS:
            monkeypatch.setattr(api_class, name, self.method(kind, list_type))


# (API class, cluster-wide list method, kind, typed list model), in the collector's order.
LIST_METHODS = (
    (k8s.AppsV1Api, "list_deployment_for_all_namespaces", "Deployment", "V1DeploymentList"),
    (k8s.CoreV1Api, "list_service_for_all_namespaces", "Service", "V1ServiceList"),
    (k8s.NetworkingV1Api, "list_network_policy_for_all_namespaces", "NetworkPolicy", "V1NetworkPolicyList"),
    (k8s.CoreV1Api, "list_pod_for_all_namespaces", "Pod", "V1PodList"),
    (k8s.NetworkingV1Api, "list_ingress_for_all_namespaces", "Ingress", "V1IngressList"),
    (k8s.CoreV1Api, "list_config_map_for_all_namespaces", "ConfigMap", "V1ConfigMapList"),
    (k8s.CoreV1Api, "list_secret_for_all_namespaces", "Secret", "V1SecretList"),
    (
        k8s.AutoscalingV2Api,
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        "HorizontalPodAutoscaler",
        "V2HorizontalPodAutoscalerList",
    ),
    (k8s.BatchV1Api, "list_job_for_all_namespaces", "Job", "V1JobList"),
    (k8s.BatchV1Api, "list_cron_job_for_all_namespaces", "CronJob", "V1CronJobList"),
    (k8s.CoreV1Api, "list_service_account_for_all_namespaces", "ServiceAccount", "V1ServiceAccountList"),
    (k8s.RbacAuthorizationV1Api, "list_role_for_all_namespaces", "Role", "V1RoleList"),
    (k8s.RbacAuthorizationV1Api, "list_role_binding_for_all_namespaces", "RoleBinding", "V1RoleBindingList"),
    (k8s.RbacAuthorizationV1Api, "list_cluster_role_binding", "ClusterRoleBinding", "V1ClusterRoleBindingList"),
)
