"""Cohort leases: when a cohort's stacks expire, from `--expires DATE` or `--ttl DURATION`.

A lease is one UTC instant. `--expires` takes an ISO 8601 date (the lease runs through that day, so it
ends at the next midnight UTC) or datetime (no offset means UTC); `--ttl` takes a duration from now
such as `14d`, `36h`, `90m` or `1d12h`. Every bad value is an InputError naming its flag (exit 2).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from labctl.labs.errors import InputError

DURATION = re.compile(r"^(?:(?P<d>\d{1,5})d)?(?:(?P<h>\d{1,6})h)?(?:(?P<m>\d{1,8})m)?$")
# Ten years: beyond that a lease is a typo, and datetime arithmetic would overflow soon after.
MAX_LEASE = timedelta(days=3650)


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def parse_instant(text: str, flag: str) -> datetime:
    """An ISO 8601 date or datetime as an aware UTC datetime; a bare date means the end of that day."""
    value = text.strip()
    day: date | None = None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise InputError(
                f"{text!r} is not an ISO 8601 date or datetime (like 2026-12-18 or 2026-12-18T17:00Z)", flag
            ) from None
    try:
        if day is not None:
            return datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone.utc)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InputError(f"{text!r} is out of range", flag) from None


def parse_duration(text: str, flag: str = "--ttl") -> timedelta:
    """`14d`, `36h`, `90m`, or units combined in that order (`1d12h`); more than zero, at most ten years."""
    match = DURATION.match(text.strip().lower())
    if not match or not any(match.groups()):
        raise InputError(f"{text!r} is not a duration like 14d, 36h or 90m", flag)
    days, hours, minutes = (int(match.group(unit) or 0) for unit in "dhm")
    if days > MAX_LEASE.days or hours > MAX_LEASE.days * 24 or minutes > MAX_LEASE.days * 24 * 60:
        raise InputError(f"{text!r} is longer than ten years", flag)
    duration = timedelta(days=days, hours=hours, minutes=minutes)
    if duration <= timedelta(0):
        raise InputError(f"{text!r} must be longer than zero", flag)
    if duration > MAX_LEASE:
        raise InputError(f"{text!r} is longer than ten years", flag)
    return duration


def lease_end(expires: str | None, ttl: str | None, now: datetime | None = None) -> datetime | None:
    """The lease's end from at most one of the two flags; None without either."""
    if expires is not None and ttl is not None:
        raise InputError("give either --expires or --ttl, not both", "--expires")
    now = now or utc_now()
    if ttl is not None:
        return now + parse_duration(ttl)
    if expires is None:
        return None
    end = parse_instant(expires, "--expires")
    if end <= now:
        raise InputError(f"{expires!r} is in the past (now is {format_instant(now)})", "--expires")
    if end - now > MAX_LEASE:
        raise InputError(f"{expires!r} is more than ten years away", "--expires")
    return end


def format_instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")
