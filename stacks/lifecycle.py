"""A cohort's stacks, fanned out: `up`, `preview` and `destroy` over students with a bounded pool.

One student's failure never stops the others: it is recorded (with the error's first line) and the
run goes on. Only the main thread touches the registry; workers report through a queue. A cohort
lock in the registry refuses a second concurrent run. Ctrl-C cancels the stacks in flight, leaves
students not yet started `queued`, and still records everything that finished.
"""

from __future__ import annotations

import queue
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from labs.errors import InputError, LabctlError
from stacks.cohort import Cohort, Student
from stacks.engine import Engine, first_line, stack_name
from stacks.registry import Registry, now

OPERATIONS = ("up", "preview", "destroy")
DEFAULT_CONCURRENCY = 4


@dataclass
class StudentRun:
    student: str
    status: str = "queued"
    changes: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    duration_s: float | None = None

    @property
    def changed(self) -> int:
        return sum(n for op, n in self.changes.items() if op != "same")


@dataclass
class RunSummary:
    operation: str
    cohort: str
    runs: list[StudentRun]
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    cancelled: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.runs)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def line(self) -> str:
        parts = [f"{self.count('done')} done", f"{self.failed} failed"]
        if self.count("queued"):
            parts.append(f"{self.count('queued')} not started")
        if self.skipped:
            parts.append(f"{len(self.skipped)} already up (skipped)")
        head = "interrupted: " if self.interrupted else ""
        return f"{head}{self.operation} {self.cohort}: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return {
            "operation": self.operation, "cohort": self.cohort, "interrupted": self.interrupted,
            "skipped": self.skipped, "cancelled": self.cancelled,
            "students": [
                {"student": r.student, "status": r.status, "changes": r.changes, "duration_s": r.duration_s,
                 "error": r.error}
                for r in self.runs
            ],
        }


Progress = Callable[[StudentRun], None]


def choose_students(
    cohort: Cohort, operation: str, statuses: dict[str, dict], slugs: tuple[str, ...], rerun_all: bool
) -> tuple[list[Student], list[str]]:
    """(students to run, students skipped). A plain `up` reruns only students not already up."""
    if slugs:
        return [cohort.student(s) for s in dict.fromkeys(slugs)], []
    if operation != "up" or rerun_all:
        return list(cohort.students), []
    chosen, skipped = [], []
    for student in cohort.students:
        last = statuses.get(student.student)
        if last and last["operation"] == "up" and last["status"] == "done":
            skipped.append(student.student)
        else:
            chosen.append(student)
    return chosen, skipped


def run_cohort(
    reg: Registry,
    cohort: Cohort,
    operation: str,
    engine: Engine,
    students: tuple[str, ...] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    rerun_all: bool = False,
    progress: Progress | None = None,
) -> RunSummary:
    """Run `operation` on the chosen students' stacks, at most `concurrency` at a time."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if concurrency < 1:
        raise InputError("concurrency must be at least 1", "--concurrency")
    chosen, skipped = choose_students(cohort, operation, reg.stack_statuses(cohort.name), students, rerun_all)
    engine.check_ready(cohort)
    reg.acquire_cohort_lock(cohort.name, operation)
    try:
        return fan_out(reg, cohort, operation, engine, chosen, skipped, concurrency, progress)
    finally:
        reg.release_cohort_lock(cohort.name)


def fan_out(
    reg: Registry, cohort: Cohort, operation: str, engine: Engine, chosen: list[Student], skipped: list[str],
    concurrency: int, progress: Progress | None,
) -> RunSummary:
    # A preview changes nothing, so it leaves the recorded state of each stack alone.
    record = operation != "preview"
    runs = {s.student: StudentRun(s.student) for s in chosen}
    summary = RunSummary(operation, cohort.name, list(runs.values()), skipped)
    reports: queue.Queue[tuple[str, str, dict]] = queue.Queue()
    if record:
        for student in chosen:
            reg.set_stack_status(cohort.name, student.student, operation, "queued")

    def work(student: Student) -> None:
        started, clock = now(), time.monotonic()
        reports.put((student.student, "running", {"started_at": started}))
        try:
            result = engine.run(operation, cohort, student)
        except Exception as exc:  # noqa: BLE001 - one student's failure is recorded, never raised
            error = str(exc) if isinstance(exc, LabctlError) else f"{type(exc).__name__}: {first_line(exc)}"
            reports.put((student.student, "failed", {"started_at": started, "error": error,
                                                     "duration_s": time.monotonic() - clock}))
            return
        reports.put((student.student, "done", {"started_at": started, "changes": result.changes,
                                               "duration_s": time.monotonic() - clock}))

    def apply(report: tuple[str, str, dict]) -> None:
        slug, status, data = report
        run = runs[slug]
        run.status = status
        run.changes = data.get("changes", run.changes)
        run.duration_s = data.get("duration_s")
        run.error = first_line(data["error"]) if data.get("error") else None
        if record:
            reg.set_stack_status(cohort.name, slug, operation, status, started_at=data.get("started_at"),
                                 duration_s=run.duration_s, error=data.get("error"), changes=run.changes or None)
        if progress:
            progress(run)

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=f"labctl-{operation}")
    futures: list[Future] = [pool.submit(work, s) for s in chosen]
    try:
        while not all(f.done() for f in futures) or not reports.empty():
            try:
                apply(reports.get(timeout=0.1))
            except queue.Empty:
                continue
    except KeyboardInterrupt:
        summary.interrupted = True
        for future in futures:
            future.cancel()
        summary.cancelled = engine.cancel_running()
        pool.shutdown(wait=True)
        while not reports.empty():
            apply(reports.get())
    finally:
        pool.shutdown(wait=True)
    return summary


def status_rows(reg: Registry, cohort: Cohort) -> list[dict]:
    """Per student: stack, last operation and its outcome, and the last grade."""
    statuses = reg.stack_statuses(cohort.name)
    rows = []
    for student in cohort.students:
        last = statuses.get(student.student, {})
        grades = reg.grade_history(cohort.name, student.student)
        grade = grades[-1] if grades else None
        rows.append({
            "student": student.student,
            "stack": stack_name(cohort, student),
            "operation": last.get("operation"),
            "status": last.get("status", "never run"),
            "duration_s": round(last["duration_s"], 1) if last.get("duration_s") is not None else None,
            "changes": last.get("changes", {}),
            "error": last.get("error"),
            "updated_at": last.get("updated_at"),
            "last_grade": (
                {"lab": grade["lab"], "percent": grade["percent"], "passed": grade["passed"],
                 "graded_at": grade["graded_at"]} if grade else None
            ),
        })
    return rows
