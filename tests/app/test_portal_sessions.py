"""Session hardening: sessions end when idle and at an absolute limit (on a hand-moved clock, no
sleeping), the Secure cookie over https or behind TLS, sign-in throttling per client address, and
`labctl serve`'s flags for them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from labctl.app.portal import server
from labctl.app.portal.sessions import SigninThrottle
from labctl.app.portal.web import WebSettings, create_app
from labctl.cli import cli
from tests.app.portal_fixtures import COHORT, INSTRUCTOR_TOKEN, Clock, bearer, make_world

pytestmark = pytest.mark.emulator
WEB = WebSettings(session_idle_s=600, session_max_s=3600, failed_signins=5, failed_window_s=300)


@pytest.fixture
def world(aws, moto_endpoint: str, tmp_path: Path):
    built = make_world(aws, moto_endpoint, tmp_path, build=False, web=WEB)
    yield built
    built.portal.close()


def browser(world, token: str, **client) -> TestClient:
    signed = TestClient(world.app, **client)
    assert signed.get(f"/signin?token={token}").status_code == 200
    return signed


def test_a_session_ends_after_the_idle_limit_and_each_request_starts_it_again(world) -> None:
    ada = browser(world, world.tokens["ada"])
    world.clock.now += 599
    assert ada.get("/api/v1/me").status_code == 200
    world.clock.now += 599  # 1198 s after sign-in, but only 599 s idle
    assert ada.get("/api/v1/me").status_code == 200
    world.clock.now += 600
    ended = ada.get("/api/v1/me")
    assert ended.status_code == 401 and ended.json()["detail"] == "your session has ended: sign in again with your link"
    world.clock.now -= 600  # the session was dropped, not only refused
    assert ada.get("/api/v1/me").status_code == 401
    page = ada.get("/")
    assert page.status_code == 401 and "your session has ended" in page.text
    assert browser(world, world.tokens["ada"]).get("/api/v1/me").json()["student"] == "ada"


def test_a_busy_session_still_ends_at_the_absolute_limit(world) -> None:
    teacher = browser(world, INSTRUCTOR_TOKEN)
    for _ in range(6):
        world.clock.now += 590
        assert teacher.get(f"/cohorts/{COHORT}").status_code == 200  # 3540 s after sign-in
    world.clock.now += 60
    assert teacher.get(f"/cohorts/{COHORT}").status_code == 401
    # A bearer token is no session: it works as long as the token is current.
    assert TestClient(world.app).get("/api/v1/cohorts", headers=bearer(INSTRUCTOR_TOKEN)).status_code == 200


def test_ended_sessions_are_forgotten_at_the_next_sign_in(world) -> None:
    for student in ("ada", "bob", "cy"):
        browser(world, world.tokens[student])
    assert len(world.app.state.sessions.by_id) == 3
    world.clock.now += 600
    browser(world, world.tokens["ada"])
    assert len(world.app.state.sessions.by_id) == 1


def cookie_of(response) -> str:
    return response.headers["set-cookie"]


def test_the_cookie_lasts_the_session_and_is_secure_only_over_https_or_behind_tls(world, aws, moto_endpoint,
                                                                                  tmp_path: Path) -> None:
    plain = cookie_of(TestClient(world.app).get(f"/signin?token={world.tokens['ada']}"))
    assert "Max-Age=3600" in plain and "HttpOnly" in plain and "SameSite=strict" in plain
    assert "Secure" not in plain
    over_https = TestClient(world.app, base_url="https://portal.test").get(f"/signin?token={world.tokens['ada']}")
    assert "Secure" in cookie_of(over_https)
    behind_tls = create_app(world.portal, WebSettings(secure_cookies=True), world.clock)
    assert "Secure" in cookie_of(TestClient(behind_tls).get(f"/signin?token={world.tokens['bob']}"))


def test_failed_tokens_from_one_address_are_throttled_with_retry_after(world) -> None:
    client = TestClient(world.app)
    for attempt in range(5):
        assert client.get(f"/signin?token=wrong-{attempt}").status_code == 401
        world.clock.now += 10
    refused = client.get(f"/signin?token={world.tokens['ada']}")  # even a good token, while refused
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "250"
    assert "too many failed sign-in attempts" in refused.text
    api = client.get("/api/v1/me", headers=bearer(world.tokens["ada"]))
    assert api.status_code == 429 and api.headers["Retry-After"] == "250"
    # Another address is not held back by this one.
    other = TestClient(world.app, client=("192.0.2.7", 40000))
    assert other.get("/api/v1/me", headers=bearer(world.tokens["bob"])).json()["student"] == "bob"
    world.clock.now += 250  # the first failure leaves the window
    assert client.get("/api/v1/me", headers=bearer(world.tokens["ada"])).status_code == 200
    assert client.get("/api/v1/me", headers=bearer("wrong-again")).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(world.tokens["ada"])).headers["Retry-After"] == "10"


def test_what_is_no_token_attempt_is_not_counted(world) -> None:
    client = TestClient(world.app)
    forged = TestClient(world.app, cookies={"labctl_session": "forged"})
    for _ in range(10):
        assert client.get("/signin").status_code == 401  # no token at all
        assert client.get("/api/v1/me").status_code == 401  # no credentials
        assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401
        assert forged.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers=bearer(world.tokens["cy"])).status_code == 200


def test_the_throttle_window_slides() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock, limit=3, window_s=100)
    for step in (0, 30, 60):
        clock.now = 1000 + step
        assert throttle.retry_after("a") is None
        throttle.failed("a")
    assert throttle.retry_after("a") == 40 and throttle.retry_after("b") is None
    clock.now = 1099
    assert throttle.retry_after("a") == 1
    clock.now = 1100
    assert throttle.retry_after("a") is None
    throttle.failed("a")
    assert throttle.retry_after("a") == 30  # the failures at 30 and 60 still count


def serve(monkeypatch, *args: str):
    ran: list[tuple[object, dict]] = []
    monkeypatch.setattr(server.uvicorn, "run", lambda app, **kw: ran.append((app, kw)))
    return CliRunner().invoke(cli, ["serve", *args]), ran


def test_serve_flags_set_the_sessions_and_an_https_public_url_secures_cookies(monkeypatch, labctl_home) -> None:
    result, ran = serve(monkeypatch, "--port", "8123", "--public-url", "https://portal.example.edu/",
                        "--session-idle", "20m", "--session-max", "8h")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"instructor: https://portal\.example\.edu/signin\?token=\S+\n", result.output)
    app, options = ran[0]
    assert (options["host"], options["port"]) == ("127.0.0.1", 8123)
    assert app.state.sessions.idle_s == 1200 and app.state.sessions.max_s == 8 * 3600
    token = result.output.rsplit("=", 1)[1].strip()
    assert "Secure" in TestClient(app).get(f"/signin?token={token}").headers["set-cookie"]
    issued = CliRunner().invoke(cli, ["serve", "--port", "8124"])  # links follow where it serves now
    assert issued.output.startswith("instructor: http://127.0.0.1:8124/signin?token=")


def test_serve_defaults_are_an_hour_idle_and_twelve_hours_in_all(monkeypatch, labctl_home) -> None:
    result, ran = serve(monkeypatch)
    assert result.exit_code == 0, result.output
    app, _ = ran[0]
    assert (app.state.sessions.idle_s, app.state.sessions.max_s) == (3600, 12 * 3600)
    assert "Secure" not in TestClient(app).get(f"/signin?token={result.output.rsplit('=', 1)[1].strip()}").headers["set-cookie"]


@pytest.mark.parametrize("args, line", [
    (["--session-idle", "soon"], "Error: --session-idle: 'soon' is not a duration like 14d, 36h or 90m"),
    (["--session-max", "0m"], "Error: --session-max: '0m' must be longer than zero"),
    (["--session-idle", "2h", "--session-max", "1h"],
     "Error: --session-idle: an idle limit of 2h is longer than the whole session (1h)"),
    (["--public-url", "portal.example.edu"],
     "Error: --public-url: portal URL 'portal.example.edu' must be http(s)://HOST[:PORT][/PATH]"),
])
def test_bad_serve_flags_are_one_line_and_exit_2(monkeypatch, labctl_home, args: list[str], line: str) -> None:
    result, ran = serve(monkeypatch, *args)
    assert (result.exit_code, result.stderr, result.stdout) == (2, line + "\n", "")
    assert ran == [] and not (labctl_home / "portal" / "portal.json").exists()
