"""The objects every Kubernetes check reads: the namespace's workloads, their pod specs and labels."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result

READS = "kubernetes"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class DeploymentParams(Params):
    deployment: str


class NamespaceParams(Params):
    """No parameters: the check covers every workload of the student's namespace."""


def deployment_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    deployment = inv.deployment(name)
    if deployment is None:
        return Result.skipped(f"deployment {name} does not exist in namespace {inv.namespace}")
    return deployment


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def containers(pod_spec: Mapping[str, Any] | None, *, init: bool = False) -> list[Mapping[str, Any]]:
    kinds = ("initContainers", "containers") if init else ("containers",)
    return [c for kind in kinds for c in (dig(pod_spec, kind) or []) if isinstance(c, Mapping)]


def template_labels(deployment: KubeObject) -> dict[str, str]:
    return dict(dig(deployment, "spec", "template", "metadata", "labels") or {})


def pod_template(workload: KubeObject) -> Mapping[str, Any]:
    """The pod spec a Deployment, Job or CronJob (`spec.jobTemplate`) creates its pods from."""
    spec = dig(workload, "spec", "jobTemplate", "spec") or dig(workload, "spec") or {}
    return dig(spec, "template", "spec") or {}


def owned(obj: KubeObject) -> bool:
    return bool(dig(obj, "metadata", "ownerReferences"))


def pod_specs(inv: KubernetesInventory) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every pod spec the student wrote: workload templates, and pods and jobs no controller owns."""
    for name, deployment in sorted(inv.deployments.items()):
        yield f"deployment {name}", pod_template(deployment)
    for name, cron_job in sorted(inv.cron_jobs.items()):
        yield f"cronjob {name}", pod_template(cron_job)
    for name, job in sorted(inv.jobs.items()):
        if not owned(job):
            yield f"job {name}", pod_template(job)
    for name, pod in sorted(inv.pods.items()):
        if not owned(pod):
            yield f"pod {name}", dig(pod, "spec") or {}


def missing_resources(container: Mapping[str, Any]) -> list[str]:
    """Which of requests.cpu, requests.memory, limits.cpu, limits.memory a container leaves unset."""
    return [
        f"{kind}.{resource}"
        for kind in ("requests", "limits")
        for resource in ("cpu", "memory")
        if not dig(container, "resources", kind, resource)
    ]
