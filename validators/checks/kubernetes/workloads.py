"""Checks of Deployments and their pods: replicas, pinned images, resources, probes, Services, privileges."""

from __future__ import annotations

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import (
    READS,
    DeploymentParams,
    NamespaceParams,
    containers,
    deployment_or_result,
    dig,
    missing_resources,
    pod_specs,
    template_labels,
)
from labctl.validators.inventory.kubernetes import KubernetesInventory
from labctl.validators.registry import Params, Result, check


class ReplicasParams(DeploymentParams):
    replicas: int = Field(ge=0)


class ServiceParams(DeploymentParams):
    service: str
    port: int = Field(ge=1, le=65535)
    type: str = "ClusterIP"


def image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    tag = name.partition(":")[2]
    return bool(tag) and tag != "latest"


@check(
    "k8s.deployment-replicas",
    title="Deployment {deployment} runs {replicas} replicas",
    reads=READS,
    params=ReplicasParams,
)
def deployment_replicas(inv: KubernetesInventory, p: ReplicasParams) -> Result:
    deployment = inv.deployment(p.deployment)
    if deployment is None:
        return Result.failed(
            f"deployment {p.deployment} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create deployment {p.deployment} ...",
        )
    wanted = dig(deployment, "spec", "replicas")
    wanted = 1 if wanted is None else wanted
    available = dig(deployment, "status", "availableReplicas") or 0
    if wanted != p.replicas:
        return Result.failed(f"deployment {p.deployment} wants {wanted} replicas, expected {p.replicas}")
    if available < p.replicas:
        return Result.failed(
            f"deployment {p.deployment} has {available} of {p.replicas} replicas available",
            hint=f"kubectl -n {inv.namespace} describe deployment {p.deployment}",
        )
    return Result.passed()


@check(
    "k8s.image-pinned", title="Every image of {deployment} is pinned", reads=READS, params=DeploymentParams
)
def images_pinned(inv: KubernetesInventory, p: DeploymentParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    loose = [
        f"{c.get('name')} uses {c.get('image') or '(no image)'}"
        for c in containers(dig(deployment, "spec", "template", "spec"), init=True)
        if not image_pinned(str(c.get("image") or ""))
    ]
    if loose:
        return Result.failed("; ".join(loose) + " (use an explicit tag other than latest, or a digest)")
    return Result.passed()


@check(
    "k8s.resources",
    title="Every container of {deployment} sets requests and limits",
    reads=READS,
    params=DeploymentParams,
)
def resources(inv: KubernetesInventory, p: DeploymentParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    problems = []
    for container in containers(dig(deployment, "spec", "template", "spec")):
        missing = missing_resources(container)
        if missing:
            problems.append(f"{container.get('name')} has no {', '.join(missing)}")
    if problems:
        return Result.failed(
            "; ".join(problems), hint="resources: {requests: {cpu, memory}, limits: {cpu, memory}}"
        )
    return Result.passed()


@check(
    "k8s.probes",
    title="Every container of {deployment} has readiness and liveness probes",
    reads=READS,
    params=DeploymentParams,
)
def probes(inv: KubernetesInventory, p: DeploymentParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    problems = []
    for container in containers(dig(deployment, "spec", "template", "spec")):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            problems.append(f"{container.get('name')} has no {' and no '.join(missing)}")
    if problems:
        return Result.failed("; ".join(problems), hint="an httpGet probe on port 80 path / works for nginx")
    return Result.passed()


@check(
    "k8s.service",
    title="Service {service} ({type}, port {port}) selects {deployment}'s pods",
    reads=READS,
    params=ServiceParams,
)
def service(inv: KubernetesInventory, p: ServiceParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    svc = inv.service(p.service)
    if svc is None:
        return Result.failed(
            f"service {p.service} does not exist",
            hint=f"kubectl -n {inv.namespace} expose deployment {p.deployment} --name {p.service} --port {p.port}",
        )
    problems = []
    kind = dig(svc, "spec", "type") or "ClusterIP"
    if kind != p.type:
        problems.append(f"type is {kind}, expected {p.type}")
    ports = [port.get("port") for port in dig(svc, "spec", "ports") or []]
    if p.port not in ports:
        problems.append(f"ports are {', '.join(map(str, ports)) or 'none'}, expected {p.port}")
    selector = dig(svc, "spec", "selector") or {}
    labels = template_labels(deployment)
    if not selector:
        problems.append("it has no selector")
    elif any(labels.get(k) != v for k, v in selector.items()):
        shown = ",".join(f"{k}={v}" for k, v in selector.items())
        problems.append(f"its selector {shown} does not match the pods of deployment {p.deployment}")
    if problems:
        return Result.failed(f"service {p.service}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.no-privileged", title="No container runs privileged or as root", reads=READS, params=NamespaceParams
)
def no_privileged(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    """Fails on privileged containers, allowPrivilegeEscalation true, or runAsUser 0 (pod or container)."""
    problems = []
    for owner, spec in pod_specs(inv):
        pod_user = dig(spec, "securityContext", "runAsUser")
        for container in containers(spec, init=True):
            context = container.get("securityContext") or {}
            where = f"{owner} container {container.get('name')}"
            if context.get("privileged"):
                problems.append(f"{where} is privileged")
            if context.get("allowPrivilegeEscalation"):
                problems.append(f"{where} allows privilege escalation")
            user = context.get("runAsUser", pod_user)
            if user == 0:
                problems.append(f"{where} runs as user 0")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


class DeploymentsParams(Params):
    deployments: list[str] = Field(min_length=1)


@check(
    "k8s.deployments-available",
    title="Deployments {deployments} have every wanted replica available",
    reads=READS,
    params=DeploymentsParams,
)
def deployments_available(inv: KubernetesInventory, p: DeploymentsParams) -> Result:
    problems = []
    for name in p.deployments:
        deployment = inv.deployment(name)
        if deployment is None:
            problems.append(f"deployment {name} does not exist")
            continue
        wanted = dig(deployment, "spec", "replicas")
        wanted = 1 if wanted is None else wanted
        available = dig(deployment, "status", "availableReplicas") or 0
        if wanted < 1:
            problems.append(f"deployment {name} is scaled to 0")
        elif available < wanted:
            problems.append(f"deployment {name} has {available} of {wanted} replicas available")
    if problems:
        return Result.failed("; ".join(problems), hint=f"kubectl -n {inv.namespace} get deployments,pods")
    return Result.passed()
