"""Grade all's live progress as server-sent events: the stream's content, its end, who may read it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from labctl.app.portal import web
from labctl.app.portal.service import GradeAllJob
from tests.app.portal_fixtures import COHORT, INSTRUCTOR_TOKEN, bearer, make_world

pytestmark = pytest.mark.emulator
EVENTS = f"/api/v1/cohorts/{COHORT}/grading/events"


@pytest.fixture
def world(aws, moto_endpoint: str, tmp_path: Path):
    built = make_world(aws, moto_endpoint, tmp_path)
    yield built
    built.portal.close()


def run(coroutine):
    """Run on a loop of its own: asyncio.run would leave the main thread without a current loop,
    which the Pulumi SDK's mock runtime in later tests expects to find."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def events(body: str) -> list[dict]:
    """The data of each event of a text/event-stream body (comments skipped)."""
    found = []
    for block in body.split("\n\n"):
        lines = [line for line in block.splitlines() if not line.startswith(":")]
        if lines:
            assert [line.split(":", 1)[0] for line in lines] == ["data"], block
            found.append(json.loads(lines[0].split(":", 1)[1]))
    return found


def test_the_stream_tells_each_step_of_a_run_then_ends(world) -> None:
    """Driven by hand: one event per change of the run, nothing while it does not change, the last
    one when it finishes, and then the stream ends."""
    job = GradeAllJob(COHORT, 2)
    world.portal.jobs[COHORT] = job

    async def follow() -> list[str]:
        stream = web.grading_events(world.portal, COHORT, poll_s=0.01)
        seen = [await anext(stream)]
        job.advance()
        seen.append(await anext(stream))
        job.advance()
        with job.lock:
            job.state, job.graded_at = "done", "2026-12-02T12:00:00+00:00"
        seen.append(await anext(stream))
        with pytest.raises(StopAsyncIteration):
            await anext(stream)
        return seen

    seen = run(follow())
    assert [(e["state"], e["done"], e["total"]) for e in events("".join(seen))] == [
        ("running", 0, 2), ("running", 1, 2), ("done", 2, 2)]
    assert events(seen[-1])[0]["graded_at"] == "2026-12-02T12:00:00+00:00"


def test_a_quiet_run_gets_keepalive_comments(world, monkeypatch) -> None:
    monkeypatch.setattr(web, "KEEPALIVE_S", 0.0)
    world.portal.jobs[COHORT] = GradeAllJob(COHORT, 1)

    async def two() -> list[str]:
        stream = web.grading_events(world.portal, COHORT, poll_s=0.01)
        return [await anext(stream), await anext(stream)]

    first, second = run(two())
    assert first.startswith("data: ") and second == ": still grading\n\n"


def test_grade_all_over_http_streams_to_its_finish(world) -> None:
    client = TestClient(world.app)
    headers = bearer(INSTRUCTOR_TOKEN)
    assert client.post(f"/api/v1/cohorts/{COHORT}/grade", headers=headers).status_code == 202
    with client.stream("GET", EVENTS, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        body = "".join(response.iter_text())
    seen = events(body)
    assert seen[-1]["state"] == "done" and (seen[-1]["done"], seen[-1]["total"]) == (3, 3)
    assert all(e["state"] == "running" for e in seen[:-1])
    assert [e["done"] for e in seen] == sorted(e["done"] for e in seen)  # progress never goes back


def test_with_no_run_the_stream_says_idle_once_and_ends(world) -> None:
    body = TestClient(world.app).get(EVENTS, headers=bearer(INSTRUCTOR_TOKEN)).text
    assert events(body) == [{"cohort": COHORT, "state": "idle"}]


def test_only_the_instructor_reads_the_stream(world) -> None:
    client = TestClient(world.app)
    assert client.get(EVENTS).status_code == 401
    assert client.get(EVENTS, headers=bearer("nope")).status_code == 401
    for token in world.tokens.values():
        assert client.get(EVENTS, headers=bearer(token)).status_code == 403
    unknown = client.get("/api/v1/cohorts/nope/grading/events", headers=bearer(INSTRUCTOR_TOKEN))
    assert unknown.status_code == 404 and "unknown cohort" in unknown.text
