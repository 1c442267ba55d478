"""Grade real student states on the moto server against labs/s3-static-website (its tables are the spec)."""

from __future__ import annotations

import json

import boto3
import pytest

from labctl.validators.report import StudentResult, to_json
from labctl.validators.runner import grade_cohort

from s3_states import LAB, deploy, make_cohort, public_policy

pytestmark = pytest.mark.emulator

CHECK_IDS = ("bucket-exists", "website-config", "index-content", "public-read", "versioning", "tags")


def statuses(result: StudentResult) -> dict[str, str]:
    return {c.id: c.status for c in result.checks} | {g.id: g.status for g in result.guards}


def expect(**overrides: str) -> dict[str, str]:
    """All checks passed and the guard passed, except `overrides` (underscores for dashes)."""
    base = dict.fromkeys(CHECK_IDS, "passed") | {"no-public-write": "passed"}
    return base | {k.replace("_", "-"): v for k, v in overrides.items()}


@pytest.fixture
def graded(aws: boto3.Session, moto_endpoint: str, s3, lab):
    """A cohort of typical students, graded once."""
    cohort = make_cohort("cls", ["ada", "bob", "cy", "dan", "eve", "fay"], moto_endpoint)
    deploy(s3, "cls-ada", "ada")
    deploy(s3, "cls-cy", "cy", ["bucket", "versioning", "tags"])
    deploy(s3, "cls-dan", "dan", policy=public_policy("cls-dan-site", "s3:*"))
    deploy(s3, "cls-eve", "eve", content_type="text/plain")
    deploy(s3, "oth-fay", "fay")  # fay's complete solution, but in another cohort's namespace
    deploy(s3, "cls-ghost", "ghost")  # a bucket of nobody on the roster
    report = grade_cohort(cohort, [lab], aws, moto_endpoint)
    return {r.student: r for r in report.results}, report


def test_complete_solution_scores_100(graded) -> None:
    ada = graded[0]["ada"]
    assert statuses(ada) == expect()
    assert (ada.score, ada.max_score, ada.percent, ada.passed) == (100, 100, 100.0, True)
    assert all(c.hint is None for c in ada.checks)


def test_empty_student_fails_bucket_exists_and_skips_the_rest(graded) -> None:
    bob = graded[0]["bob"]
    skipped = dict.fromkeys(CHECK_IDS[1:], "skipped")
    assert statuses(bob) == {"bucket-exists": "failed", **skipped, "no-public-write": "skipped"}
    assert (bob.score, bob.percent, bob.passed) == (0, 0.0, False)
    exists = bob.checks[0]
    assert exists.message == "bucket cls-bob-site does not exist"
    assert exists.hint == "aws s3api create-bucket --bucket cls-bob-site"
    assert bob.checks[1].message == "bucket cls-bob-site does not exist"
    assert bob.guards[0].deducted == 0


def test_partial_student(graded) -> None:
    cy = graded[0]["cy"]
    assert statuses(cy) == expect(website_config="failed", index_content="failed", public_read="failed")
    assert (cy.score, cy.percent, cy.passed) == (40, 40.0, False)
    messages = {c.id: c.message for c in cy.checks}
    assert messages["website-config"] == "static website hosting is not enabled on cls-cy-site"
    assert messages["index-content"] == "object index.html does not exist in cls-cy-site"
    assert messages["public-read"] == "bucket cls-cy-site has no bucket policy"


def test_s3_star_for_everyone_passes_public_read_but_the_guard_deducts_30(graded) -> None:
    dan = graded[0]["dan"]
    assert statuses(dan) == expect(no_public_write="failed")
    guard = dan.guards[0]
    assert (guard.penalty, guard.deducted) == (30, 30)
    assert "s3:*" in guard.message
    assert (dan.score, dan.percent, dan.passed) == (70, 70.0, False)


def test_wrong_content_type(graded) -> None:
    eve = graded[0]["eve"]
    assert statuses(eve) == expect(index_content="failed")
    check = next(c for c in eve.checks if c.id == "index-content")
    assert check.message == "index.html has Content-Type text/plain, expected text/html"
    assert check.hint == "upload index.html with --content-type text/html"
    assert (eve.score, eve.percent, eve.passed) == (80, 80.0, True)


def test_buckets_outside_the_students_prefix_do_not_count(graded) -> None:
    results, report = graded
    assert statuses(results["fay"])["bucket-exists"] == "failed"
    assert results["fay"].score == 0
    assert [r.student for r in report.results] == ["ada", "bob", "cy", "dan", "eve", "fay"]


def test_every_shortfall_has_a_message(graded) -> None:
    for result in graded[0].values():
        for item in (*result.checks, *result.guards):
            assert item.status == "passed" or item.message, (result.student, item.id)


def test_json_report_shape(graded) -> None:
    report = graded[1]
    data = json.loads(json.dumps(to_json(report)))
    assert list(data) == ["schema", "cohort", "lab", "graded_at", "students", "ungraded", "could_not_grade"]
    assert (data["ungraded"], data["could_not_grade"]) == ([], [])
    assert (data["schema"], data["cohort"], data["lab"]) == (1, "cls", LAB)
    assert data["graded_at"].endswith("+00:00")
    ada = data["students"][0]
    assert list(ada) == ["student", "prefix", "lab", "score", "max_score", "percent", "passed", "checks", "guards"]
    assert list(ada["checks"][0]) == ["id", "title", "status", "points", "awarded", "message", "hint"]
    assert list(ada["guards"][0]) == ["id", "status", "penalty", "deducted", "message"]
    assert ada["checks"][0]["title"] == "Bucket cls-ada-site exists"
    assert ada["guards"][0] == {
        "id": "no-public-write", "status": "passed", "penalty": 30, "deducted": 0, "message": ""
    }


@pytest.mark.parametrize(
    ("kwargs", "after", "expected"),
    [
        ({"body": "<h1>Hello from someone else</h1>"}, None, expect(index_content="failed")),
        ({"content_type": "text/html; charset=utf-8"}, None, expect()),
        (
            {"policy": {"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"},
                                      "Action": ["s3:GetObject", "s3:PutObject"],
                                      "Resource": ["arn:aws:s3:::cls-ada-site/*"]}}},
            None,
            expect(no_public_write="failed"),
        ),
        (
            {"policy": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:Get*",
                                       "Resource": "arn:aws:s3:::cls-ada-site/index.html"}]}},
            None,
            expect(public_read="failed", no_public_write="failed"),
        ),
        (
            {"policy": {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                       "Action": "s3:*", "Resource": "arn:aws:s3:::cls-ada-site/*"}]}},
            None,
            expect(public_read="failed"),
        ),
        ({}, "suspend", expect(versioning="failed")),
        ({}, "retag", expect(tags="failed")),
        ({}, "block", expect(public_read="failed")),
        ({}, "redirect", expect(website_config="failed")),
    ],
    ids=["wrong-body", "charset", "aws-star-put", "get-star-one-key", "not-public",
         "suspended", "wrong-tag", "public-access-block", "redirect-all"],
)
def test_variants(aws, moto_endpoint, s3, lab, kwargs, after, expected) -> None:
    deploy(s3, "cls-ada", "ada", **kwargs)
    bucket = "cls-ada-site"
    if after == "suspend":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    elif after == "retag":
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "lab", "Value": "other"}]})
    elif after == "block":
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True,
                "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
            },
        )
    elif after == "redirect":
        s3.put_bucket_website(
            Bucket=bucket, WebsiteConfiguration={"RedirectAllRequestsTo": {"HostName": "example.com"}}
        )
    report = grade_cohort(make_cohort("cls", ["ada"]), [lab], aws, moto_endpoint)
    (result,) = report.results
    assert statuses(result) == expected
    assert all(c.message for c in result.checks if c.status != "passed")


def test_object_over_one_mib_is_not_read(aws, moto_endpoint, s3, lab) -> None:
    deploy(s3, "cls-ada", "ada", body="Hello from ada " + "x" * (1024 * 1024))
    (result,) = grade_cohort(make_cohort("cls", ["ada"]), [lab], aws, moto_endpoint).results
    check = next(c for c in result.checks if c.id == "index-content")
    assert check.status == "failed"
    assert "larger than 1 MiB" in check.message


def test_grading_one_student_collects_only_theirs(aws, moto_endpoint, s3, lab) -> None:
    deploy(s3, "cls-ada", "ada")
    deploy(s3, "cls-bob", "bob")
    calls: list[str] = []
    aws.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    cohort = make_cohort("cls", ["ada", "bob"])
    report = grade_cohort(cohort, [lab], aws, moto_endpoint, students=["bob"])
    assert [r.student for r in report.results] == ["bob"]
    assert report.results[0].score == 100
    assert calls.count("ListBuckets") == 1
    assert calls.count("GetBucketWebsite") == 1


def test_table_rows(graded) -> None:
    from labctl.validators.report import table_rows

    rows = {row[0]: row for row in table_rows(graded[1])}
    assert rows["ada"] == ("ada", "100/100", "100.0%", "yes", "")
    assert rows["dan"] == ("dan", "70/100", "70.0%", "no", "no-public-write (-30)")
    assert rows["cy"][4] == "website-config, index-content, public-read"
