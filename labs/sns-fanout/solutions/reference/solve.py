"""Reference solution of sns-fanout: a topic, two subscribed queues (billing raw) and queue policies
that let only the topic send.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json
import os
import sys

import boto3

CONSUMERS = (("billing", True), ("shipping", False))  # (queue, raw message delivery)


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "OnlyOurTopic",
                    "Effect": "Allow",
                    "Principal": {"Service": "sns.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue_arn,
                    "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
                }
            ],
        }
    )


def allow_topic(sqs, queue_url: str, queue_arn: str, topic_arn: str) -> None:
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": queue_policy(queue_arn, topic_arn)})


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    sns = session.client("sns", endpoint_url=endpoint_url)
    sqs = session.client("sqs", endpoint_url=endpoint_url)
    topic_arn = sns.create_topic(Name=f"{prefix}-events")["TopicArn"]

    for consumer, raw in CONSUMERS:
        url = sqs.create_queue(QueueName=f"{prefix}-{consumer}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # The policy first: SNS can deliver nothing until the queue lets it.
        allow_topic(sqs, url, arn, topic_arn)
        sns.subscribe(
            TopicArn=topic_arn,
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true" if raw else "false"},
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
