"""Portal sign-in tokens. The instructor's lives in the labctl home (0600); students' are issued by
`labctl portal tokens`, shown once, and kept in the registry only as SHA-256 digests. Tokens are 256
random bits, so an unsalted digest is enough to make a stolen registry useless for signing in."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from labctl.cohorts.cohort import Cohort
from labctl.cohorts.home import home, home_path, write_secret
from labctl.cohorts.registry import Registry
from labctl.labs.errors import InputError

DEFAULT_URL = "http://127.0.0.1:8080"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def portal_dir() -> Path:
    path = home() / "portal"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def instructor_token() -> str:
    """The instructor's token, created (0600) on first use and kept across restarts."""
    path = portal_dir() / "instructor-token"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    token = new_token()
    write_secret(path, token + "\n")
    return token


def check_url(url: str, flag: str = "--url") -> str:
    """A portal base URL (http or https, a host, no query); without a trailing slash."""
    problem = InputError(f"portal URL {url!r} must be http(s)://HOST[:PORT][/PATH]", flag)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise problem from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment or url != url.strip():
        raise problem
    return url.rstrip("/")


def remember_url(url: str) -> None:
    """Record where the portal is served (no secret), for `portal tokens` and handouts."""
    (portal_dir() / "portal.json").write_text(json.dumps({"url": check_url(url)}) + "\n", encoding="utf-8")


def known_url() -> str | None:
    """The portal URL `labctl serve` last recorded, or None."""
    path = home_path() / "portal" / "portal.json"
    if not path.exists():
        return None
    return json.loads(path.read_text(encoding="utf-8"))["url"]


def signin_url(base: str, token: str) -> str:
    return f"{base}/signin?token={token}"


def issue_student_tokens(registry: Registry, cohort: Cohort, students: list[str] | None, base: str) -> list[dict]:
    """Fresh tokens for `students` (default: the roster), replacing their old ones; each as
    {student, token, url}. The only moment a student token exists outside the student's hands."""
    chosen = [cohort.student(s) for s in students] if students else list(cohort.students)
    issued = [{"student": s.student, "token": new_token()} for s in chosen]
    registry.set_portal_tokens(cohort.name, {i["student"]: digest(i["token"]) for i in issued})
    return [{**i, "url": signin_url(base, i["token"])} for i in issued]
