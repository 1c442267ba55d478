"""Job and CronJob checks on one namespace's objects as the API server returns them. A Job completed when
its Complete condition is True; retries and run time are bounded by backoffLimit (6 when unset, as the
API server applies it) and activeDeadlineSeconds, the bounds themselves admitted; every container of
every Job and CronJob the student wrote sets requests and limits; a CronJob runs on the schedule asked
(however spaced), unsuspended, with the concurrency and history asked; and no CronJob fires more often
than the minimum interval, read from its minute field."""

from __future__ import annotations

from typing import Any

import pytest

from labctl.validators.checks.kubernetes import jobs
from labctl.validators.checks.kubernetes.objects import NamespaceParams
from tests.validators.k8s_objects import container, cron_job, deployment, from_api, job, job_spec, lab_may_ask, owned_by, pod, pod_spec

MIGRATE = jobs.JobParams(job="migrate")
UNBOUNDED = container("migrate", resources={})


def condition(kind: str, status: str = "True", **fields: str) -> dict[str, Any]:
    return {"type": kind, "status": status, "lastTransitionTime": "2026-11-20T13:00:09Z", **fields}


def migrate(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return job("migrate", job_spec(container("migrate"), **spec), status)


def report(schedule: str = "*/30 * * * *", template: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    return cron_job("report", schedule, template or job_spec(container("report")), **fields)


def test_a_job_with_a_true_complete_condition_succeeded():
    done = migrate({"succeeded": 1, "conditions": [condition("SuccessCriteriaMet"), condition("Complete")]})
    assert jobs.job_succeeded(from_api(done), MIGRATE).status == "passed"


def test_a_missing_job_fails_with_the_apply_hint():
    result = jobs.job_succeeded(from_api(report()), MIGRATE)
    assert (result.status, result.message) == ("failed", "job migrate does not exist in namespace c1-ada")
    assert result.hint == "kubectl -n c1-ada apply -f job.yaml"


def test_a_failed_job_gives_the_controllers_reason_and_the_logs_hint():
    failed = migrate(
        {"failed": 4, "conditions": [condition("Complete", "False"), condition("Failed", reason="BackoffLimitExceeded", message="Job has reached the specified backoff limit")]}
    )
    result = jobs.job_succeeded(from_api(failed), MIGRATE)
    assert (result.status, result.message) == (
        "failed",
        "job migrate failed (BackoffLimitExceeded: Job has reached the specified backoff limit)",
    )
    assert result.hint == "kubectl -n c1-ada logs job/migrate"


@pytest.mark.parametrize(
    ("spec", "status", "progress"),
    [
        ({"completions": 3}, {"active": 1, "succeeded": 2}, "2 of 3"),
        ({}, {"active": 1}, "0 of 1"),
        ({}, {"conditions": [condition("Complete", "False"), condition("Failed", "False")]}, "0 of 1"),
    ],
    ids=["some succeeded", "running", "conditions not true"],
)
def test_a_running_job_has_not_completed_yet(spec, status, progress):
    result = jobs.job_succeeded(from_api(migrate(status, **spec)), MIGRATE)
    assert (result.status, result.message) == ("failed", f"job migrate has not completed yet ({progress} pods succeeded)")


def limits(kind: str, max_backoff: int = 3, max_deadline: int = 600) -> jobs.JobLimitsParams:
    name = "migrate" if kind == "Job" else "report"
    return jobs.JobLimitsParams(kind=kind, name=name, max_backoff=max_backoff, max_deadline=max_deadline)


@pytest.mark.parametrize(("backoff", "deadline"), [(3, 600), (0, 1), (2, 300)])
def test_job_limits_at_or_under_the_bounds_pass(backoff, deadline):
    bounded = migrate({}, backoffLimit=backoff, activeDeadlineSeconds=deadline)
    assert jobs.job_limits(from_api(bounded), limits("Job")).status == "passed"


def test_no_retries_means_a_backoff_limit_of_zero_not_the_default():
    never_retries = migrate({}, backoffLimit=0, activeDeadlineSeconds=60)
    assert jobs.job_limits(from_api(never_retries), limits("Job", max_backoff=0)).status == "passed"


def test_job_limits_over_the_bounds_name_both():
    result = jobs.job_limits(from_api(migrate({}, backoffLimit=4, activeDeadlineSeconds=601)), limits("Job"))
    assert (result.status, result.message) == (
        "failed",
        "job migrate: backoffLimit is 4, at most 3 allowed; activeDeadlineSeconds is 601, at most 600 allowed",
    )


def test_an_unset_backoff_limit_is_the_api_servers_six_and_a_deadline_must_be_set():
    result = jobs.job_limits(from_api(migrate({})), limits("Job"))
    assert result.message == "job migrate: backoffLimit is 6, at most 3 allowed; activeDeadlineSeconds is not set"
    assert jobs.job_limits(from_api(migrate({}, activeDeadlineSeconds=60)), limits("Job", max_backoff=6)).status == "passed"


def test_a_cronjobs_limits_are_those_of_its_job_template():
    bounded = report(template=job_spec(container("report"), backoffLimit=2, activeDeadlineSeconds=300))
    assert jobs.job_limits(from_api(bounded), limits("CronJob", 2, 300)).status == "passed"
    loose = report(template=job_spec(container("report"), backoffLimit=5), activeDeadlineSeconds=300)
    result = jobs.job_limits(from_api(loose), limits("CronJob", 2, 300))
    assert result.message == "cronjob report: backoffLimit is 5, at most 2 allowed; activeDeadlineSeconds is not set"


def test_job_limits_look_only_at_the_kind_asked():
    bounded = migrate({}, backoffLimit=3, activeDeadlineSeconds=600)
    result = jobs.job_limits(from_api(bounded), jobs.JobLimitsParams(kind="CronJob", name="migrate", max_backoff=3, max_deadline=600))
    assert (result.status, result.message) == ("skipped", "cronjob migrate does not exist in namespace c1-ada")
    result = jobs.job_limits(from_api(report()), limits("Job"))
    assert (result.status, result.message) == ("skipped", "job migrate does not exist in namespace c1-ada")


def test_jobs_resources_skip_without_a_job_or_cronjob():
    result = jobs.jobs_resources(from_api(deployment("web", pod_spec(container("web", resources={})))), NamespaceParams())
    assert (result.status, result.message) == ("skipped", "no Job or CronJob in namespace c1-ada")


def test_jobs_resources_pass_when_every_container_is_bounded():
    unbounded = pod_spec(container("web", resources={}))
    objects = [migrate({}), report(), deployment("web", unbounded), pod("debug", unbounded)]
    assert jobs.jobs_resources(from_api(*objects), NamespaceParams()).status == "passed"


@pytest.mark.parametrize(
    "objects",
    [[migrate({})], [report()], [migrate({}), report()]],
    ids=["a job", "a cronjob", "both"],
)
def test_one_job_or_cronjob_alone_is_checked(objects):
    assert jobs.jobs_resources(from_api(*objects), NamespaceParams()).status == "passed"


def test_every_unbounded_container_of_jobs_and_cronjobs_is_named_init_containers_too():
    half = container("report", resources={"requests": {"cpu": "50m", "memory": "32Mi"}})
    objects = [
        job("migrate", job_spec(container("migrate"), init_containers=(container("wait", resources={}),))),
        report(template=job_spec(half)),
        job("report-29385930", job_spec(UNBOUNDED), **owned_by("CronJob", "report")),
    ]
    result = jobs.jobs_resources(from_api(*objects), NamespaceParams())
    assert (result.status, result.message) == (
        "failed",
        "cronjob report container report has no limits.cpu, limits.memory; "
        "job migrate container wait has no requests.cpu, requests.memory, limits.cpu, limits.memory",
    )
    assert result.hint == "resources: {requests: {cpu, memory}, limits: {cpu, memory}}"


SCHEDULE = jobs.CronScheduleParams(cronjob="report", schedule="*/30 * * * *")


@pytest.mark.parametrize("written", ["*/30 * * * *", "*/30  *  * * * ", " */30 * * * *"])
def test_the_schedule_matches_however_it_is_spaced(written):
    assert jobs.cronjob_schedule(from_api(report(written)), SCHEDULE).status == "passed"


def test_another_schedule_or_a_suspended_cronjob_fails():
    result = jobs.cronjob_schedule(from_api(report("*/15 * * * *", suspend=True)), SCHEDULE)
    assert (result.status, result.message) == (
        "failed",
        "cronjob report: schedule is '*/15 * * * *', expected '*/30 * * * *'; it is suspended",
    )
    assert jobs.cronjob_schedule(from_api(report(suspend=True)), SCHEDULE).message == "cronjob report: it is suspended"


def test_a_missing_cronjob_fails_with_the_create_command():
    result = jobs.cronjob_schedule(from_api(migrate({})), SCHEDULE)
    assert (result.status, result.message) == ("failed", "cronjob report does not exist in namespace c1-ada")
    assert result.hint.startswith('kubectl -n c1-ada create cronjob report --schedule="*/30 * * * *"')


POLICY = jobs.CronPolicyParams(cronjob="report", successful_history=2, failed_history=1)


def test_the_policy_asked_passes_and_forbid_is_the_default():
    assert POLICY.concurrency == "Forbid"
    kept = report(concurrencyPolicy="Forbid", successfulJobsHistoryLimit=2, failedJobsHistoryLimit=1)
    assert jobs.cronjob_policy(from_api(kept), POLICY).status == "passed"


def test_the_api_servers_defaults_are_what_applies_when_a_field_is_absent():
    defaults = report()
    for field in ("concurrencyPolicy", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        defaults["spec"].pop(field)
    result = jobs.cronjob_policy(from_api(defaults), POLICY)
    assert (result.status, result.message) == (
        "failed",
        "cronjob report: concurrencyPolicy is Allow, expected Forbid; successfulJobsHistoryLimit is 3, expected 2",
    )
    keeps_three = jobs.CronPolicyParams(cronjob="report", concurrency="Allow", successful_history=3, failed_history=1)
    assert jobs.cronjob_policy(from_api(defaults), keeps_three).status == "passed"


def test_keeping_no_history_is_zero_not_the_default():
    none_kept = report(concurrencyPolicy="Replace", successfulJobsHistoryLimit=0, failedJobsHistoryLimit=0)
    params = jobs.CronPolicyParams(cronjob="report", concurrency="Replace", successful_history=0, failed_history=0)
    assert jobs.cronjob_policy(from_api(none_kept), params).status == "passed"
    result = jobs.cronjob_policy(from_api(none_kept), POLICY)
    assert result.message == (
        "cronjob report: concurrencyPolicy is Replace, expected Forbid; successfulJobsHistoryLimit is 0, expected 2; "
        "failedJobsHistoryLimit is 0, expected 1"
    )


def test_the_policy_of_a_missing_cronjob_is_skipped():
    result = jobs.cronjob_policy(from_api(migrate({})), POLICY)
    assert (result.status, result.message) == ("skipped", "cronjob report does not exist in namespace c1-ada")


@pytest.mark.parametrize(
    ("schedule", "minutes"),
    [
        ("0 * * * *", 60),
        ("59 * * * *", 60),
        ("*/59 * * * *", 1),
        ("*/20 * * * *", 20),
        ("50/9 * * * *", 9),
        ("?/15 * * * *", 15),
        ("0-59/30 * * * *", 30),
        ("10-20 * * * *", 1),
        ("58-59,0 * * * *", 1),
        ("0,30 * * * *", 30),
        ("3,5 * * * *", 2),
        ("8,13 * * * *", 5),
        ("TZ=UTC */10 * * * *", 10),
        ("@daily", 60),
        ("@yearly", 60),
    ],
)
def test_the_shortest_interval_of_a_schedule(schedule, minutes):
    assert jobs.shortest_interval(schedule) == minutes


@pytest.mark.parametrize(
    "schedule",
    ["60 * * * *", "5-60 * * * *", "20-10 * * * *", "*/0 * * * *", "*/x * * * *", "a-5 * * * *", "5-b * * * *",
     "*/5 * * *", "*/5 * * * * *", "@every 5m", "@reboot", "@hourly 5", "MON * * * *", ""],
)
def test_a_schedule_that_cannot_be_read_has_no_interval(schedule):
    assert jobs.shortest_interval(schedule) is None


INTERVAL = jobs.CronIntervalParams(minutes=5)


def test_cronjobs_at_the_minimum_interval_or_unreadable_pass():
    objects = [report("*/5 * * * *"), cron_job("nightly", "@daily", job_spec(container("n"))), cron_job("odd", "@every 1m", job_spec(container("o")))]
    assert jobs.cronjob_min_interval(from_api(*objects), INTERVAL).status == "passed"
    assert jobs.cronjob_min_interval(from_api(), INTERVAL).status == "passed"


def test_cronjobs_firing_more_often_are_named_with_their_schedule_in_order():
    objects = [report("*/4 * * * *"), cron_job("beat", "* * * * *", job_spec(container("b")))]
    result = jobs.cronjob_min_interval(from_api(*objects), INTERVAL)
    assert (result.status, result.message) == (
        "failed",
        "cronjob beat (* * * * *) runs every 1 min; cronjob report (*/4 * * * *) runs every 4 min (at least 5 min apart)",
    )


def test_a_complete_condition_whose_status_is_not_true_is_not_completion():
    """The controller reports a condition's status as True, False or Unknown: only True is a fact."""
    for status in ("Unknown", "False"):
        unsure = migrate({"succeeded": 0, "conditions": [condition("Complete", status)]})
        assert jobs.job_succeeded(from_api(unsure), MIGRATE).status == "failed", status


@pytest.mark.parametrize("written", ["45 * * * *", "*/15 * * * *", "0 */2 * * *"])
def test_a_schedule_other_than_the_one_asked_fails_whichever_way_it_sorts(written):
    result = jobs.cronjob_schedule(from_api(report(written)), SCHEDULE)
    assert (result.status, result.message) == ("failed", f"cronjob report: schedule is {written!r}, expected '*/30 * * * *'")


@pytest.mark.parametrize(
    ("model", "fields", "admitted"),
    [
        (jobs.JobLimitsParams, {"kind": "Job", "name": "m", "max_backoff": 0, "max_deadline": 1}, True),
        (jobs.JobLimitsParams, {"kind": "Job", "name": "m", "max_backoff": -1, "max_deadline": 60}, False),
        (jobs.JobLimitsParams, {"kind": "Job", "name": "m", "max_backoff": 0, "max_deadline": 0}, False),
        (jobs.CronPolicyParams, {"cronjob": "r", "successful_history": -1, "failed_history": 0}, False),
        (jobs.CronPolicyParams, {"cronjob": "r", "successful_history": 0, "failed_history": -1}, False),
        (jobs.CronIntervalParams, {"minutes": 1}, True),
        (jobs.CronIntervalParams, {"minutes": 60}, True),
        (jobs.CronIntervalParams, {"minutes": 0}, False),
        (jobs.CronIntervalParams, {"minutes": 61}, False),
    ],
)
def test_the_bounds_a_lab_may_ask_for(model, fields, admitted):
    """A lab's `with:` is validated against these models: no retry at all and a one-second deadline are
    limits a lab may set, a negative count is not; an interval is 1 to 60 minutes (the minute field)."""
    assert lab_may_ask(model, fields) is admitted
