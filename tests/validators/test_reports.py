"""Each grade report renderer on a GradeReport built here: every check outcome and an applied guard."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from labctl.cohorts.cohort import Cohort, Student, Target
from tests.conftest import service_missing
from labctl.validators.report import (
    CheckResult,
    GradeReport,
    GuardResult,
    StudentResult,
    history_rows,
    student_text,
    to_csv,
    to_html,
    to_junit,
)

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<img src=x onerror=alert(1)>"
LAB = "s3-static-website"


def check(id: str, status: str, points: int, message: str = "", hint: str | None = None) -> CheckResult:
    return CheckResult(id, f"title of {id}", status, points, points if status == "passed" else 0, message, hint)


ADA = StudentResult(
    student="ada", prefix="cls-ada", lab=LAB, score=100, max_score=100, percent=100.0, passed=True,
    checks=(check("bucket-exists", "passed", 40), check("versioning", "passed", 60)),
    guards=(GuardResult("no-public-write", "passed", 30, 0, "", None),),
)
BOB = StudentResult(
    student="bob", prefix="cls-bob", lab=LAB, score=10, max_score=100, percent=10.0, passed=False,
    checks=(
        check("bucket-exists", "passed", 40),
        check("versioning", "failed", 30, f"index says {HOSTILE}", "put-bucket-versioning"),
        check("tags", "skipped", 20, "bucket cls-bob-site does not exist", "tag it"),
        check("website", "error", 10, "check s3.website raised RuntimeError: kaboom"),
    ),
    guards=(GuardResult("no-public-write", "failed", 30, 30, "policy grants s3:* to everyone", "GetObject only"),),
)
REPORT = GradeReport(cohort="cls", labs=(LAB,), graded_at="2026-11-22T00:00:00+00:00", results=(ADA, BOB))
COHORT = Cohort(
    "cls", (LAB,), Target("emulator", "http://127.0.0.1:4566", "us-east-1"),
    (Student("ada", "Ada", "Ada Lovelace", "ada@example.edu", "cls-ada"),
     Student("bob", "Bob", "=HYPERLINK(1)", "bob@example.edu", "cls-bob")),
)


def test_junit_has_a_suite_per_student_and_the_right_counts() -> None:
    root = ET.fromstring(to_junit(REPORT))
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "8", "failures": "2", "errors": "1", "skipped": "1"
    }
    ada, bob = root.findall("testsuite")
    assert (ada.get("name"), bob.get("name")) == (f"ada · {LAB}", f"bob · {LAB}")
    assert {k: ada.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "3", "failures": "0", "errors": "0", "skipped": "0"
    }
    assert {k: bob.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5", "failures": "2", "errors": "1", "skipped": "1"
    }
    props = {p.get("name"): p.get("value") for p in bob.find("properties")}
    assert props == {"student": "bob", "lab": LAB, "score": "10/100", "percent": "10.0", "passed": "false"}
    cases = {c.get("name").split(":")[0].split(" ")[0]: c for c in bob.findall("testcase")}
    assert cases["versioning"].find("failure").get("message") == f"index says {HOSTILE} (hint: put-bucket-versioning)"
    assert cases["tags"].find("skipped") is not None
    assert cases["website"].find("error").get("message") == "check s3.website raised RuntimeError: kaboom"
    assert cases["bucket-exists"].find("*") is None
    guard = cases["no-public-write"]
    assert guard.get("classname") == f"cls.bob.{LAB}.guards"
    assert guard.find("failure").get("message") == "policy grants s3:* to everyone (hint: GetObject only)"


def test_csv_gradebook_columns_and_values() -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(REPORT, COHORT))))
    header = list(rows[0])
    assert header == [
        "student", "name", "email", "lab", "score", "percent", "passed", "graded_at",
        "bucket-exists", "versioning", "tags", "website", "penalty:no-public-write", "floor", "error",
    ]
    ada, bob = rows
    assert ada == {
        "student": "ada", "name": "Ada Lovelace", "email": "ada@example.edu", "lab": LAB, "score": "100",
        "percent": "100.0", "passed": "true", "graded_at": REPORT.graded_at,
        "bucket-exists": "40", "versioning": "60", "tags": "", "website": "", "penalty:no-public-write": "0",
        "floor": "0", "error": "",
    }
    assert (bob["score"], bob["passed"], bob["versioning"], bob["tags"], bob["website"]) == ("10", "false", "0", "0", "0")
    assert (bob["penalty:no-public-write"], bob["floor"]) == ("-30", "0")
    assert bob["name"] == "'=HYPERLINK(1)"  # a roster name is never a spreadsheet formula


def test_csv_rows_add_up_to_their_score_even_at_the_zero_floor() -> None:
    """Checks awarded, minus penalties, plus what the floor gave back: the score, for every row."""
    low = StudentResult("cy", "cls-cy", LAB, 0, 100, 0.0, False, (check("bucket-exists", "passed", 10),),
                        (GuardResult("no-public-write", "failed", 30, 30, "public", None),))
    report = GradeReport("cls", (LAB,), REPORT.graded_at, (ADA, BOB, low))
    rows = list(csv.DictReader(io.StringIO(to_csv(report, COHORT))))
    summed = [c for c in rows[0] if c not in ("student", "name", "email", "lab", "score", "percent", "passed",
                                               "graded_at", "error")]
    for row in rows:
        assert sum(int(row[c] or 0) for c in summed) == int(row["score"])
    assert (rows[2]["penalty:no-public-write"], rows[2]["floor"]) == ("-30", "20")


def test_csv_names_check_columns_by_lab_when_several_labs() -> None:
    other = StudentResult("ada", "cls-ada", "dynamodb-orders", 15, 30, 50.0, False,
                          (check("table-exists", "passed", 15), check("pitr", "failed", 15, "off")), ())
    report = GradeReport("cls", (LAB, "dynamodb-orders"), REPORT.graded_at, (ADA, other))
    header = next(csv.reader(io.StringIO(to_csv(report, COHORT))))
    assert header[8:] == [f"{LAB}/bucket-exists", f"{LAB}/versioning", "dynamodb-orders/table-exists", "dynamodb-orders/pitr",
                          f"{LAB}/penalty:no-public-write", f"{LAB}/floor", "dynamodb-orders/floor", "error"]


def test_html_is_self_contained_escaped_and_has_both_charts() -> None:
    page = to_html(REPORT)
    assert "<script" not in page and "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "url(" not in page and "@import" not in page
    assert "http://" not in page and "https://" not in page
    assert HOSTILE not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<svg") == 2
    assert 'id="score-distribution"' in page and 'id="check-pass-rates"' in page
    distribution = page.split('id="score-distribution"')[1].split("</svg>")[0]
    assert distribution.count('class="bar-pass"') == 1 and distribution.count('class="bar-fail"') == 1
    rates = page.split('id="check-pass-rates"')[1].split("</svg>")[0]
    assert rates.count('class="bar-pass"') == 4 and "50 %" in rates and "100 %" in rates
    for text in ("hint: put-bucket-versioning", "hint: GetObject only", "applies", "−30", "kaboom", "skipped"):
        assert text in page


def test_html_of_an_empty_report_renders() -> None:
    page = to_html(GradeReport("cls", (LAB,), REPORT.graded_at, ()))
    assert page.count("<svg") == 2 and "0 / 0" in page


def test_student_text_lists_shortfalls_hints_penalties_and_next_labs() -> None:
    text = student_text(REPORT, {LAB: [("dynamodb-orders", "DynamoDB orders")]})
    ada, bob = text.split("\n\n")
    assert ada.splitlines()[0] == f"{LAB}: 100/100 (100.0%) — passed"
    assert "next: dynamodb-orders (DynamoDB orders)" in ada
    assert "next:" not in bob
    assert f"index says {HOSTILE}" in bob and "hint: put-bucket-versioning" in bob
    assert "− penalty 30: no-public-write" in bob and "hint: GetObject only" in bob
    assert "! website (error, 10 points)" in bob


def test_history_rows() -> None:
    entry = {"run_id": "0123abcd" + "9" * 24, "graded_at": "t1", "student": "ada", "lab": LAB, "score": 55, "max_score": 100,
             "percent": 55.0, "passed": False}
    assert history_rows([entry]) == [("0123abcd", "t1", "ada", LAB, "55/100", "55.0%", "no", "")]


@pytest.mark.chromium
def test_html_screenshot_in_headless_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        service_missing(f"{CHROMIUM} is not installed: the HTML report's screenshot needs a headless Chromium")
    page = tmp_path / "report.html"
    page.write_text(to_html(REPORT), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "grade-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run(
        [
            str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}", "--window-size=1200,1600",
            page.as_uri(),
        ],
        check=True, capture_output=True, timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
