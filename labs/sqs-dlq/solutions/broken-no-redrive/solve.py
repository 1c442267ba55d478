"""sqs-dlq with both queues created but never connected: no redrive policy, and the DLQ keeps the
default 4 days.

redrive and dlq-retention fail. Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and
LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    sqs.create_queue(QueueName=f"{prefix}-orders-dlq")
    sqs.create_queue(QueueName=f"{prefix}-orders", Attributes={"VisibilityTimeout": "120"})


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
