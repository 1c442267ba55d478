"""The CloudWatch inventory: a cohort's student-owned log groups (with metric filters) and metric alarms.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

MAX_METRIC_FILTERS = 50
"""At most this many metric filters are read per log group."""


@dataclass(frozen=True)
class MetricFilter:
    name: str
    pattern: str
    metrics: tuple[tuple[str, str], ...]
    """(namespace, metric name) of each metric transformation."""


@dataclass(frozen=True)
class LogGroup:
    name: str
    detailed: bool = True
    retention_days: int | None = None
    """None means the events never expire."""
    metric_filters: tuple[MetricFilter, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class Alarm:
    name: str
    namespace: str | None = None
    metric: str | None = None
    statistic: str | None = None
    comparison: str | None = None
    threshold: float | None = None
    actions_enabled: bool = True
    alarm_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogsInventory:
    log_groups: Mapping[str, LogGroup] = field(default_factory=dict)
    alarms: Mapping[str, Alarm] = field(default_factory=dict)

    def log_group(self, name: str) -> LogGroup | None:
        return self.log_groups.get(name)

    def alarm(self, name: str) -> Alarm | None:
        return self.alarms.get(name)


@dataclass(frozen=True)
class LogsSnapshot:
    by_prefix: Mapping[str, LogsInventory]

    def for_prefix(self, prefix: str) -> LogsInventory:
        return self.by_prefix.get(prefix, LogsInventory())
