"""A portal over a real cohort on the moto server: ada built the reference solution, bob the
partial one, cy nothing; each has distinct fake stack outputs holding a secret key."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from labctl.app.portal.service import Portal
from labctl.app.portal.web import WebSettings, create_app
from labctl.cli import cli
from labctl.labs.catalog import get_lab
from labctl.labs.solutions import apply, solutions_for

LAB = "s3-static-website"
COHORT = "cls"
INSTRUCTOR_TOKEN = "instructor-token-for-tests-0123456789abcdef"
STUDENTS = ("ada", "bob", "cy")


def secret_of(student: str) -> str:
    return f"SECRET-KEY-OF-{student.upper()}-{'x' * 20}"


def fake_outputs(cohort):
    return lambda student: {"aws_user": f"{student.prefix}-user", "aws_access_key_id": f"AKIA{student.student.upper()}",
                            "aws_secret_access_key": secret_of(student.student)}


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class World:
    portal: Portal
    app: object
    tokens: dict[str, str]
    clock: Clock


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def make_world(aws, moto_endpoint: str, tmp_path: Path, build: bool = True, web: WebSettings = WebSettings(),
               **portal_options) -> World:
    """The cohort, its tokens and a portal whose rate limits and sessions follow one hand-moved clock."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nada,Ada Lovelace,ada@example.edu\nbob,Bob Builder,bob@example.edu\ncy,Cy,cy@example.edu\n")
    created = run("cohort", "create", COHORT, "--lab", LAB, "--roster", str(roster), "--target", "localstack",
                  "--endpoint", moto_endpoint)
    assert created.exit_code == 0, created.output
    if build:
        solutions = {s.name: s for s in solutions_for(get_lab(LAB).folder)}
        apply(solutions["reference"], aws, moto_endpoint, f"{COHORT}-ada", "ada")
        apply(solutions["broken-partial"], aws, moto_endpoint, f"{COHORT}-bob", "bob")
    issued = run("portal", "tokens", "--cohort", COHORT, "--url", "http://portal.test:8080", "--format", "json")
    assert issued.exit_code == 0, issued.output
    tokens = {i["student"]: i["token"] for i in json.loads(issued.output)}
    clock = Clock()
    portal = Portal(INSTRUCTOR_TOKEN, outputs_for=fake_outputs, clock=clock, workers=2, **portal_options)
    return World(portal, create_app(portal, web, clock), tokens, clock)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for_job(portal: Portal, cohort: str) -> dict:
    """Grade all's final state (it runs in a thread; this waits for it to end, without a deadline
    of its own: pytest-timeout ends a hung test)."""
    while (job := portal.job(cohort))["state"] == "running":
        time.sleep(0.1)
    return job
