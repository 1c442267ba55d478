"""CloudWatch Logs and alarm checks on fixture inventories (no emulator), each outcome stated from the
lab's rule: a log group keeps its events between min and max days (both admitted; never expiring is a
failure); a metric filter on the group publishes the named metric, with the asked text in its pattern;
an alarm watches that metric with an allowed comparison at a threshold no higher than asked, notifies
the named SNS topic, and has its actions on."""

from __future__ import annotations

import pytest

from labctl.validators.checks import logs
from labctl.validators.inventory.logs import Alarm, LogGroup, LogsInventory, MetricFilter

GROUP = "/aws/lambda/c-ada-fn"
TOPIC = "arn:aws:sns:us-east-1:123456789012:c-ada-alerts"


def group(**fields) -> LogsInventory:
    return LogsInventory({GROUP: LogGroup(name=GROUP, **fields)})


def retention(inv: LogsInventory, **bounds):
    return logs.retention(inv, logs.RetentionParams(log_group=GROUP, **bounds))


@pytest.mark.parametrize(("days", "status"), [(5, "failed"), (7, "passed"), (14, "passed"), (30, "passed"), (60, "failed")])
def test_retention_between_the_bounds_inclusive(days: int, status: str) -> None:
    result = retention(group(retention_days=days), min_days=7, max_days=30)
    assert result.status == status
    if status == "failed":
        assert result.message == f"retention is {days} days, expected 7-30"


def test_retention_defaults_admit_one_day_to_ten_years() -> None:
    assert retention(group(retention_days=1)).status == "passed"
    assert retention(group(retention_days=3653)).status == "passed"
    assert retention(group(retention_days=3654)).status == "failed"
    assert retention(group(retention_days=None)).message == f"events in {GROUP} never expire, expected 1-3653 days"


def test_events_that_never_expire_fail_with_a_hint() -> None:
    result = retention(group(retention_days=None), min_days=7, max_days=30)
    assert result.status == "failed" and result.hint
    assert result.message == f"events in {GROUP} never expire, expected 7-30 days"


def test_retention_fails_on_a_missing_group_and_reports_an_unread_one() -> None:
    missing = retention(LogsInventory())
    assert missing.status == "failed" and GROUP in missing.message and missing.hint
    unread = retention(group(retention_days=14, error="AccessDenied"))
    assert unread.status == "error" and "AccessDenied" in unread.message


def filtered(*filters: MetricFilter, **fields) -> LogsInventory:
    return group(metric_filters=filters, **fields)


def metric_filter(inv: LogsInventory, pattern: str | None = None):
    params = logs.MetricFilterParams(log_group=GROUP, namespace="c-ada", metric="Errors", pattern_contains=pattern)
    return logs.metric_filter(inv, params)


def test_a_filter_publishing_the_metric_passes() -> None:
    inv = filtered(MetricFilter("f", "ERROR", (("c-ada", "Errors"),)))
    assert metric_filter(inv).status == "passed"
    assert metric_filter(inv, pattern="ERROR").status == "passed"


def test_the_metric_needs_its_namespace_too() -> None:
    inv = filtered(MetricFilter("f", "ERROR", (("other", "Errors"), ("c-ada", "Warnings"))))
    result = metric_filter(inv)
    assert result.status == "failed"
    assert result.message == f"no metric filter on {GROUP} publishes c-ada/Errors (found: other/Errors, c-ada/Warnings)"
    assert metric_filter(filtered()).message.endswith("(found: none)")


def test_the_pattern_is_looked_for_only_in_filters_that_publish_the_metric() -> None:
    inv = filtered(
        MetricFilter("other", "ERROR", (("c-ada", "Other"),)),
        MetricFilter("f", "?WARN ?FATAL", (("c-ada", "Errors"),)),
    )
    result = metric_filter(inv, pattern="ERROR")
    assert result.status == "failed"
    assert result.message == "the filter pattern '?WARN ?FATAL' does not match 'ERROR'"
    # Any one publishing filter with the text will do.
    both = filtered(
        MetricFilter("a", "WARN", (("c-ada", "Errors"),)), MetricFilter("b", "[level=ERROR]", (("c-ada", "Errors"),))
    )
    assert metric_filter(both, pattern="ERROR").status == "passed"


def test_metric_filter_skips_a_missing_group_and_reports_an_unread_one() -> None:
    assert metric_filter(LogsInventory()).status == "skipped"
    assert metric_filter(filtered(error="AccessDenied")).status == "error"
    assert metric_filter(filtered(MetricFilter("f", "ERROR", (("c-ada", "Errors"),)), detailed=False)).status == "error"


def alarms(**fields) -> LogsInventory:
    defaults = dict(namespace="c-ada", metric="Errors", comparison="GreaterThanThreshold", threshold=5.0, alarm_actions=(TOPIC,))
    return LogsInventory(alarms={"c-ada-errors": Alarm("c-ada-errors", **{**defaults, **fields})})


def alarm(inv: LogsInventory, **params):
    return logs.alarm(inv, logs.AlarmMetricParams(alarm="c-ada-errors", namespace="c-ada", metric="Errors", **params))


def test_an_alarm_on_the_metric_passes_with_any_comparison_unless_limited() -> None:
    assert alarm(alarms(comparison="LessThanThreshold")).status == "passed"
    allowed = ["GreaterThanThreshold", "GreaterThanOrEqualToThreshold"]
    assert alarm(alarms(), comparisons=allowed).status == "passed"
    wrong = alarm(alarms(comparison="LessThanThreshold"), comparisons=allowed)
    assert wrong.message == "comparison is LessThanThreshold, expected one of GreaterThanThreshold, GreaterThanOrEqualToThreshold"


@pytest.mark.parametrize(
    ("namespace", "metric"), [("other", "Errors"), ("AWS/Lambda", "Errors"), ("c-ada", "Throttles"), ("c-ada", "Duration")]
)
def test_an_alarm_on_another_metric_fails(namespace: str, metric: str) -> None:
    result = alarm(alarms(namespace=namespace, metric=metric))
    assert (result.status, result.message) == ("failed", f"it watches {namespace}/{metric}, expected c-ada/Errors")


@pytest.mark.parametrize(("threshold", "status"), [(0.0, "passed"), (10.0, "passed"), (10.5, "failed"), (None, "failed")])
def test_the_threshold_is_at_most_the_bound(threshold, status: str) -> None:
    result = alarm(alarms(threshold=threshold), max_threshold=10)
    assert result.status == status
    if status == "failed":
        assert result.message == f"threshold is {threshold}, expected at most 10"


def test_every_problem_of_an_alarm_is_named() -> None:
    result = alarm(alarms(metric="Other", comparison="LessThanThreshold", threshold=50.0), comparisons=["GreaterThanThreshold"], max_threshold=10)
    assert result.message == (
        "it watches c-ada/Other, expected c-ada/Errors; comparison is LessThanThreshold, expected one of"
        " GreaterThanThreshold; threshold is 50.0, expected at most 10"
    )


def test_a_missing_alarm_fails_its_existence_and_skips_the_rest() -> None:
    missing = alarm(LogsInventory())
    assert missing.status == "failed" and "c-ada-errors" in missing.message and missing.hint
    notifies = logs.alarm_notifies(LogsInventory(), logs.AlarmActionParams(alarm="c-ada-errors", topic="c-ada-alerts"))
    assert notifies.status == "skipped"
    assert logs.actions_enabled(LogsInventory(), logs.AlarmParams(alarm="c-ada-errors")).status == "skipped"


def notifies(inv: LogsInventory, topic: str = "c-ada-alerts"):
    return logs.alarm_notifies(inv, logs.AlarmActionParams(alarm="c-ada-errors", topic=topic))


def test_an_alarm_notifies_the_topic_named_by_its_arn() -> None:
    assert notifies(alarms(alarm_actions=("arn:aws:automate:us-east-1:ec2:stop", TOPIC))).status == "passed"


@pytest.mark.parametrize(
    "action",
    [
        "arn:aws:sns:us-east-1:123456789012:c-ada-alerts-old",
        "arn:aws:sns:us-east-1:123456789012:old-c-ada-alerts",
        "arn:aws:sns:us-east-1:123456789012:c-ada-alert",
        "arn:aws:sns:us-east-1:123456789012:a-topic",
        "arn:aws:sqs:us-east-1:123456789012:c-ada-alerts",
        "c-ada-alerts",
    ],
)
def test_another_topic_or_another_service_does_not_notify(action: str) -> None:
    result = notifies(alarms(alarm_actions=(action,)))
    assert (result.status, result.message) == (
        "failed",
        f"the alarm's actions ({action}) do not include SNS topic c-ada-alerts",
    )


def test_an_alarm_without_actions_notifies_nobody() -> None:
    assert notifies(alarms(alarm_actions=())).message == "the alarm's actions (none) do not include SNS topic c-ada-alerts"


def test_actions_must_be_enabled() -> None:
    params = logs.AlarmParams(alarm="c-ada-errors")
    assert logs.actions_enabled(alarms(actions_enabled=True), params).status == "passed"
    off = logs.actions_enabled(alarms(actions_enabled=False), params)
    assert off.status == "failed" and "disabled" in off.message


def test_the_retention_bounds_a_lab_may_ask() -> None:
    # One day is the shortest retention CloudWatch Logs offers, for either bound.
    assert logs.RetentionParams(log_group=GROUP, min_days=1, max_days=1).max_days == 1
    for bad in (dict(min_days=0), dict(max_days=0)):
        with pytest.raises(ValueError):
            logs.RetentionParams(log_group=GROUP, **bad)
