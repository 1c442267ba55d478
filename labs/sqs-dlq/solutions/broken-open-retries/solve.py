"""sqs-dlq with too many retries (maxReceiveCount 10) and a queue policy that lets anyone send,
added "so the producer can reach it".

redrive fails and the no-open-queue guard applies. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json

import boto3

from labctl.labs.solutions import reference, run_by_hand

ten_retries = reference(__file__, MAX_RECEIVES="10").solve


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ten_retries(session, endpoint_url, prefix, student)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    url = sqs.get_queue_url(QueueName=f"{prefix}-orders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    anyone = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": arn}
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps({"Version": "2012-10-17", "Statement": [anyone]})})


if __name__ == "__main__":
    run_by_hand(solve)
