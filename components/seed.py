"""Load a lab's starting data (`environment.database.seed`) into one student's database.

The seed runs as the student's own role, connected to the student's database: it can do nothing
the student could not, and every table it creates belongs to the student (who may then alter,
index or grant it as the lab asks). One transaction: a seed that fails leaves nothing behind.
"""

from __future__ import annotations

from pathlib import Path

from labctl.labs.errors import InputError, LabctlError

CONNECT_TIMEOUT_S = 10
SEED_STATEMENT_TIMEOUT_S = 120
"""Generous for a seed of a few hundred thousand rows; a seed that hangs fails provisioning instead."""


def seed_path(lab_folder: Path, seed_file: str) -> Path:
    """The seed file inside the lab folder; a path that leaves the folder or is missing is an error."""
    folder = Path(lab_folder).resolve()
    path = (folder / seed_file).resolve()
    if folder not in path.parents:
        raise InputError("the seed file must be inside the lab folder", f"{lab_folder}/{seed_file}")
    if not path.is_file():
        raise InputError("seed file not found", str(path))
    return path


def student_conninfo(admin_dsn: str, student_database: str, password: str | None = None) -> str:
    """The admin DSN's server and options, as the student's role (named like the database) on the
    student's database; the admin's password is never sent for the student."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = {k: v for k, v in conninfo_to_dict(admin_dsn).items() if k not in ("password", "user", "dbname")}
    if password is not None:
        params["password"] = password
    params.setdefault("connect_timeout", str(CONNECT_TIMEOUT_S))
    params.setdefault("application_name", "labctl-seed")
    return make_conninfo("", user=student_database, dbname=student_database, **params)


def seed_student_database(
    admin_dsn: str,
    student_database: str,
    lab_folder: Path,
    seed_file: str,
    *,
    password: str | None = None,
) -> None:
    """Run `lab_folder/seed_file` in `student_database` as the role of the same name, in one transaction.

    `admin_dsn` supplies the server (host, port, sslmode, ...); the user and database become the
    student's. The student's password is `password` when given, else whatever libpq finds
    (PGPASSWORD, ~/.pgpass), as for any connection.

    Provisioning may run it again (a retried `up`, a `reset`), so a seed must be idempotent:
    `CREATE TABLE IF NOT EXISTS`, then replace its rows (`DELETE`/`TRUNCATE` before `INSERT`),
    deterministic data (no `random()`), and `ANALYZE` when a lab depends on the planner's
    statistics. A seed must not drop or replace what the student builds on top of its tables.
    """
    import psycopg

    script = seed_path(lab_folder, seed_file).read_text(encoding="utf-8")
    conninfo = student_conninfo(admin_dsn, student_database, password)
    try:
        with psycopg.connect(conninfo, autocommit=False) as conn:
            conn.execute(f"SET LOCAL statement_timeout = {SEED_STATEMENT_TIMEOUT_S * 1000}")
            conn.execute(script.encode("utf-8"))
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LabctlError(f"seeding database {student_database} with {seed_file} failed: {first}") from None
