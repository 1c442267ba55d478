"""SQS and SNS checks on fixture inventories (no emulator), each outcome stated from the lab's rule: the
queue redrives to the named dead-letter queue after a number of receives within the bounds (both
admitted); a numeric queue attribute lies within its bounds; the queue policy lets sns.amazonaws.com
(or anyone) send only from the named topic, on this queue; no Allow is open to any account; the
queue is subscribed to the topic over sqs, confirmed, with the raw delivery asked for.

Policies and subscriptions are built as they come off the wire (decoded JSON: new string objects,
never the literals the checks compare with)."""

from __future__ import annotations

import json

import pytest
from named_objects import assert_missing_unread_and_undetailed

from labctl.validators.checks import messaging as msg
from labctl.validators.inventory.messaging import Queue, SnsInventory, SqsInventory, Subscription, Topic

ACCOUNT = "123456789012"
ORDERS = "c-ada-orders"
DLQ = "c-ada-orders-dlq"
BILLING = "c-ada-billing"
EVENTS = "c-ada-events"


def wire(value):
    """`value` as decoded from an AWS response."""
    return json.loads(json.dumps(value))


def queue_arn(name: str) -> str:
    return f"arn:aws:sqs:us-east-1:{ACCOUNT}:{name}"


def topic_arn(name: str) -> str:
    return f"arn:aws:sns:us-east-1:{ACCOUNT}:{name}"


def sqs(name: str = ORDERS, attributes: dict | None = None, **fields) -> SqsInventory:
    attributes = {"QueueArn": queue_arn(name), **(attributes or {})}
    return SqsInventory({name: Queue(name=name, url=f"https://sqs/{name}", attributes=wire(attributes), **fields)})


def test_queue_exists_fails_only_when_there_is_none() -> None:
    missing = msg.queue_exists(SqsInventory(), msg.QueueParams(queue=ORDERS))
    assert (missing.status, missing.message) == ("failed", f"queue {ORDERS} does not exist") and missing.hint
    # Existence needs no details: a queue only listed, or one whose attributes were unreadable, exists.
    assert msg.queue_exists(sqs(detailed=False), msg.QueueParams(queue=ORDERS)).status == "passed"
    assert msg.queue_exists(sqs(error="AccessDenied"), msg.QueueParams(queue=ORDERS)).status == "passed"


def test_topic_exists_fails_only_when_there_is_none() -> None:
    missing = msg.topic_exists(SnsInventory(), msg.TopicParams(topic=EVENTS))
    assert (missing.status, missing.message) == ("failed", f"topic {EVENTS} does not exist") and missing.hint
    listed = SnsInventory({EVENTS: Topic(name=EVENTS, detailed=False)})
    assert msg.topic_exists(listed, msg.TopicParams(topic=EVENTS)).status == "passed"


QUEUE_CHECKS = [
    (msg.redrive, msg.RedriveParams(queue=ORDERS, dlq=DLQ)),
    (msg.attribute_range, msg.AttributeRangeParams(queue=ORDERS, attribute="VisibilityTimeout", min=30, max=300)),
    (msg.allows_topic, msg.AllowsTopicParams(queue=ORDERS, topic=EVENTS)),
    (msg.no_open_send, msg.QueueParams(queue=ORDERS)),
]


@pytest.mark.parametrize(("check", "params"), QUEUE_CHECKS)
def test_every_detailed_queue_check_skips_a_missing_queue_and_reports_an_unread_one(check, params) -> None:
    assert_missing_unread_and_undetailed(
        check, params, kind="queue", name=ORDERS, empty=SqsInventory(), inventory=sqs, error="AccessDenied"
    )


def test_the_subscription_check_skips_a_missing_topic_and_reports_an_unread_one() -> None:
    assert_missing_unread_and_undetailed(
        msg.sqs_subscription,
        msg.SubscriptionParams(topic=EVENTS, queue=BILLING),
        kind="topic",
        name=EVENTS,
        empty=SnsInventory(),
        inventory=lambda **fields: SnsInventory({EVENTS: Topic(name=EVENTS, **fields)}),
        error="AuthorizationError",
    )


# --- sqs.redrive ---------------------------------------------------------------------------------


def redrive(policy: dict | None, problem: str | None = None, **bounds):
    inv = sqs(redrive=None if policy is None else wire(policy), problem=problem)
    return msg.redrive(inv, msg.RedriveParams(queue=ORDERS, dlq=DLQ, **bounds))


def to_dlq(receives, target: str = queue_arn(DLQ)) -> dict:
    return {"deadLetterTargetArn": target, "maxReceiveCount": receives}


@pytest.mark.parametrize(("receives", "status"), [(2, "failed"), (3, "passed"), (4, "passed"), (5, "passed"), (6, "failed")])
def test_max_receive_count_within_the_bounds_inclusive(receives: int, status: str) -> None:
    # SQS has returned the count as a number and as a string: both are read.
    for sent in (receives, str(receives)):
        result = redrive(to_dlq(sent), min_receives=3, max_receives=5)
        assert result.status == status
        if status == "failed":
            assert result.message == f"maxReceiveCount is {receives}, expected 3-5"


@pytest.mark.parametrize("receives", [None, "four", ""])
def test_a_missing_or_unreadable_max_receive_count_fails(receives) -> None:
    policy = {"deadLetterTargetArn": queue_arn(DLQ)}
    if receives is not None:
        policy["maxReceiveCount"] = receives
    result = redrive(policy, min_receives=3, max_receives=5)
    assert (result.status, result.message) == ("failed", "maxReceiveCount is None, expected 3-5")


def test_the_receive_bounds_default_to_sqs_own_range() -> None:
    # SQS accepts a maxReceiveCount of 1-1000.
    assert redrive(to_dlq(1)).status == "passed"
    assert redrive(to_dlq(1000)).status == "passed"
    assert redrive({"deadLetterTargetArn": queue_arn(DLQ)}).message == "maxReceiveCount is None, expected 1-1000"
    for low, high in ((1, 1), (1, 1000), (1000, 1000)):
        edge = msg.RedriveParams(queue=ORDERS, dlq=DLQ, min_receives=low, max_receives=high)
        assert (edge.min_receives, edge.max_receives) == (low, high)
    for bad in (dict(min_receives=0), dict(min_receives=1001), dict(max_receives=0), dict(max_receives=1001)):
        with pytest.raises(ValueError):
            msg.RedriveParams(queue=ORDERS, dlq=DLQ, **bad)


@pytest.mark.parametrize("target", [ORDERS, "c-ada-orders-dl", "c-ada-shipping-dlq", "c-bob-orders-dlq"])
def test_a_dead_letter_target_other_than_the_dlq_fails(target: str) -> None:
    result = redrive(to_dlq(4, queue_arn(target)), min_receives=3, max_receives=5)
    assert (result.status, result.message) == ("failed", f"dead-letter target is {queue_arn(target)}, expected queue {DLQ}")


def test_a_missing_target_and_a_wrong_count_are_both_named() -> None:
    result = redrive({"maxReceiveCount": 9}, min_receives=3, max_receives=5)
    assert result.message == f"dead-letter target is not set, expected queue {DLQ}; maxReceiveCount is 9, expected 3-5"


def test_no_redrive_policy_or_an_unparsable_one_fails() -> None:
    none = redrive(None)
    assert (none.status, none.message) == ("failed", f"queue {ORDERS} has no redrive policy") and none.hint
    broken = redrive(None, problem="RedrivePolicy is not a JSON object")
    assert (broken.status, broken.message) == ("failed", f"queue {ORDERS}: RedrivePolicy is not a JSON object")


# --- sqs.attribute-range -------------------------------------------------------------------------


def visibility(value: str | None):
    attributes = {} if value is None else {"VisibilityTimeout": value}
    return msg.attribute_range(
        sqs(attributes=attributes), msg.AttributeRangeParams(queue=ORDERS, attribute="VisibilityTimeout", min=30, max=300)
    )


@pytest.mark.parametrize(("value", "status"), [("29", "failed"), ("30", "passed"), ("60", "passed"), ("300", "passed"), ("301", "failed")])
def test_an_attribute_within_the_bounds_inclusive(value: str, status: str) -> None:
    result = visibility(value)
    assert result.status == status
    if status == "failed":
        assert result.message == f"VisibilityTimeout of {ORDERS} is {value}, expected 30-300"


@pytest.mark.parametrize("value", [None, "", "thirty"])
def test_a_missing_or_non_numeric_attribute_fails(value) -> None:
    result = visibility(value)
    assert (result.status, result.message) == ("failed", f"queue {ORDERS} has no numeric attribute VisibilityTimeout")


# --- sqs.allows-topic ----------------------------------------------------------------------------


def send(principal=None, source: str | None = topic_arn(EVENTS), **fields) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "sns.amazonaws.com"} if principal is None else principal,
        "Action": "sqs:SendMessage",
        "Resource": queue_arn(BILLING),
        **fields,
    }
    if source is not None and "Condition" not in fields:
        statement["Condition"] = {"ArnEquals": {"aws:SourceArn": source}}
    return statement


def allows(*statements: dict, problem: str | None = None, queue: str = BILLING):
    policy = {"Version": "2012-10-17", "Statement": list(statements)} if statements else None
    inv = sqs(BILLING, policy=None if policy is None else wire(policy), problem=problem)
    return msg.allows_topic(inv, msg.AllowsTopicParams(queue=queue, topic=EVENTS))


@pytest.mark.parametrize(
    "statement",
    [
        send(),
        send(principal="*"),
        send(principal={"AWS": "*"}),
        send(principal={"Service": ["events.amazonaws.com", "sns.amazonaws.com"]}),
        send(Action="sqs:*"),
        send(Action=["sqs:ReceiveMessage", "sqs:SendMessage"]),
        send(Resource="*"),
        send(source="arn:aws:sns:*:*:c-ada-events"),
        send(Condition={"ArnLike": {"AWS:SourceArn": topic_arn(EVENTS)}}),
    ],
)
def test_an_allow_of_send_message_limited_to_the_topic_passes(statement: dict) -> None:
    assert allows(statement).status == "passed"


@pytest.mark.parametrize(
    "statement",
    [
        send(Effect="Deny"),
        send(Action="sqs:ReceiveMessage"),
        send(principal={"Service": "events.amazonaws.com"}),
        send(principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
    ],
)
def test_a_deny_another_action_or_another_principal_grants_nothing(statement: dict) -> None:
    result = allows(statement)
    assert (result.status, result.message) == ("failed", f"no statement allows sns.amazonaws.com to call sqs:SendMessage on {BILLING}")


@pytest.mark.parametrize(
    "source",
    [
        None,
        topic_arn("c-ada-alerts"),
        topic_arn("c-ada-orders"),
        topic_arn("c-ada-events-old"),
        queue_arn(EVENTS),
        f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{EVENTS}",
    ],
)
def test_a_send_permission_not_limited_to_the_topic_fails(source: str | None) -> None:
    result = allows(send(source=source))
    assert (result.status, result.message) == ("failed", f"the SendMessage permission is not limited by aws:SourceArn to topic {EVENTS}")


def test_a_limited_statement_counts_only_when_it_grants() -> None:
    assert allows(send(source=None), send()).status == "passed"
    denied = send(Effect="Deny")
    assert allows(send(source=None), denied).status == "failed"


def test_the_limited_statement_must_cover_this_queue() -> None:
    other = allows(send(Resource=queue_arn("c-ada-shipping")))
    assert (other.status, other.message) == ("failed", f"the statement's Resource does not cover the queue {queue_arn(BILLING)}")
    assert allows(send(Resource=queue_arn("c-ada-shipping")), send()).status == "passed"
    # A statement on the right queue that is not limited to the topic does not make up for one that is.
    assert allows(send(Resource=queue_arn("c-ada-shipping")), send(source=None)).status == "failed"


def test_no_access_policy_or_an_unparsable_one_fails() -> None:
    none = allows()
    assert (none.status, none.message) == ("failed", f"queue {BILLING} has no access policy") and none.hint
    broken = allows(problem="Policy is not a JSON object")
    assert (broken.status, broken.message) == ("failed", f"queue {BILLING}: Policy is not a JSON object")


# --- sqs.no-open-send ----------------------------------------------------------------------------


def open_send(*statements: dict):
    policy = {"Version": "2012-10-17", "Statement": list(statements)} if statements else None
    return msg.no_open_send(sqs(BILLING, policy=None if policy is None else wire(policy)), msg.QueueParams(queue=BILLING))


def test_an_open_statement_fails_naming_every_one() -> None:
    world = send(principal="*", source=None, Sid="world")
    one = open_send(world, send())
    assert (one.status, one.message) == ("failed", f"statement world allows anyone to use queue {BILLING} (add an aws:SourceArn condition)")
    both = open_send(world, send(source=None))
    assert both.message == (
        "statement world allows anyone; statement #2 allows any sns.amazonaws.com resource in any account"
        f" to use queue {BILLING} (add an aws:SourceArn condition)"
    )


def test_a_limited_or_absent_policy_keeps_the_queue_private() -> None:
    assert (open_send(send()).status, open_send(send()).message) == ("passed", "")
    account = send(principal="*", source=None, Condition={"StringEquals": {"aws:SourceAccount": ACCOUNT}})
    assert open_send(account).status == "passed"
    assert (open_send().status, open_send().message) == ("passed", "no access policy")


# --- sns.sqs-subscription ------------------------------------------------------------------------


def subscription(endpoint: str, protocol: str = "sqs", **fields) -> Subscription:
    arn = f"{topic_arn(EVENTS)}:0f3c9a1e-{len(endpoint)}"
    return Subscription(arn=wire(arn), protocol=wire(protocol), endpoint=wire(endpoint), **fields)


def subscribed(*subscriptions: Subscription, raw_delivery: bool | None = None, truncated: bool = False):
    topic = Topic(name=EVENTS, arn=topic_arn(EVENTS), subscriptions=subscriptions, truncated=truncated)
    params = msg.SubscriptionParams(topic=EVENTS, queue=BILLING, raw_delivery=raw_delivery)
    return msg.sqs_subscription(SnsInventory({EVENTS: topic}), params)


def test_a_confirmed_sqs_subscription_of_the_queue_passes_whatever_its_raw_delivery() -> None:
    assert subscribed(subscription(queue_arn(BILLING))).status == "passed"
    assert subscribed(subscription(queue_arn(BILLING), raw_delivery=True)).status == "passed"
    others = (subscription(queue_arn("c-ada-audit")), subscription(queue_arn("c-ada-shipping")))
    assert subscribed(*others, subscription(queue_arn(BILLING))).status == "passed"


@pytest.mark.parametrize(
    ("protocol", "endpoint"),
    [
        ("sqs", queue_arn("c-ada-audit")),
        ("sqs", queue_arn("c-ada-shipping")),
        ("sqs", queue_arn("c-ada-billing-dlq")),
        ("lambda", f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{BILLING}"),
    ],
)
def test_a_subscription_of_another_queue_or_over_another_protocol_fails(protocol: str, endpoint: str) -> None:
    result = subscribed(subscription(endpoint, protocol))
    expected = f"no sqs subscription of {EVENTS} delivers to {BILLING} (found: {protocol}:{endpoint})"
    assert (result.status, result.message) == ("failed", expected)


def test_the_failure_lists_what_was_found_and_says_when_the_list_was_cut() -> None:
    none = subscribed()
    assert none.message == f"no sqs subscription of {EVENTS} delivers to {BILLING} (found: none)"
    found = (subscription(queue_arn("c-ada-audit")), subscription("ada@example.com", "email"))
    cut = subscribed(*found, truncated=True)
    assert cut.message == (
        f"no sqs subscription of {EVENTS} delivers to {BILLING} (found: sqs:{queue_arn('c-ada-audit')}, email:ada@example.com)"
        " (only the first subscriptions were read)"
    )


def test_a_pending_subscription_delivers_nothing_until_confirmed() -> None:
    pending = subscribed(subscription(queue_arn(BILLING), pending=True))
    assert (pending.status, pending.message) == ("failed", f"the subscription of {BILLING} is still pending confirmation")
    cross_account = subscription(f"arn:aws:sqs:us-east-1:210987654321:{BILLING}", pending=True)
    assert subscribed(cross_account, subscription(queue_arn(BILLING))).status == "passed"


@pytest.mark.parametrize(("wanted", "raw", "status"), [(True, True, "passed"), (True, False, "failed"), (False, False, "passed"), (False, True, "failed")])
def test_raw_delivery_must_be_the_asked_setting(wanted: bool, raw: bool, status: str) -> None:
    result = subscribed(subscription(queue_arn(BILLING), raw_delivery=raw), raw_delivery=wanted)
    assert result.status == status
    if status == "failed":
        assert result.message == f"raw message delivery to {BILLING} must be {'on' if wanted else 'off'}" and result.hint
