"""`labctl serve`: the portal under uvicorn. uvicorn's own access log is off (it would log sign-in
URLs with their tokens); the app logs method, path and status instead."""

from __future__ import annotations

import logging
from typing import Callable

import uvicorn

from app.portal.service import Portal
from app.portal.tokens import check_url, instructor_token, remember_url, signin_url
from app.portal.web import create_app


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return check_url(f"http://{shown}:{port}")


def serve(host: str, port: int, say: Callable[[str], None]) -> None:
    base = base_url(host, port)
    remember_url(base)
    portal = Portal(instructor_token())
    app = create_app(portal)
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
