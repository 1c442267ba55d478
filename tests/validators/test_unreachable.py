"""An error is not a grade: when the target, cluster or database does not answer, nobody whose lab
reads it is graded; the report carries them as ungraded with the reason, and the registry stores
the reason with no score."""

from __future__ import annotations

from pathlib import Path

import boto3

from labctl.cohorts.cohort import Cohort, Services, Student, Target, prefix_for
from labctl.cohorts.registry import Registry
from labctl.labs.catalog import get_lab
from tests.conftest import free_port, registry_before
from labctl.validators.report import history_json, history_rows, student_text, table_rows, to_json, to_junit
from labctl.validators.runner import grade_cohort

COHORT = "cls"


def cohort_of(labs: tuple[str, ...], services: Services = Services(), endpoint: str | None = None) -> Cohort:
    students = tuple(Student(s, s, s.title(), "", prefix_for(COHORT, s)) for s in ("ada", "bob"))
    return Cohort(COHORT, labs, Target("localstack", endpoint, "us-east-1"), students, services)


def closed_endpoint() -> str:
    return f"http://127.0.0.1:{free_port()}"


def grade(cohort: Cohort, on_result=None):
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    labs = [get_lab(lab).spec for lab in cohort.labs]
    return grade_cohort(cohort, labs, session, cohort.target.endpoint, on_result=on_result)


def test_an_aws_target_that_does_not_answer_grades_nobody():
    endpoint = closed_endpoint()
    report = grade(cohort_of(("s3-static-website",), endpoint=endpoint))
    assert report.results == ()
    assert [(u.student, u.lab) for u in report.ungraded] == [("ada", "s3-static-website"), ("bob", "s3-static-website")]
    reason = report.ungraded[0].reason
    assert reason.startswith("the AWS target did not answer: ") and endpoint in reason
    assert report.could_not_grade() == [f"could not grade 2 students: {reason}"]
    assert table_rows(report) == []
    assert to_json(report)["ungraded"][1] == {"student": "bob", "prefix": "cls-bob", "lab": "s3-static-website",
                                             "error": reason}
    assert 'errors="2"' in to_junit(report).splitlines()[1]
    assert student_text(report, {}) .count(reason) == 2


def test_a_database_that_does_not_answer_grades_nobody_and_needs_no_aws():
    dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"
    report = grade(cohort_of(("sql-customer-ranking",), Services(postgres_dsn=dsn), endpoint=closed_endpoint()))
    assert report.results == ()
    (line,) = report.could_not_grade()
    assert line.startswith("could not grade 2 students: the PostgreSQL server did not answer: ")


def test_a_cluster_that_does_not_answer_grades_nobody(tmp_path: Path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        f"clusters: [{{name: lab, cluster: {{server: 'https://127.0.0.1:{free_port()}'}}}}]\n"
        "users: [{name: lab, user: {token: t}}]\n"
        "contexts: [{name: lab, context: {cluster: lab, user: lab}}]\n"
    )
    report = grade(cohort_of(("k8s-web-deployment",), Services(kubeconfig=str(kubeconfig), kube_context="lab")))
    assert report.results == ()
    (line,) = report.could_not_grade()
    assert line.startswith("could not grade 2 students: the Kubernetes API server did not answer: ")


def test_a_cohort_without_a_cluster_grades_nobody_and_names_the_flag():
    report = grade(cohort_of(("k8s-web-deployment",)))
    assert report.results == ()
    assert report.could_not_grade() == [
        "could not grade 2 students: cohort cls has no cluster (cohort create --kubeconfig PATH --context NAME)"
    ]


def test_only_the_labs_that_read_the_missing_service_go_ungraded(aws, moto_endpoint):
    report = grade(cohort_of(("s3-static-website", "k8s-web-deployment"), endpoint=moto_endpoint))
    assert [(r.student, r.lab) for r in report.results] == [("ada", "s3-static-website"), ("bob", "s3-static-website")]
    assert [(u.student, u.lab) for u in report.ungraded] == [("ada", "k8s-web-deployment"), ("bob", "k8s-web-deployment")]


def test_the_registry_stores_the_reason_once_and_no_score(tmp_path: Path):
    cohort = cohort_of(("s3-static-website",), endpoint=closed_endpoint())
    with Registry(tmp_path / "registry.db") as registry:
        registry.create_cohort(cohort)
        report = grade(cohort, on_result=lambda r: registry.record_grade("run1", COHORT, r))
        history = registry.grade_history(COHORT)
        stored = registry.db.execute("SELECT score, percent, passed, error FROM grades ORDER BY id").fetchall()
    reason = report.ungraded[0].reason
    assert [tuple(row) for row in stored] == [(None, None, None, reason)] * 2
    assert [row[4:] for row in history_rows(history)] == [("", "", "error", reason)] * 2
    assert history_json(COHORT, history)["runs"][0]["score"] is None


def test_grades_kept_by_an_older_registry_survive_the_migration(tmp_path: Path):
    path = tmp_path / "registry.db"
    old = registry_before(path, "grades_v2")
    old.execute("INSERT INTO cohorts (name, labs, target, region, created_at) VALUES ('cls', '[]', 'aws', 'r', 't')")
    old.execute("INSERT INTO grades (run_id, cohort, student, lab, graded_at, score, max_score, percent, passed, result)"
                " VALUES ('r1', 'cls', 'ada', 'lab', 't', 55, 100, 55.0, 0, '{\"score\": 55}')")
    old.commit()
    old.close()
    with Registry(path) as registry:
        assert registry.grade_history("cls") == [{"score": 55, "run_id": "r1"}]
        row = registry.db.execute("SELECT score, passed, error FROM grades").fetchone()
    assert tuple(row) == (55, 0, None)


def test_credentials_the_target_refuses_grade_nobody(moto_endpoint: str):
    """An IAM-enforcing emulator that does not know the grader's key: an infrastructure error."""
    from labctl.app import emulator
    from labctl.cohorts import emulator_client

    emulator.start(port=free_port(), enforce_iam=True)
    try:
        endpoint = emulator_client.status().endpoint
        cohort = cohort_of(("s3-static-website",), endpoint=endpoint)
        report = grade_cohort(cohort, [get_lab("s3-static-website").spec],
                              emulator_client.session("AKIAUNKNOWN000000000", "wrong"), endpoint)
    finally:
        emulator.stop()
    assert report.results == ()
    (line,) = report.could_not_grade()
    assert line.startswith("could not grade 2 students: the AWS target refused the grader's credentials: ")
