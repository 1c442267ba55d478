"""Collectors, keyed by the inventory kind a check `reads`: one pass per service per cohort."""

from __future__ import annotations

from validators.collectors.base import Collector, CollectRequest, Snapshot, owner
from validators.collectors.dynamodb import collect_dynamodb
from validators.collectors.kubernetes import collect_kubernetes
from validators.collectors.postgres import collect_postgres
from validators.collectors.s3 import collect_s3

COLLECTORS: dict[str, Collector] = {
    "s3": collect_s3,
    "dynamodb": collect_dynamodb,
    "postgres": collect_postgres,
    "kubernetes": collect_kubernetes,
}

__all__ = ["COLLECTORS", "Collector", "CollectRequest", "Snapshot", "owner"]
