"""HorizontalPodAutoscaler checks on one namespace's objects as the API server returns them. An HPA
scales an existing Deployment through apps/v1; between the bounds asked (minReplicas 1 when unset);
on a cpu Resource metric by average utilisation at the percentage asked; its controller reports
AbleToScale and ScalingActive True; and no HPA may scale above the namespace's replica ceiling, the
ceiling itself admitted."""

from __future__ import annotations

from typing import Any

import pytest

from labctl.validators.checks.kubernetes import autoscaling
from tests.validators.k8s_objects import container, deployment, from_api, lab_may_ask, metadata, pod_spec

API = deployment("api", pod_spec(container("api")))
TARGET = autoscaling.HpaTargetParams(hpa="api", deployment="api")
BOUNDS = autoscaling.HpaBoundsParams(hpa="api", min_replicas=2, max_replicas=6)
CPU = autoscaling.HpaCpuParams(hpa="api", utilization=60)
ACTIVE = autoscaling.HpaParams(hpa="api")
CEILING = autoscaling.HpaLimitParams(max_replicas=8)


def cpu_metric(target_type: str = "Utilization", **target: Any) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": target_type, **target}}}


def condition(kind: str, status: str, reason: str, message: str) -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message, "lastTransitionTime": "2026-11-20T12:01:25Z"}


ABLE = condition("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size")
SCALING = condition("ScalingActive", "True", "ValidMetricFound", "the HPA was able to successfully calculate a replica count")


def hpa(name: str = "api", conditions: list[dict[str, str]] | None = None, **spec: Any) -> dict[str, Any]:
    fields = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"},
        "minReplicas": 2,
        "maxReplicas": 6,
        "metrics": [cpu_metric(averageUtilization=60)],
        **spec,
    }
    status = {"currentReplicas": 2, "desiredReplicas": 2, "conditions": [ABLE, SCALING] if conditions is None else conditions}
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": metadata(name), "spec": fields, "status": status}


def test_an_hpa_of_the_deployment_through_apps_v1_passes():
    assert autoscaling.hpa_target(from_api(API, hpa()), TARGET).status == "passed"
    no_version = hpa(scaleTargetRef={"kind": "Deployment", "name": "api"})
    assert autoscaling.hpa_target(from_api(API, no_version), TARGET).status == "passed"


def test_a_missing_hpa_fails_with_the_autoscale_command():
    result = autoscaling.hpa_target(from_api(API, hpa("web")), TARGET)
    assert (result.status, result.message) == ("failed", "horizontalpodautoscaler api does not exist in namespace c1-ada")
    assert result.hint.startswith("kubectl -n c1-ada autoscale deployment api --name api ")


@pytest.mark.parametrize(
    ("ref", "target"),
    [
        ({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "api"}, "StatefulSet/api"),
        ({"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "Deployment/web"),
        ({"apiVersion": "apps/v1", "kind": "Deployment", "name": "admin"}, "Deployment/admin"),
        ({}, "None/None"),
    ],
)
def test_an_hpa_of_another_workload_names_it(ref, target):
    result = autoscaling.hpa_target(from_api(API, hpa(scaleTargetRef=ref)), TARGET)
    assert (result.status, result.message) == ("failed", f"horizontalpodautoscaler api scales {target}, expected Deployment/api")


def test_an_hpa_through_another_api_version_fails():
    old = hpa(scaleTargetRef={"apiVersion": "extensions/v1beta1", "kind": "Deployment", "name": "api"})
    result = autoscaling.hpa_target(from_api(API, old), TARGET)
    assert result.message == "horizontalpodautoscaler api targets apiVersion extensions/v1beta1, expected apps/v1"


def test_an_hpa_of_a_missing_deployment_fails():
    result = autoscaling.hpa_target(from_api(hpa()), TARGET)
    assert (result.status, result.message) == (
        "failed",
        "horizontalpodautoscaler api targets deployment api, which does not exist",
    )


@pytest.mark.parametrize(
    "check, params",
    [(autoscaling.hpa_bounds, BOUNDS), (autoscaling.hpa_cpu, CPU), (autoscaling.hpa_active, ACTIVE)],
)
def test_the_other_checks_skip_without_the_hpa(check, params):
    result = check(from_api(API, hpa("web")), params)
    assert (result.status, result.message) == ("skipped", "horizontalpodautoscaler api does not exist in namespace c1-ada")
    assert check(from_api(API, hpa()), params).status == "passed"


def test_bounds_other_than_asked_name_both():
    result = autoscaling.hpa_bounds(from_api(hpa(minReplicas=1, maxReplicas=10)), BOUNDS)
    assert (result.status, result.message) == (
        "failed",
        "horizontalpodautoscaler api scales between 1 and 10, expected 2 and 6",
    )
    assert autoscaling.hpa_bounds(from_api(hpa(maxReplicas=7)), BOUNDS).status == "failed"
    assert autoscaling.hpa_bounds(from_api(hpa(minReplicas=3)), BOUNDS).status == "failed"


def test_an_unset_min_replicas_is_one():
    unset = hpa()
    unset["spec"].pop("minReplicas")
    one = autoscaling.HpaBoundsParams(hpa="api", min_replicas=1, max_replicas=6)
    assert autoscaling.hpa_bounds(from_api(unset), one).status == "passed"
    assert autoscaling.hpa_bounds(from_api(unset), BOUNDS).message == (
        "horizontalpodautoscaler api scales between 1 and 6, expected 2 and 6"
    )


def test_the_cpu_metric_is_found_among_others():
    memory = {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}}
    pods = {"type": "Pods", "pods": {"metric": {"name": "cpu"}, "target": {"type": "AverageValue", "averageValue": "1k"}}}
    assert autoscaling.hpa_cpu(from_api(hpa(metrics=[memory, pods, cpu_metric(averageUtilization=60)])), CPU).status == "passed"


@pytest.mark.parametrize(
    "metrics",
    [
        [],
        [{"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 60}}}],
        [{"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "api", "target": {"type": "Utilization", "averageUtilization": 60}}}],
    ],
    ids=["none", "memory", "a container's cpu"],
)
def test_without_a_cpu_resource_metric_fails(metrics):
    result = autoscaling.hpa_cpu(from_api(hpa(metrics=metrics)), CPU)
    assert (result.status, result.message) == ("failed", "horizontalpodautoscaler api has no cpu Resource metric")


def test_cpu_by_value_or_at_another_percentage_fails():
    by_value = autoscaling.hpa_cpu(from_api(hpa(metrics=[cpu_metric("AverageValue", averageValue="300m")])), CPU)
    assert by_value.message == "horizontalpodautoscaler api targets cpu by AverageValue, expected Utilization"
    other = autoscaling.hpa_cpu(from_api(hpa(metrics=[cpu_metric(averageUtilization=80)])), CPU)
    assert other.message == "horizontalpodautoscaler api targets 80% cpu, expected 60%"


def test_a_cpu_metric_without_a_target_fails_as_no_utilization():
    bare = {"type": "Resource", "resource": {"name": "cpu"}}
    result = autoscaling.hpa_cpu(from_api(hpa(metrics=[bare])), CPU)
    assert (result.status, result.message) == ("failed", "horizontalpodautoscaler api targets cpu by None, expected Utilization")


def test_conditions_not_true_or_not_reported_are_named():
    inactive = condition("ScalingActive", "False", "FailedGetResourceMetric", "the HPA was unable to compute the replica count")
    result = autoscaling.hpa_active(from_api(hpa(conditions=[ABLE, inactive])), ACTIVE)
    assert (result.status, result.message) == (
        "failed",
        "horizontalpodautoscaler api: ScalingActive is False "
        "(FailedGetResourceMetric: the HPA was unable to compute the replica count)",
    )
    assert result.hint == "kubectl -n c1-ada describe hpa api"
    unknown = condition("AbleToScale", "Unknown", "FailedGetScale", "no scale subresource")
    fresh = autoscaling.hpa_active(from_api(hpa(conditions=[unknown])), ACTIVE)
    assert fresh.message == (
        "horizontalpodautoscaler api: AbleToScale is Unknown (FailedGetScale: no scale subresource); "
        "ScalingActive is not reported yet"
    )
    assert autoscaling.hpa_active(from_api(hpa(conditions=[])), ACTIVE).message == (
        "horizontalpodautoscaler api: AbleToScale is not reported yet; ScalingActive is not reported yet"
    )


@pytest.mark.parametrize("ceiling", [6, 8])
def test_hpas_at_or_under_the_ceiling_pass(ceiling):
    assert autoscaling.hpa_max_replicas(from_api(hpa(), hpa("web", maxReplicas=ceiling)), CEILING).status == "passed"
    assert autoscaling.hpa_max_replicas(from_api(), CEILING).status == "passed"


def test_hpas_above_the_ceiling_are_named_in_order():
    result = autoscaling.hpa_max_replicas(from_api(hpa("web", maxReplicas=20), hpa(maxReplicas=9)), CEILING)
    assert (result.status, result.message) == (
        "failed",
        "horizontalpodautoscaler api may scale to 9 replicas; horizontalpodautoscaler web may scale to 20 replicas "
        "(at most 8)",
    )


def test_a_cpu_target_below_the_one_asked_fails_too():
    lower = autoscaling.hpa_cpu(from_api(hpa(metrics=[cpu_metric(averageUtilization=40)])), CPU)
    assert lower.message == "horizontalpodautoscaler api targets 40% cpu, expected 60%"


@pytest.mark.parametrize(
    ("model", "fields", "admitted"),
    [
        (autoscaling.HpaBoundsParams, {"hpa": "api", "min_replicas": 1, "max_replicas": 1}, True),
        (autoscaling.HpaBoundsParams, {"hpa": "api", "min_replicas": 0, "max_replicas": 1}, False),
        (autoscaling.HpaBoundsParams, {"hpa": "api", "min_replicas": 1, "max_replicas": 0}, False),
        (autoscaling.HpaCpuParams, {"hpa": "api", "utilization": 1}, True),
        (autoscaling.HpaCpuParams, {"hpa": "api", "utilization": 100}, True),
        (autoscaling.HpaCpuParams, {"hpa": "api", "utilization": 0}, False),
        (autoscaling.HpaCpuParams, {"hpa": "api", "utilization": 101}, False),
        (autoscaling.HpaLimitParams, {"max_replicas": 1}, True),
        (autoscaling.HpaLimitParams, {"max_replicas": 0}, False),
    ],
)
def test_the_bounds_a_lab_may_ask_for(model, fields, admitted):
    """A lab's `with:` is validated against these models: one replica and 1 to 100 % are what the
    autoscaling API itself admits (minReplicas >= 1 unless the alpha gate is on)."""
    assert lab_may_ask(model, fields) is admitted
