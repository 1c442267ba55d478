"""The portal in a real headless Chromium (Debian's, driven by selenium through Debian's chromedriver):
a student signs in with their link, checks their work and sees score and hints; the instructor signs
in, sees the board, runs Grade all, watches its progress arrive as server-sent events and sees it
finish. Screenshots go to the test's temp dir."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import uvicorn

from labctl.app.portal.service import GradeAllJob
from tests.app.portal_fixtures import COHORT, INSTRUCTOR_TOKEN, make_world
from tests.conftest import free_port, service_missing

pytestmark = [pytest.mark.chromium, pytest.mark.emulator]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--window-size=1280,1400")
WAIT_S = 120
STEP_S = 2.0
"""Grade all is slowed to one student every STEP_S seconds here, so that the page is still open
while it runs: its progress can only reach the page through the event stream."""


@pytest.fixture
def portal_url(aws, moto_endpoint: str, tmp_path: Path, monkeypatch):
    advance = GradeAllJob.advance

    def slowly(job: GradeAllJob) -> None:
        time.sleep(STEP_S)
        advance(job)

    monkeypatch.setattr(GradeAllJob, "advance", slowly)
    world = make_world(aws, moto_endpoint, tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(world.app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            pytest.fail("the portal did not start")
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}", world.tokens
    server.should_exit = True
    thread.join()
    world.portal.close()


@pytest.fixture
def browser(tmp_path: Path):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        service_missing(f"{', '.join(missing)} not installed: the portal's browser test needs Debian's chromium and chromium-driver")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as exc:
        service_missing(f"selenium is not installed: {exc}")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()


def sign_in(driver, link: str) -> None:
    from selenium.webdriver.common.by import By

    driver.delete_all_cookies()
    driver.get(link)
    driver.find_element(By.ID, "continue").click()


def test_a_student_checks_their_work_and_the_instructor_grades_all(portal_url, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    base, tokens = portal_url
    sign_in(browser, f"{base}/signin?token={tokens['bob']}")
    assert "bob" in browser.find_element(By.CSS_SELECTOR, ".who").text
    browser.find_element(By.ID, "check-button").click()
    verdict = WebDriverWait(browser, WAIT_S).until(seen.presence_of_element_located((By.ID, "verdict")))
    assert "Score 55/100" in verdict.text and "not passed yet" in verdict.text
    results = browser.find_element(By.ID, "results").text
    assert "versioning is off" in results and "put-bucket-versioning" in results
    assert browser.find_element(By.CSS_SELECTOR, "#results .badge.status-failed").text == "failed"
    browser.save_screenshot(str(tmp_path / "student.png"))

    sign_in(browser, f"{base}/signin?token={INSTRUCTOR_TOKEN}")
    browser.find_element(By.LINK_TEXT, COHORT).click()
    assert "pass rate" in browser.find_element(By.ID, "summary").text
    board = browser.find_element(By.ID, "board-s3-static-website")
    assert [c.text for c in board.find_elements(By.CSS_SELECTOR, "td.policy")] == ["✓ clean"] * 3
    assert [c.text for c in board.find_elements(By.CSS_SELECTOR, "td.cost")] == ["$0.11"] * 3
    browser.find_element(By.ID, "grade-all").click()
    # The page rendered at 0/3 does not reload until the run ends: 2/3 is the event stream's doing.
    WebDriverWait(browser, WAIT_S).until(seen.text_to_be_present_in_element((By.ID, "progress"), "grading 2/3…"))
    assert browser.find_element(By.ID, "progress-bar").get_attribute("value") == "2"
    browser.save_screenshot(str(tmp_path / "board-grading.png"))
    WebDriverWait(browser, WAIT_S).until(seen.text_to_be_present_in_element((By.ID, "progress"), "grading finished"))
    assert "3/3" in browser.find_element(By.ID, "progress").text
    assert "pass rate 33.3%" in browser.find_element(By.ID, "summary").text
    board = browser.find_element(By.ID, "board-s3-static-website")
    assert board.find_elements(By.CSS_SELECTOR, "td.status-passed") and board.find_elements(By.CSS_SELECTOR, "td.status-failed")
    browser.save_screenshot(str(tmp_path / "board.png"))
    for shot in ("student.png", "board-grading.png", "board.png"):
        assert (tmp_path / shot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
