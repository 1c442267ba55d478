"""The portal's HTTP layer (FastAPI): pages rendered from Jinja2 templates, a JSON API under /api/v1
(OpenAPI at /openapi.json), /healthz and /metrics. Static assets are served by the app itself.

Who calls: `Authorization: Bearer TOKEN` (instructor's or a student's) or the session cookie set at
/signin (HttpOnly, SameSite=Strict). A cookie caller must prove a state change with the session's
CSRF token (a form field, or the X-CSRF-Token header on the API); a bearer caller carries no ambient
credential and needs none. No token or an unknown one → 401; a student on an instructor route → 403.
Request logs name method, path and status only: never a query string, so never a sign-in token."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader
from markdown_it import MarkdownIt
from markupsafe import Markup
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.portal.service import Identity, Portal, TooSoon
from app.portal.tokens import same
from labs.errors import InputError
from validators.report import to_csv, to_html, to_json, to_junit

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


class Me(BaseModel):
    cohort: str
    student: str
    lab: str
    prefix: str
    endpoint: str | None
    region: str


@dataclass(frozen=True)
class Session:
    identity: Identity
    csrf: str


class Sessions:
    """Signed-in browsers: a random session id → who and their CSRF token, in memory (a restart signs
    everyone out; their token signs them in again)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_id: dict[str, Session] = {}

    def create(self, identity: Identity) -> tuple[str, Session]:
        sid, session = secrets.token_urlsafe(32), Session(identity, secrets.token_urlsafe(32))
        with self.lock:
            self.by_id[sid] = session
        return sid, session

    def get(self, sid: str | None) -> Session | None:
        with self.lock:
            return self.by_id.get(sid) if sid else None

    def drop(self, sid: str | None) -> None:
        with self.lock:
            self.by_id.pop(sid or "", None)


def page(name: str, code: int = 200, **context: Any) -> HTMLResponse:
    response = HTMLResponse(templates.get_template(name).render(**context), status_code=code)
    response.headers["Cache-Control"] = "no-store"
    return response


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def create_app(portal: Portal) -> FastAPI:
    app = FastAPI(title="labctl portal", version="1", docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    sessions = Sessions()
    app.state.portal, app.state.sessions = portal, sessions

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

    def caller(request: Request) -> Identity:
        header = request.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            who = portal.identify(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
            if who is None:
                raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
            return who
        session = sessions.get(request.cookies.get(COOKIE))
        if session is None:
            raise HTTPException(401, "sign in with the link you were given", headers={"WWW-Authenticate": "Bearer"})
        request.state.session = session
        return session.identity

    def student(who: Identity = Depends(caller)) -> Identity:
        if who.is_instructor:
            raise HTTPException(403, "this is a student's page: sign in with a student's link")
        return who

    def instructor(who: Identity = Depends(caller)) -> Identity:
        if not who.is_instructor:
            raise HTTPException(403, "instructors only")
        return who

    async def csrf_checked(request: Request, who: Identity = Depends(caller)) -> None:
        """A cookie caller's state change must carry the session's CSRF token."""
        session = getattr(request.state, "session", None)
        if session is None:
            return
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and not is_api(request):
            sent = (await request.form()).get(CSRF_FIELD)
        if not isinstance(sent, str) or not same(sent, session.csrf):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")

    def csrf_of(request: Request) -> str | None:
        session = getattr(request.state, "session", None)
        return session.csrf if session else None

    # --- sign-in, health, metrics --------------------------------------------------------

    @app.get("/signin", include_in_schema=False)
    def signin(token: str = "") -> HTMLResponse:
        who = portal.identify(token) if token else None
        if who is None:
            raise HTTPException(401, "this sign-in link is not valid (it may have been replaced by a newer one)")
        sid, _ = sessions.create(who)
        # A page (not a redirect) sets the cookie: its onward link is then a same-site navigation,
        # which carries a SameSite=Strict cookie even when the sign-in link came from a mail client.
        response = page("signed_in.html", who=who)
        response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/", secure=False)
        return response

    @app.post("/signout", include_in_schema=False, dependencies=[Depends(csrf_checked)])
    def signout(request: Request, who: Identity = Depends(caller)) -> RedirectResponse:
        sessions.drop(request.cookies.get(COOKIE))
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
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
