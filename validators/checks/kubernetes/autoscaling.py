"""HorizontalPodAutoscaler checks: target, bounds, cpu metric, the controller's verdict, a replica ceiling."""

from __future__ import annotations

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import READS, dig
from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result, check


class HpaParams(Params):
    hpa: str


class HpaTargetParams(HpaParams):
    deployment: str


class HpaBoundsParams(HpaParams):
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)


class HpaCpuParams(HpaParams):
    utilization: int = Field(ge=1, le=100)


class HpaLimitParams(Params):
    max_replicas: int = Field(ge=1)


def hpa_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    hpa = inv.horizontal_pod_autoscalers.get(name)
    if hpa is None:
        return Result.skipped(f"horizontalpodautoscaler {name} does not exist in namespace {inv.namespace}")
    return hpa


@check(
    "k8s.hpa-target",
    title="HorizontalPodAutoscaler {hpa} scales Deployment {deployment}",
    reads=READS,
    params=HpaTargetParams,
)
def hpa_target(inv: KubernetesInventory, p: HpaTargetParams) -> Result:
    hpa = inv.horizontal_pod_autoscalers.get(p.hpa)
    if hpa is None:
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} autoscale deployment {p.deployment} --name {p.hpa} ...",
        )
    ref = dig(hpa, "spec", "scaleTargetRef") or {}
    target = f"{ref.get('kind')}/{ref.get('name')}"
    if ref.get("kind") != "Deployment" or ref.get("name") != p.deployment:
        return Result.failed(f"horizontalpodautoscaler {p.hpa} scales {target}, expected Deployment/{p.deployment}")
    if (ref.get("apiVersion") or "apps/v1") != "apps/v1":
        return Result.failed(f"horizontalpodautoscaler {p.hpa} targets apiVersion {ref.get('apiVersion')}, expected apps/v1")
    if inv.deployment(p.deployment) is None:
        return Result.failed(f"horizontalpodautoscaler {p.hpa} targets deployment {p.deployment}, which does not exist")
    return Result.passed()


@check(
    "k8s.hpa-bounds",
    title="HorizontalPodAutoscaler {hpa} scales between {min_replicas} and {max_replicas}",
    reads=READS,
    params=HpaBoundsParams,
)
def hpa_bounds(inv: KubernetesInventory, p: HpaBoundsParams) -> Result:
    hpa = hpa_or_result(inv, p.hpa)
    if isinstance(hpa, Result):
        return hpa
    low, high = dig(hpa, "spec", "minReplicas") or 1, dig(hpa, "spec", "maxReplicas")
    if (low, high) != (p.min_replicas, p.max_replicas):
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} scales between {low} and {high}, "
            f"expected {p.min_replicas} and {p.max_replicas}"
        )
    return Result.passed()


@check(
    "k8s.hpa-cpu",
    title="HorizontalPodAutoscaler {hpa} targets {utilization}% average cpu utilisation",
    reads=READS,
    params=HpaCpuParams,
)
def hpa_cpu(inv: KubernetesInventory, p: HpaCpuParams) -> Result:
    hpa = hpa_or_result(inv, p.hpa)
    if isinstance(hpa, Result):
        return hpa
    cpu = [
        dig(m, "resource", "target")
        for m in dig(hpa, "spec", "metrics") or []
        if m.get("type") == "Resource" and dig(m, "resource", "name") == "cpu"
    ]
    if not cpu:
        return Result.failed(f"horizontalpodautoscaler {p.hpa} has no cpu Resource metric")
    target = cpu[0] or {}
    if target.get("type") != "Utilization":
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} targets cpu by {target.get('type')}, expected Utilization"
        )
    if target.get("averageUtilization") != p.utilization:
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} targets {target.get('averageUtilization')}% cpu, expected {p.utilization}%"
        )
    return Result.passed()


@check(
    "k8s.hpa-active", title="HorizontalPodAutoscaler {hpa} can read metrics and scale", reads=READS, params=HpaParams
)
def hpa_active(inv: KubernetesInventory, p: HpaParams) -> Result:
    """The controller's own verdict: AbleToScale and ScalingActive conditions are True."""
    hpa = hpa_or_result(inv, p.hpa)
    if isinstance(hpa, Result):
        return hpa
    conditions = {c.get("type"): c for c in dig(hpa, "status", "conditions") or []}
    problems = []
    for kind in ("AbleToScale", "ScalingActive"):
        condition = conditions.get(kind)
        if condition is None:
            problems.append(f"{kind} is not reported yet")
        elif condition.get("status") != "True":
            problems.append(f"{kind} is {condition.get('status')} ({condition.get('reason')}: {condition.get('message')})")
    if problems:
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa}: " + "; ".join(problems),
            hint=f"kubectl -n {inv.namespace} describe hpa {p.hpa}",
        )
    return Result.passed()


@check(
    "k8s.hpa-max-replicas",
    title="No HorizontalPodAutoscaler may scale above {max_replicas} replicas",
    reads=READS,
    params=HpaLimitParams,
)
def hpa_max_replicas(inv: KubernetesInventory, p: HpaLimitParams) -> Result:
    problems = [
        f"horizontalpodautoscaler {name} may scale to {dig(hpa, 'spec', 'maxReplicas')} replicas"
        for name, hpa in sorted(inv.horizontal_pod_autoscalers.items())
        if (dig(hpa, "spec", "maxReplicas") or 0) > p.max_replicas
    ]
    if problems:
        return Result.failed("; ".join(problems) + f" (at most {p.max_replicas})")
    return Result.passed()
