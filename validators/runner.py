"""Grade a cohort: collect each inventory kind once, then run every student's checks on it.

Collectors run once per cohort (DESIGN decision 4); checks are pure functions of a student's slice
of that snapshot. Nothing here raises because of what a student built: a collector failure or
timeout, an invalid rendered param, an exception or a timeout inside a check all become that
check's `error`. An error is not a grade: when a collector could not reach its service at all (the
target, cluster or database did not answer), the students whose lab reads it are not graded, and
the report carries them as `ungraded` with the reason.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Callable

import boto3
from pydantic import ValidationError

from labctl.labs.spec import CheckSpec, GuardSpec, LabSpec, render
from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.registry import now
from labctl.validators import checks as check_modules
from labctl.validators.collectors import COLLECTORS, CollectRequest, Snapshot
from labctl.validators.collectors.base import unreachable
from labctl.validators.registry import Check, Params, Result
from labctl.validators.report import CheckResult, GradeReport, GuardResult, StudentResult, Ungraded, student_json

CHECK_TIMEOUT_S = 10.0
COLLECTOR_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Planned:
    """One check or guard of one lab, rendered for one student."""

    spec: CheckSpec | GuardSpec
    check: Check | None
    params: Params | None
    problem: str | None
    """Why it cannot run (unknown check, invalid params); it is then an error."""
    title: str
    hint: str | None


def shown(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def plan(spec: CheckSpec | GuardSpec, registered: dict[str, Check], context: dict[str, str]) -> Planned:
    hint = render(spec.hint, context) if spec.hint else None
    title = render(spec.title, context) if getattr(spec, "title", None) else None
    check = registered.get(spec.use)
    if check is None:
        return Planned(spec, None, None, f"unknown check {spec.use!r}", title or spec.id, hint)
    try:
        params = check.params.model_validate(render(spec.with_, context))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "with"
        return Planned(spec, check, None, f"invalid params: {where}: {first['msg']}", title or check.title, hint)
    if title is None:
        title = render(check.title, {k: shown(v) for k, v in params.model_dump().items()})
    return Planned(spec, check, params, None, title, hint)


def run_check(
    item: Planned,
    snapshots: dict[str, Snapshot],
    failures: dict[str, str],
    student: Student,
    pool: ThreadPoolExecutor,
    timeout: float,
) -> Result:
    if item.problem or item.check is None or item.params is None:
        return Result.error(item.problem or "cannot run")
    kind = item.check.reads
    if kind in failures:
        return Result.error(failures[kind])
    inventory = snapshots[kind].for_prefix(student.prefix)
    future = pool.submit(item.check.fn, inventory, item.params)
    try:
        result = future.result(timeout=timeout)
    except FutureTimeout:
        future.cancel()
        return Result.error(f"check {item.check.name} did not finish within {timeout:g} s")
    except Exception as exc:  # noqa: BLE001 - a broken check is reported, never fatal
        return Result.error(f"check {item.check.name} raised {type(exc).__name__}: {exc}")
    if not isinstance(result, Result):
        return Result.error(f"check {item.check.name} returned {type(result).__name__}, not a Result")
    if result.status != "passed" and not result.message:
        return Result(result.status, f"{item.check.name} {result.status}", result.hint)
    return result


def score(lab: LabSpec, student: Student, checks: list[CheckResult], guards: list[GuardResult]) -> StudentResult:
    max_score = sum(c.points for c in checks)
    total = max(0, sum(c.awarded for c in checks) - sum(g.deducted for g in guards))
    percent = round(total / max_score * 100, 1) if max_score else 0.0
    return StudentResult(
        student=student.student,
        prefix=student.prefix,
        lab=lab.id,
        score=total,
        max_score=max_score,
        percent=percent,
        passed=percent >= lab.pass_percent,
        checks=tuple(checks),
        guards=tuple(guards),
    )


def grade_lab(
    student: Student,
    lab: LabSpec,
    items: list[Planned],
    snapshots: dict[str, Snapshot],
    failures: dict[str, str],
    pool: ThreadPoolExecutor,
    timeout: float,
) -> StudentResult:
    checks: list[CheckResult] = []
    guards: list[GuardResult] = []
    for item in items:
        result = run_check(item, snapshots, failures, student, pool, timeout)
        if isinstance(item.spec, CheckSpec):
            points = item.spec.points
            checks.append(
                CheckResult(
                    id=item.spec.id,
                    title=item.title,
                    status=result.status,
                    points=points,
                    awarded=points if result.status == "passed" else 0,
                    message=result.message,
                    hint=(item.hint or result.hint) if result.status in ("failed", "skipped") else None,
                )
            )
        else:
            applies = result.status == "failed"
            guards.append(
                GuardResult(
                    id=item.spec.id,
                    status=result.status,
                    penalty=item.spec.penalty,
                    deducted=item.spec.penalty if applies else 0,
                    message=result.message,
                    hint=(item.hint or result.hint) if applies else None,
                )
            )
    return score(lab, student, checks, guards)


def collect(
    cohort: Cohort,
    chosen: tuple[Student, ...],
    wanted: dict[str, dict[str, list[Params]]],
    session: boto3.Session | None,
    endpoint_url: str | None,
    concurrency: int,
    timeout: float = COLLECTOR_TIMEOUT_S,
) -> tuple[dict[str, Snapshot], dict[str, str], dict[str, str]]:
    """Run each needed collector once, all within `timeout` s; a failure or a timeout is recorded
    as the message every check of that kind reports, never raised.

    `wanted` maps an inventory kind to the params its checks asked for, by student prefix. Returns
    (snapshots, failures, down): `down` holds the failures that mean the service did not answer.
    """
    snapshots: dict[str, Snapshot] = {}
    failures: dict[str, str] = {}
    down: dict[str, str] = {}
    futures: dict[Future, str] = {}
    pool = ThreadPoolExecutor(max_workers=max(1, len(wanted)), thread_name_prefix="labctl-collect")
    try:
        for kind, by_prefix in wanted.items():
            collector = COLLECTORS.get(kind)
            if collector is None:
                failures[kind] = f"collecting {kind} failed: no collector for inventory kind {kind!r}"
                continue
            request = CollectRequest(
                cohort=cohort.name,
                prefixes=tuple(s.prefix for s in chosen),
                session=session,
                endpoint_url=endpoint_url,
                wanted=tuple(p for params in by_prefix.values() for p in params),
                concurrency=concurrency,
                postgres_dsn=cohort.services.postgres_dsn,
                kubeconfig=cohort.services.kubeconfig,
                kube_context=cohort.services.kube_context,
                wanted_by_prefix={prefix: tuple(params) for prefix, params in by_prefix.items()},
            )
            futures[pool.submit(collector, request)] = kind
        try:
            for future in as_completed(futures, timeout=timeout):
                kind = futures[future]
                try:
                    snapshots[kind] = future.result()
                except Exception as exc:  # noqa: BLE001 - reported on every check that reads it
                    failures[kind] = f"collecting {kind} failed: {type(exc).__name__}: {exc}"
                    if (reason := unreachable(exc)) is not None:
                        down[kind] = reason
        except FutureTimeout:
            for kind in futures.values():
                if kind not in snapshots and kind not in failures:
                    failures[kind] = f"collector {kind} timed out after {timeout:g} s"
    finally:
        # A collector that timed out may still be running: do not wait for it.
        pool.shutdown(wait=False, cancel_futures=True)
    return snapshots, failures, down


def grade_cohort(
    cohort: Cohort,
    labs: list[LabSpec],
    session: boto3.Session | None,
    endpoint_url: str | None,
    *,
    students: list[str] | None = None,
    on_result: Callable[[dict], None] | None = None,
    concurrency: int = 8,
    check_timeout: float = CHECK_TIMEOUT_S,
    collector_timeout: float = COLLECTOR_TIMEOUT_S,
) -> GradeReport:
    """Grade `students` (default: the whole roster) of `cohort` on `labs`.

    `on_result` gets each (student, lab) result as it completes, as `student_json` plus `cohort`
    and `graded_at` (the shape `Registry.record_grade` stores), or for an ungraded student
    student, prefix, lab, `error` (the reason), cohort and graded_at; it runs on the calling thread, so
    it may use a SQLite connection opened there. Unknown student slugs raise InputError.
    """
    registered = check_modules.load()
    chosen = tuple(cohort.student(s) for s in students) if students is not None else cohort.students
    graded_at = now()

    plans: list[tuple[Student, LabSpec, list[Planned]]] = []
    wanted: dict[str, dict[str, list[Params]]] = {}
    for student in chosen:
        context = {"prefix": student.prefix, "student": student.student, "cohort": cohort.name}
        for lab in labs:
            items = [plan(s, registered, {**context, "lab": lab.id}) for s in (*lab.checks, *lab.guards)]
            plans.append((student, lab, items))
            for item in items:
                if item.check is not None and item.params is not None:
                    wanted.setdefault(item.check.reads, {}).setdefault(student.prefix, []).append(item.params)

    snapshots, failures, down = collect(cohort, chosen, wanted, session, endpoint_url, concurrency, collector_timeout)

    ungraded: dict[int, Ungraded] = {}
    for i, (student, lab, items) in enumerate(plans):
        reason = next((down[item.check.reads] for item in items if item.check and item.check.reads in down), None)
        if reason is not None:
            ungraded[i] = Ungraded(student.student, student.prefix, lab.id, reason)
            if on_result is not None:
                on_result({"student": student.student, "prefix": student.prefix, "lab": lab.id, "error": reason,
                           "cohort": cohort.name, "graded_at": graded_at})

    results: dict[int, StudentResult] = {}
    workers = max(1, concurrency)
    check_pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labctl-check")
    try:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="labctl-grade") as pool:
            futures = {
                pool.submit(grade_lab, student, lab, items, snapshots, failures, check_pool, check_timeout): i
                for i, (student, lab, items) in enumerate(plans)
                if i not in ungraded
            }
            for future in as_completed(futures):
                result = future.result()
                results[futures[future]] = result
                if on_result is not None:
                    on_result({**student_json(result), "cohort": cohort.name, "graded_at": graded_at})
    finally:
        # A check that timed out may still be running: do not wait for it.
        check_pool.shutdown(wait=False, cancel_futures=True)

    return GradeReport(
        cohort=cohort.name,
        labs=tuple(lab.id for lab in labs),
        graded_at=graded_at,
        results=tuple(results[i] for i in range(len(plans)) if i in results),
        ungraded=tuple(ungraded[i] for i in sorted(ungraded)),
    )


def grade_accounts(
    cohort: Cohort,
    labs: list[LabSpec],
    session_for: Callable[[str], boto3.Session | None],
    *,
    students: list[str] | None = None,
    on_result: Callable[[dict], None] | None = None,
    **options: Any,
) -> GradeReport:
    """Grade a cohort in isolation mode `account`: each student in their own account, through the
    session `session_for(student)` gives (made once per student and reused for every collector of
    the run); a student without one (no account leased) is ungraded. Students go one after another,
    each student's collectors in parallel, as `grade_cohort` runs them."""
    chosen = [cohort.student(s) for s in students] if students is not None else list(cohort.students)
    reports = []
    for student in chosen:
        session = session_for(student.student)
        if session is None:
            reason = f"student {student.student} has no account leased"
            missing = tuple(Ungraded(student.student, student.prefix, lab.id, reason) for lab in labs)
            for item in missing:
                if on_result is not None:
                    on_result({"student": student.student, "prefix": student.prefix, "lab": item.lab,
                               "error": reason, "cohort": cohort.name, "graded_at": now()})
            reports.append(GradeReport(cohort.name, tuple(lab.id for lab in labs), now(), (), missing))
            continue
        reports.append(grade_cohort(cohort, labs, session, cohort.target.endpoint, students=[student.student],
                                    on_result=on_result, **options))
    return GradeReport(
        cohort=cohort.name,
        labs=tuple(lab.id for lab in labs),
        graded_at=reports[0].graded_at if reports else now(),
        results=tuple(r for report in reports for r in report.results),
        ungraded=tuple(u for report in reports for u in report.ungraded),
    )
