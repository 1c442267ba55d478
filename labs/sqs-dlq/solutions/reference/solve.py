"""Reference solution of sqs-dlq: a 14-day DLQ, and an orders queue that redrives to it after 4 receives.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3


DLQ_ATTRIBUTES = {"MessageRetentionPeriod": "1209600"}  # 14 days
MAX_RECEIVES = "4"


def queue_attributes(dlq_arn: str) -> dict:
    return {
        "VisibilityTimeout": "60",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
    }


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    dlq_url = sqs.create_queue(QueueName=f"{prefix}-orders-dlq", Attributes=DLQ_ATTRIBUTES)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sqs.create_queue(QueueName=f"{prefix}-orders", Attributes=queue_attributes(dlq_arn))


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
