"""The portal's HTTP API and pages over a real cohort graded on the moto server: the authorization
matrix, CSRF, the rate limit, token rotation, and where secrets may (and may not) appear."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labctl.app.portal.service import TooSoon
from labctl.app.portal.tokens import digest
from labctl.app.portal.web import markdown
from labctl.cohorts.home import registry_path
from tests.app.portal_fixtures import (COHORT, INSTRUCTOR_TOKEN, LAB, STUDENTS, bearer, make_world, run, secret_of,
                                       wait_for_job)

pytestmark = pytest.mark.emulator

STUDENT_ROUTES = [("GET", "/api/v1/me"), ("POST", "/api/v1/check"), ("GET", "/api/v1/me/history"), ("GET", "/"),
                  ("POST", "/check")]
INSTRUCTOR_ROUTES = [("GET", "/api/v1/cohorts"), ("GET", f"/api/v1/cohorts/{COHORT}/grades"),
                     ("POST", f"/api/v1/cohorts/{COHORT}/grade"), ("GET", f"/api/v1/cohorts/{COHORT}/grading"),
                     ("GET", f"/api/v1/cohorts/{COHORT}/grading/events"),
                     ("GET", f"/cohorts/{COHORT}"), ("POST", f"/cohorts/{COHORT}/grade"),
                     ("GET", f"/cohorts/{COHORT}/export/csv")]


@pytest.fixture
def world(aws, moto_endpoint: str, tmp_path: Path):
    built = make_world(aws, moto_endpoint, tmp_path)
    yield built
    built.portal.close()


@pytest.fixture
def client(world) -> TestClient:
    return TestClient(world.app)


def signed_in(world, token: str) -> tuple[TestClient, str]:
    """A browser signed in with `token`, and its session's CSRF token (from a page's form)."""
    browser = TestClient(world.app)
    assert browser.get(f"/signin?token={token}").status_code == 200
    home = browser.get("/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)
    return browser, csrf


def test_every_route_refuses_no_token_and_unknown_tokens(client: TestClient) -> None:
    for method, path in STUDENT_ROUTES + INSTRUCTOR_ROUTES:
        assert client.request(method, path).status_code == 401, path
        assert client.request(method, path, headers=bearer("not-a-token")).status_code == 401, path
        assert client.request(method, path, headers={"Authorization": "Basic abc"}).status_code == 401, path


def test_student_tokens_on_instructor_routes_are_403_and_the_reverse(world, client: TestClient) -> None:
    for method, path in INSTRUCTOR_ROUTES:
        assert client.request(method, path, headers=bearer(world.tokens["ada"])).status_code == 403, path
    for method, path in STUDENT_ROUTES:
        if path == "/":
            continue  # the instructor's home is the cohort list
        assert client.request(method, path, headers=bearer(INSTRUCTOR_TOKEN)).status_code == 403, path
    assert world.portal.jobs == {}  # nothing a refused caller asked for started


def test_a_student_check_grades_that_student_only_and_shows_points_messages_hints(world, client: TestClient) -> None:
    response = client.post("/api/v1/check", headers=bearer(world.tokens["bob"]))
    assert response.status_code == 200
    entry = response.json()
    assert (entry["student"], entry["lab"], entry["score"], entry["max_score"], entry["passed"]) == ("bob", LAB, 55, 100, False)
    versioning = next(c for c in entry["checks"] if c["id"] == "versioning")
    assert versioning["status"] == "failed" and versioning["awarded"] == 0 and versioning["points"] > 0
    assert "put-bucket-versioning" in versioning["hint"]
    history = client.get("/api/v1/me/history", headers=bearer(world.tokens["bob"])).json()
    assert [(h["lab"], h["score"], h["passed"]) for h in history["results"]] == [(LAB, 55, False)]
    # Only bob was graded: ada and cy have no stored result.
    for other in ("ada", "cy"):
        assert client.get("/api/v1/me/history", headers=bearer(world.tokens[other])).json()["results"] == []


def test_a_passing_check_lists_the_next_labs(world, client: TestClient) -> None:
    entry = client.post("/api/v1/check", headers=bearer(world.tokens["ada"])).json()
    assert (entry["score"], entry["passed"]) == (100, True)
    assert all(c["hint"] is None for c in entry["checks"])
    assert entry["next"] and all(n["lab"] for n in entry["next"])


def test_a_student_token_never_reads_another_students_data(world, client: TestClient) -> None:
    for student in STUDENTS:
        assert client.post("/api/v1/check", headers=bearer(world.tokens[student])).status_code == 200
        world.clock.now += 60
    for student in STUDENTS:
        others = [s for s in STUDENTS if s != student]
        headers = bearer(world.tokens[student])
        me = client.get("/api/v1/me", headers=headers).json()
        assert me == {"cohort": COHORT, "student": student, "lab": LAB, "prefix": f"{COHORT}-{student}",
                      "endpoint": me["endpoint"], "region": "us-east-1"}
        bodies = [client.get(path, headers=headers).text for path in ("/api/v1/me", "/api/v1/me/history", "/")]
        page = bodies[-1]
        assert secret_of(student) in page  # credentials on the student's own page
        for body in bodies:
            for other in others:
                assert secret_of(other) not in body
                assert f"{COHORT}-{other}" not in body
        assert {h["lab"] for h in client.get("/api/v1/me/history", headers=headers).json()["results"]} == {LAB}
        # No cohort-level route is open to a student, whichever cohort it names.
        for method, path in INSTRUCTOR_ROUTES:
            assert client.request(method, path, headers=headers).status_code == 403


def test_students_are_shown_the_cohorts_public_endpoint_not_the_instructors(world, client: TestClient,
                                                                              moto_endpoint: str) -> None:
    headers = bearer(world.tokens["ada"])
    assert client.get("/api/v1/me", headers=headers).json()["endpoint"] == moto_endpoint
    assert run("cohort", "set", COHORT, "--public-endpoint", "http://192.168.1.20:4566").exit_code == 0
    assert client.get("/api/v1/me", headers=headers).json()["endpoint"] == "http://192.168.1.20:4566"
    page = client.get("/", headers=headers).text
    assert "export AWS_ENDPOINT_URL=http://192.168.1.20:4566" in page and moto_endpoint not in page
    # The student's check still grades through the instructor's own endpoint.
    assert client.post("/api/v1/check", headers=headers).json()["passed"] is True


def test_the_instructor_sees_no_student_credentials(world, client: TestClient) -> None:
    pages = [client.get(path, headers=bearer(INSTRUCTOR_TOKEN)).text for path in ("/", f"/cohorts/{COHORT}")]
    for student in STUDENTS:
        assert all(secret_of(student) not in page for page in pages)


def test_the_rate_limit_refuses_a_second_check_within_ten_seconds(world, client: TestClient) -> None:
    headers = bearer(world.tokens["ada"])
    assert client.post("/api/v1/check", headers=headers).status_code == 200
    world.clock.now += 9.5
    refused = client.post("/api/v1/check", headers=headers)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    assert client.post("/api/v1/check", headers=bearer(world.tokens["bob"])).status_code == 200  # per student
    world.clock.now += 0.5
    assert client.post("/api/v1/check", headers=headers).status_code == 200
    history = client.get("/api/v1/me/history", headers=headers).json()["results"]
    assert len(history) == 2  # the refused check graded nothing


def test_a_second_check_while_one_runs_is_refused(world) -> None:
    key = (COHORT, "ada")
    world.portal.admit(key)
    world.clock.now += 60
    with pytest.raises(TooSoon, match="already running"):
        world.portal.admit(key)
    world.portal.admit((COHORT, "bob"))


def test_signin_sets_a_strict_httponly_cookie_and_bad_links_are_refused(world) -> None:
    browser = TestClient(world.app)
    response = browser.get(f"/signin?token={world.tokens['ada']}")
    assert response.status_code == 200
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert world.tokens["ada"] not in cookie
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert browser.get("/api/v1/me").json()["student"] == "ada"
    assert TestClient(world.app).get("/signin?token=wrong").status_code == 401
    assert TestClient(world.app).get("/signin").status_code == 401


def test_state_changes_from_a_cookie_session_need_the_csrf_token(world) -> None:
    browser, csrf = signed_in(world, world.tokens["ada"])
    assert browser.post("/check").status_code == 403
    assert browser.post("/check", data={"csrf": "forged"}).status_code == 403
    assert browser.post("/api/v1/check").status_code == 403
    assert browser.post("/api/v1/check", headers={"X-CSRF-Token": "forged"}).status_code == 403
    assert browser.get("/api/v1/me/history").json()["results"] == []  # nothing was graded
    page = browser.post("/check", data={"csrf": csrf})
    assert page.status_code == 200 and "Score 100/100" in page.text
    teacher, teacher_csrf = signed_in(world, INSTRUCTOR_TOKEN)
    assert teacher.post(f"/cohorts/{COHORT}/grade").status_code == 403
    assert teacher.post(f"/api/v1/cohorts/{COHORT}/grade").status_code == 403
    assert world.portal.jobs == {}
    assert teacher.post("/signout").status_code == 403
    assert teacher.post("/signout", data={"csrf": teacher_csrf}, follow_redirects=False).status_code == 303
    assert teacher.get("/api/v1/cohorts").status_code == 401


def test_the_check_page_shows_every_check_with_points_message_and_hint(world) -> None:
    browser, csrf = signed_in(world, world.tokens["bob"])
    page = browser.post("/check", data={"csrf": csrf}).text
    assert "Score 55/100" in page and "not passed yet" in page
    assert "put-bucket-versioning" in page and "versioning is off" in page
    assert page.count('<span class="badge status-') >= 6
    world.clock.now += 1
    again = browser.post("/check", data={"csrf": csrf})
    assert again.status_code == 429 and "try again in 9 s" in again.text


def test_tokens_rotate_and_the_registry_keeps_only_digests(world, client: TestClient) -> None:
    old = world.tokens["ada"]
    rotated = run("portal", "tokens", "--cohort", COHORT, "--student", "ada", "--format", "json")
    assert rotated.exit_code == 0, rotated.output
    [entry] = json.loads(rotated.output)
    assert entry["student"] == "ada" and entry["url"].endswith(f"/signin?token={entry['token']}")
    assert client.get("/api/v1/me", headers=bearer(old)).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(entry["token"])).json()["student"] == "ada"
    assert client.get("/api/v1/me", headers=bearer(world.tokens["bob"])).json()["student"] == "bob"
    stored = sqlite3.connect(registry_path()).execute("SELECT student, token_sha256 FROM portal_tokens").fetchall()
    assert dict(stored)["ada"] == digest(entry["token"])
    raw = b"".join(p.read_bytes() for p in registry_path().parent.glob("registry.sqlite3*"))
    for token in (entry["token"], *world.tokens.values()):
        assert token.encode() not in raw


def test_no_token_or_secret_reaches_the_log(world, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="labctl.portal")
    browser, csrf = signed_in(world, world.tokens["ada"])
    browser.post("/check", data={"csrf": csrf})
    browser.get("/api/v1/me")
    teacher, _ = signed_in(world, INSTRUCTOR_TOKEN)
    teacher.get(f"/cohorts/{COHORT}")
    assert "GET /signin 200" in caplog.text and "POST /check 200" in caplog.text
    for secret in (*world.tokens.values(), INSTRUCTOR_TOKEN, *(secret_of(s) for s in STUDENTS)):
        assert secret not in caplog.text


def test_grade_all_then_the_stored_report_and_its_downloads(world, client: TestClient) -> None:
    headers = bearer(INSTRUCTOR_TOKEN)
    assert client.get(f"/api/v1/cohorts/{COHORT}/grades", headers=headers).status_code == 404  # no run yet
    assert client.get(f"/api/v1/cohorts/{COHORT}/grading", headers=headers).json()["state"] == "idle"
    started = client.post(f"/api/v1/cohorts/{COHORT}/grade", headers=headers)
    assert started.status_code == 202 and started.json()["total"] == 3
    job = wait_for_job(world.portal, COHORT)
    assert (job["state"], job["done"], job["total"]) == ("done", 3, 3)
    report = client.get(f"/api/v1/cohorts/{COHORT}/grades", headers=headers).json()
    assert [(s["student"], s["score"], s["passed"]) for s in report["students"]] == [
        ("ada", 100, True), ("bob", 55, False), ("cy", 0, False)]
    # A student's later check is not part of that run: the stored report is not regraded.
    world.clock.now += 60
    client.post("/api/v1/check", headers=bearer(world.tokens["cy"]))
    assert client.get(f"/api/v1/cohorts/{COHORT}/grades", headers=headers).json() == report
    csv_text = client.get(f"/cohorts/{COHORT}/export/csv", headers=headers)
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert csv_text.headers["content-disposition"] == f'attachment; filename="{COHORT}-grades.csv"'
    assert [line.split(",")[0] for line in csv_text.text.strip().splitlines()[1:]] == ["ada", "bob", "cy"]
    assert "<testsuites" in client.get(f"/cohorts/{COHORT}/export/junit", headers=headers).text
    assert "<html" in client.get(f"/cohorts/{COHORT}/export/html", headers=headers).text.lower()
    assert json.loads(client.get(f"/cohorts/{COHORT}/export/json", headers=headers).text) == report
    assert client.get(f"/cohorts/{COHORT}/export/pdf", headers=headers).status_code == 404
    board = client.get(f"/cohorts/{COHORT}", headers=headers).text
    assert "pass rate 33.3%" in board and "✓ passed" in board and "✗ failed" in board
    assert "grading finished: 3/3" in board


def test_unknown_cohorts_are_404_for_the_instructor(client: TestClient) -> None:
    headers = bearer(INSTRUCTOR_TOKEN)
    for path in ("/api/v1/cohorts/nope/grades", "/api/v1/cohorts/nope/grading", "/cohorts/nope", "/cohorts/nope/export/csv"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and "unknown cohort" in response.text and "nope" in response.text
    assert client.post("/api/v1/cohorts/nope/grade", headers=headers).status_code == 404


def test_health_metrics_and_openapi(world, client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    client.post("/api/v1/check", headers=bearer(world.tokens["ada"]))
    client.post("/api/v1/check", headers=bearer(world.tokens["bob"]))
    metrics = client.get("/metrics").text
    assert f'labctl_portal_checks_total{{cohort="{COHORT}",lab="{LAB}",outcome="passed"}} 1.0' in metrics
    assert f'labctl_portal_checks_total{{cohort="{COHORT}",lab="{LAB}",outcome="not-passed"}} 1.0' in metrics
    assert f'labctl_portal_check_duration_seconds_count{{cohort="{COHORT}"}} 2.0' in metrics
    assert f'labctl_portal_students_passed{{cohort="{COHORT}",lab="{LAB}"}} 1.0' in metrics
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/me", "/api/v1/check", "/api/v1/me/history", "/api/v1/cohorts/{cohort}/grades", "/healthz",
            "/metrics"} <= set(paths)
    assert "/signin" not in paths


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.text(max_size=80))
def test_no_authorization_header_but_a_real_token_authenticates(client: TestClient, world, header: str) -> None:
    try:
        response = client.get("/api/v1/me", headers={"Authorization": header})
    except UnicodeEncodeError:
        return  # not sendable as an HTTP header at all
    known = {f"Bearer {t}" for t in (*world.tokens.values(), INSTRUCTOR_TOKEN)}
    if header.strip() not in known:
        assert response.status_code == 401


def test_markdown_shows_raw_html_as_text() -> None:
    rendered = markdown.render("# Title\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) `code`")
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert 'href="javascript:' not in rendered
    assert "<h1>Title</h1>" in rendered and "<code>code</code>" in rendered


def test_a_students_check_does_not_wait_for_a_cohort_run(world, client: TestClient) -> None:
    from labctl.cohorts.registry import Registry

    with Registry() as registry:
        registry.acquire_grading_lock(COHORT, "a-long-cohort-run")  # held by this live process
        response = client.post("/api/v1/check", headers=bearer(world.tokens["ada"]))
        assert response.status_code == 200 and response.json()["score"] == 100
        registry.release_grading_lock(COHORT, "a-long-cohort-run")
