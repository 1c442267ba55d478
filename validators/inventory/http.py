"""The HTTP inventory: each student's endpoints as fetched once, with limits, by the HTTP collector."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from labctl.validators.safe_http import HttpResponse


@dataclass(frozen=True)
class HttpInventory:
    """One student's fetched URLs."""

    responses: Mapping[str, HttpResponse] = field(default_factory=dict)

    def response(self, url: str) -> HttpResponse | None:
        """The response for `url`, or None when the collector was not asked for it."""
        return self.responses.get(url)


@dataclass(frozen=True)
class HttpSnapshot:
    """A cohort's fetched URLs partitioned by owner prefix."""

    by_prefix: Mapping[str, HttpInventory]

    def for_prefix(self, prefix: str) -> HttpInventory:
        return self.by_prefix.get(prefix, HttpInventory())
