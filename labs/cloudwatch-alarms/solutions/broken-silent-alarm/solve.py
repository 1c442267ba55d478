"""cloudwatch-alarms whose metric filter publishes `ErrorCount` (the alarm watches `Errors`, so it never
sees a data point) and whose alarm actions are disabled "while testing".

metric-filter fails and the actions-enabled guard applies. Run by hand with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
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
    logs.put_retention_policy(logGroupName=group, retentionInDays=14)
    logs.put_metric_filter(
        logGroupName=group,
        filterName="errors",
        filterPattern="ERROR",
        metricTransformations=[{"metricName": "ErrorCount", "metricNamespace": prefix, "metricValue": "1"}],
    )

    topic_arn = sns.create_topic(Name=f"{prefix}-alerts")["TopicArn"]
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
        AlarmActions=[topic_arn],
        ActionsEnabled=False,
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
