"""Job and CronJob checks: completion, retry and deadline limits, resources, schedules and their intervals."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import (
    READS,
    NamespaceParams,
    containers,
    dig,
    missing_resources,
    pod_specs,
)
from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result, check


class JobParams(Params):
    job: str


class CronJobParams(Params):
    cronjob: str


class JobLimitsParams(Params):
    kind: Literal["Job", "CronJob"]
    name: str
    max_backoff: int = Field(ge=0)
    max_deadline: int = Field(ge=1)


class CronScheduleParams(CronJobParams):
    schedule: str


class CronPolicyParams(CronJobParams):
    concurrency: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    successful_history: int = Field(ge=0)
    failed_history: int = Field(ge=0)


class CronIntervalParams(Params):
    minutes: int = Field(ge=1, le=60)


DEFAULT_BACKOFF_LIMIT = 6


@check("k8s.job-succeeded", title="Job {job} completed", reads=READS, params=JobParams)
def job_succeeded(inv: KubernetesInventory, p: JobParams) -> Result:
    job = inv.jobs.get(p.job)
    if job is None:
        return Result.failed(
            f"job {p.job} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} apply -f job.yaml",
        )
    conditions = {c.get("type"): c for c in dig(job, "status", "conditions") or [] if c.get("status") == "True"}
    if "Complete" in conditions:
        return Result.passed()
    failed = conditions.get("Failed")
    if failed:
        return Result.failed(
            f"job {p.job} failed ({failed.get('reason')}: {failed.get('message')})",
            hint=f"kubectl -n {inv.namespace} logs job/{p.job}",
        )
    wanted = dig(job, "spec", "completions") or 1
    done = dig(job, "status", "succeeded") or 0
    return Result.failed(f"job {p.job} has not completed yet ({done} of {wanted} pods succeeded)")


@check(
    "k8s.job-limits",
    title="{kind} {name} retries at most {max_backoff} times within {max_deadline} s",
    reads=READS,
    params=JobLimitsParams,
)
def job_limits(inv: KubernetesInventory, p: JobLimitsParams) -> Result:
    found = (inv.jobs if p.kind == "Job" else inv.cron_jobs).get(p.name)
    if found is None:
        return Result.skipped(f"{p.kind.lower()} {p.name} does not exist in namespace {inv.namespace}")
    spec = dig(found, "spec", "jobTemplate", "spec") if p.kind == "CronJob" else dig(found, "spec")
    spec = spec or {}
    problems = []
    backoff = spec.get("backoffLimit")
    backoff = DEFAULT_BACKOFF_LIMIT if backoff is None else backoff
    if backoff > p.max_backoff:
        problems.append(f"backoffLimit is {backoff}, at most {p.max_backoff} allowed")
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is None:
        problems.append("activeDeadlineSeconds is not set")
    elif deadline > p.max_deadline:
        problems.append(f"activeDeadlineSeconds is {deadline}, at most {p.max_deadline} allowed")
    if problems:
        return Result.failed(f"{p.kind.lower()} {p.name}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.jobs-resources",
    title="Every container of every Job and CronJob sets requests and limits",
    reads=READS,
    params=NamespaceParams,
)
def jobs_resources(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    specs = [(owner, spec) for owner, spec in pod_specs(inv) if owner.startswith(("job ", "cronjob "))]
    if not specs:
        return Result.skipped(f"no Job or CronJob in namespace {inv.namespace}")
    problems = []
    for owner, spec in specs:
        for container in containers(spec, init=True):
            missing = missing_resources(container)
            if missing:
                problems.append(f"{owner} container {container.get('name')} has no {', '.join(missing)}")
    if problems:
        return Result.failed("; ".join(problems), hint="resources: {requests: {cpu, memory}, limits: {cpu, memory}}")
    return Result.passed()


def cron_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    cron_job = inv.cron_jobs.get(name)
    if cron_job is None:
        return Result.skipped(f"cronjob {name} does not exist in namespace {inv.namespace}")
    return cron_job


@check(
    "k8s.cronjob-schedule", title="CronJob {cronjob} runs on {schedule}", reads=READS, params=CronScheduleParams
)
def cronjob_schedule(inv: KubernetesInventory, p: CronScheduleParams) -> Result:
    cron_job = inv.cron_jobs.get(p.cronjob)
    if cron_job is None:
        return Result.failed(
            f"cronjob {p.cronjob} does not exist in namespace {inv.namespace}",
            hint=f'kubectl -n {inv.namespace} create cronjob {p.cronjob} --schedule="{p.schedule}" --image=...',
        )
    schedule = " ".join(str(dig(cron_job, "spec", "schedule") or "").split())
    problems = []
    if schedule != " ".join(p.schedule.split()):
        problems.append(f"schedule is {schedule!r}, expected {p.schedule!r}")
    if dig(cron_job, "spec", "suspend"):
        problems.append("it is suspended")
    if problems:
        return Result.failed(f"cronjob {p.cronjob}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.cronjob-policy",
    title="CronJob {cronjob}: concurrency {concurrency}, keeps {successful_history} successful and "
    "{failed_history} failed jobs",
    reads=READS,
    params=CronPolicyParams,
)
def cronjob_policy(inv: KubernetesInventory, p: CronPolicyParams) -> Result:
    cron_job = cron_or_result(inv, p.cronjob)
    if isinstance(cron_job, Result):
        return cron_job
    spec = dig(cron_job, "spec") or {}
    # The API server fills in the defaults (Allow, 3, 1), so what it returns is what applies.
    actual = {
        "concurrencyPolicy": (spec.get("concurrencyPolicy") or "Allow", p.concurrency),
        "successfulJobsHistoryLimit": (spec.get("successfulJobsHistoryLimit", 3), p.successful_history),
        "failedJobsHistoryLimit": (spec.get("failedJobsHistoryLimit", 1), p.failed_history),
    }
    problems = [f"{field} is {got}, expected {want}" for field, (got, want) in actual.items() if got != want]
    if problems:
        return Result.failed(f"cronjob {p.cronjob}: " + "; ".join(problems))
    return Result.passed()


CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def cron_minutes(field: str) -> list[int] | None:
    """The minutes of the hour a cron minute field fires at; None when it cannot be read."""
    minutes: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            return None
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            first, last = 0, 59
        elif "-" in base:
            low, _, high = base.partition("-")
            if not (low.isdigit() and high.isdigit()):
                return None
            first, last = int(low), int(high)
        elif base.isdigit():
            first, last = int(base), (59 if step_text else int(base))
        else:
            return None
        if step < 1 or not 0 <= first <= last <= 59:
            return None
        minutes.update(range(first, last + 1, step))
    return sorted(minutes)


def shortest_interval(schedule: str) -> int | None:
    """The shortest gap in minutes between two runs, assuming every hour fires; None if unreadable."""
    fields = [f for f in schedule.split() if not f.startswith(("CRON_TZ=", "TZ="))]
    if len(fields) == 1 and fields[0] in CRON_MACROS:
        return 60
    if len(fields) != 5:
        return None
    minutes = cron_minutes(fields[0])
    if not minutes:
        return None
    gaps = [b - a for a, b in zip(minutes, minutes[1:])] + [minutes[0] + 60 - minutes[-1]]
    return min(gaps)


@check(
    "k8s.cronjob-min-interval",
    title="No CronJob runs more often than every {minutes} minutes",
    reads=READS,
    params=CronIntervalParams,
)
def cronjob_min_interval(inv: KubernetesInventory, p: CronIntervalParams) -> Result:
    problems = []
    for name, cron_job in sorted(inv.cron_jobs.items()):
        schedule = str(dig(cron_job, "spec", "schedule") or "")
        interval = shortest_interval(schedule)
        if interval is not None and interval < p.minutes:
            problems.append(f"cronjob {name} ({schedule}) runs every {interval} min")
    if problems:
        return Result.failed("; ".join(problems) + f" (at least {p.minutes} min apart)")
    return Result.passed()
