"""The cohort registry: SQLite (WAL) under the labctl home, or one PostgreSQL database that several
machines share (`LABCTL_DATABASE_URL`, cohorts/database.py). It never holds secrets.

Both run the same migrations and the same SQL. A write transaction holds the whole registry, as SQLite's
`BEGIN IMMEDIATE` does (on PostgreSQL: a transaction-level advisory lock), so a check and the write it
guards never interleave with another machine's. The cohort and grading locks are rows naming their
holder; on PostgreSQL each is also a session-level advisory lock, which the database releases when the
holder's connection ends: a holder that died on any machine is replaced, a live one never is.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from labctl.cohorts import accounts
from labctl.cohorts.backend import Backend
from labctl.cohorts.database import PostgresConnection, database_url, postgres_spelling
from labctl.cohorts.cohort import Cohort, Services, Student, Target
from labctl.cohorts.home import registry_path
from labctl.cohorts.targets import resolve
from labctl.labs.errors import InputError, LabctlError, choices_hint

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cohorts (
        name TEXT PRIMARY KEY,
        labs TEXT NOT NULL,
        target TEXT NOT NULL,
        endpoint TEXT,
        region TEXT NOT NULL,
        profile TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE students (
        cohort TEXT NOT NULL REFERENCES cohorts(name) ON DELETE CASCADE,
        student TEXT NOT NULL,
        roster_id TEXT NOT NULL,
        name TEXT NOT NULL,
        email TEXT NOT NULL,
        prefix TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (cohort, student)
    );
    CREATE TABLE grades (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        cohort TEXT NOT NULL REFERENCES cohorts(name) ON DELETE CASCADE,
        student TEXT NOT NULL,
        lab TEXT NOT NULL,
        graded_at TEXT NOT NULL,
        score INTEGER NOT NULL,
        max_score INTEGER NOT NULL,
        percent REAL NOT NULL,
        passed INTEGER NOT NULL,
        result TEXT NOT NULL,
        UNIQUE (run_id, student, lab)
    );
    CREATE INDEX grades_by_student ON grades (cohort, student, lab, graded_at);
    """,
    """
    ALTER TABLE cohorts ADD COLUMN postgres_dsn TEXT;
    ALTER TABLE cohorts ADD COLUMN kubeconfig TEXT;
    ALTER TABLE cohorts ADD COLUMN kube_context TEXT;
    ALTER TABLE cohorts ADD COLUMN budget_usd REAL;
    ALTER TABLE cohorts ADD COLUMN instructor_email TEXT;
    """,
    # Engine runs: the last operation on each student's stack, and one operation lock per cohort.
    """
    CREATE TABLE stack_status (
        cohort TEXT NOT NULL REFERENCES cohorts(name) ON DELETE CASCADE,
        student TEXT NOT NULL,
        operation TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
        started_at TEXT,
        duration_s REAL,
        error TEXT,
        changes TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (cohort, student)
    );
    CREATE TABLE cohort_locks (
        cohort TEXT PRIMARY KEY REFERENCES cohorts(name) ON DELETE CASCADE,
        operation TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at TEXT NOT NULL
    );
    """,
    # Leases: when a cohort's stacks expire (UTC, ISO 8601); NULL means no lease.
    """
    ALTER TABLE cohorts ADD COLUMN lease_expires TEXT;
    """,
    # Grading runs: one at a time per cohort, apart from the engine's lock (grading may run during `up`).
    """
    CREATE TABLE grading_locks (
        cohort TEXT PRIMARY KEY REFERENCES cohorts(name) ON DELETE CASCADE,
        run_id TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at TEXT NOT NULL
    );
    """,
    # A student's current lab: what their stack holds, or is being brought to, or last held before a
    # destroy (so `up` and `reset` rebuild it). Stacks from before this were single-lab cohorts' only lab.
    """
    ALTER TABLE stack_status ADD COLUMN lab TEXT;
    UPDATE stack_status SET lab = (SELECT json_extract(c.labs, '$[0]') FROM cohorts c WHERE c.name = stack_status.cohort
        AND json_array_length(c.labs) = 1) WHERE lab IS NULL;
    """,
    # An error is not a grade: a student who could not be graded has no score, only the reason.
    """
    CREATE TABLE grades_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        cohort TEXT NOT NULL REFERENCES cohorts(name) ON DELETE CASCADE,
        student TEXT NOT NULL,
        lab TEXT NOT NULL,
        graded_at TEXT NOT NULL,
        score INTEGER,
        max_score INTEGER,
        percent REAL,
        passed INTEGER,
        error TEXT,
        result TEXT NOT NULL,
        UNIQUE (run_id, student, lab),
        CHECK ((error IS NULL) = (score IS NOT NULL))
    );
    INSERT INTO grades_v2 (id, run_id, cohort, student, lab, graded_at, score, max_score, percent, passed, result)
        SELECT id, run_id, cohort, student, lab, graded_at, score, max_score, percent, passed, result FROM grades;
    DROP TABLE grades;
    ALTER TABLE grades_v2 RENAME TO grades;
    CREATE INDEX grades_by_student ON grades (cohort, student, lab, graded_at);
    """,
    # `--target emulator` means labctl's own emulator wherever it listens: cohorts that recorded the
    # default port follow it from now on (NULL = resolved when used).
    """
    UPDATE cohorts SET endpoint = NULL WHERE target = 'emulator' AND endpoint = 'http://127.0.0.1:4566';
    """,
    # Portal sign-in tokens: one per student, only its SHA-256 (a new token replaces the old one).
    """
    CREATE TABLE portal_tokens (
        cohort TEXT NOT NULL,
        student TEXT NOT NULL,
        token_sha256 TEXT NOT NULL UNIQUE,
        issued_at TEXT NOT NULL,
        PRIMARY KEY (cohort, student),
        FOREIGN KEY (cohort, student) REFERENCES students(cohort, student) ON DELETE CASCADE
    );
    """,
    # A student's own check (the portal) locks that student only: checks of different students run
    # side by side, and a second check of the same student waits or is refused.
    """
    CREATE TABLE student_grading_locks (
        cohort TEXT NOT NULL,
        student TEXT NOT NULL,
        run_id TEXT NOT NULL,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        acquired_at TEXT NOT NULL,
        PRIMARY KEY (cohort, student),
        FOREIGN KEY (cohort, student) REFERENCES students(cohort, student) ON DELETE CASCADE
    );
    """,
    # One AWS account per student: the account pool and the cohorts that lease from it.
    accounts.MIGRATION,
    # Past one machine: where a cohort's Pulumi state lives (never a passphrase: the name of the variable
    # that holds it), and the cluster whose Pulumi Kubernetes Operator runs its stacks.
    """
    CREATE TABLE cohort_backends (
        cohort TEXT PRIMARY KEY REFERENCES cohorts(name) ON DELETE CASCADE,
        url TEXT NOT NULL,
        org TEXT,
        secrets_provider TEXT NOT NULL,
        passphrase_env TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE cohort_operators (
        cohort TEXT PRIMARY KEY REFERENCES cohorts(name) ON DELETE CASCADE,
        namespace TEXT NOT NULL,
        kubeconfig TEXT,
        kube_context TEXT,
        exported_at TEXT NOT NULL
    );
    """,
    # Where students reach the cohort's cloud when it is not where the instructor does (a classroom's
    # emulator on the instructor's LAN address); NULL: the target's own endpoint.
    """
    ALTER TABLE cohorts ADD COLUMN public_endpoint TEXT;
    """,
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Registry:
    """Cohorts, students and grade history. One connection per instance; use as a context manager."""

    def __init__(self, path: Path | None = None, shared: bool = True):
        """The registry of `LABCTL_DATABASE_URL` when it is set (and `shared`), else the SQLite file `path`
        (default: the home's)."""
        self.url = database_url() if shared else None
        self.path = Path(path) if path else registry_path()
        self.held: set[int] = set()
        """The advisory locks this connection holds (PostgreSQL)."""
        if self.url:
            self.db = PostgresConnection(self.url)
            self.migrate()
            return
        # Until a cohort is recorded there is nothing to keep: reading a home that has no registry
        # (a mistyped --cohort on a new machine) must not write one.
        self.connect(self.path if self.path.exists() else ":memory:")

    @property
    def shared(self) -> bool:
        """Whether the registry is the PostgreSQL database (else SQLite under the home)."""
        return self.url is not None

    def connect(self, target: Path | str) -> None:
        self.db = sqlite3.connect(target, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.migrate()

    def ensure_file(self) -> None:
        """Move from the empty in-memory stand-in to the file, created 0600 under a 0700 home."""
        if self.shared or self.path.exists():
            return
        self.db.close()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        self.connect(self.path)

    def __enter__(self) -> "Registry":
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self.shared:
            self.db.execute("BEGIN")
            self.db.execute("SELECT pg_advisory_xact_lock(?)", (self.db.lock_key("registry"),))
        else:
            self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def migrate(self) -> None:
        with self.transaction() as db:
            version = self.schema_version()
            if version > len(MIGRATIONS):
                where = self.db.where if self.shared else self.path
                raise LabctlError(f"registry {where} is from a newer labctl (schema {version})")
            for script in MIGRATIONS[version:]:
                for statement in filter(str.strip, (postgres_spelling(script) if self.shared else script).split(";")):
                    db.execute(statement)
            self.set_schema_version(len(MIGRATIONS))

    def schema_version(self) -> int:
        """How many MIGRATIONS the registry has run: SQLite's user_version, PostgreSQL's schema_version row."""
        if not self.shared:
            return self.db.execute("PRAGMA user_version").fetchone()[0]
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        return row[0] if row else 0

    def set_schema_version(self, version: int) -> None:
        if not self.shared:
            self.db.execute(f"PRAGMA user_version = {version}")
            return
        self.db.execute("DELETE FROM schema_version")
        self.db.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))

    def create_cohort(self, cohort: Cohort, pool: str | None = None) -> dict[str, str]:
        """Record the cohort; with `pool` (isolation mode `account`) lease each student an account of
        it in the same transaction. Returns student slug → leased account id."""
        self.ensure_file()
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM cohorts WHERE name = ?", (cohort.name,)).fetchone():
                raise InputError(f"cohort {cohort.name!r} already exists", "NAME")
            for (other,) in db.execute("SELECT name FROM cohorts"):
                if other.startswith(cohort.name + "-") or cohort.name.startswith(other + "-"):
                    raise InputError(
                        f"cohort {cohort.name!r} and existing cohort {other!r} would share resource prefixes"
                        f" ({cohort.name}-… vs {other}-…); choose a name that is not the other plus '-…'",
                        "NAME",
                    )
            t, s = cohort.target, cohort.services
            db.execute(
                "INSERT INTO cohorts (name, labs, target, endpoint, region, profile, created_at, postgres_dsn,"
                " kubeconfig, kube_context, budget_usd, instructor_email) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (cohort.name, json.dumps(cohort.labs), t.kind, t.endpoint, t.region, t.profile, now(),
                 s.postgres_dsn, s.kubeconfig, s.kube_context, cohort.budget_usd, cohort.instructor_email),
            )
            db.executemany(
                "INSERT INTO students VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (cohort.name, s.student, s.roster_id, s.name, s.email, s.prefix, i)
                    for i, s in enumerate(cohort.students)
                ],
            )
            return accounts.lease(db, pool, cohort.name, cohort.students) if pool else {}

    def cohort(self, name: str) -> Cohort:
        row = self.db.execute("SELECT * FROM cohorts WHERE name = ?", (name,)).fetchone()
        if row is None:
            known = [r[0] for r in self.db.execute("SELECT name FROM cohorts ORDER BY name")]
            hint = choices_hint(name, known) or " (create one with `labctl cohort create`)"
            raise InputError(f"unknown cohort {name!r}{hint}", "--cohort")
        students = tuple(
            Student(r["student"], r["roster_id"], r["name"], r["email"], r["prefix"])
            for r in self.db.execute(
                "SELECT * FROM students WHERE cohort = ? ORDER BY position", (name,)
            )
        )
        target = resolve(Target(row["target"], row["endpoint"], row["region"], row["profile"]))
        services = Services(row["postgres_dsn"], row["kubeconfig"], row["kube_context"])
        return Cohort(
            row["name"], tuple(json.loads(row["labs"])), target, students, services, row["budget_usd"],
            row["instructor_email"], row["public_endpoint"],
        )

    def delete_cohort(self, name: str) -> int:
        """Delete a cohort with its students, grades, stack statuses and locks; the number of grade
        results that went with it."""
        with self.transaction() as db:
            grades = db.execute("SELECT COUNT(*) FROM grades WHERE cohort = ?", (name,)).fetchone()[0]
            db.execute("DELETE FROM cohorts WHERE name = ?", (name,))
        return grades

    def cohort_names(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT name FROM cohorts ORDER BY name")]

    def record_grade(self, run_id: str, cohort: str, result: dict) -> None:
        """Commit one student's graded result at once, so an interrupted run keeps it. A result
        with an `error` (the student could not be graded) is stored without a score."""
        error = result.get("error")
        passed = None if error else int(result["passed"])
        row = {"run_id": run_id, "student": result["student"], "lab": result["lab"], "cohort": cohort,
               "graded_at": result["graded_at"], "score": result.get("score"), "max_score": result.get("max_score"),
               "percent": result.get("percent"), "passed": passed, "error": error,
               "result": json.dumps(result, sort_keys=True)}
        with self.transaction() as db:
            db.execute(upsert("grades", ("run_id", "student", "lab"), row), tuple(row.values()))

    def grade_history(self, cohort: str, student: str | None = None) -> list[dict]:
        """Runs oldest first (in the order they began); within a run, roster order, then lab."""
        query = (
            "SELECT g.run_id, g.result FROM grades g LEFT JOIN students s ON s.cohort = g.cohort AND s.student = g.student"
            " WHERE g.cohort = ?" + (" AND g.student = ?" if student else "")
        )
        args = (cohort, student) if student else (cohort,)
        run_began = "(SELECT MIN(id) FROM grades first WHERE first.run_id = g.run_id)"
        rows = self.db.execute(query + f" ORDER BY {run_began}, s.position, g.lab", args)
        return [{**json.loads(r["result"]), "run_id": r["run_id"]} for r in rows]

    def grade_run(self, cohort: str, run: str | None = None) -> list[dict]:
        """The stored results of one grading run (the latest, or the one whose id starts with
        `run`), roster order, then lab; what `grade_history` returns for that run."""
        runs = [r[0] for r in self.db.execute(
            "SELECT run_id FROM grades WHERE cohort = ? GROUP BY run_id ORDER BY MIN(id) DESC", (cohort,))]
        if not runs:
            raise InputError(f"cohort {cohort!r} has no grading run yet (labctl grade --cohort {cohort})", "--cohort")
        chosen = [r for r in runs if r.startswith(run)] if run else runs[:1]
        if len(chosen) != 1:
            problem = "matches several runs" if chosen else "is no grading run of this cohort"
            raise InputError(f"{run!r} {problem} (see labctl grades history --cohort {cohort})", "--run")
        return [entry for entry in self.grade_history(cohort) if entry["run_id"] == chosen[0]]

    def set_portal_tokens(self, cohort: str, hashes: dict[str, str]) -> None:
        """Student slug → the SHA-256 of their new portal token; each replaces the student's old one."""
        columns = ("cohort", "student", "token_sha256", "issued_at")
        with self.transaction() as db:
            db.executemany(upsert("portal_tokens", columns[:2], dict.fromkeys(columns)),
                           [(cohort, student, digest, now()) for student, digest in hashes.items()])

    def portal_student(self, token_sha256: str) -> tuple[str, str] | None:
        """(cohort, student) whose current portal token has this SHA-256, or None."""
        row = self.db.execute("SELECT cohort, student FROM portal_tokens WHERE token_sha256 = ?", (token_sha256,)).fetchone()
        return (row["cohort"], row["student"]) if row else None

    def set_stack_status(
        self, cohort: str, student: str, operation: str, status: str, *, started_at: str | None = None,
        duration_s: float | None = None, error: str | None = None, changes: dict[str, int] | None = None,
        lab: str | None = None,
    ) -> None:
        """Record the state of `operation` on one student's stack; `error` keeps its first line only.
        `lab` becomes the student's current lab; without it the current lab stays as it was."""
        first_line = error.strip().splitlines()[0] if error and error.strip() else None
        with self.transaction() as db:
            db.execute(
                "INSERT INTO stack_status (cohort, student, operation, status, started_at, duration_s, error, changes,"
                " updated_at, lab) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cohort, student) DO UPDATE SET"
                " operation = excluded.operation, status = excluded.status, started_at = excluded.started_at,"
                " duration_s = excluded.duration_s, error = excluded.error, changes = excluded.changes,"
                " updated_at = excluded.updated_at, lab = COALESCE(excluded.lab, stack_status.lab)",
                (cohort, student, operation, status, started_at, duration_s, first_line,
                 json.dumps(changes, sort_keys=True) if changes is not None else None, now(), lab),
            )

    def stack_statuses(self, cohort: str) -> dict[str, dict]:
        """Student slug → its last recorded stack operation and current lab (students never run are absent)."""
        rows = self.db.execute("SELECT * FROM stack_status WHERE cohort = ?", (cohort,))
        return {
            r["student"]: {
                "operation": r["operation"],
                "status": r["status"],
                "started_at": r["started_at"],
                "duration_s": r["duration_s"],
                "error": r["error"],
                "changes": json.loads(r["changes"]) if r["changes"] else {},
                "updated_at": r["updated_at"],
                "lab": r["lab"],
            }
            for r in rows
        }

    def current_labs(self, cohort: str) -> dict[str, str]:
        """Student slug → the lab their stack holds (or is being brought to); students without one are absent."""
        rows = self.db.execute("SELECT student, lab FROM stack_status WHERE cohort = ? AND lab IS NOT NULL", (cohort,))
        return {r["student"]: r["lab"] for r in rows}

    def current_lab(self, cohort: str, student: str) -> str | None:
        return self.current_labs(cohort).get(student)

    def acquire_cohort_lock(self, cohort: str, operation: str) -> None:
        """Take the cohort's operation lock, or refuse with who holds it. A holder that died is replaced."""
        row = self.claim("cohort_locks", {"cohort": cohort}, {"operation": operation})
        if row is not None:
            doing = f"`{row['operation']}` has run" if row else "it is held"
            raise LabctlError(f"cohort {cohort!r} is busy: {doing} {held_since(row)}; wait for it to finish, then retry")

    def release_cohort_lock(self, cohort: str) -> None:
        self.release("cohort_locks", {"cohort": cohort}, {"pid": os.getpid()})

    def acquire_grading_lock(self, cohort: str, run_id: str, wait: bool = False, poll_s: float = 0.5) -> None:
        """Take the cohort's grading lock; if another live run holds it, refuse in one line, or with
        `wait` poll until it is free. A holder that died (kill -9) on this host is replaced."""
        self.take_lock("grading_locks", {"cohort": cohort}, run_id, wait, poll_s, f"cohort {cohort!r}")

    def release_grading_lock(self, cohort: str, run_id: str) -> None:
        self.release("grading_locks", {"cohort": cohort}, {"run_id": run_id})

    def acquire_student_grading_lock(self, cohort: str, student: str, run_id: str, wait: bool = False,
                                     poll_s: float = 0.1) -> None:
        """Take one student's grading lock (their own check), as `acquire_grading_lock` does a cohort's."""
        self.take_lock("student_grading_locks", {"cohort": cohort, "student": student}, run_id, wait, poll_s,
                       f"student {student!r} of cohort {cohort!r}")

    def release_student_grading_lock(self, cohort: str, student: str, run_id: str) -> None:
        self.release("student_grading_locks", {"cohort": cohort, "student": student}, {"run_id": run_id})

    def take_lock(self, table: str, key: dict[str, str], run_id: str, wait: bool, poll_s: float, what: str) -> None:
        while True:
            row = self.claim(table, key, {"run_id": run_id})
            if row is None:
                return
            if not wait:
                raise LabctlError(f"{what} is being graded {held_since(row)}; rerun with --wait to wait for it")
            time.sleep(poll_s)

    def claim(self, table: str, key: dict[str, str], held_for: dict[str, str]) -> dict | None:
        """Take the lock `key` of `table` for this process (its row records `held_for`, pid, host and when),
        replacing a holder that died. None when taken; else the live holder's row ({} when PostgreSQL
        knows a holder whose row was removed, e.g. by `labctl unlock`)."""
        host = socket.gethostname()
        where = " AND ".join(f"{column} = ?" for column in key)
        with self.transaction() as db:
            row = db.execute(f"SELECT * FROM {table} WHERE {where}", tuple(key.values())).fetchone()
            if not self.free(table, key, row, host):
                return dict(row) if row is not None else {}
            values = {**key, **held_for, "pid": os.getpid(), "host": host, "acquired_at": now()}
            db.execute(upsert(table, tuple(key), values), tuple(values.values()))
        return None

    def free(self, table: str, key: dict[str, str], row, host: str) -> bool:
        """Whether the lock can be taken. On SQLite: nobody holds it, or its holder was a process of this
        host that died (another host's holder counts as alive). On PostgreSQL: nobody else's session holds
        its advisory lock (then this connection holds it from now on), and this process's row is not in it."""
        if not self.shared:
            return row is None or (row["host"] == host and not pid_alive(row["pid"]))
        lock = self.db.lock_key(table, *key.values())
        if lock not in self.held:
            if not self.db.execute("SELECT pg_try_advisory_lock(?)", (lock,)).fetchone()[0]:
                return False
            self.held.add(lock)
        return row is None or not (row["host"] == host and row["pid"] == os.getpid())

    def release(self, table: str, key: dict[str, str], held_for: dict[str, Any]) -> None:
        """Remove the lock's row if `held_for` matches it; on PostgreSQL let go of the advisory lock once
        no row holds it."""
        by_key = " AND ".join(f"{column} = ?" for column in key)
        by_holder = " AND ".join(f"{column} = ?" for column in held_for)
        with self.transaction() as db:
            db.execute(f"DELETE FROM {table} WHERE {by_key} AND {by_holder}", (*key.values(), *held_for.values()))
            left = db.execute(f"SELECT 1 FROM {table} WHERE {by_key}", tuple(key.values())).fetchone()
        lock = self.db.lock_key(table, *key.values()) if self.shared else None
        if lock in self.held and left is None:
            self.db.execute("SELECT pg_advisory_unlock(?)", (lock,))
            self.held.discard(lock)

    def set_backend(self, cohort: str, backend: Backend) -> None:
        """Record where the cohort's Pulumi state lives; the passphrase itself is never given here."""
        with self.transaction() as db:
            values = {"cohort": cohort, "url": backend.url, "org": backend.org,
                      "secrets_provider": backend.secrets_provider,
                      "passphrase_env": backend.to_dict()["passphrase_env"], "updated_at": now()}
            db.execute(upsert("cohort_backends", ("cohort",), values), tuple(values.values()))

    def backend(self, cohort: str) -> Backend | None:
        """The cohort's recorded backend, or None (the home's file backend)."""
        row = self.db.execute("SELECT * FROM cohort_backends WHERE cohort = ?", (cohort,)).fetchone()
        if row is None:
            return None
        optional = {"passphrase_env": row["passphrase_env"]} if row["passphrase_env"] else {}
        return Backend(row["url"], row["org"], row["secrets_provider"], **optional)

    def set_operator(self, cohort: str, namespace: str, kubeconfig: str | None, kube_context: str | None) -> None:
        """Record the cluster and namespace whose operator runs the cohort's stacks (`up --via operator`)."""
        with self.transaction() as db:
            values = {"cohort": cohort, "namespace": namespace, "kubeconfig": kubeconfig,
                      "kube_context": kube_context, "exported_at": now()}
            db.execute(upsert("cohort_operators", ("cohort",), values), tuple(values.values()))

    def operator(self, cohort: str) -> dict | None:
        """namespace, kubeconfig, kube_context and exported_at of the cohort's operator, or None."""
        row = self.db.execute("SELECT * FROM cohort_operators WHERE cohort = ?", (cohort,)).fetchone()
        return {k: row[k] for k in ("namespace", "kubeconfig", "kube_context", "exported_at")} if row else None

    def set_public_endpoint(self, cohort: str, url: str | None) -> None:
        """What students are shown as the cohort's endpoint; None: the target's own."""
        with self.transaction() as db:
            if db.execute("UPDATE cohorts SET public_endpoint = ? WHERE name = ?", (url, cohort)).rowcount != 1:
                raise InputError(f"unknown cohort {cohort!r}", "NAME")

    def set_lease(self, cohort: str, expires: str | None) -> None:
        with self.transaction() as db:
            db.execute("UPDATE cohorts SET lease_expires = ? WHERE name = ?", (expires, cohort))

    def lease(self, cohort: str) -> str | None:
        row = self.db.execute("SELECT lease_expires FROM cohorts WHERE name = ?", (cohort,)).fetchone()
        return row[0] if row else None

    def leases(self) -> dict[str, str]:
        """Cohort → lease end, for every cohort that has a lease."""
        rows = self.db.execute("SELECT name, lease_expires FROM cohorts WHERE lease_expires IS NOT NULL ORDER BY name")
        return {r[0]: r[1] for r in rows}

    def cohort_lock(self, cohort: str) -> dict | None:
        """Who holds the cohort's operation lock, with `alive`: on SQLite whether a process of this host
        still runs (None for another host's); on PostgreSQL whether any session still holds it."""
        row = self.db.execute("SELECT * FROM cohort_locks WHERE cohort = ?", (cohort,)).fetchone()
        if row is None:
            return None
        local = row["host"] == socket.gethostname()
        if self.shared:
            return {**dict(row), "local": local, "alive": self.lock_held("cohort_locks", cohort)}
        return {**dict(row), "local": local, "alive": pid_alive(row["pid"]) if local else None}

    def lock_held(self, table: str, *key: str) -> bool:
        """Whether a session holds the advisory lock of `key` (PostgreSQL): this one, or another."""
        lock = self.db.lock_key(table, *key)
        if lock in self.held:
            return True
        if self.db.execute("SELECT pg_try_advisory_lock(?)", (lock,)).fetchone()[0]:
            self.db.execute("SELECT pg_advisory_unlock(?)", (lock,))
            return False
        return True

    def break_cohort_lock(self, cohort: str) -> None:
        """Remove the cohort's lock whoever holds it (`labctl unlock`, after a crash)."""
        with self.transaction() as db:
            db.execute("DELETE FROM cohort_locks WHERE cohort = ?", (cohort,))


def import_home(target: Registry, path: Path) -> dict[str, int]:
    """Copy the SQLite registry at `path` (brought to the current schema first) into the shared database
    `target`, in one transaction; table → rows copied. Refused (exit 2) unless `target` is PostgreSQL and
    holds no cohort yet. Grade ids are kept (runs stay in the order they began) and the id sequence is
    moved past them."""
    if not target.shared:
        raise InputError("set LABCTL_DATABASE_URL to the PostgreSQL database to import into", "LABCTL_DATABASE_URL")
    if not path.is_file():
        raise InputError(f"no registry at {path}", "--from")
    with Registry(path, shared=False) as home:
        tables = [r[0] for r in home.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]
        with target.transaction() as db:
            if db.execute("SELECT 1 FROM cohorts").fetchone():
                raise InputError(f"{target.db.where} already holds cohorts: import into an empty database",
                                 "LABCTL_DATABASE_URL")
            counts = {table: copy_table(home, db, table) for table in tables}
            db.execute("SELECT setval(pg_get_serial_sequence('grades', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                       " FROM grades")
    return counts


def copy_table(source: Registry, db: Any, table: str) -> int:
    rows = source.db.execute(f"SELECT * FROM {table}").fetchall()
    if rows:
        columns = rows[0].keys()
        db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                       [tuple(row) for row in rows])
    return len(rows)


def upsert(table: str, key: tuple[str, ...], values: dict[str, Any]) -> str:
    """INSERT of `values` (their keys are the columns), updating the row whose `key` columns match:
    SQLite and PostgreSQL both run it."""
    updates = ", ".join(f"{column} = excluded.{column}" for column in values if column not in key)
    return (f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join('?' * len(values))})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}")


def held_since(row: dict) -> str:
    """`since <when> (pid <pid> on <host>)` of a lock's holder, for a refusal."""
    if not row:
        return "by another labctl whose record was removed"
    return f"since {row['acquired_at']} (pid {row['pid']} on {row['host']})"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
