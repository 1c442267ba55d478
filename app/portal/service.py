"""What the portal does, apart from HTTP: who a token belongs to, a student's own view and check,
an instructor's board and Grade all. Grading goes through `validators.grading.grade_and_record`
(the registry's grading lock, each result committed as it completes), like `labctl student check`.

A student's check is limited three ways: one at a time per student (a second while one runs is
refused here, and the registry's per-student grading lock covers other processes), at most one every
`min_interval` seconds per student, and a bounded pool server-wide (further checks queue for a worker).
Students' checks do not wait for each other or for a cohort's Grade all."""

from __future__ import annotations

import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

from labctl.app.portal.metrics import PortalMetrics
from labctl.app.portal.planned import PlanCache, plan_lab
from labctl.app.portal.tokens import digest, same
from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.registry import Registry
from labctl.labs.catalog import get_lab
from labctl.labs.errors import InputError
from labctl.stacks.handouts import Outputs, engine_outputs, env_text, personal
from labctl.stacks.leases import parse_instant, utc_now
from labctl.validators.grading import grade_and_record, next_labs
from labctl.validators.report import GradeReport, stored_report, student_json

MIN_CHECK_INTERVAL_S = 10.0
CHECK_WORKERS = 4


@dataclass(frozen=True)
class Identity:
    """Who signed in: the instructor (every cohort) or one student of one cohort."""

    role: str
    cohort: str | None = None
    student: str | None = None

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"


INSTRUCTOR = Identity("instructor")


class TooSoon(Exception):
    """A student's check refused by the per-student limits; `retry_after` in whole seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class CheckOutcome:
    """One student's check: their result on their lab, or the reason they could not be graded."""

    lab: str
    graded_at: str
    entry: dict[str, Any] | None
    error: str | None
    next_labs: list[tuple[str, str]]


@dataclass
class GradeAllJob:
    cohort: str
    total: int
    done: int = 0
    state: str = "running"
    error: str | None = None
    graded_at: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def advance(self) -> None:
        with self.lock:
            self.done += 1

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"cohort": self.cohort, "state": self.state, "done": self.done, "total": self.total,
                    "error": self.error, "graded_at": self.graded_at}


def latest(entries: list[dict]) -> dict[tuple[str, str], dict]:
    """(student, lab) → their newest stored result, from history ordered oldest first."""
    return {(e["student"], e["lab"]): e for e in entries}


def student_lab(registry: Registry, cohort: Cohort, student: str) -> str:
    """The lab a student works on: their stack's current lab, else the cohort's first."""
    return registry.current_lab(cohort.name, student) or cohort.labs[0]


def default_outputs(cohort: Cohort) -> Outputs:
    return engine_outputs(cohort)[0]


class Portal:
    def __init__(
        self,
        instructor_token: str,
        *,
        outputs_for: Callable[[Cohort], Outputs] = default_outputs,
        clock: Callable[[], float] = time.monotonic,
        min_interval: float = MIN_CHECK_INTERVAL_S,
        workers: int = CHECK_WORKERS,
        plan: Callable[[Cohort, str], dict[str, Any]] = plan_lab,
    ):
        self.instructor_digest = digest(instructor_token)
        self.outputs_for = outputs_for
        self.clock = clock
        self.min_interval = min_interval
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labctl-portal-check")
        self.metrics = PortalMetrics()
        self.plans = PlanCache(plan)
        self.guard = threading.Lock()
        self.running: set[tuple[str, str]] = set()
        self.last_check: dict[tuple[str, str], float] = {}
        self.jobs: dict[str, GradeAllJob] = {}

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.plans.close()

    def identify(self, token: str) -> Identity | None:
        hashed = digest(token)
        if same(hashed, self.instructor_digest):
            return INSTRUCTOR
        with Registry() as registry:
            found = registry.portal_student(hashed)
        return Identity("student", *found) if found else None

    # --- a student's own view ---------------------------------------------------------------

    def me(self, who: Identity) -> dict[str, Any]:
        with Registry() as registry:
            cohort = registry.cohort(who.cohort)
            lab = student_lab(registry, cohort, who.student)
        student = cohort.student(who.student)
        return {"cohort": cohort.name, "student": student.student, "lab": lab, "prefix": student.prefix,
                "endpoint": cohort.student_endpoint, "region": cohort.target.region}

    def own_cohort_student(self, who: Identity) -> tuple[Cohort, Student, str]:
        with Registry() as registry:
            cohort = registry.cohort(who.cohort)
            lab = student_lab(registry, cohort, who.student)
        return cohort, cohort.student(who.student), lab

    def environment(self, who: Identity) -> str:
        """The student's `export` lines, their credentials included: for their own page only."""
        cohort, student, lab = self.own_cohort_student(who)
        return env_text(cohort, student, self.outputs_for(cohort)(student), lab)

    def readme(self, who: Identity) -> tuple[str, str]:
        """(title, markdown) of the student's lab, placeholders filled in for them."""
        cohort, student, lab = self.own_cohort_student(who)
        found = get_lab(lab)
        return found.spec.title, personal(found.readme, cohort, student)

    def history(self, who: Identity) -> list[dict[str, Any]]:
        with Registry() as registry:
            entries = registry.grade_history(who.cohort, who.student)
        keys = ("graded_at", "lab", "score", "max_score", "percent", "passed", "error")
        return [{k: e.get(k) for k in keys} for e in entries]

    def check(self, who: Identity) -> CheckOutcome:
        """Grade the student now on their lab; TooSoon when the per-student limits refuse it."""
        key = (who.cohort, who.student)
        self.admit(key)
        started = time.perf_counter()
        try:
            outcome = self.pool.submit(self.grade_student, who).result()
        finally:
            with self.guard:
                self.running.discard(key)
        self.metrics.observe_check(who.cohort, outcome.lab, outcome, time.perf_counter() - started)
        return outcome

    def admit(self, key: tuple[str, str]) -> None:
        with self.guard:
            if key in self.running:
                raise TooSoon("a check of your work is already running; wait for its result", math.ceil(self.min_interval))
            last = self.last_check.get(key)
            now = self.clock()
            if last is not None and now - last < self.min_interval:
                wait = math.ceil(self.min_interval - (now - last))
                raise TooSoon(f"one check every {self.min_interval:g} s: try again in {wait} s", wait)
            self.running.add(key)
            self.last_check[key] = now

    def grade_student(self, who: Identity) -> CheckOutcome:
        with Registry() as registry:
            cohort = registry.cohort(who.cohort)
            lab = student_lab(registry, cohort, who.student)
            report = grade_and_record(registry, cohort, lab=lab, own_check=who.student, wait=True)
        if report.ungraded:
            return CheckOutcome(lab, report.graded_at, None, report.ungraded[0].reason, [])
        return CheckOutcome(lab, report.graded_at, student_json(report.results[0]), None,
                            next_labs(report).get(lab, []))

    # --- the instructor's view --------------------------------------------------------------

    def cohorts(self) -> list[dict[str, Any]]:
        with Registry() as registry:
            names = registry.cohort_names()
        return [self.summary(name) for name in names]

    def summary(self, name: str) -> dict[str, Any]:
        with Registry() as registry:
            cohort = registry.cohort(name)
            newest = latest(registry.grade_history(name))
            lease = registry.lease(name)
        graded = [e for e in newest.values() if not e.get("error")]
        passed = sum(bool(e["passed"]) for e in graded)
        pairs = len(cohort.students) * len(cohort.labs)
        return {
            "cohort": cohort.name, "labs": list(cohort.labs), "students": len(cohort.students),
            "passed": passed, "pass_rate": round(passed / pairs * 100, 1) if pairs else 0.0,
            "last_graded": max((e["graded_at"] for e in newest.values()), default=None), "lease_expires": lease,
            "lease_ended": lease is not None and parse_instant(lease, "lease") <= utc_now(),
        }

    def board(self, name: str) -> dict[str, Any]:
        """Students × checks of each lab, from each student's newest stored result, beside their
        planned stack's policy violations and monthly cost on that lab."""
        with Registry() as registry:
            cohort = registry.cohort(name)
            newest = latest(registry.grade_history(name))
        labs = []
        for lab_id in cohort.labs:
            checks = [c.id for c in get_lab(lab_id).spec.checks]
            planned = self.plans.get(cohort, lab_id)
            rows = []
            for student in cohort.students:
                entry = newest.get((student.student, lab_id))
                statuses = {c["id"]: c["status"] for c in entry.get("checks", [])} if entry else {}
                rows.append({"student": student.student, "name": student.name, "entry": entry,
                             "cells": [statuses.get(check, "not graded") for check in checks],
                             "planned": planned.students.get(student.student)})
            labs.append({"lab": lab_id, "checks": checks, "rows": rows, "planned": planned})
        return {**self.summary(name), "boards": labs, "job": self.job(name)}

    def stored(self, name: str) -> tuple[Cohort, GradeReport]:
        """The cohort and its last stored run that graded the whole roster (Grade all, `labctl
        grade`), rendered without regrading; students' own checks are runs of one and not the
        gradebook. InputError when there is none."""
        with Registry() as registry:
            cohort = registry.cohort(name)
            runs: dict[str, list[dict]] = {}
            for entry in registry.grade_history(cohort.name):
                runs.setdefault(entry["run_id"], []).append(entry)
        roster = {s.student for s in cohort.students}
        full = [entries for entries in runs.values() if {e["student"] for e in entries} >= roster]
        if not full:
            raise InputError(f"cohort {name!r} has no grading run of the whole roster yet (Grade all)", "--cohort")
        return cohort, stored_report(cohort.name, full[-1])

    def job(self, name: str) -> dict[str, Any] | None:
        job = self.jobs.get(name)
        return job.to_dict() if job else None

    def grade_all(self, name: str) -> dict[str, Any]:
        """Start grading the whole cohort in the background (or return the run already going)."""
        with Registry() as registry:
            cohort = registry.cohort(name)
        with self.guard:
            current = self.jobs.get(name)
            if current and current.state == "running":
                return current.to_dict()
            job = GradeAllJob(name, len(cohort.students) * len(cohort.labs))
            self.jobs[name] = job
        threading.Thread(target=self.run_job, args=(job,), name=f"labctl-grade-all-{name}", daemon=True).start()
        return job.to_dict()

    def run_job(self, job: GradeAllJob) -> None:
        try:
            with Registry() as registry:
                report = grade_and_record(registry, registry.cohort(job.cohort), progress=job.advance, wait=True)
        except Exception as exc:  # noqa: BLE001 - shown on the board, never lost in a thread
            with job.lock:
                job.state, job.error = "failed", f"{type(exc).__name__}: {exc}"
            return
        with job.lock:
            job.state, job.graded_at = "done", report.graded_at

    def passed_counts(self) -> dict[tuple[str, str], int]:
        """(cohort, lab) → students whose newest result on that lab passed."""
        counts: dict[tuple[str, str], int] = {}
        with Registry() as registry:
            for name in registry.cohort_names():
                for (_, lab), entry in latest(registry.grade_history(name)).items():
                    counts[(name, lab)] = counts.get((name, lab), 0) + bool(entry.get("passed"))
        return counts
