"""`labctl demo`: the whole story on the embedded emulator, from roster to gradebook.

Start the emulator (or reuse a running one), create a 3-student cohort from the sample roster,
plan it under the mock runtime, policy-check the plan, provision the students' stacks with `up` when
the Pulumi CLI is present, build one complete and one partial solution the way a student would (boto3
with the student's own prefix), grade, and — with the engine — end with `destroy --sweep` and its
proof of cleanup; then stop what the demo started. Without the Pulumi CLI the engine steps are
skipped with one line. Each step reports through `say`; nothing here prints.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from labctl.app import emulator
from labctl.cohorts import emulator_client
from labctl.cohorts.cohort import Cohort, build_cohort, make_target
from labctl.cohorts.registry import Registry
from labctl.cohorts.targets import instructor_session
from labctl.labs.catalog import get_lab
from labctl.labs.errors import LabctlError
from labctl.labs.solutions import apply, solutions_for
from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.stacks.engine import Engine
from labctl.stacks.lifecycle import run_cohort
from labctl.stacks.plan import plan_cohort
from labctl.stacks.program import TargetSettings
from labctl.stacks.sweep import sweep_target
from labctl.validators.grading import grade_and_record
from labctl.validators.report.model import GradeReport

LAB = "s3-static-website"
ROSTER = Path(__file__).resolve().parent.parent / "examples" / "roster.csv"
# What each roster position builds: a complete solution, a partial one, nothing.
SOLUTIONS = ("reference", "broken-partial", None)


@dataclass
class DemoResult:
    cohort: str
    resources: int
    mandatory_violations: int
    report: GradeReport
    seconds: float
    steps: list[str] = field(default_factory=list)
    proof: str | None = None
    """`destroy --sweep`'s proof of cleanup, when the engine ran."""


def ensure_emulator(say: Callable[[str], None]) -> tuple[str, bool]:
    """The emulator's endpoint and whether the demo started it (and so must stop it)."""
    status = emulator_client.status()
    if status.running and not status.enforce_iam:
        say(f"reusing the running emulator at {status.endpoint}")
        return status.endpoint, False
    if status.running:
        emulator.stop()
    port = emulator.DEFAULT_PORT if emulator.port_is_free(emulator.DEFAULT_PORT) else emulator.free_port()
    status = emulator.start(port=port, persist=False)  # the demo leaves the class's saved state alone
    say(f"started the embedded AWS emulator at {status.endpoint} (pid {status.pid})")
    return status.endpoint, True


def cohort_name() -> str:
    return "demo-" + datetime.now(timezone.utc).strftime("%m%d-%H%M%S")


def open_engine(say: Callable[[str], None]) -> Engine | None:
    """The engine, or None after one line saying the engine steps are skipped."""
    try:
        return Engine()
    except LabctlError as exc:
        say(f"{exc}; skipping `up` and `destroy --sweep`, running the rest")
        return None


def provision(registry: Registry, cohort: Cohort, engine: Engine, say: Callable[[str], None]) -> None:
    summary = run_cohort(registry, cohort, "up", engine)
    say(summary.line() + "".join(f"; {r.student}: {r.error}" for r in summary.runs if r.error))


def tear_down(registry: Registry, cohort: Cohort, engine: Engine, say: Callable[[str], None]) -> str:
    """`destroy --sweep`: the stacks, then what students made by hand; the sweep's proof."""
    summary = run_cohort(registry, cohort, "destroy", engine)
    say(summary.line() + "".join(f"; {r.student}: {r.error}" for r in summary.runs if r.error))
    report = sweep_target(cohort)
    for left in report.left:
        say(f"left {left.resource.label} ({left.resource.student}): {left.reason}")
    say(f"sweep: {len(report.deleted)} deleted; {report.proof()}")
    return report.proof()


def run_demo(say: Callable[[str], None]) -> DemoResult:
    started = time.perf_counter()
    endpoint, owned = ensure_emulator(say)
    try:
        cohort = build_cohort(cohort_name(), (LAB,), ROSTER, make_target("emulator", endpoint, "us-east-1", None))
        with Registry() as registry:
            registry.create_cohort(cohort)
            say(f"created cohort {cohort.name}: {', '.join(s.student for s in cohort.students)} taking {LAB}")

            lab = get_lab(LAB)
            planned = plan_cohort(cohort, [lab.spec], TargetSettings.from_target(cohort.target), workers=1)
            by_type = ", ".join(f"{n} {t.rsplit(':', 1)[-1]}" for t, n in planned["totals"]["by_type"].items())
            say(f"planned {planned['totals']['resources']} resources under the mock runtime ({by_type})")

            policy_input = from_plan(planned, "demo plan")
            report = evaluate(policy_input.resources, monthly_usd=policy_input.monthly_usd)
            say(
                f"policy check: {report.summary.policies} policies over {report.summary.resources_checked} resources, "
                f"{report.summary.mandatory} mandatory and {report.summary.advisory} advisory violations"
            )

            engine = open_engine(say)
            if engine:
                provision(registry, cohort, engine, say)

            session = instructor_session(cohort.target)
            solutions = {s.name: s for s in solutions_for(lab.folder)}
            for student, name in zip(cohort.students, SOLUTIONS):
                if name is None:
                    say(f"{student.student} builds nothing")
                    continue
                apply(solutions[name], session, endpoint, student.prefix, student.student)
                say(f"{student.student} builds the {name} solution with boto3 in {student.prefix}-*")

            graded = grade_and_record(registry, cohort)
            say(f"graded {len(graded.results)} students; results committed to the registry")
            proof = tear_down(registry, cohort, engine, say) if engine else None
        return DemoResult(
            cohort.name, planned["totals"]["resources"], report.summary.mandatory, graded,
            time.perf_counter() - started, proof=proof,
        )
    finally:
        if owned:
            emulator.stop()
            say("stopped the emulator")
