"""Collect a cohort's SQS queues and SNS topics: one listing each per cohort, bounded reads per named one.

SQS lists by name prefix `<cohort>-`; SNS cannot filter ListTopics, so the account's topics are
listed once and kept when a graded student's prefix owns the topic name. Subscriptions are read
only for topics a check names (at most MAX_SUBSCRIPTIONS each).
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from labctl.validators.collectors.aws_common import aws_client, code_of, failure, named, pages, partition
from labctl.validators.collectors.base import CollectRequest
from labctl.validators.collectors.s3 import parse_policy
from labctl.validators.inventory.messaging import (
    MAX_SUBSCRIPTIONS,
    Queue,
    SnsInventory,
    SnsSnapshot,
    SqsInventory,
    SqsSnapshot,
    Subscription,
    Topic,
)

GONE = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "NotFound"})


def read_queue(client, name: str, url: str) -> Queue | None:
    try:
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"]).get("Attributes", {})
    except ClientError as exc:
        if code_of(exc) in GONE:
            return None
        return Queue(name=name, url=url, error=failure(exc))
    parsed = {}
    problems = []
    for key in ("RedrivePolicy", "Policy"):
        if attributes.get(key):
            parsed[key], problem = parse_policy(attributes[key])
            if problem:
                problems.append(f"{key} is {problem}")
    return Queue(
        name=name,
        url=url,
        attributes=dict(attributes),
        redrive=parsed.get("RedrivePolicy"),
        policy=parsed.get("Policy"),
        problem="; ".join(problems) or None,
    )


def collect_sqs(request: CollectRequest) -> SqsSnapshot:
    client = aws_client(request, "sqs")
    urls = pages(
        client.list_queues, "QueueUrls", "NextToken", "NextToken", QueueNamePrefix=f"{request.cohort}-", MaxResults=1000
    )
    listed = {url.rstrip("/").rsplit("/", 1)[-1]: url for url in urls}
    by_prefix = partition(
        request,
        listed,
        named(request, "queue", "dlq"),
        lambda name, url: read_queue(client, name, url),
        lambda name, url: Queue(name=name, url=url, detailed=False),
    )
    return SqsSnapshot({p: SqsInventory(queues) for p, queues in by_prefix.items()})


def read_topic(client, name: str, arn: str) -> Topic | None:
    try:
        page = client.list_subscriptions_by_topic(TopicArn=arn)
        found = page.get("Subscriptions", [])[:MAX_SUBSCRIPTIONS]
        subscriptions = []
        for item in found:
            attributes = {}
            if item.get("SubscriptionArn", "").startswith("arn:"):
                attributes = client.get_subscription_attributes(SubscriptionArn=item["SubscriptionArn"])["Attributes"]
            subscriptions.append(
                Subscription(
                    arn=item.get("SubscriptionArn", ""),
                    protocol=item.get("Protocol", ""),
                    endpoint=item.get("Endpoint", ""),
                    raw_delivery=attributes.get("RawMessageDelivery", "false").lower() == "true",
                    pending=not item.get("SubscriptionArn", "").startswith("arn:")
                    or attributes.get("PendingConfirmation", "false").lower() == "true",
                )
            )
    except ClientError as exc:
        if code_of(exc) == "NotFound":
            return None
        return Topic(name=name, arn=arn, error=failure(exc))
    return Topic(
        name=name,
        arn=arn,
        subscriptions=tuple(subscriptions),
        truncated=bool(page.get("NextToken")) or len(page.get("Subscriptions", [])) > MAX_SUBSCRIPTIONS,
    )


def collect_sns(request: CollectRequest) -> SnsSnapshot:
    client = aws_client(request, "sns")
    arns = [t["TopicArn"] for t in pages(client.list_topics, "Topics", "NextToken", "NextToken")]
    listed = {arn.rsplit(":", 1)[-1]: arn for arn in arns if arn.rsplit(":", 1)[-1].startswith(f"{request.cohort}-")}
    by_prefix = partition(
        request,
        listed,
        named(request, "topic"),
        lambda name, arn: read_topic(client, name, arn),
        lambda name, arn: Topic(name=name, arn=arn, detailed=False),
    )
    return SnsSnapshot({p: SnsInventory(topics) for p, topics in by_prefix.items()})
