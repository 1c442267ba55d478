"""The per-student grading lock (a student's own check): one per student, apart from the cohort's."""

from __future__ import annotations

import pytest

from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.labs.errors import LabctlError


@pytest.fixture
def registry(registry_backend):
    students = parse_roster("id\nada\nbob\n", "c1", "r.csv")
    with Registry() as reg:
        reg.create_cohort(Cohort("c1", ("s3-static-website",), make_target("localstack", None, "us-east-1", None), students))
        yield reg


def test_a_students_lock_excludes_that_student_only(registry: Registry) -> None:
    registry.acquire_student_grading_lock("c1", "ada", "run-1")
    with pytest.raises(LabctlError, match="student 'ada' of cohort 'c1' is being graded since"):
        registry.acquire_student_grading_lock("c1", "ada", "run-2")
    registry.acquire_student_grading_lock("c1", "bob", "run-3")
    registry.acquire_grading_lock("c1", "run-4")  # a cohort run is not held up by students' checks
    registry.release_student_grading_lock("c1", "ada", "run-2")  # not the holder's run: nothing released
    with pytest.raises(LabctlError):
        registry.acquire_student_grading_lock("c1", "ada", "run-5")
    registry.release_student_grading_lock("c1", "ada", "run-1")
    registry.acquire_student_grading_lock("c1", "ada", "run-6")


def test_a_dead_holder_is_replaced(registry: Registry) -> None:
    registry.acquire_student_grading_lock("c1", "ada", "run-1")
    registry.db.execute("UPDATE student_grading_locks SET pid = 2147483646")
    registry.acquire_student_grading_lock("c1", "ada", "run-2")
    assert registry.db.execute("SELECT run_id FROM student_grading_locks").fetchall()[0][0] == "run-2"
