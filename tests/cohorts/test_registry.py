"""The registry: cohorts, students, grade history, migrations. Tests taking `registry_backend` run on
SQLite and on PostgreSQL (tests/conftest.py); the others are about SQLite's file."""

from __future__ import annotations

import sqlite3

import pytest

from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import MIGRATIONS, Registry
from tests.conftest import registry_before
from labctl.labs.errors import InputError, LabctlError


def cohort(name: str = "fall24") -> Cohort:
    students = parse_roster("id,name,email\nada,Ada,a@x.org\nbob,Bob,\n", name, "r.csv")
    return Cohort(name, ("s3-static-website",), make_target("emulator", "http://127.0.0.1:4599", "us-east-1", None),
                  students)


def test_cohort_round_trips(tmp_path, registry_backend):
    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(cohort())
        assert reg.cohort("fall24") == cohort()
        assert reg.cohort_names() == ["fall24"]


def test_duplicate_cohort_is_an_input_error(tmp_path, registry_backend):
    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(cohort())
        with pytest.raises(InputError, match="already exists"):
            reg.create_cohort(cohort())


def test_unknown_cohort_lists_known_ones(tmp_path, registry_backend):
    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(cohort())
        with pytest.raises(InputError, match=r"unknown cohort 'nope' \(known: fall24\)"):
            reg.cohort("nope")


def test_schema_is_versioned_and_reopening_is_idempotent(tmp_path):
    with Registry(tmp_path / "r.db") as first:
        first.create_cohort(cohort())
    with Registry(tmp_path / "r.db") as reg:
        assert reg.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert reg.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_reading_a_home_without_a_registry_writes_nothing(tmp_path):
    path = tmp_path / "home" / "registry.sqlite3"
    with Registry(path) as reg:
        assert reg.cohort_names() == []
        with pytest.raises(InputError, match="unknown cohort"):
            reg.cohort("nope")
    assert not path.parent.exists()
    with Registry(path) as reg:
        reg.create_cohort(cohort())
    assert oct(path.stat().st_mode & 0o777) == "0o600" and Registry(path).cohort_names() == ["fall24"]


def test_newer_schema_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "r.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(LabctlError, match="newer labctl"):
        Registry(tmp_path / "r.db")


def test_grades_are_kept_per_run(tmp_path, registry_backend):
    result = {"student": "ada", "lab": "s3-static-website", "graded_at": "2026-01-01T00:00:00+00:00",
              "score": 70, "max_score": 100, "percent": 70.0, "passed": False}
    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(cohort())
        reg.record_grade("run1", "fall24", result)
        reg.record_grade("run1", "fall24", result)  # a retry of the same run replaces, never duplicates
        reg.record_grade("run2", "fall24", {**result, "score": 100, "percent": 100.0, "passed": True,
                                             "graded_at": "2026-01-02T00:00:00+00:00"})
        history = reg.grade_history("fall24", "ada")
    assert [h["score"] for h in history] == [70, 100]


def test_cohorts_whose_prefixes_overlap_are_refused(tmp_path, registry_backend):
    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(cohort("c1"))
        with pytest.raises(InputError, match="would share resource prefixes"):
            reg.create_cohort(cohort("c1-x"))
        reg.create_cohort(cohort("c10"))
        assert reg.cohort_names() == ["c1", "c10"]


def test_services_budget_and_email_round_trip(tmp_path, registry_backend):
    from dataclasses import replace

    from labctl.cohorts.cohort import Services

    full = replace(cohort(), services=Services("postgresql://postgres@127.0.0.1/postgres", "/k/config", "kind"),
                   budget_usd=12.5, instructor_email="prof@example.edu")
    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(full)
        assert reg.cohort("fall24") == full


def test_migration_records_the_only_lab_as_current_and_later_statuses_keep_it(tmp_path):
    path = tmp_path / "r.db"
    old = registry_before(path, "ALTER TABLE stack_status ADD COLUMN lab")  # before students' current labs
    old.execute("INSERT INTO cohorts (name, labs, target, region, created_at) VALUES"
                " ('one', '[\"s3-static-website\"]', 'emulator', 'us-east-1', 'then'),"
                " ('two', '[\"s3-static-website\", \"dynamodb-orders\"]', 'emulator', 'us-east-1', 'then')")
    old.execute("INSERT INTO stack_status (cohort, student, operation, status, updated_at) VALUES"
                " ('one', 'ada', 'up', 'done', 'then'), ('two', 'ada', 'destroy', 'done', 'then')")
    old.commit()
    old.close()
    with Registry(path) as reg:
        assert reg.current_labs("one") == {"ada": "s3-static-website"} and reg.current_labs("two") == {}
        reg.set_stack_status("one", "ada", "destroy", "done")
        assert reg.current_lab("one", "ada") == "s3-static-website"
        reg.set_stack_status("one", "ada", "up", "queued", lab="dynamodb-orders")
        assert reg.stack_statuses("one")["ada"]["lab"] == "dynamodb-orders"


def test_history_lists_runs_in_order_and_each_run_in_roster_order(tmp_path, registry_backend):
    def result(student: str, lab: str) -> dict:
        return {"student": student, "lab": lab, "graded_at": "2026-01-01T00:00:00+00:00", "score": 1,
                "max_score": 100, "percent": 1.0, "passed": False}

    with Registry(tmp_path / "r.db") as reg:
        reg.create_cohort(cohort())
        # Results arrive in completion order; the same second for both runs.
        for run, student, lab in [("r1", "bob", "b-lab"), ("r1", "ada", "b-lab"), ("r1", "ada", "a-lab"),
                                  ("r2", "bob", "a-lab"), ("r2", "ada", "a-lab")]:
            reg.record_grade(run, "fall24", result(student, lab))
        history = [(h["student"], h["lab"]) for h in reg.grade_history("fall24")]
    assert history == [("ada", "a-lab"), ("ada", "b-lab"), ("bob", "b-lab"), ("ada", "a-lab"), ("bob", "a-lab")]
