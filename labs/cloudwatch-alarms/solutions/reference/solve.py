"""Reference solution of cloudwatch-alarms: a 14-day log group, an ERROR metric filter, and an alarm
that notifies an SNS topic.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


METRIC = "Errors"


def create_log_group(logs, group: str) -> None:
    logs.create_log_group(logGroupName=group)
    logs.put_retention_policy(logGroupName=group, retentionInDays=14)


def error_filter(prefix: str) -> dict:
    """put_metric_filter's arguments (but the group): every ERROR line counts 1 in <prefix>/Errors."""
    return {
        "filterName": "errors",
        "filterPattern": "ERROR",
        "metricTransformations": [{"metricName": METRIC, "metricNamespace": prefix, "metricValue": "1"}],
    }


def alarm(prefix: str, topic_arn: str) -> dict:
    """put_metric_alarm's arguments: one ERROR in a minute notifies the topic."""
    return {
        "AlarmName": f"{prefix}-errors",
        "AlarmDescription": "ERROR lines in the application's logs",
        "Namespace": prefix,
        "MetricName": "Errors",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
        "AlarmActions": [topic_arn],
    }


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    logs = session.client("logs", endpoint_url=endpoint_url)
    group = f"{prefix}-app"
    create_log_group(logs, group)
    logs.put_metric_filter(logGroupName=group, **error_filter(prefix))
    topic_arn = session.client("sns", endpoint_url=endpoint_url).create_topic(Name=f"{prefix}-alerts")["TopicArn"]
    session.client("cloudwatch", endpoint_url=endpoint_url).put_metric_alarm(**alarm(prefix, topic_arn))


if __name__ == "__main__":
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    solve(
        boto3.Session(),
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ["LABCTL_PREFIX"],
        os.environ["LABCTL_STUDENT"],
    )
