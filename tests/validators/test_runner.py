"""The runner's robustness: broken checks, failing collectors, timeouts and on_result."""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from labctl.validators import collectors
from labctl.validators.checks import load
from labctl.validators.registry import CHECKS, Result
from labctl.validators.report import table_rows
from labctl.validators.runner import grade_cohort

from s3_states import deploy, make_cohort

pytestmark = pytest.mark.emulator


def test_exception_in_a_check_is_an_error_for_that_check_only(aws, moto_endpoint, s3, lab, monkeypatch):
    load()

    def boom(inv, params):
        raise RuntimeError("kaboom")

    monkeypatch.setitem(CHECKS, "s3.versioning", replace(CHECKS["s3.versioning"], fn=boom))
    deploy(s3, "cls-ada", "ada")
    (result,) = grade_cohort(make_cohort("cls", ["ada"]), [lab], aws, moto_endpoint).results
    by_id = {c.id: c for c in result.checks}
    assert by_id["versioning"].status == "error"
    assert by_id["versioning"].message == "check s3.versioning raised RuntimeError: kaboom"
    assert by_id["versioning"].awarded == 0 and by_id["versioning"].hint is None
    assert {c.id for c in result.checks if c.status != "passed"} == {"versioning"}
    assert (result.score, result.percent, result.passed) == (85, 85.0, True)


def test_a_check_that_hangs_times_out_as_an_error(aws, moto_endpoint, s3, lab, monkeypatch):
    """Shown failing with the check pool shut down with wait=True: 'returned only after the hung check did'."""
    load()
    release = threading.Event()
    finished = threading.Event()

    def hang(inv, params):
        release.wait(10)  # far past the check timeout, until the test lets it go
        finished.set()
        return Result.passed()

    monkeypatch.setitem(CHECKS, "s3.tag", replace(CHECKS["s3.tag"], fn=hang))
    deploy(s3, "cls-ada", "ada")
    try:
        report = grade_cohort(make_cohort("cls", ["ada"]), [lab], aws, moto_endpoint, check_timeout=0.2)
        still_running = not finished.is_set()
    finally:
        release.set()
    assert still_running, "grade_cohort returned only after the hung check did"
    tags = next(c for c in report.results[0].checks if c.id == "tags")
    assert (tags.status, tags.message) == ("error", "check s3.tag did not finish within 0.2 s")


def test_a_failing_collector_makes_its_checks_errors_not_a_crash(aws, moto_endpoint, lab, monkeypatch):
    def broken(request):
        raise ConnectionError("endpoint unreachable")

    monkeypatch.setitem(collectors.COLLECTORS, "s3", broken)
    report = grade_cohort(make_cohort("cls", ["ada", "bob"]), [lab], aws, moto_endpoint)
    for result in report.results:
        assert {c.status for c in (*result.checks, *result.guards)} == {"error"}
        assert result.checks[0].message == "collecting s3 failed: ConnectionError: endpoint unreachable"
        assert (result.score, result.passed) == (0, False)
        assert sum(g.deducted for g in result.guards) == 0
    assert table_rows(report)[0][4].startswith("bucket-exists (error)")


def test_a_collector_that_hangs_times_out_as_errors_of_its_checks(aws, moto_endpoint, lab, monkeypatch):
    release = threading.Event()
    finished = threading.Event()

    def hang(request):
        release.wait(10)  # far past the collector timeout, until the test lets it go
        finished.set()
        raise RuntimeError("released")

    monkeypatch.setitem(collectors.COLLECTORS, "s3", hang)
    try:
        report = grade_cohort(make_cohort("cls", ["ada", "bob"]), [lab], aws, moto_endpoint, collector_timeout=0.2)
        still_running = not finished.is_set()
    finally:
        release.set()
    assert still_running, "grade_cohort returned only after the collector did"
    for result in report.results:
        assert {(c.status, c.message) for c in (*result.checks, *result.guards)} == {
            ("error", "collector s3 timed out after 0.2 s")
        }
        assert (result.score, result.passed) == (0, False)


def test_on_result_is_called_once_per_student_on_the_calling_thread(aws, moto_endpoint, s3, lab):
    deploy(s3, "cls-s01", "s01")
    seen: list[tuple[str, str]] = []
    threads: set[int] = set()

    def on_result(result: dict) -> None:
        seen.append((result["student"], result["graded_at"]))
        threads.add(threading.get_ident())
        assert {"cohort", "lab", "score", "max_score", "percent", "passed"} <= set(result)

    slugs = [f"s{i:02d}" for i in range(1, 13)]
    report = grade_cohort(make_cohort("cls", slugs), [lab], aws, moto_endpoint, on_result=on_result, concurrency=4)
    assert sorted(s for s, _ in seen) == slugs
    assert {g for _, g in seen} == {report.graded_at}
    assert threads == {threading.get_ident()}
    assert [r.student for r in report.results] == slugs
    assert report.results[0].score == 100


def test_unknown_student_is_an_input_error(aws, moto_endpoint, lab):
    from labctl.labs.errors import InputError

    with pytest.raises(InputError, match="no student 'zed'"):
        grade_cohort(make_cohort("cls", ["ada"]), [lab], aws, moto_endpoint, students=["zed"])


def test_owner_prefers_the_longest_prefix():
    prefixes = ("c-ab", "c-ab-x", "c-abc")
    assert collectors.owner("c-ab-x-site", prefixes) == "c-ab-x"
    assert collectors.owner("c-ab-site", prefixes) == "c-ab"
    assert collectors.owner("c-abc-site", prefixes) == "c-abc"
    assert collectors.owner("c-abd-site", prefixes) is None


def test_on_result_rows_commit_to_the_registry(aws, moto_endpoint, s3, lab, tmp_path):
    from labctl.cohorts.registry import Registry

    cohort = make_cohort("cls", ["ada", "bob"], moto_endpoint)
    deploy(s3, "cls-ada", "ada")
    with Registry(tmp_path / "registry.db") as registry:
        registry.create_cohort(cohort)
        grade_cohort(cohort, [lab], aws, moto_endpoint, on_result=lambda r: registry.record_grade("run1", "cls", r))
        history = registry.grade_history("cls")
    assert {(h["student"], h["score"], h["passed"]) for h in history} == {("ada", 100, True), ("bob", 0, False)}
