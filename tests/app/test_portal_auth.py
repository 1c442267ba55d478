"""The portal's authorization rules, unit by unit and without a server: who a token is (and that a
rotated or stored-digest token is nobody), which caller a request is (bearer or session cookie, 401
otherwise), students and the instructor kept to their own routes (403), CSRF on a cookie caller's
state change, sessions ending when idle and at their absolute limit, and failed token attempts
throttled per address. Each rule is stated here from the promise in docs/security.md, not from the
code; `make mutation` runs these tests against small deliberate bugs in each unit (docs/testing.md)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import HTTPException, Request
from hypothesis import given
from hypothesis import strategies as st

from labctl.app.portal import sessions as sessions_module
from labctl.app.portal.service import INSTRUCTOR, Identity, Portal
from labctl.app.portal.sessions import Sessions, SigninThrottle
from labctl.app.portal.tokens import digest, new_token, same
from labctl.app.portal.web import (authenticate, bearer_token, check_csrf, client_address, identify_throttled, require_instructor,
                                   require_student)
from labctl.cli import cli
from labctl.cohorts.home import registry_path
from labctl.cohorts.registry import Registry
from labctl.labs.catalog import get_lab
from tests.app.portal_fixtures import Clock, secret_of

INSTRUCTOR_TOKEN = "the-instructors-token-0123456789abcdef"
ADA, BOB = Identity("student", "cls", "ada"), Identity("student", "cls", "bob")
FIRST_LAB, SECOND_LAB = "s3-static-website", "dynamodb-orders"
ENDPOINT = "http://aws.lab.test:4566"


def refused(call, *args) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        call(*args)
    return caught.value


# --- tokens: who a token is -------------------------------------------------------------------

@pytest.fixture
def cohort(tmp_path: Path, registry_backend: str) -> str:
    """The cohort `cls` (ada, bob) on each registry: SQLite, then PostgreSQL."""
    roster = tmp_path / "roster.csv"
    roster.write_text("id,name,email\nada,Ada,ada@example.edu\nbob,Bob,bob@example.edu\n")
    created = CliRunner().invoke(cli, ["cohort", "create", "cls", "--lab", FIRST_LAB, "--lab", SECOND_LAB, "--roster", str(roster),
                                       "--target", "localstack", "--endpoint", ENDPOINT])
    assert created.exit_code == 0, created.output
    return "cls"


def issue(*students: str) -> dict[str, str]:
    args = ["portal", "tokens", "--cohort", "cls", "--url", "http://portal.test", "--format", "json"]
    for student in students:
        args += ["--student", student]
    issued = CliRunner().invoke(cli, args)
    assert issued.exit_code == 0, issued.output
    entries = json.loads(issued.output)
    for entry in entries:  # the link a student is handed signs in with their own token
        assert entry["url"] == f"http://portal.test/signin?token={entry['token']}"
    return {i["student"]: i["token"] for i in entries}


def test_each_token_is_its_own_student_the_instructors_is_the_instructor_and_others_nobody(cohort: str) -> None:
    tokens = issue()
    portal = Portal(INSTRUCTOR_TOKEN)
    try:
        assert portal.identify(tokens["ada"]) == ADA and portal.identify(tokens["bob"]) == BOB
        assert portal.identify(INSTRUCTOR_TOKEN) == INSTRUCTOR and INSTRUCTOR.is_instructor
        assert not ADA.is_instructor
        for other in ("", "not-a-token", INSTRUCTOR_TOKEN + "x", INSTRUCTOR_TOKEN[:-1], tokens["ada"][:-1]):
            assert portal.identify(other) is None, other
    finally:
        portal.close()


def test_a_rotated_token_is_nobody_and_the_others_keep_working(cohort: str) -> None:
    first = issue()
    again = issue("ada")
    assert set(again) == {"ada"} and again["ada"] != first["ada"]
    portal = Portal(INSTRUCTOR_TOKEN)
    try:
        assert portal.identify(first["ada"]) is None
        assert portal.identify(again["ada"]) == ADA and portal.identify(first["bob"]) == BOB
    finally:
        portal.close()


def test_the_registry_keeps_only_sha256_digests_and_a_digest_is_no_token(cohort: str, registry_backend: str) -> None:
    tokens = issue()
    with Registry() as registry:
        stored = {r[0]: r[1] for r in registry.db.execute("SELECT student, token_sha256 FROM portal_tokens")}
    assert stored == {s: hashlib.sha256(t.encode()).hexdigest() for s, t in tokens.items()}
    if registry_backend == "sqlite":
        raw = b"".join(p.read_bytes() for p in registry_path().parent.glob("registry.sqlite3*"))
        assert not any(t.encode() in raw for t in tokens.values())
    portal = Portal(INSTRUCTOR_TOKEN)
    try:
        assert all(portal.identify(d) is None for d in stored.values())  # a stolen registry signs nobody in
        assert portal.identify(hashlib.sha256(INSTRUCTOR_TOKEN.encode()).hexdigest()) is None
    finally:
        portal.close()


def grade(cohort: str, student: str, score: int) -> None:
    with Registry() as registry:
        registry.record_grade(f"run-{student}", cohort, {"student": student, "lab": FIRST_LAB,
                                                         "graded_at": f"2026-01-0{score}T00:00:00Z", "score": score,
                                                         "max_score": 10, "percent": score * 10.0, "passed": False})


def outputs_naming_their_cohort(cohort):
    return lambda student: {"aws_user": f"{student.prefix}-user", "aws_access_key_id": f"AKIA{student.student.upper()}",
                            "aws_secret_access_key": f"{secret_of(student.student)}-of-{cohort.name}"}


def test_a_student_reads_their_own_identity_environment_and_history_only(cohort: str) -> None:
    """ada's stack is on the cohort's second lab, bob has none (so the first); each has one grade."""
    grade(cohort, "ada", 3)
    grade(cohort, "bob", 7)
    with Registry() as registry:
        registry.set_stack_status(cohort, "ada", "up", "done", lab=SECOND_LAB)
    portal = Portal(INSTRUCTOR_TOKEN, outputs_for=outputs_naming_their_cohort)
    try:
        for who, other, lab, score in ((ADA, "bob", SECOND_LAB, 3), (BOB, "ada", FIRST_LAB, 7)):
            assert portal.me(who) == {"cohort": "cls", "student": who.student, "lab": lab, "prefix": f"cls-{who.student}",
                                      "endpoint": ENDPOINT, "region": "us-east-1"}
            assert portal.history(who) == [{"graded_at": f"2026-01-0{score}T00:00:00Z", "lab": FIRST_LAB, "score": score,
                                            "max_score": 10, "percent": score * 10.0, "passed": False, "error": None}]
            environment = portal.environment(who)
            assert f"{secret_of(who.student)}-of-cls" in environment and secret_of(other) not in environment
            assert f"export LABCTL_LAB={lab}\n" in environment
            title, readme = portal.readme(who)
            assert title == get_lab(lab).spec.title
            assert f"cls-{who.student}" in readme and f"cls-{other}" not in readme
    finally:
        portal.close()


def test_tokens_are_256_random_bits_and_digests_are_sha256() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2 test vector


@given(st.text(), st.text())
def test_same_is_string_equality(a: str, b: str) -> None:
    assert same(a, a) and same(a, b) == (a == b)


# --- the caller: bearer token or session cookie -------------------------------------------------

class FakePortal:
    """Tokens → who, recording each lookup (the throttle must refuse before one)."""

    def __init__(self) -> None:
        self.known = {"ada-token": ADA, "instructor-token": INSTRUCTOR}
        self.looked_up: list[str] = []

    def identify(self, token: str) -> Identity | None:
        self.looked_up.append(token)
        return self.known.get(token)


class Gate:
    def __init__(self, limit: int = 3) -> None:
        self.clock = Clock()
        self.portal = FakePortal()
        self.throttle = SigninThrottle(self.clock, limit=limit, window_s=100)
        self.sessions = Sessions(self.clock, idle_s=60, max_s=600)

    def call(self, authorization: str | None = None, sid: str | None = None, address: str = "10.0.0.1"):
        return authenticate(self.portal, self.throttle, self.sessions, address, authorization, sid)


@pytest.mark.parametrize("header, token", [("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER  abc ", "abc"),
                                           ("Bearer a b", "a b")])
def test_a_bearer_header_gives_its_token(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Bearer    ", "Basic abc", "Bearerabc", "Token abc", " Bearer abc"])
def test_other_authorization_headers_give_no_token(header: str) -> None:
    assert bearer_token(header) is None


@given(st.text(alphabet=st.characters(blacklist_categories=("Zs", "Zl", "Zp", "Cc")), min_size=1))
def test_any_token_after_bearer_comes_back_whole(token: str) -> None:
    assert bearer_token(f"Bearer {token}") == token.strip()


def test_a_known_bearer_token_is_its_owner_with_no_session() -> None:
    gate = Gate()
    assert gate.call("Bearer ada-token") == (ADA, None)
    assert gate.call("Bearer instructor-token") == (INSTRUCTOR, None)


@pytest.mark.parametrize("header", ["Bearer nobody", "Bearer", "Basic ada-token", "ada-token"])
def test_an_authorization_header_without_a_known_bearer_token_is_401(header: str) -> None:
    gate = Gate()
    error = refused(gate.call, header)
    assert error.status_code == 401 and error.headers == {"WWW-Authenticate": "Bearer"}
    assert error.detail == "unknown token"


def test_a_bad_header_is_401_even_beside_a_live_session() -> None:
    gate = Gate()
    sid, _ = gate.sessions.create(ADA)
    assert refused(gate.call, "Bearer nobody", sid).status_code == 401


def test_a_live_session_cookie_is_its_owner_with_the_session() -> None:
    gate = Gate()
    sid, session = gate.sessions.create(BOB)
    assert gate.call(None, sid) == (BOB, session)


def test_no_cookie_or_an_ended_session_is_401_saying_which() -> None:
    gate = Gate()
    missing = refused(gate.call, None, None)
    assert missing.status_code == 401 and missing.headers == {"WWW-Authenticate": "Bearer"}
    assert missing.detail == "sign in with the link you were given"
    sid, _ = gate.sessions.create(ADA)
    gate.clock.now += 60
    ended = refused(gate.call, None, sid)
    assert ended.status_code == 401 and ended.headers == {"WWW-Authenticate": "Bearer"}
    assert ended.detail == "your session has ended: sign in again with your link"
    assert refused(gate.call, None, "never-issued").detail == ended.detail


def test_unknown_tokens_are_throttled_per_address_before_any_lookup() -> None:
    gate = Gate(limit=3)
    for _ in range(3):
        assert refused(gate.call, "Bearer nobody").status_code == 401
    gate.portal.looked_up.clear()
    error = refused(gate.call, "Bearer ada-token")  # even a good token: the address is past its limit
    assert error.status_code == 429 and error.headers == {"Retry-After": "100"} and "try again in 100 s" in error.detail
    assert gate.portal.looked_up == []
    assert gate.call("Bearer ada-token", address="10.0.0.2") == (ADA, None)
    gate.clock.now += 100
    assert gate.call("Bearer ada-token") == (ADA, None)


def test_known_tokens_and_headers_without_a_token_are_not_failures() -> None:
    gate = Gate(limit=2)
    for header in ("Bearer ada-token", "Basic abc", "Bearer ", "Bearer ada-token"):
        gate.call(header) if header.endswith("ada-token") else refused(gate.call, header)
    assert gate.throttle.retry_after("10.0.0.1") is None
    assert identify_throttled(gate.portal, gate.throttle, "10.0.0.1", "nobody") is None
    assert identify_throttled(gate.portal, gate.throttle, "10.0.0.1", "instructor-token") == INSTRUCTOR
    assert gate.throttle.retry_after("10.0.0.1") is None  # one failure of two
    assert identify_throttled(gate.portal, gate.throttle, "10.0.0.1", "nobody") is None
    assert gate.throttle.retry_after("10.0.0.1") == 100


# --- roles ----------------------------------------------------------------------------------

def test_students_pass_student_routes_only_and_the_instructor_instructor_routes_only() -> None:
    assert require_student(ADA) is ADA and require_instructor(INSTRUCTOR) is INSTRUCTOR
    on_instructors = refused(require_instructor, ADA)
    assert on_instructors.status_code == 403 and on_instructors.detail == "instructors only"
    on_students = refused(require_student, INSTRUCTOR)
    assert on_students.status_code == 403
    assert on_students.detail == "this is a student's page: sign in with a student's link"


# --- CSRF ------------------------------------------------------------------------------------

def test_a_cookie_callers_state_change_needs_its_own_sessions_csrf_token() -> None:
    sessions = Sessions(Clock())
    _, mine = sessions.create(ADA)
    _, theirs = sessions.create(BOB)
    check_csrf(mine, mine.csrf)
    for sent in (None, "", theirs.csrf, mine.csrf + "x", mine.csrf[:-1], mine.csrf.encode(), 0):
        error = refused(check_csrf, mine, sent)
        assert error.status_code == 403, sent
        assert error.detail == "missing or wrong CSRF token: reload the page and try again"


def test_a_bearer_caller_needs_no_csrf_token() -> None:
    check_csrf(None, None)
    check_csrf(None, "anything")


# --- sessions --------------------------------------------------------------------------------

def test_a_session_id_and_its_csrf_token_are_fresh_random_256_bits() -> None:
    sessions = Sessions(Clock())
    made = [sessions.create(ADA) for _ in range(20)]
    secrets_seen = [sid for sid, _ in made] + [s.csrf for _, s in made]
    assert len(set(secrets_seen)) == 40
    assert all(len(base64.urlsafe_b64decode(s + "=")) == 32 for s in secrets_seen)


def test_a_session_is_only_its_own_id() -> None:
    sessions = Sessions(Clock())
    sid, session = sessions.create(ADA)
    other, _ = sessions.create(BOB)
    assert sessions.get(sid) is session and session.identity == ADA and sessions.get(other).identity == BOB
    for wrong in (None, "", sid[:-1], "x" + sid):
        assert sessions.get(wrong) is None


def clocked_sessions(max_s: float = 600) -> tuple[Clock, Sessions, str]:
    """Sessions ending 60 s idle or `max_s` after sign-in on a hand-moved clock, and ada's."""
    clock = Clock()
    sessions = Sessions(clock, idle_s=60, max_s=max_s)
    return clock, sessions, sessions.create(ADA)[0]


def test_a_session_ends_idle_s_after_its_last_request() -> None:
    clock, sessions, sid = clocked_sessions()
    clock.now += 59.5
    assert sessions.get(sid) is not None  # and its idle time starts again
    clock.now += 59.5
    assert sessions.get(sid) is not None
    clock.now += 60
    assert sessions.get(sid) is None
    clock.now -= 1  # an ended session stays ended: it was forgotten
    assert sessions.get(sid) is None


def test_a_busy_session_ends_max_s_after_sign_in() -> None:
    clock, sessions, sid = clocked_sessions(max_s=150)
    for _ in range(4):
        clock.now += 37.4
        assert sessions.get(sid) is not None
    clock.now = 1000 + 150
    assert sessions.get(sid) is None


def test_ended_sessions_are_forgotten_when_another_signs_in_and_live_ones_kept() -> None:
    clock, sessions, _ = clocked_sessions()  # ada's session, ended by the last sign-in
    clock.now += 30
    live, _ = sessions.create(BOB)
    clock.now += 30
    new, _ = sessions.create(ADA)
    assert set(sessions.by_id) == {live, new}


def test_signing_out_drops_that_session_only() -> None:
    sessions = Sessions(Clock())
    sid, _ = sessions.create(ADA)
    other, _ = sessions.create(ADA)
    sessions.drop(sid)
    sessions.drop(None)
    assert sessions.get(sid) is None and sessions.get(other) is not None


# --- throttling --------------------------------------------------------------------------------

def test_an_address_is_refused_from_its_limit_th_failure_until_the_oldest_leaves_the_window() -> None:
    clock = Clock()
    throttle = SigninThrottle(clock, limit=3, window_s=100)
    for _ in range(3):  # failures at 1000, 1010, 1020
        assert throttle.retry_after("a") is None
        throttle.failed("a")
        clock.now += 10
    assert throttle.retry_after("a") == 70 and throttle.retry_after("b") is None
    clock.now = 1099.5
    assert throttle.retry_after("a") == 1  # whole seconds, never 0 while refused
    clock.now = 1100
    assert throttle.retry_after("a") is None


def served_address(peer: tuple[str, int] | None, forwarded_for: str | None = None) -> str:
    """The address a request from `peer` counts against when the portal runs under uvicorn as
    `labctl serve` starts it (proxy headers on, trusting `--forwarded-allow-ips`' default)."""
    seen: list[str] = []

    async def portal(scope, receive, send) -> None:
        seen.append(client_address(Request(scope)))

    config = uvicorn.Config(portal, access_log=False, log_level="warning")
    config.load()
    headers = [(b"x-forwarded-for", forwarded_for.encode())] if forwarded_for else []
    scope = {"type": "http", "method": "GET", "path": "/signin", "headers": headers, "client": peer, "scheme": "http"}
    loop = asyncio.new_event_loop()  # not asyncio.run: that leaves the thread without a current loop
    try:
        loop.run_until_complete(config.loaded_app(scope, None, None))
    finally:
        loop.close()
    return seen[0]


def test_a_failure_counts_against_the_peer_and_x_forwarded_for_only_from_a_trusted_proxy(monkeypatch) -> None:
    """A client that sends its own X-Forwarded-For cannot pick a fresh address for each attempt."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    assert served_address(("203.0.113.9", 50000), "198.51.100.7") == "203.0.113.9"
    assert served_address(("203.0.113.9", 50000)) == "203.0.113.9"
    assert served_address(("127.0.0.1", 50000), "198.51.100.7") == "198.51.100.7"
    assert served_address(("::1", 50000), "198.51.100.8") == "198.51.100.8"
    assert served_address(("127.0.0.1", 50000)) == "127.0.0.1"


def test_requests_without_a_peer_address_share_one_count_of_their_own() -> None:
    """A request with no peer (a Unix socket) counts against one address, not against any client's."""
    throttle = SigninThrottle(Clock(), limit=1, window_s=100)
    portal = FakePortal()
    assert identify_throttled(portal, throttle, served_address(None), "nobody") is None
    assert refused(identify_throttled, portal, throttle, served_address(None), "ada-token").status_code == 429
    assert identify_throttled(portal, throttle, served_address(("203.0.113.9", 50000)), "ada-token") == ADA
    assert served_address(None) not in ("203.0.113.9", "127.0.0.1", "")


def test_forgetting_addresses_keeps_those_with_failures_in_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions_module, "SWEEP_AT", 3)
    clock = Clock()
    throttle = SigninThrottle(clock, limit=2, window_s=100)
    throttle.failed("old")
    clock.now += 50
    for address in ("recent", "recent", "other"):
        throttle.failed(address)
    clock.now += 60
    throttle.failed("new")
    assert set(throttle.failures) == {"recent", "other", "new"}
    assert throttle.retry_after("recent") == 40
