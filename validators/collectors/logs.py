"""Collect a cohort's CloudWatch Logs log groups and CloudWatch alarms once.

Log groups are listed by name prefix twice per cohort (`<cohort>-` and `/aws/lambda/<cohort>-`, where
Lambda writes); a group belongs to the student whose prefix owns its name without the
`/aws/lambda/` part. Metric filters are read only for groups a check names. Alarms come from one
DescribeAlarms listing by name prefix `<cohort>-`.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from labctl.validators.collectors.aws_common import aws_client, code_of, failure, named, pages, partition
from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.logs import MAX_METRIC_FILTERS, Alarm, LogGroup, LogsInventory, LogsSnapshot, MetricFilter

LAMBDA_LOG_PREFIX = "/aws/lambda/"


def owner_name(log_group: str) -> str:
    """The name a log group is owned by: `/aws/lambda/<fn>` belongs to whoever owns `<fn>`."""
    return log_group[len(LAMBDA_LOG_PREFIX) :] if log_group.startswith(LAMBDA_LOG_PREFIX) else log_group


def read_group(client, name: str, listed: dict) -> LogGroup | None:
    try:
        found = client.describe_metric_filters(logGroupName=name, limit=MAX_METRIC_FILTERS)["metricFilters"]
    except ClientError as exc:
        if code_of(exc) == "ResourceNotFoundException":
            return None
        return LogGroup(name=name, error=failure(exc))
    filters = tuple(
        MetricFilter(
            name=f.get("filterName", ""),
            pattern=f.get("filterPattern", ""),
            metrics=tuple(
                (t.get("metricNamespace", ""), t.get("metricName", "")) for t in f.get("metricTransformations", [])
            ),
        )
        for f in found
    )
    return LogGroup(name=name, retention_days=listed.get("retentionInDays"), metric_filters=filters)


def alarm_of(item: dict) -> Alarm:
    return Alarm(
        name=item["AlarmName"],
        namespace=item.get("Namespace"),
        metric=item.get("MetricName"),
        statistic=item.get("Statistic") or item.get("ExtendedStatistic"),
        comparison=item.get("ComparisonOperator"),
        threshold=item.get("Threshold"),
        actions_enabled=bool(item.get("ActionsEnabled", True)),
        alarm_actions=tuple(item.get("AlarmActions", [])),
    )


def collect_logs(request: CollectRequest) -> LogsSnapshot:
    logs = aws_client(request, "logs")
    listed: dict[str, dict] = {}
    for start in (f"{request.cohort}-", f"{LAMBDA_LOG_PREFIX}{request.cohort}-"):
        for group in pages(logs.describe_log_groups, "logGroups", "nextToken", "nextToken", logGroupNamePrefix=start):
            listed[group["logGroupName"]] = group
    groups = partition(
        request,
        listed,
        named(request, "log_group"),
        lambda name, summary: read_group(logs, name, summary),
        lambda name, summary: LogGroup(name=name, detailed=False, retention_days=summary.get("retentionInDays")),
        owner_name,
    )

    cloudwatch = aws_client(request, "cloudwatch")
    alarms: dict[str, dict[str, Alarm]] = {p: {} for p in request.prefixes}
    for item in pages(
        cloudwatch.describe_alarms, "MetricAlarms", "NextToken", "NextToken",
        AlarmNamePrefix=f"{request.cohort}-", AlarmTypes=["MetricAlarm"],
    ):
        prefix = owner(item["AlarmName"], request.prefixes)
        if prefix is not None:
            alarms[prefix][item["AlarmName"]] = alarm_of(item)
    return LogsSnapshot({p: LogsInventory(groups[p], alarms[p]) for p in request.prefixes})
