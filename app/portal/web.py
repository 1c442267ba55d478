"""The portal's HTTP layer (FastAPI): pages rendered from Jinja2 templates, a JSON API under /api/v1
(OpenAPI at /openapi.json), /healthz and /metrics. Static assets are served by the app itself.

Who calls: `Authorization: Bearer TOKEN` (instructor's or a student's) or the session cookie set at
/signin (HttpOnly, SameSite=Strict, Secure over https or behind TLS; sessions end when idle and at
an absolute limit, see `sessions`). Failed token attempts are throttled per client address (429).
A cookie caller must prove a state change with the session's CSRF token (a form field, or the
X-CSRF-Token header on the API); a bearer caller carries no ambient credential and needs none. No token or an unknown one → 401; a student on an instructor route → 403.
Request logs name method, path and status only: never a query string, so never a sign-in token."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from labctl.app.portal.service import Identity, Portal, TooSoon
from labctl.app.portal.sessions import (FAILED_SIGNINS, FAILED_WINDOW_S, SESSION_IDLE_S, SESSION_MAX_S, Session,
                                 Sessions, SigninThrottle)
from labctl.app.portal.tokens import same
from labctl.labs.errors import InputError
from labctl.validators.report import to_csv, to_html, to_json, to_junit

HERE = Path(__file__).resolve().parent
COOKIE = "labctl_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
log = logging.getLogger("labctl.portal")
markdown = MarkdownIt("commonmark", {"html": False})  # raw HTML in a README is shown as text
templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True)
EXPORTS = {
    "csv": ("text/csv", lambda report, cohort: to_csv(report, cohort)),
    "junit": ("application/xml", lambda report, cohort: to_junit(report)),
    "html": ("text/html", lambda report, cohort: to_html(report)),
    "json": ("application/json", lambda report, cohort: json.dumps(to_json(report), indent=2)),
}
EXTENSIONS = {"csv": "csv", "junit": "xml", "html": "html", "json": "json"}
EVENTS_POLL_S = 0.25
KEEPALIVE_S = 15.0


class Me(BaseModel):
    cohort: str
    student: str
    lab: str
    prefix: str
    endpoint: str | None
    region: str


@dataclass(frozen=True)
class WebSettings:
    """How long sessions last, whether cookies are Secure (served over https, or behind a TLS proxy:
    `labctl serve --public-url https://…`), and how many failed token attempts an address gets."""

    session_idle_s: float = SESSION_IDLE_S
    session_max_s: float = SESSION_MAX_S
    secure_cookies: bool = False
    failed_signins: int = FAILED_SIGNINS
    failed_window_s: float = FAILED_WINDOW_S


async def grading_events(portal: Portal, cohort: str, poll_s: float = EVENTS_POLL_S) -> AsyncIterator[str]:
    """Server-sent events of a cohort's Grade all: its state (as `GET …/grading` gives it) each time
    it changes, a comment now and then so that proxies keep a quiet stream open, and the end of the
    stream once the run is no longer running (the page then reloads and closes its EventSource)."""
    last, quiet_since = None, time.monotonic()
    while True:
        job = portal.job(cohort) or {"cohort": cohort, "state": "idle"}
        if job != last:
            yield f"data: {json.dumps(job)}\n\n"
            last, quiet_since = job, time.monotonic()
        elif time.monotonic() - quiet_since >= KEEPALIVE_S:
            yield ": still grading\n\n"
            quiet_since = time.monotonic()
        if job["state"] != "running":
            return
        await asyncio.sleep(poll_s)


def page(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(templates.get_template(name).render(**context), status_code=code)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# --- who may call: the authorization decisions the routes' dependencies apply -------------------

def bearer_token(header: str) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header (scheme in any case), or None for
    another scheme or an empty token."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def identify_throttled(portal: Portal, throttle: SigninThrottle, address: str, token: str) -> Identity | None:
    """Who `token` belongs to; a failed attempt counts against the client's address, and an
    address past its limit is refused (429) before its token is even looked up."""
    wait = throttle.retry_after(address)
    if wait is not None:
        raise HTTPException(429, f"too many failed sign-in attempts from your address: try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    who = portal.identify(token)
    if who is None:
        throttle.failed(address)
    return who


def authenticate(portal: Portal, throttle: SigninThrottle, sessions: Sessions, address: str,
                 authorization: str | None, sid: str | None) -> tuple[Identity, Session | None]:
    """The caller and, for a cookie caller, their session. An Authorization header decides alone
    (a bad one is 401 even beside a live cookie); without one, the session cookie must name a live
    session (401)."""
    if authorization is not None:
        token = bearer_token(authorization)
        who = identify_throttled(portal, throttle, address, token) if token else None
        if who is None:
            raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
        return who, None
    session = sessions.get(sid)
    if session is None:
        why = "your session has ended: sign in again with your link" if sid else "sign in with the link you were given"
        raise HTTPException(401, why, headers={"WWW-Authenticate": "Bearer"})
    return session.identity, session


def require_student(who: Identity) -> Identity:
    if who.is_instructor:
        raise HTTPException(403, "this is a student's page: sign in with a student's link")
    return who


def require_instructor(who: Identity) -> Identity:
    if not who.is_instructor:
        raise HTTPException(403, "instructors only")
    return who


def check_csrf(session: Session | None, sent: object) -> None:
    """A cookie caller (one with a session) must send the session's CSRF token; a bearer caller
    carries no ambient credential and needs none."""
    if session is not None and not (isinstance(sent, str) and same(sent, session.csrf)):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def create_app(portal: Portal, settings: WebSettings = WebSettings(), clock: Callable[[], float] = time.monotonic) -> FastAPI:
    app = FastAPI(title="labctl portal", version="1", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    sessions = Sessions(clock, settings.session_idle_s, settings.session_max_s)
    throttle = SigninThrottle(clock, settings.failed_signins, settings.failed_window_s)
    app.state.portal, app.state.sessions, app.state.throttle = portal, sessions, throttle

    @app.middleware("http")
    async def headers_and_log(request: Request, call_next):
        response = await call_next(request)
        response.headers["Referrer-Policy"] = "no-referrer"  # a sign-in URL carries a token
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = "default-src 'self'; frame-ancestors 'none'"
        log.info("%s %s %s", request.method, request.url.path, response.status_code)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(exc.headers or {})
        if is_api(request) or request.url.path in ("/healthz", "/metrics"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        response = page("error.html", exc.status_code, status=exc.status_code, detail=exc.detail, who=None)
        response.headers.update(headers)
        return response

    @app.exception_handler(InputError)
    async def not_found(request: Request, exc: InputError):
        return await http_error(request, StarletteHTTPException(404, str(exc)))

    def identify(request: Request, token: str) -> Identity | None:
        return identify_throttled(portal, throttle, client_address(request), token)

    def caller(request: Request) -> Identity:
        who, session = authenticate(portal, throttle, sessions, client_address(request),
                                    request.headers.get("authorization"), request.cookies.get(COOKIE))
        request.state.session = session
        return who

    def student(who: Identity = Depends(caller)) -> Identity:
        return require_student(who)

    def instructor(who: Identity = Depends(caller)) -> Identity:
        return require_instructor(who)

    async def csrf_checked(request: Request, who: Identity = Depends(caller)) -> None:
        """A cookie caller's state change must carry the session's CSRF token."""
        session = request.state.session
        sent = request.headers.get(CSRF_HEADER)
        if session is not None and sent is None and not is_api(request):
            sent = (await request.form()).get(CSRF_FIELD)
        check_csrf(session, sent)

    def csrf_of(request: Request) -> str | None:
        session = request.state.session
        return session.csrf if session else None

    # --- sign-in, health, metrics --------------------------------------------------------

    def secure(request: Request) -> bool:
        return settings.secure_cookies or request.url.scheme == "https"

    @app.get("/signin", include_in_schema=False)
    def signin(request: Request, token: str = "") -> HTMLResponse:
        who = identify(request, token) if token else None
        if who is None:
            raise HTTPException(401, "this sign-in link is not valid (it may have been replaced by a newer one)")
        sid, _ = sessions.create(who)
        # A page (not a redirect) sets the cookie: its onward link is then a same-site navigation,
        # which carries a SameSite=Strict cookie even when the sign-in link came from a mail client.
        response = page("signed_in.html", who=who)
        response.set_cookie(COOKIE, sid, max_age=int(settings.session_max_s), httponly=True, samesite="strict",
                            path="/", secure=secure(request))
        return response

    @app.post("/signout", include_in_schema=False, dependencies=[Depends(csrf_checked)])
    def signout(request: Request, who: Identity = Depends(caller)) -> RedirectResponse:
        sessions.drop(request.cookies.get(COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=secure(request))
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> Response:
        return Response(portal.metrics.exposition(portal.passed_counts), media_type="text/plain; version=0.0.4")

    # --- API ---------------------------------------------------------------------------------

    @app.get("/api/v1/me", response_model=Me)
    def api_me(who: Identity = Depends(student)) -> dict[str, Any]:
        return portal.me(who)

    @app.post("/api/v1/check", dependencies=[Depends(csrf_checked)])
    def api_check(who: Identity = Depends(student)) -> JSONResponse:
        try:
            outcome = portal.check(who)
        except TooSoon as exc:
            raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
        if outcome.error:
            return JSONResponse({"detail": f"could not be graded, no score recorded: {outcome.error}",
                                 "lab": outcome.lab}, status_code=503)
        return JSONResponse({**outcome.entry, "graded_at": outcome.graded_at,
                             "next": [{"lab": lab, "title": title} for lab, title in outcome.next_labs]})

    @app.get("/api/v1/me/history")
    def api_history(who: Identity = Depends(student)) -> dict[str, Any]:
        return {"cohort": who.cohort, "student": who.student, "results": portal.history(who)}

    @app.get("/api/v1/cohorts")
    def api_cohorts(who: Identity = Depends(instructor)) -> list[dict[str, Any]]:
        return portal.cohorts()

    @app.get("/api/v1/cohorts/{cohort}/grades")
    def api_grades(cohort: str, who: Identity = Depends(instructor)) -> dict[str, Any]:
        found, report = portal.stored(cohort)
        return to_json(report)

    @app.post("/api/v1/cohorts/{cohort}/grade", status_code=202, dependencies=[Depends(csrf_checked)])
    def api_grade_all(cohort: str, who: Identity = Depends(instructor)) -> dict[str, Any]:
        return portal.grade_all(cohort)

    @app.get("/api/v1/cohorts/{cohort}/grading")
    def api_grading(cohort: str, who: Identity = Depends(instructor)) -> dict[str, Any]:
        portal.summary(cohort)  # 404 for an unknown cohort
        return portal.job(cohort) or {"cohort": cohort, "state": "idle"}

    @app.get("/api/v1/cohorts/{cohort}/grading/events", response_class=StreamingResponse)
    def api_grading_events(cohort: str, who: Identity = Depends(instructor)) -> StreamingResponse:
        """Grade all's progress as server-sent events (text/event-stream), until the run ends."""
        portal.summary(cohort)  # 404 for an unknown cohort
        return StreamingResponse(grading_events(portal, cohort), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    # --- pages -------------------------------------------------------------------------------

    def student_page(request: Request, who: Identity, status: int = 200, **extra: Any) -> HTMLResponse:
        title, readme = portal.readme(who)
        return page("student.html", status, who=who, me=portal.me(who), lab_title=title,
                    readme=Markup(markdown.render(readme)), env=portal.environment(who),
                    history=list(reversed(portal.history(who))), csrf=csrf_of(request), **extra)

    @app.get("/", include_in_schema=False)
    def home(request: Request, who: Identity = Depends(caller)) -> HTMLResponse:
        if who.is_instructor:
            return page("cohorts.html", who=who, cohorts=portal.cohorts(), csrf=csrf_of(request))
        return student_page(request, who)

    @app.post("/check", include_in_schema=False, dependencies=[Depends(csrf_checked)])
    def check_page(request: Request, who: Identity = Depends(student)) -> HTMLResponse:
        try:
            outcome = portal.check(who)
        except TooSoon as exc:
            response = student_page(request, who, 429, notice=str(exc))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        return student_page(request, who, outcome=outcome)

    @app.get("/cohorts/{cohort}", include_in_schema=False)
    def board_page(request: Request, cohort: str, who: Identity = Depends(instructor)) -> HTMLResponse:
        return page("board.html", who=who, board=portal.board(cohort), csrf=csrf_of(request))

    @app.post("/cohorts/{cohort}/grade", include_in_schema=False, dependencies=[Depends(csrf_checked)])
    def grade_all_page(cohort: str, who: Identity = Depends(instructor)) -> RedirectResponse:
        portal.grade_all(cohort)
        return RedirectResponse(f"/cohorts/{cohort}", status_code=303)

    @app.get("/cohorts/{cohort}/export/{fmt}", include_in_schema=False)
    def export(cohort: str, fmt: str, who: Identity = Depends(instructor)) -> Response:
        if fmt not in EXPORTS:
            raise HTTPException(404, f"no export format {fmt!r} (one of {', '.join(EXPORTS)})")
        found, report = portal.stored(cohort)
        media, render = EXPORTS[fmt]
        name = f"{found.name}-grades.{EXTENSIONS[fmt]}"
        return Response(render(report, found), media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return app
