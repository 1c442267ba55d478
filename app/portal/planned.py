"""What the board shows of each student's planned stack on a lab: the mandatory and advisory policy
violations and the monthly cost, exactly as `labctl plan` and `labctl policy check --cohort` compute
them (the plan under the Pulumi SDK's mock runtime, both policy packs, `stacks.cost`).

A plan depends only on the cohort's record and the lab, not on what students do, so it is computed
once per cohort and lab and kept for the server's life (a cohort recorded again, with another roster
or endpoint, is planned again). The SDK's mock runtime is process-global: plans run one at a time on
one thread of their own, with its own event loop."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable

from labctl.cohorts.cohort import Cohort
from labctl.labs.catalog import get_lab
from labctl.labs.errors import LabctlError
from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.stacks.plan import fresh_event_loop, plan_cohort
from labctl.stacks.program import TargetSettings


@dataclass(frozen=True)
class PlannedStack:
    mandatory: int
    advisory: int
    monthly_usd: float


@dataclass(frozen=True)
class PlannedLab:
    """Per student, and the violations that name no student (the cohort's total cost)."""

    students: dict[str, PlannedStack]
    cohort_mandatory: int
    cohort_advisory: int
    monthly_usd: float
    error: str | None = None


def summarize(planned: dict[str, Any]) -> PlannedLab:
    """Violation counts per student and level, and cost per student, of one `plan_cohort` result."""
    source = from_plan(planned, f"plan of cohort {planned['cohort']}")
    report = evaluate(source.resources, monthly_usd=source.monthly_usd)
    counts = Counter((v.student, v.level) for v in report.violations)
    cost = planned["cost"]["by_student"]
    students = {
        entry["student"]: PlannedStack(counts[(entry["student"], "mandatory")], counts[(entry["student"], "advisory")],
                                       cost.get(entry["student"], 0.0))
        for entry in planned["students"]
    }
    return PlannedLab(students, counts[(None, "mandatory")], counts[(None, "advisory")], planned["cost"]["monthly_usd"])


def plan_lab(cohort: Cohort, lab_id: str) -> dict[str, Any]:
    return plan_cohort(cohort, [get_lab(lab_id).spec], TargetSettings.from_target(cohort.target), workers=1)


def planned_lab(cohort: Cohort, lab_id: str, plan: Callable[[Cohort, str], dict[str, Any]]) -> PlannedLab:
    """The board's figures, or the reason there are none (a plan that fails fails the same way each time)."""
    try:
        return summarize(plan(cohort, lab_id))
    except (LabctlError, ValueError) as exc:
        return PlannedLab({}, 0, 0, 0.0, str(exc))


class PlanCache:
    def __init__(self, plan: Callable[[Cohort, str], dict[str, Any]] = plan_lab):
        self.plan = plan
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="labctl-portal-plan", initializer=fresh_event_loop)
        self.lock = threading.Lock()
        self.kept: dict[tuple[str, str], tuple[Cohort, Future]] = {}

    def get(self, cohort: Cohort, lab_id: str) -> PlannedLab:
        """The figures of `cohort` on `lab_id`, planned now if this record of the cohort has not been."""
        with self.lock:
            found = self.kept.get((cohort.name, lab_id))
            if found is None or found[0] != cohort:
                found = (cohort, self.pool.submit(planned_lab, cohort, lab_id, self.plan))
                self.kept[(cohort.name, lab_id)] = found
        return found[1].result()

    def close(self) -> None:
        self.pool.shutdown(wait=True)
