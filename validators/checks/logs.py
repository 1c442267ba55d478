"""CloudWatch Logs and alarm checks: pure functions of one student's LogsInventory (validators.inventory.logs)."""

from __future__ import annotations

from pydantic import Field

from labctl.validators.inventory.logs import Alarm, LogGroup, LogsInventory
from labctl.validators.registry import Params, Result, check

READS = "logs"


class LogGroupParams(Params):
    log_group: str


class RetentionParams(LogGroupParams):
    min_days: int = Field(default=1, ge=1)
    max_days: int = Field(default=3653, ge=1)


class MetricFilterParams(LogGroupParams):
    namespace: str
    metric: str
    pattern_contains: str | None = None


class AlarmParams(Params):
    alarm: str


class AlarmMetricParams(AlarmParams):
    namespace: str
    metric: str
    comparisons: list[str] = Field(default_factory=list)
    """Allowed ComparisonOperator values; empty allows any."""
    max_threshold: float | None = None


class AlarmActionParams(AlarmParams):
    topic: str


def group_or_result(inv: LogsInventory, name: str) -> LogGroup | Result:
    group = inv.log_group(name)
    if group is None:
        return Result.skipped(f"log group {name} does not exist")
    if group.error:
        return Result.error(f"could not read log group {name}: {group.error}")
    if not group.detailed:
        return Result.error(f"log group {name} was not collected in detail")
    return group


def alarm_or_result(inv: LogsInventory, name: str) -> Alarm | Result:
    alarm = inv.alarm(name)
    if alarm is None:
        return Result.skipped(f"alarm {name} does not exist")
    return alarm


@check(
    "logs.retention",
    title="Log group {log_group} keeps events {min_days}-{max_days} days",
    reads=READS,
    params=RetentionParams,
)
def retention(inv: LogsInventory, p: RetentionParams) -> Result:
    """Fails (not skipped) when the group is missing: creating it is part of what this check asks."""
    group = inv.log_group(p.log_group)
    if group is None:
        return Result.failed(f"log group {p.log_group} does not exist", hint="aws logs create-log-group")
    if group.error:
        return Result.error(f"could not read log group {p.log_group}: {group.error}")
    if group.retention_days is None:
        return Result.failed(
            f"events in {p.log_group} never expire, expected {p.min_days}-{p.max_days} days",
            hint="aws logs put-retention-policy",
        )
    if not p.min_days <= group.retention_days <= p.max_days:
        return Result.failed(f"retention is {group.retention_days} days, expected {p.min_days}-{p.max_days}")
    return Result.passed()


@check("logs.metric-filter", title="A metric filter feeds {namespace}/{metric}", reads=READS, params=MetricFilterParams)
def metric_filter(inv: LogsInventory, p: MetricFilterParams) -> Result:
    group = group_or_result(inv, p.log_group)
    if isinstance(group, Result):
        return group
    feeding = [f for f in group.metric_filters if (p.namespace, p.metric) in f.metrics]
    if not feeding:
        found = ", ".join(f"{ns}/{m}" for f in group.metric_filters for ns, m in f.metrics) or "none"
        return Result.failed(f"no metric filter on {p.log_group} publishes {p.namespace}/{p.metric} (found: {found})")
    if p.pattern_contains and not any(p.pattern_contains in f.pattern for f in feeding):
        patterns = ", ".join(repr(f.pattern) for f in feeding)
        return Result.failed(f"the filter pattern {patterns} does not match {p.pattern_contains!r}")
    return Result.passed()


@check("cloudwatch.alarm", title="Alarm {alarm} watches {namespace}/{metric}", reads=READS, params=AlarmMetricParams)
def alarm(inv: LogsInventory, p: AlarmMetricParams) -> Result:
    found = inv.alarm(p.alarm)
    if found is None:
        return Result.failed(f"alarm {p.alarm} does not exist", hint="aws cloudwatch put-metric-alarm")
    problems = []
    if (found.namespace, found.metric) != (p.namespace, p.metric):
        problems.append(f"it watches {found.namespace}/{found.metric}, expected {p.namespace}/{p.metric}")
    if p.comparisons and found.comparison not in p.comparisons:
        problems.append(f"comparison is {found.comparison}, expected one of {', '.join(p.comparisons)}")
    if p.max_threshold is not None and (found.threshold is None or found.threshold > p.max_threshold):
        problems.append(f"threshold is {found.threshold}, expected at most {p.max_threshold:g}")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check("cloudwatch.alarm-notifies", title="Alarm {alarm} notifies topic {topic}", reads=READS, params=AlarmActionParams)
def alarm_notifies(inv: LogsInventory, p: AlarmActionParams) -> Result:
    found = alarm_or_result(inv, p.alarm)
    if isinstance(found, Result):
        return found
    if any(a.startswith("arn:aws:sns:") and a.rsplit(":", 1)[-1] == p.topic for a in found.alarm_actions):
        return Result.passed()
    actions = ", ".join(found.alarm_actions) or "none"
    return Result.failed(f"the alarm's actions ({actions}) do not include SNS topic {p.topic}")


@check("cloudwatch.actions-enabled", title="Alarm {alarm} has its actions enabled", reads=READS, params=AlarmParams)
def actions_enabled(inv: LogsInventory, p: AlarmParams) -> Result:
    found = alarm_or_result(inv, p.alarm)
    if isinstance(found, Result):
        return found
    if found.actions_enabled:
        return Result.passed()
    return Result.failed(f"alarm {p.alarm} has its actions disabled: it changes state and tells nobody")
