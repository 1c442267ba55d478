"""The portal's Prometheus metrics, in a registry of its own per app (prometheus_client)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from labctl.app.portal.service import CheckOutcome


class PortalMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.checks = Counter("labctl_portal_checks", "Students' checks run from the portal, by outcome.",
                              ["cohort", "lab", "outcome"], registry=self.registry)
        self.duration = Histogram("labctl_portal_check_duration_seconds", "How long a student's check took.",
                                  ["cohort"], registry=self.registry,
                                  buckets=(0.25, 0.5, 1, 2, 5, 10, 20, 40, 80))
        self.passed = Gauge("labctl_portal_students_passed", "Students whose newest result on a lab passed.",
                            ["cohort", "lab"], registry=self.registry)

    def observe_check(self, cohort: str, lab: str, outcome: "CheckOutcome", seconds: float) -> None:
        if outcome.error:
            result = "ungraded"
        else:
            result = "passed" if outcome.entry["passed"] else "not-passed"
        self.checks.labels(cohort, lab, result).inc()
        self.duration.labels(cohort).observe(seconds)

    def exposition(self, passed_counts: Callable[[], dict[tuple[str, str], int]]) -> bytes:
        """The text format, with students passed read from the registry at scrape time."""
        self.passed.clear()
        for (cohort, lab), count in passed_counts().items():
            self.passed.labels(cohort, lab).set(count)
        return generate_latest(self.registry)
