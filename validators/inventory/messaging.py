"""The SQS and SNS inventories: a cohort's student-owned queues and topics as plain frozen data.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

MAX_SUBSCRIPTIONS = 100
"""At most this many subscriptions are read per topic."""


@dataclass(frozen=True)
class Queue:
    name: str
    url: str = ""
    detailed: bool = True
    """False when no check names this queue, so only its URL was recorded."""
    attributes: Mapping[str, str] = field(default_factory=dict)
    """GetQueueAttributes(All) as returned (every value a string)."""
    redrive: Mapping[str, Any] | None = None
    """The parsed RedrivePolicy, or None."""
    policy: Mapping[str, Any] | None = None
    """The parsed access policy, or None."""
    problem: str | None = None
    """Why RedrivePolicy or Policy could not be parsed as a JSON object."""
    error: str | None = None

    @property
    def arn(self) -> str:
        return self.attributes.get("QueueArn", "")

    def number(self, attribute: str) -> int | None:
        try:
            return int(self.attributes[attribute])
        except (KeyError, ValueError):
            return None


@dataclass(frozen=True)
class SqsInventory:
    queues: Mapping[str, Queue] = field(default_factory=dict)

    def queue(self, name: str) -> Queue | None:
        return self.queues.get(name)


@dataclass(frozen=True)
class SqsSnapshot:
    by_prefix: Mapping[str, SqsInventory]

    def for_prefix(self, prefix: str) -> SqsInventory:
        return self.by_prefix.get(prefix, SqsInventory())


@dataclass(frozen=True)
class Subscription:
    arn: str
    protocol: str
    endpoint: str
    raw_delivery: bool = False
    pending: bool = False


@dataclass(frozen=True)
class Topic:
    name: str
    arn: str = ""
    detailed: bool = True
    subscriptions: tuple[Subscription, ...] = ()
    truncated: bool = False
    """True when the topic has more than MAX_SUBSCRIPTIONS subscriptions (the rest unread)."""
    error: str | None = None


@dataclass(frozen=True)
class SnsInventory:
    topics: Mapping[str, Topic] = field(default_factory=dict)

    def topic(self, name: str) -> Topic | None:
        return self.topics.get(name)


@dataclass(frozen=True)
class SnsSnapshot:
    by_prefix: Mapping[str, SnsInventory]

    def for_prefix(self, prefix: str) -> SnsInventory:
        return self.by_prefix.get(prefix, SnsInventory())
