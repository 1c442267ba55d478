"""Every lab of the catalog proven by its own solutions, graded by the real engine on a fresh target.

reference → 100 % and passed; each broken-* → below pass with exactly its declared checks failing
(checks not passed, guards that apply); no solution at all → 0. The targets are real: the moto
server over HTTP for `aws`, the machine's PostgreSQL for `sql` (a fresh database and login role per
case), and for `kubernetes` the collector's real client code over a fake of the cluster-wide list
calls (no cluster runs here).
"""

from __future__ import annotations

import functools
import uuid
from typing import Iterator

import pytest
from kubernetes import client as k8s

from labctl.cohorts.cohort import Cohort, Services, Student, Target, prefix_for
from labctl.components.lab_setup import AwsSetupProvider, script_digest
from labctl.labs.catalog import Lab, load_catalog
from labctl.labs.solutions import Solution, apply, apply_sql, kubernetes_objects, solutions_for
from tests.kube_fake import FakeLists
from labctl.validators.collectors import COLLECTORS
from labctl.validators.collectors.kubernetes import collect_kubernetes
from labctl.validators.report.model import StudentResult
from labctl.validators.runner import grade_cohort

CATALOG = load_catalog()
CASES = [(lab, solution) for lab in CATALOG for solution in (*solutions_for(lab.folder), None)]


def case_id(case) -> str:
    lab, solution = case
    return f"{lab.spec.id}/{solution.name if solution else 'empty'}"


def lab_kind(lab: Lab) -> str:
    reference = next(s for s in solutions_for(lab.folder) if s.name == "reference")
    return reference.kind


def one_student_cohort(lab: Lab, target: Target, services: Services = Services()) -> Cohort:
    name = "t" + uuid.uuid4().hex[:8]
    student = Student("ada", "ada", "Ada", "", prefix_for(name, "ada"))
    return Cohort(name, (lab.spec.id,), target, (student,), services)


def apply_setup(lab: Lab, session, endpoint_url: str, prefix: str, student: str) -> None:
    """Build the lab's starting state (`environment.aws.setup`) as `up` does: LabSetup's provider."""
    env = lab.spec.environment.aws
    if env is not None and env.setup:
        credentials = session.get_credentials()
        AwsSetupProvider().create(
            {
                "prefix": prefix,
                "student": student,
                "lab_folder": str(lab.folder),
                "script": env.setup,
                "sha256": script_digest(lab.folder, env.setup),
                "region": session.region_name,
                "endpoint_url": endpoint_url,
                "access_key_id": credentials.access_key,
                "secret_access_key": credentials.secret_key,
            }
        )


@pytest.fixture
def grade_aws(aws, moto_endpoint):
    def grade(lab: Lab, solution: Solution | None) -> StudentResult:
        cohort = one_student_cohort(lab, Target("localstack", moto_endpoint, "us-east-1"))
        student = cohort.students[0]
        apply_setup(lab, aws, moto_endpoint, student.prefix, student.student)
        if solution is not None:
            apply(solution, aws, moto_endpoint, student.prefix, student.student)
        return grade_cohort(cohort, [lab.spec], aws, moto_endpoint).results[0]

    return grade


@pytest.fixture
def grade_sql(postgres_dsn) -> Iterator:
    import psycopg
    from psycopg.conninfo import make_conninfo

    created: list[tuple[str, list[str]]] = []

    def grade(lab: Lab, solution: Solution | None) -> StudentResult:
        cohort = one_student_cohort(lab, Target("emulator", "http://127.0.0.1:4566", "us-east-1"), Services(postgres_dsn))
        database = cohort.students[0].database
        env = lab.spec.environment.database
        extra_roles = [f"{database}_{role}" for role in (env.roles if env else [])]
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute(f'CREATE ROLE "{database}" LOGIN')
            for role in extra_roles:
                admin.execute(f'CREATE ROLE "{role}" NOLOGIN NOINHERIT')
            admin.execute(f'CREATE DATABASE "{database}" OWNER "{database}"')
        created.append((database, extra_roles))
        as_student = make_conninfo(postgres_dsn, dbname=database, user=database)
        seed = env.seed if env else None
        if seed:
            with psycopg.connect(as_student) as conn:
                conn.execute((lab.folder / seed).read_text(encoding="utf-8").encode())
        if solution is not None:
            apply_sql(solution, as_student)
        return grade_cohort(cohort, [lab.spec], None, None).results[0]

    yield grade
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        for database, extra_roles in created:
            admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            for role in (database, *extra_roles):
                admin.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def grade_kubernetes(monkeypatch):
    def grade(lab: Lab, solution: Solution | None) -> StudentResult:
        cohort = one_student_cohort(lab, Target("emulator", "http://127.0.0.1:4566", "us-east-1"))
        objects = kubernetes_objects(solution, cohort.students[0].prefix) if solution else []
        api = k8s.ApiClient()
        FakeLists(api, objects).install(monkeypatch)
        monkeypatch.setitem(COLLECTORS, "kubernetes", functools.partial(collect_kubernetes, api_client=api))
        return grade_cohort(cohort, [lab.spec], None, None).results[0]

    return grade


def failing(result: StudentResult) -> set[str]:
    return {c.id for c in result.checks if c.status != "passed"} | {g.id for g in result.guards if g.status == "failed"}


@pytest.mark.parametrize("lab, solution", CASES, ids=[case_id(c) for c in CASES])
def test_solution_grades_as_declared(request, lab: Lab, solution: Solution | None):
    result: StudentResult = request.getfixturevalue(f"grade_{lab_kind(lab)}")(lab, solution)
    errors = [(c.id, c.message) for c in (*result.checks, *result.guards) if c.status == "error"]
    assert errors == [], "a solution must never make a check error"
    if solution is None:
        assert result.score == 0 and not result.passed
    elif solution.name == "reference":
        assert (result.percent, result.passed) == (100.0, True), failing(result)
    else:
        assert not result.passed, f"{solution.name} scored {result.percent} %"
        assert failing(result) == set(solution.fails)


def test_every_lab_ships_a_reference_and_two_broken_variants():
    for lab in CATALOG:
        names = [s.name for s in solutions_for(lab.folder)]
        assert "reference" in names, lab.spec.id
        assert sum(n.startswith("broken-") for n in names) >= 2, lab.spec.id
