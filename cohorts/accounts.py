"""The account pool: AWS member accounts leased one per student (isolation mode `account`).

An account is `available`, `leased` (to one student of one cohort), `cleaning` (its sweep has begun)
or `quarantined` (something was left in it when it was released; the list is kept in `note`). The
pool lives in the registry; every statement here is plain SQL that SQLite and PostgreSQL both run,
inside the registry's `transaction()`. Leasing is atomic: a conditional UPDATE per account that must
change exactly one row, so two cohort creates at once never lease the same account on either engine.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import boto3

from labctl.cohorts.cohort import Student, Target, csv_rows, read_csv_file, roster_email
from labctl.labs.errors import InputError, LabctlError

if TYPE_CHECKING:
    from labctl.cohorts.registry import Registry

MIGRATION = """
CREATE TABLE pool_accounts (
    account_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    pool TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('available', 'leased', 'cleaning', 'quarantined')),
    cohort TEXT,
    student TEXT,
    note TEXT,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((state = 'available') = (cohort IS NULL))
);
CREATE INDEX pool_accounts_by_pool ON pool_accounts (pool, state);
CREATE UNIQUE INDEX pool_accounts_by_student ON pool_accounts (cohort, student);
CREATE TABLE account_cohorts (
    cohort TEXT PRIMARY KEY REFERENCES cohorts(name) ON DELETE CASCADE,
    pool TEXT NOT NULL
);
"""
"""Appended to the registry's MIGRATIONS: the pool, and which cohorts run one account per student."""

STATES = ("available", "leased", "cleaning", "quarantined")
ISOLATION_MODES = ("shared", "account")
ACCOUNT_ID = re.compile(r"^\d{12}$")
POOL_NAME = re.compile(r"^[a-z][a-z0-9-]{1,31}$")
ACCESS_ROLE = "OrganizationAccountAccessRole"
"""The role AWS Organizations creates in every member account it creates, trusting the management account."""
LABCTL_PATH = "/labctl/"
GRADER_ROLE = "labctl-grader"
STUDENT_ROLE = "labctl-student"
STUDENT_BOUNDARY = "labctl-student-boundary"
"""The managed policy (under LABCTL_PATH) that bounds the student's role in their own account."""
ACCOUNT_COLUMNS = "account_id, email, pool, state, cohort, student, note"


@dataclass(frozen=True)
class PoolEntry:
    """One row of an accounts CSV."""

    account_id: str
    email: str
    line: int


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    pool: str
    state: str
    cohort: str | None
    student: str | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_pool_name(name: str) -> str:
    if not POOL_NAME.match(name):
        raise InputError(f"pool name {name!r} must be 2-32 characters: a lowercase letter, then a-z, 0-9 or '-'",
                         "--pool")
    return name


def check_isolation(isolation: str, pool: str | None, target: str) -> str | None:
    """The pool a cohort leases from (None in shared mode), once the flags agree."""
    if isolation not in ISOLATION_MODES:
        raise InputError(f"unknown isolation {isolation!r} (choose from {', '.join(ISOLATION_MODES)})", "--isolation")
    if isolation == "shared":
        if pool is not None:
            raise InputError("--pool needs --isolation account", "--pool")
        return None
    if target not in ("aws", "emulator"):
        raise InputError(f"--isolation account needs --target aws or emulator, not {target}", "--isolation")
    if pool is None:
        raise InputError("--isolation account needs --pool NAME (labctl accounts list shows the pools)", "--pool")
    return check_pool_name(pool)


def parse_accounts(text: str, where: str) -> tuple[PoolEntry, ...]:
    """Parse accounts CSV text (header `account_id,email` in any case and order; `,`, `;` or tab
    between fields, as a roster). Ids are 12 digits; an id twice in the file is refused at its second
    line. Rows with nothing in them are skipped."""
    entries: list[PoolEntry] = []
    seen: dict[str, int] = {}
    rows = csv_rows(text, where, ("account_id", "email"), "accounts header must have the columns account_id and email")
    for line, row in rows:
        account_id = (row.get("account_id") or "").strip()
        if not ACCOUNT_ID.match(account_id):
            raise InputError(f"account_id {account_id!r} must be 12 digits", f"{where}:{line}")
        if account_id in seen:
            raise InputError(f"account {account_id} is also on line {seen[account_id]}", f"{where}:{line}")
        email = (row.get("email") or "").strip()
        if not email:
            raise InputError("empty email (the account's root email)", f"{where}:{line}")
        seen[account_id] = line
        entries.append(PoolEntry(account_id, roster_email(email, f"{where}:{line}"), line))
    if not entries:
        raise InputError("the file lists no accounts", f"{where}:1")
    return tuple(entries)


def read_accounts(path: Path) -> tuple[PoolEntry, ...]:
    return read_csv_file(path, "accounts", parse_accounts)


def add_accounts(registry: Registry, pool: str, entries: Iterable[PoolEntry], where: str) -> int:
    """Put the accounts into `pool` as available, all or none: an account already in any pool is
    refused at its line of the file."""
    from labctl.cohorts.registry import now

    check_pool_name(pool)
    entries = list(entries)
    registry.ensure_file()
    with registry.transaction() as db:
        for entry in entries:
            row = db.execute("SELECT pool FROM pool_accounts WHERE account_id = ?", (entry.account_id,)).fetchone()
            if row is not None:
                raise InputError(f"account {entry.account_id} is already in pool {row[0]!r}", f"{where}:{entry.line}")
        stamp = now()
        db.executemany(
            "INSERT INTO pool_accounts (account_id, email, pool, state, added_at, updated_at)"
            " VALUES (?, ?, ?, 'available', ?, ?)",
            [(e.account_id, e.email, pool, stamp, stamp) for e in entries],
        )
    return len(entries)


def account_from(row: Any) -> Account:
    return Account(*(row[i] for i in range(7)))


def list_accounts(registry: Registry, pool: str | None = None) -> list[Account]:
    query = f"SELECT {ACCOUNT_COLUMNS} FROM pool_accounts"
    rows = registry.db.execute(query + (" WHERE pool = ?" if pool else "") + " ORDER BY pool, account_id",
                               (pool,) if pool else ())
    return [account_from(r) for r in rows]


def lease(db: Any, pool: str, cohort: str, students: Iterable[Student]) -> dict[str, str]:
    """Lease one available account of `pool` per student, inside the caller's transaction (the cohort's
    creation): student slug → account id. A pool with too few is refused and nothing is leased; an
    account another transaction took meanwhile makes its UPDATE change no row, which is refused too."""
    from labctl.cohorts.registry import now

    students = list(students)
    db.execute("INSERT INTO account_cohorts (cohort, pool) VALUES (?, ?)", (cohort, pool))
    free = [r[0] for r in db.execute(
        "SELECT account_id FROM pool_accounts WHERE pool = ? AND state = 'available' ORDER BY account_id", (pool,))]
    if len(free) < len(students):
        known = db.execute("SELECT COUNT(*) FROM pool_accounts WHERE pool = ?", (pool,)).fetchone()[0]
        if not known:
            raise InputError(f"pool {pool!r} has no accounts (labctl accounts add --pool {pool} --csv FILE)", "--pool")
        raise InputError(f"pool {pool!r} has {len(free)} available account(s), {len(students)} students need one each",
                         "--pool")
    leased = {}
    stamp = now()
    for student, account_id in zip(students, free):
        changed = db.execute(
            "UPDATE pool_accounts SET state = 'leased', cohort = ?, student = ?, note = NULL, updated_at = ?"
            " WHERE account_id = ? AND state = 'available'", (cohort, student.student, stamp, account_id),
        ).rowcount
        if changed != 1:
            raise LabctlError(f"account {account_id} of pool {pool!r} was leased by another cohort meanwhile; retry")
        leased[student.student] = account_id
    return leased


def cohort_pool(registry: Registry, cohort: str) -> str | None:
    """The pool a cohort in account mode leases from; None for a shared-account cohort."""
    row = registry.db.execute("SELECT pool FROM account_cohorts WHERE cohort = ?", (cohort,)).fetchone()
    return row[0] if row else None


def cohort_accounts(registry: Registry, cohort: str) -> dict[str, Account]:
    """Student slug → the account leased to them (leased, cleaning or quarantined)."""
    rows = registry.db.execute(f"SELECT {ACCOUNT_COLUMNS} FROM pool_accounts WHERE cohort = ?", (cohort,))
    return {r[5]: account_from(r) for r in rows}


def set_state(registry: Registry, account_ids: Iterable[str], state: str, note: str | None = None) -> None:
    """Move accounts to `state`; `available` also ends their lease."""
    from labctl.cohorts.registry import now

    if state not in STATES:
        raise ValueError(state)
    ended = ", cohort = NULL, student = NULL" if state == "available" else ""
    with registry.transaction() as db:
        db.executemany(f"UPDATE pool_accounts SET state = ?, note = ?, updated_at = ?{ended} WHERE account_id = ?",
                       [(state, note, now(), account_id) for account_id in account_ids])


def role_arn(account_id: str, role: str = ACCESS_ROLE, path: str = "/") -> str:
    return f"arn:aws:iam::{account_id}:role{path}{role}"


def assumed_session(target: Target, account_id: str, role: str = ACCESS_ROLE, path: str = "/",
                    purpose: str = "labctl") -> boto3.Session:
    """A session in member account `account_id`, through `sts:AssumeRole` of its `role` with the
    instructor's credentials for `target` (on the emulator, moto keeps each account's state apart)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from labctl.cohorts import emulator_client
    from labctl.cohorts.aws_errors import error_text
    from labctl.cohorts.targets import instructor_session

    sts = instructor_session(target).client("sts", endpoint_url=target.endpoint)
    try:
        creds = sts.assume_role(RoleArn=role_arn(account_id, role, path), RoleSessionName=purpose)["Credentials"]
    except (ClientError, BotoCoreError) as exc:
        raise LabctlError(f"cannot assume {role_arn(account_id, role, path)}: {error_text(exc)}") from None
    key, secret, token = creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
    if target.kind == "emulator":
        return emulator_client.session(key, secret, target.region, token)
    return boto3.Session(key, secret, token, target.region)


def grader_session(target: Target, account_id: str) -> boto3.Session:
    """labctl's read-only grader role in the student's account."""
    return assumed_session(target, account_id, GRADER_ROLE, LABCTL_PATH, "labctl-grade")


def student_session(target: Target, account_id: str) -> boto3.Session:
    """The student's own role in their account (broad rights, bounded by the SCPs and the boundary)."""
    return assumed_session(target, account_id, STUDENT_ROLE, LABCTL_PATH, "labctl-student")


def create_member_accounts(target: Target, pool: str, count: int) -> tuple[PoolEntry, ...]:
    """Create `count` member accounts through the Organizations API of `target` (the emulator), the
    organization first if there is none; their ids and emails, ready for `add_accounts`."""
    from botocore.exceptions import BotoCoreError, ClientError

    from labctl.cohorts.aws_errors import error_text
    from labctl.cohorts.targets import instructor_session

    org = instructor_session(target).client("organizations", endpoint_url=target.endpoint)
    try:
        try:
            org.describe_organization()
        except org.exceptions.AWSOrganizationsNotInUseException:
            org.create_organization(FeatureSet="ALL")
        known = {a["Email"] for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]}
        emails = [email for n in range(1, len(known) + count + 1)
                  if (email := f"{pool}-{n:03d}@example.com") not in known][:count]
        entries = []
        for line, email in enumerate(emails, start=1):
            status = org.create_account(Email=email, AccountName=email.split("@")[0], RoleName=ACCESS_ROLE)
            status = status["CreateAccountStatus"]
            while status.get("State") == "IN_PROGRESS":  # real Organizations creates accounts asynchronously
                time.sleep(2)
                status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
            if status.get("State") == "FAILED":
                raise LabctlError(f"creating account {email} failed: {status.get('FailureReason')}")
            entries.append(PoolEntry(status["AccountId"], email, line))
    except (ClientError, BotoCoreError) as exc:
        raise LabctlError(f"Organizations at {target.endpoint}: {error_text(exc)}") from None
    return tuple(entries)
