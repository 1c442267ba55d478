"""Signed-in browsers and sign-in throttling, both in the portal process's memory.

A session is a random id (the cookie) → who signed in and their CSRF token. It ends after
`idle_s` without a request, or `max_s` after sign-in whatever happens; a restart of the server ends
every session (the student's link signs them in again). Sessions are not shared between processes:
run one portal process.

Failed token attempts (an unknown sign-in link or bearer token) are counted per client address over
a sliding window; past the limit, that address is refused (429 with Retry-After) until its oldest
counted failure leaves the window. Tokens are 256 random bits, so this guards the registry and the
logs from a flood rather than the tokens from guessing. Behind a reverse proxy every client has the
proxy's address unless uvicorn trusts the proxy's X-Forwarded-For (`--forwarded-allow-ips`)."""

from __future__ import annotations

import math
import secrets
import threading
from collections import deque
from dataclasses import dataclass
from typing import Callable

from labctl.app.portal.service import Identity

SESSION_IDLE_S = 60 * 60.0
SESSION_MAX_S = 12 * 60 * 60.0
FAILED_SIGNINS = 20
FAILED_WINDOW_S = 5 * 60.0
SWEEP_AT = 10_000
"""Addresses remembered before the ones whose failures all left the window are forgotten."""


@dataclass
class Session:
    identity: Identity
    csrf: str
    started: float
    seen: float


class Sessions:
    def __init__(self, clock: Callable[[], float], idle_s: float = SESSION_IDLE_S, max_s: float = SESSION_MAX_S):
        self.clock, self.idle_s, self.max_s = clock, idle_s, max_s
        self.lock = threading.Lock()
        self.by_id: dict[str, Session] = {}

    def create(self, identity: Identity) -> tuple[str, Session]:
        now = self.clock()
        sid, session = secrets.token_urlsafe(32), Session(identity, secrets.token_urlsafe(32), now, now)
        with self.lock:
            for old in [k for k, s in self.by_id.items() if self.ended(s, now)]:
                del self.by_id[old]
            self.by_id[sid] = session
        return sid, session

    def ended(self, session: Session, now: float) -> bool:
        return now - session.seen >= self.idle_s or now - session.started >= self.max_s

    def get(self, sid: str | None) -> Session | None:
        """The live session with this id (its idle time starts again), or None; an ended one is dropped."""
        if not sid:
            return None
        now = self.clock()
        with self.lock:
            session = self.by_id.get(sid)
            if session is None:
                return None
            if self.ended(session, now):
                del self.by_id[sid]
                return None
            session.seen = now
            return session

    def drop(self, sid: str | None) -> None:
        with self.lock:
            self.by_id.pop(sid or "", None)


class SigninThrottle:
    def __init__(self, clock: Callable[[], float], limit: int = FAILED_SIGNINS, window_s: float = FAILED_WINDOW_S):
        self.clock, self.limit, self.window_s = clock, limit, window_s
        self.lock = threading.Lock()
        self.failures: dict[str, deque[float]] = {}

    def recent(self, address: str, now: float) -> deque[float]:
        times = self.failures.get(address, deque())
        while times and now - times[0] >= self.window_s:
            times.popleft()
        return times

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may try a token again, or None when it may now."""
        now = self.clock()
        with self.lock:
            times = self.recent(address, now)
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[-self.limit] + self.window_s - now))

    def failed(self, address: str) -> None:
        now = self.clock()
        with self.lock:
            if len(self.failures) >= SWEEP_AT:
                self.failures = {a: t for a in list(self.failures) if (t := self.recent(a, now))}
            times = self.recent(address, now)
            times.append(now)
            self.failures[address] = times
