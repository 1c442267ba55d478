"""`labctl serve`: the portal under uvicorn. uvicorn's own access log is off (it would log sign-in
URLs with their tokens); the app logs method, path and status instead.

`--public-url` is the portal's address as students reach it, when that is not where it listens
(behind a reverse proxy that terminates TLS): sign-in links carry it, and an https one makes the
session cookie Secure. Served over https directly, or behind a proxy uvicorn trusts to say so
(X-Forwarded-Proto from `--forwarded-allow-ips`, 127.0.0.1 by default), cookies are Secure anyway."""

from __future__ import annotations

import logging
from typing import Callable
from urllib.parse import urlsplit

import uvicorn

from labctl.app.portal.service import Portal
from labctl.app.portal.tokens import check_url, instructor_token, remember_url, signin_url
from labctl.app.portal.web import WebSettings, create_app
from labctl.labs.errors import InputError
from labctl.stacks.leases import parse_duration


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return check_url(f"http://{shown}:{port}")


def web_settings(base: str, idle: str, maximum: str) -> WebSettings:
    """Session lengths from `--session-idle` and `--session-max` (like 60m, 12h), Secure cookies
    when the portal's public address is https."""
    idle_s = parse_duration(idle, "--session-idle").total_seconds()
    max_s = parse_duration(maximum, "--session-max").total_seconds()
    if idle_s > max_s:
        raise InputError(f"an idle limit of {idle} is longer than the whole session ({maximum})", "--session-idle")
    return WebSettings(session_idle_s=idle_s, session_max_s=max_s, secure_cookies=urlsplit(base).scheme == "https")


def serve(host: str, port: int, say: Callable[[str], None], public_url: str | None = None,
          session_idle: str = "60m", session_max: str = "12h") -> None:
    base = check_url(public_url, "--public-url") if public_url else base_url(host, port)
    settings = web_settings(base, session_idle, session_max)
    remember_url(base)
    portal = Portal(instructor_token())
    app = create_app(portal, settings)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("labctl.portal")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    say(f"instructor: {signin_url(base, instructor_token())}")
    try:
        uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning")
    finally:
        portal.close()
