"""SQS and SNS checks: pure functions of one student's SqsInventory / SnsInventory
(validators.inventory.messaging)."""

from __future__ import annotations

from pydantic import Field

from labctl.validators import iam
from labctl.validators.inventory.messaging import Queue, SnsInventory, SqsInventory, Topic
from labctl.validators.registry import Params, Result, check
from labctl.validators.resource_policies import open_statements, principals, source_arns

SQS = "sqs"
SNS = "sns"


class QueueParams(Params):
    queue: str


class RedriveParams(QueueParams):
    dlq: str
    min_receives: int = Field(default=1, ge=1, le=1000)
    max_receives: int = Field(default=1000, ge=1, le=1000)


class AttributeRangeParams(QueueParams):
    attribute: str
    min: int
    max: int


class AllowsTopicParams(QueueParams):
    topic: str


class TopicParams(Params):
    topic: str


class SubscriptionParams(TopicParams):
    queue: str
    raw_delivery: bool | None = None
    """True or False requires that RawMessageDelivery setting; None accepts either."""


def queue_or_result(inv: SqsInventory, name: str) -> Queue | Result:
    queue = inv.queue(name)
    if queue is None:
        return Result.skipped(f"queue {name} does not exist")
    if queue.error:
        return Result.error(f"could not read queue {name}: {queue.error}")
    if not queue.detailed:
        return Result.error(f"queue {name} was not collected in detail")
    return queue


def topic_or_result(inv: SnsInventory, name: str) -> Topic | Result:
    topic = inv.topic(name)
    if topic is None:
        return Result.skipped(f"topic {name} does not exist")
    if topic.error:
        return Result.error(f"could not read topic {name}: {topic.error}")
    if not topic.detailed:
        return Result.error(f"topic {name} was not collected in detail")
    return topic


def is_topic_arn(value: str, topic: str) -> bool:
    return value.startswith("arn:aws:sns:") and value.rsplit(":", 1)[-1] == topic


@check("sqs.queue-exists", title="Queue {queue} exists", reads=SQS, params=QueueParams)
def queue_exists(inv: SqsInventory, p: QueueParams) -> Result:
    if inv.queue(p.queue) is None:
        return Result.failed(f"queue {p.queue} does not exist", hint="aws sqs create-queue")
    return Result.passed()


@check("sqs.redrive", title="Queue {queue} redrives to {dlq}", reads=SQS, params=RedriveParams)
def redrive(inv: SqsInventory, p: RedriveParams) -> Result:
    queue = queue_or_result(inv, p.queue)
    if isinstance(queue, Result):
        return queue
    if queue.redrive is None:
        if queue.problem:
            return Result.failed(f"queue {p.queue}: {queue.problem}")
        return Result.failed(f"queue {p.queue} has no redrive policy", hint="set-queue-attributes RedrivePolicy")
    target = str(queue.redrive.get("deadLetterTargetArn", ""))
    problems = []
    if target.rsplit(":", 1)[-1] != p.dlq:
        problems.append(f"dead-letter target is {target or 'not set'}, expected queue {p.dlq}")
    try:
        receives = int(queue.redrive.get("maxReceiveCount"))
    except (TypeError, ValueError):
        receives = None
    if receives is None or not p.min_receives <= receives <= p.max_receives:
        problems.append(f"maxReceiveCount is {receives}, expected {p.min_receives}-{p.max_receives}")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check("sqs.attribute-range", title="{queue}'s {attribute} is {min}-{max}", reads=SQS, params=AttributeRangeParams)
def attribute_range(inv: SqsInventory, p: AttributeRangeParams) -> Result:
    queue = queue_or_result(inv, p.queue)
    if isinstance(queue, Result):
        return queue
    value = queue.number(p.attribute)
    if value is None:
        return Result.failed(f"queue {p.queue} has no numeric attribute {p.attribute}")
    if not p.min <= value <= p.max:
        return Result.failed(f"{p.attribute} of {p.queue} is {value}, expected {p.min}-{p.max}")
    return Result.passed()


@check("sqs.allows-topic", title="Topic {topic} may send to queue {queue}", reads=SQS, params=AllowsTopicParams)
def allows_topic(inv: SqsInventory, p: AllowsTopicParams) -> Result:
    """An Allow of sqs:SendMessage to sns.amazonaws.com (or `*`) limited by aws:SourceArn to the topic."""
    queue = queue_or_result(inv, p.queue)
    if isinstance(queue, Result):
        return queue
    if queue.policy is None:
        if queue.problem:
            return Result.failed(f"queue {p.queue}: {queue.problem}")
        return Result.failed(f"queue {p.queue} has no access policy", hint="set-queue-attributes Policy")
    sending = [
        s
        for s in iam.statements(queue.policy)
        if iam.effect(s) == "Allow"
        and iam.covers_action(s, "sqs:SendMessage")
        and ({"Service:sns.amazonaws.com", "*", "AWS:*"} & set(principals(s)))
    ]
    if not sending:
        return Result.failed(f"no statement allows sns.amazonaws.com to call sqs:SendMessage on {p.queue}")
    limited = [s for s in sending if any(is_topic_arn(v, p.topic) for v in source_arns(s))]
    if not limited:
        return Result.failed(f"the SendMessage permission is not limited by aws:SourceArn to topic {p.topic}")
    if queue.arn and not any(iam.covers_resource(s, queue.arn) for s in limited):
        return Result.failed(f"the statement's Resource does not cover the queue {queue.arn}")
    return Result.passed()


@check("sqs.no-open-send", title="Only named sources may use queue {queue}", reads=SQS, params=QueueParams)
def no_open_send(inv: SqsInventory, p: QueueParams) -> Result:
    queue = queue_or_result(inv, p.queue)
    if isinstance(queue, Result):
        return queue
    if queue.policy is None:
        return Result.passed("no access policy")
    found = open_statements(queue.policy)
    if found:
        return Result.failed("; ".join(found) + f" to use queue {p.queue} (add an aws:SourceArn condition)")
    return Result.passed()


@check("sns.topic-exists", title="Topic {topic} exists", reads=SNS, params=TopicParams)
def topic_exists(inv: SnsInventory, p: TopicParams) -> Result:
    if inv.topic(p.topic) is None:
        return Result.failed(f"topic {p.topic} does not exist", hint="aws sns create-topic")
    return Result.passed()


@check("sns.sqs-subscription", title="Queue {queue} is subscribed to {topic}", reads=SNS, params=SubscriptionParams)
def sqs_subscription(inv: SnsInventory, p: SubscriptionParams) -> Result:
    topic = topic_or_result(inv, p.topic)
    if isinstance(topic, Result):
        return topic
    matching = [
        s for s in topic.subscriptions if s.protocol == "sqs" and s.endpoint.rsplit(":", 1)[-1] == p.queue
    ]
    if not matching:
        found = ", ".join(f"{s.protocol}:{s.endpoint}" for s in topic.subscriptions) or "none"
        more = " (only the first subscriptions were read)" if topic.truncated else ""
        return Result.failed(f"no sqs subscription of {p.topic} delivers to {p.queue} (found: {found}){more}")
    if all(s.pending for s in matching):
        return Result.failed(f"the subscription of {p.queue} is still pending confirmation")
    if p.raw_delivery is not None and not any(s.raw_delivery == p.raw_delivery for s in matching):
        wanted = "on" if p.raw_delivery else "off"
        return Result.failed(f"raw message delivery to {p.queue} must be {wanted}", hint="RawMessageDelivery")
    return Result.passed()
