"""cloudwatch-alarms with an alarm that notifies nobody (no alarm actions) and a log group kept forever.

log-retention and alarm-notifies fail. Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX
and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    logs = session.client("logs", endpoint_url=endpoint_url)
    cloudwatch = session.client("cloudwatch", endpoint_url=endpoint_url)
    sns = session.client("sns", endpoint_url=endpoint_url)
    group = f"{prefix}-app"

    logs.create_log_group(logGroupName=group)
    logs.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "Errors", "metricNamespace": prefix, "metricValue": "1"}],
    )

    sns.create_topic(Name=f"{prefix}-alerts")
    cloudwatch.put_metric_alarm(
        AlarmName=f"{prefix}-errors",
        AlarmDescription="ERROR lines in the application's logs",
        Namespace=prefix,
        MetricName="Errors",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )


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
