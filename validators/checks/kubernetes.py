"""Kubernetes checks: pure functions of one namespace's KubernetesInventory.

Objects are dicts in the API server's JSON shape (validators.inventory.kubernetes).
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from pydantic import Field

from validators.inventory.kubernetes import KubeObject, KubernetesInventory
from validators.registry import Params, Result, check

READS = "kubernetes"


class DeploymentParams(Params):
    deployment: str


class ReplicasParams(DeploymentParams):
    replicas: int = Field(ge=0)


class ServiceParams(DeploymentParams):
    service: str
    port: int = Field(ge=1, le=65535)
    type: str = "ClusterIP"


class NetworkPolicyParams(DeploymentParams):
    from_labels: dict[str, str] = Field(min_length=1)


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


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a pod's labels; {} selects all."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def selector_requires(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """True when every pod the selector matches carries all of `labels`."""
    selector = selector or {}
    match = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    for key, value in labels.items():
        pinned = match.get(key) == value or any(
            e.get("key") == key and e.get("operator") == "In" and (e.get("values") or []) == [value]
            for e in expressions
        )
        if not pinned:
            return False
    return True


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
        missing = [
            f"{kind}.{resource}"
            for kind in ("requests", "limits")
            for resource in ("cpu", "memory")
            if not dig(container, "resources", kind, resource)
        ]
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


def peer_problem(peer: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    wanted = ",".join(f"{k}={v}" for k, v in labels.items())
    if "ipBlock" in peer:
        return f"allows the IP block {dig(peer, 'ipBlock', 'cidr')}"
    if "namespaceSelector" in peer:
        return "allows pods of other namespaces (namespaceSelector)"
    if not selector_requires(peer.get("podSelector"), labels):
        return f"allows pods that are not labelled {wanted}"
    return None


@check(
    "k8s.netpol-ingress-from",
    title="A NetworkPolicy lets only {from_labels} pods reach {deployment}",
    reads=READS,
    params=NetworkPolicyParams,
)
def netpol_ingress_from(inv: KubernetesInventory, p: NetworkPolicyParams) -> Result:
    """Ingress policies are additive: every policy selecting the pods must allow only `from_labels`."""
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    labels = template_labels(deployment)
    selecting = [
        policy
        for policy in inv.network_policies.values()
        if selector_matches(dig(policy, "spec", "podSelector"), labels)
        and "Ingress" in (dig(policy, "spec", "policyTypes") or ["Ingress"])
    ]
    if not selecting:
        return Result.failed(
            f"no NetworkPolicy with ingress rules selects the pods of deployment {p.deployment}",
            hint="a NetworkPolicy whose podSelector matches the web pods, with policyTypes [Ingress]",
        )
    problems, allowed = [], False
    for policy in selecting:
        name = dig(policy, "metadata", "name")
        for number, rule in enumerate(dig(policy, "spec", "ingress") or [], 1):
            peers = rule.get("from") or []
            if not peers:
                problems.append(f"{name} rule {number} allows ingress from everywhere")
                continue
            for peer in peers:
                problem = peer_problem(peer, p.from_labels)
                if problem:
                    problems.append(f"{name} rule {number} {problem}")
                else:
                    allowed = True
    if problems:
        return Result.failed("; ".join(problems))
    if not allowed:
        wanted = ",".join(f"{k}={v}" for k, v in p.from_labels.items())
        return Result.failed(f"the policies deny all ingress; pods labelled {wanted} must be allowed in")
    return Result.passed()


def pod_specs(inv: KubernetesInventory) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for name, deployment in inv.deployments.items():
        yield f"deployment {name}", dig(deployment, "spec", "template", "spec") or {}
    for name, pod in inv.pods.items():
        if not dig(pod, "metadata", "ownerReferences"):
            yield f"pod {name}", dig(pod, "spec") or {}


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
