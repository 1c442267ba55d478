"""A cohort's stacks, fanned out: `up`, `preview` and `destroy` over students with a bounded pool.

One student's failure never stops the others: it is recorded (with the error's first line) and the
run goes on. Only the main thread touches the registry; workers report through a queue. A cohort
lock in the registry refuses a second concurrent run. Ctrl-C cancels the stacks in flight, leaves
students not yet started `queued`, and still records everything that finished.
"""

from __future__ import annotations

import fcntl
import queue
import time
from contextlib import contextmanager
from datetime import datetime
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from labctl.labs.errors import InputError, LabctlError
from labctl.cohorts.accounts import Account
from labctl.cohorts.cohort import Cohort, Student, Target
from labctl.cohorts.organization import OrganizationLayout
from labctl.stacks.engine import OPERATIONS, ORGANIZATION_STACK, Engine, cohort_lab, first_line, stack_name
from labctl.cohorts.home import home
from labctl.cohorts.registry import Registry, now

if TYPE_CHECKING:  # the components (and the provider SDKs) load only when a program is built
    from labctl.components.student_lab import AccountPlacement

DEFAULT_CONCURRENCY = 4


@dataclass
class StudentRun:
    student: str
    status: str = "queued"
    changes: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    duration_s: float | None = None
    steps: int = 0
    """Resources the engine has finished so far in this run (its live progress)."""
    lab: str | None = None
    moved_from: str | None = None
    """The lab the stack held before this `up` brought it to `lab` (None when it held `lab` or nothing)."""

    @property
    def changed(self) -> int:
        return sum(n for op, n in self.changes.items() if op != "same")

    @property
    def lab_note(self) -> str:
        """`lab`, or `old → new` when this run moves the stack to another lab."""
        if self.moved_from:
            return f"{self.moved_from} → {self.lab}"
        return self.lab or ""


@dataclass
class RunSummary:
    operation: str
    cohort: str
    runs: list[StudentRun]
    skipped: list[str] = field(default_factory=list)
    interrupted: bool = False
    cancelled: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What a run in isolation mode `account` did to the cohort's organization stack and accounts."""

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.runs)

    @property
    def failed(self) -> int:
        return self.count("failed")

    def line(self) -> str:
        parts = [f"{self.count('done')} done", f"{self.failed} failed"]
        if self.count("queued"):
            parts.append(f"{self.count('queued')} not started")
        moved = sum(r.moved_from is not None and r.status == "done" for r in self.runs)
        if moved:
            parts.append(f"{moved} moved to another lab")
        if self.skipped:
            parts.append(f"{len(self.skipped)} already up (skipped)")
        head = "interrupted: " if self.interrupted else ""
        return f"{head}{self.operation} {self.cohort}: " + ", ".join(parts)

    def to_dict(self) -> dict:
        return {
            "operation": self.operation, "cohort": self.cohort, "interrupted": self.interrupted,
            "skipped": self.skipped, "cancelled": self.cancelled, "notes": self.notes,
            "students": [
                {"student": r.student, "lab": r.lab, "moved_from": r.moved_from, "status": r.status,
                 "changes": r.changes, "duration_s": r.duration_s, "error": r.error}
                for r in self.runs
            ],
        }


Progress = Callable[[StudentRun], None]


def choose_students(
    cohort: Cohort, operation: str, statuses: dict[str, dict], slugs: tuple[str, ...], rerun_all: bool,
    lab: str | None = None,
) -> tuple[list[Student], list[str]]:
    """(students to run, students skipped). A plain `up` reruns only students not already up — with `lab`,
    up with that lab: a student whose stack holds another lab is moved to it."""
    if slugs:
        return [cohort.student(s) for s in dict.fromkeys(slugs)], []
    if operation != "up" or rerun_all:
        return list(cohort.students), []
    chosen, skipped = [], []
    for student in cohort.students:
        last = statuses.get(student.student)
        if last and last["operation"] == "up" and last["status"] == "done" and lab in (None, last["lab"]):
            skipped.append(student.student)
        else:
            chosen.append(student)
    return chosen, skipped


def target_labs(cohort: Cohort, operation: str, students: list[Student], current: dict[str, str],
                lab: str | None) -> dict[str, str | None]:
    """Student slug → the lab its stack gets: `lab`, else the student's current lab, else the cohort's only
    lab. A destroy deletes whatever lab the stack holds and keeps it as the student's current one (so
    `reset` rebuilds it). Refused in one line (exit 2) when an up of a several-lab cohort has no lab."""
    if lab is not None:
        lab = cohort_lab(cohort, lab)
    only = cohort.labs[0] if len(cohort.labs) == 1 else None
    if operation == "destroy":
        return {s.student: current.get(s.student, only) for s in students}
    targets = {s.student: lab or current.get(s.student, only) for s in students}
    missing = [slug for slug, target in targets.items() if target is None]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise InputError(
            f"cohort {cohort.name!r} takes {len(cohort.labs)} labs ({', '.join(cohort.labs)}) and no lab is current"
            f" yet for {shown}: choose the lab to provision, e.g. `labctl up --cohort {cohort.name} --lab"
            f" {cohort.labs[0]}`", "--lab",
        )
    return targets


def rebuild_lab(reg: Registry, cohort: Cohort, student: str) -> str:
    """The lab `reset` rebuilds for one student: their current lab (refused, exit 2, when there is none)."""
    chosen = [cohort.student(student)]
    lab = target_labs(cohort, "up", chosen, reg.current_labs(cohort.name), None)[student]
    assert lab is not None  # target_labs refuses an up without a lab
    return lab


def refuse_operator_account_mode(reg: Registry, cohort: Cohort) -> None:
    """`up --via operator` exports students' stacks only: a cohort in isolation mode `account` also needs
    its organization stack first and its accounts moved into the cohort's OU, which `labctl up` does."""
    from labctl.cohorts.accounts import cohort_pool

    if cohort_pool(reg, cohort.name) is not None:
        raise LabctlError(
            f"cohort {cohort.name!r} runs one account per student: `--via operator` does not export that mode;"
            f" provision it with `labctl up --cohort {cohort.name}`"
        )


@dataclass(frozen=True)
class CohortAccounts:
    """A cohort in isolation mode `account`: its target, where its accounts sit in the organization, and
    student slug → leased account."""

    target: Target
    layout: OrganizationLayout
    accounts: dict[str, Account]

    @property
    def account_ids(self) -> list[str]:
        return sorted(a.account_id for a in self.accounts.values())

    def placements(self) -> dict[str, AccountPlacement]:
        from labctl.components.student_lab import AccountPlacement

        return {slug: AccountPlacement(a.account_id, self.layout.management_account, a.email)
                for slug, a in self.accounts.items()}


def account_mode(reg: Registry, cohort: Cohort) -> CohortAccounts | None:
    """The cohort's accounts and organization layout (read from Organizations), or None in shared mode."""
    from labctl.cohorts.accounts import cohort_accounts, cohort_pool
    from labctl.cohorts.organization import organization_layout
    from labctl.cohorts.targets import resolve

    if cohort_pool(reg, cohort.name) is None:
        return None
    accounts = cohort_accounts(reg, cohort.name)
    target = resolve(cohort.target)
    layout = organization_layout(target, cohort.name, sorted(a.account_id for a in accounts.values()))
    return CohortAccounts(target, layout, accounts)


def run_in_accounts(reg: Registry, cohort: Cohort, operation: str, engine: Engine, org: CohortAccounts,
                    run_students: Callable[[dict[str, AccountPlacement]], RunSummary]) -> RunSummary:
    """Isolation mode `account`: `up` and `preview` run the cohort's organization stack first (its OU and
    SCPs; a failure stops the run before any student's stack), `up` then moves the leased accounts into
    the OU, and only then the students' stacks run, each in its own account. `destroy` runs the
    students' stacks first; once none of the cohort's stacks may be live, the accounts go back to the
    OU's parent and the organization stack is destroyed."""
    from labctl.cohorts.organization import move_accounts, return_accounts

    name = stack_name(cohort, ORGANIZATION_STACK)
    if operation == "destroy":
        summary = run_students(org.placements())
        if summary.failed or summary.interrupted or live_students(reg, cohort):
            return summary
        moved = return_accounts(org.target, cohort.name, org.account_ids)
        result = organization_run(engine, operation, cohort, org)
        summary.notes.append(f"organization stack {name}: destroy done ({result.changed} changed);"
                             f" {len(moved)} account(s) moved back to {org.layout.parent_id}")
        return summary
    result = organization_run(engine, operation, cohort, org)
    note = f"organization stack {name}: {operation} done ({result.changed} changed)"
    if operation == "up":
        moved = move_accounts(org.target, org.account_ids, result.outputs["ou_id"])
        note += f"; {len(moved)} account(s) moved into OU {result.outputs['ou_id']}"
    summary = run_students(org.placements())
    summary.notes.insert(0, note)
    return summary


@dataclass(frozen=True)
class OrganizationResult:
    changed: int
    outputs: dict


def organization_run(engine: Engine, operation: str, cohort: Cohort, org: CohortAccounts) -> OrganizationResult:
    """The organization stack's `operation`; its failure is one line naming the stack."""
    try:
        result = engine.run_organization(operation, cohort, org.layout, org.account_ids)
    except LabctlError as exc:
        after = "; the students' stacks were destroyed" if operation == "destroy" else "; no student's stack was run"
        raise LabctlError(f"organization stack {stack_name(cohort, ORGANIZATION_STACK)}: {exc}{after}") from None
    changed = sum(n for op, n in result.changes.items() if op != "same")
    return OrganizationResult(changed, result.outputs)


def run_cohort(
    reg: Registry,
    cohort: Cohort,
    operation: str,
    engine: Engine,
    students: tuple[str, ...] = (),
    concurrency: int = DEFAULT_CONCURRENCY,
    rerun_all: bool = False,
    progress: Progress | None = None,
    lab: str | None = None,
) -> RunSummary:
    """Run `operation` on the chosen students' stacks, at most `concurrency` at a time. `up` and `preview`
    build `lab` (default: each student's current lab, or the cohort's only one); see `target_labs`."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")
    if concurrency < 1:
        raise InputError("concurrency must be at least 1", "--concurrency")
    statuses = reg.stack_statuses(cohort.name)
    chosen, skipped = choose_students(cohort, operation, statuses, students, rerun_all, lab)
    current = {slug: last["lab"] for slug, last in statuses.items() if last["lab"]}
    labs = target_labs(cohort, operation, chosen, current, lab)
    engine.check_ready(cohort, [target for target in labs.values() if target])
    org = account_mode(reg, cohort)
    try:
        reg.acquire_cohort_lock(cohort.name, operation)
    except LabctlError as exc:
        raise LabctlError(f"{exc}; if that run crashed, `labctl unlock --cohort {cohort.name}`") from None
    try:
        if org is None:
            return fan_out(reg, cohort, operation, engine, chosen, skipped, concurrency, progress, labs, statuses)
        return run_in_accounts(reg, cohort, operation, engine, org, lambda placements: fan_out(
            reg, cohort, operation, engine, chosen, skipped, concurrency, progress, labs, statuses, placements))
    finally:
        reg.release_cohort_lock(cohort.name)


def fan_out(
    reg: Registry, cohort: Cohort, operation: str, engine: Engine, chosen: list[Student], skipped: list[str],
    concurrency: int, progress: Progress | None, labs: dict[str, str | None], statuses: dict[str, dict],
    accounts: dict[str, AccountPlacement] | None = None,
) -> RunSummary:
    """Run `operation` on each chosen student's stack (in their own account, with `accounts`)."""
    # A preview changes nothing, so it leaves the recorded state of each stack alone.
    record = operation != "preview"
    runs = {s.student: StudentRun(s.student, lab=labs[s.student], moved_from=moved_from(statuses.get(s.student),
                                                                                         labs[s.student]))
            for s in chosen}
    summary = RunSummary(operation, cohort.name, list(runs.values()), skipped)
    reports: queue.Queue[tuple[str, str, dict]] = queue.Queue()
    if record:
        for student in chosen:
            # Queuing an up makes its lab the student's current one: a rerun after a failure retries it.
            reg.set_stack_status(cohort.name, student.student, operation, "queued", lab=labs[student.student])
    if progress:
        for run in runs.values():
            progress(run)

    def work(student: Student) -> None:
        started, clock = now(), time.monotonic()
        reports.put((student.student, "running", {"started_at": started}))
        try:
            result = engine.run(operation, cohort, student, on_step=lambda: reports.put((student.student, "step", {})),
                                lab=labs[student.student], **placement(accounts, student))
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
        if status == "step":
            if run.status == "running":
                run.steps += 1
                if progress:
                    progress(run)
            return
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


def placement(accounts: dict[str, AccountPlacement] | None, student: Student) -> dict:
    """`engine.run`'s `account` for a student in isolation mode `account` (nothing in shared mode)."""
    return {} if accounts is None else {"account": accounts[student.student]}


def moved_from(last: dict | None, lab: str | None) -> str | None:
    """The other lab a student's stack still holds (its last operation was not a finished destroy), if any."""
    if not last or lab is None or last["lab"] in (None, lab):
        return None
    if last["operation"] == "destroy" and last["status"] == "done":
        return None
    return last["lab"]


def status_rows(reg: Registry, cohort: Cohort) -> list[dict]:
    """Per student: stack, current lab, last operation and its outcome, and the last grade; for a cohort
    exported to the Pulumi Kubernetes Operator also `cluster`, the state of the student's Stack object
    (None when the cluster has none; `{"error": …}` when the cluster could not be read)."""
    from labctl.stacks.operator import operator_statuses

    statuses = reg.stack_statuses(cohort.name)
    lease = reg.lease(cohort.name)
    operator = reg.operator(cohort.name)
    states, problem = operator_statuses(operator, cohort.name)
    rows = []
    for student in cohort.students:
        last = statuses.get(student.student, {})
        grades = reg.grade_history(cohort.name, student.student)
        grade = grades[-1] if grades else None
        rows.append({
            "student": student.student,
            "stack": stack_name(cohort, student),
            "lab": last.get("lab"),
            "operation": last.get("operation"),
            "status": last.get("status", "never run"),
            "duration_s": round(last["duration_s"], 1) if last.get("duration_s") is not None else None,
            "changes": last.get("changes", {}),
            "error": last.get("error"),
            "updated_at": last.get("updated_at"),
            "lease_expires": lease,
            "last_grade": (
                {"lab": grade["lab"], "percent": grade.get("percent"), "passed": grade.get("passed"),
                 "error": grade.get("error"), "graded_at": grade["graded_at"]} if grade else None
            ),
            **({"cluster": {"error": problem} if problem else states.get(student.student)} if operator else {}),
        })
    return rows


# --- unlock -------------------------------------------------------------------------------------


@dataclass
class UnlockResult:
    cohort: str
    cancelled: list[str] = field(default_factory=list)
    not_cancelled: dict[str, str] = field(default_factory=dict)
    released: dict | None = None
    """The cohort lock that was released: its operation, pid, host and since when."""
    interrupted: list[str] = field(default_factory=list)
    """Students recorded `running` by the crashed run, now recorded failed."""

    def lines(self) -> list[str]:
        lines = [f"cancelled {name}" for name in self.cancelled]
        lines += [f"{name}: nothing cancelled ({why})" for name, why in self.not_cancelled.items()]
        if self.released:
            r = self.released
            lines.append(f"released cohort lock of `{r['operation']}` (pid {r['pid']} on {r['host']}, since {r['acquired_at']})")
        if self.interrupted:
            lines.append(f"marked failed (interrupted): {', '.join(self.interrupted)}; `labctl up` retries them")
        return lines

    def line(self) -> str:
        lock = "lock released" if self.released else "no cohort lock held"
        return f"unlock {self.cohort}: {len(self.cancelled)} stack(s) cancelled, {lock}"


INTERRUPTED = "interrupted; cleared by `labctl unlock`"


def unlock(reg: Registry, cohort: Cohort, engine: Engine, students: tuple[str, ...] = ()) -> UnlockResult:
    """Clear what a crashed run left: cancel the stacks' engine locks, release the cohort lock, and
    record students it left `running` as failed. Refused while the lock's holder is alive here."""
    holder = reg.cohort_lock(cohort.name)
    # A shared registry (PostgreSQL) knows whether a holder on any machine is alive; SQLite only this host's.
    if holder and holder["alive"] and (holder["local"] or reg.shared):
        raise LabctlError(
            f"cohort {cohort.name!r} is held by a running `{holder['operation']}` (pid {holder['pid']});"
            " stop that process (Ctrl-C cancels its stacks) instead of unlocking"
        )
    statuses = reg.stack_statuses(cohort.name)
    if students:
        chosen = [cohort.student(s) for s in dict.fromkeys(students)]
    else:
        # Only students ever run can have a stack, and so a lock.
        chosen = [s for s in cohort.students if s.student in statuses]
    from labctl.cohorts.accounts import cohort_pool

    result = UnlockResult(cohort.name)
    stacks: list[Student | str] = list(chosen)
    if not students and cohort_pool(reg, cohort.name) is not None:
        stacks.append(ORGANIZATION_STACK)
    for student in stacks:
        reason = engine.cancel(cohort, student)
        if reason is None:
            result.cancelled.append(stack_name(cohort, student))
        else:
            result.not_cancelled[stack_name(cohort, student)] = reason
    for student in chosen:
        last = statuses.get(student.student)
        if last and last["status"] == "running":
            reg.set_stack_status(cohort.name, student.student, last["operation"], "failed",
                                 started_at=last["started_at"], error=INTERRUPTED)
            result.interrupted.append(student.student)
    if holder:
        reg.break_cohort_lock(cohort.name)
        result.released = {k: holder[k] for k in ("operation", "pid", "host", "acquired_at")}
    return result


# --- leases and reap ----------------------------------------------------------------------------


@dataclass
class ReapResult:
    """What `labctl reap` found due and did. `line()` is None when there was nothing to say (cron)."""

    dry_run: bool
    due: dict[str, list[str]] = field(default_factory=dict)
    summaries: list[RunSummary] = field(default_factory=list)
    busy: dict[str, str] = field(default_factory=dict)
    overlapped: bool = False

    @property
    def stacks(self) -> list[str]:
        return [f"{cohort}.{student}" for cohort, students in self.due.items() for student in students]

    @property
    def failed(self) -> list[str]:
        return [f"{s.cohort}.{r.student}" for s in self.summaries for r in s.runs if r.status != "done"]

    @property
    def interrupted(self) -> bool:
        return any(s.interrupted for s in self.summaries)

    def line(self) -> str | None:
        if self.overlapped:
            return "reap: another `labctl reap` is running; nothing done"
        if self.dry_run:
            if not self.due:
                return "reap (dry run): nothing due"
            return f"reap (dry run): would destroy {len(self.stacks)} stack(s): {', '.join(self.stacks)}"
        if not self.due:
            return None
        done = sum(s.count("done") for s in self.summaries)
        parts = [f"reap: destroyed {done} of {len(self.stacks)} expired stack(s) in {len(self.due)} cohort(s)"]
        if self.failed:
            parts.append(f"not destroyed: {', '.join(self.failed)}")
        if self.busy:
            parts.append("not run (retried next reap): " + "; ".join(f"{n}: {why}" for n, why in self.busy.items()))
        if self.interrupted:
            parts.append("interrupted")
        return "; ".join(parts)


def live_students(reg: Registry, cohort: Cohort) -> list[str]:
    """The students whose stack may still exist: ever run, last operation not a finished destroy."""
    statuses = reg.stack_statuses(cohort.name)
    return [
        s.student for s in cohort.students
        if s.student in statuses
        and not (statuses[s.student]["operation"] == "destroy" and statuses[s.student]["status"] == "done")
    ]


def due_for_reaping(reg: Registry, at: datetime) -> dict[str, list[str]]:
    """Expired cohort → its students whose stack may still exist."""
    due = {}
    for name, expires in reg.leases().items():
        if datetime.fromisoformat(expires) > at:
            continue
        students = live_students(reg, reg.cohort(name))
        if students:
            due[name] = students
    return due


def delete_cohort(reg: Registry, name: str, force: bool = False) -> str:
    """Remove a cohort and everything the registry holds for it, freeing its name and prefixes; the
    summary line. Refused while an operation runs, and while stacks may be live unless `force`
    (their resources would be left without an owner labctl knows), and while it holds pool accounts."""
    from labctl.cohorts.accounts import cohort_accounts

    cohort = reg.cohort(name)
    lock = reg.cohort_lock(name)
    if lock:
        raise LabctlError(f"cohort {name!r} is busy: {lock['operation']} is running (or crashed: labctl unlock --cohort {name})")
    held = [a.account_id for a in cohort_accounts(reg, name).values()]
    if held:  # even with --force: a deleted cohort's accounts could never be swept or released
        raise LabctlError(
            f"cohort {name!r} still holds {len(held)} pool account(s) ({', '.join(held[:5])}"
            f"{', …' if len(held) > 5 else ''}): labctl sweep --cohort {name}, then labctl accounts release --cohort {name}"
        )
    live = live_students(reg, cohort)
    if live and not force:
        shown = ", ".join(live[:5]) + (", …" if len(live) > 5 else "")
        raise LabctlError(
            f"cohort {name!r} has {len(live)} stack(s) that may be live ({shown}): run labctl destroy --cohort {name}"
            " first, or give --force if they are gone"
        )
    grades = reg.delete_cohort(name)
    return f"cohort {name} deleted: {len(cohort.students)} student(s), {grades} grade result(s)" + (
        f"; {len(live)} stack(s) recorded as possibly live were forgotten" if live else "")


@contextmanager
def reap_lock() -> Iterator[bool]:
    """One reap at a time on this home (cron may start the next before the last ends): True if held."""
    path = home() / "reap.lock"
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def reap(
    reg: Registry, at: datetime, engine_factory: Callable[[str], Engine], dry_run: bool = False,
    concurrency: int = DEFAULT_CONCURRENCY, progress: Progress | None = None,
) -> ReapResult:
    """Destroy the stacks of every cohort whose lease ended by `at`. Idempotent: destroyed stacks are
    not due again; a cohort busy with another run is left for the next reap. The engine is only
    opened (per cohort: each may keep its state in another backend) only when something is due, so a
    reap with nothing to do needs no Pulumi CLI."""
    result = ReapResult(dry_run)
    with reap_lock() as held:
        if not held:
            result.overlapped = True
            return result
        result.due = due_for_reaping(reg, at)
        if dry_run or not result.due:
            return result
        for name, students in result.due.items():
            engine = engine_factory(name)
            try:
                summary = run_cohort(reg, reg.cohort(name), "destroy", engine, tuple(students), concurrency,
                                     progress=progress)
            except LabctlError as exc:
                result.busy[name] = str(exc)
                continue
            result.summaries.append(summary)
            if summary.interrupted:
                break
    return result
