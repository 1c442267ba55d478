"""Collect a cohort's student databases: catalog facts plus behaviour probes that never persist.

One admin connection lists which student databases exist; then one connection per existing
database (bounded concurrency) reads the `public` schema's catalog and runs the probes the checks
ask for, all inside one transaction that is always rolled back, with `SET LOCAL statement_timeout`
and `lock_timeout`. The probes run as the student's own role (`SET LOCAL ROLE`, the role named
like the database): student SQL (views, triggers, functions) never runs with the grader's
privileges. A failure in one database is recorded on its inventory; a failed listing propagates.

The admin DSN is the cohort's `--postgres-dsn`; its password comes from PGPASSWORD or ~/.pgpass
as libpq does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from labs.errors import LabctlError
from validators.collectors.base import CollectRequest
from validators.inventory.postgres import (
    FIXTURE_CUSTOMERS,
    FIXTURE_ORDERS,
    MAX_VIEW_ROWS,
    PROBE_TIMEOUT_S,
    Column,
    ForeignKey,
    PostgresInventory,
    PostgresSnapshot,
    Probe,
    Relation,
    database_for,
    insert_probe_key,
    select_probe_key,
)

CONNECT_TIMEOUT_S = 5
MAX_CONNECTIONS = 4
MAX_CATALOG_ROWS = 5000
REJECTING_STATES = frozenset({"23514", "P0001"})
"""check_violation, or an exception raised by a trigger: the database refused the row."""

COLUMNS_SQL = """
SELECT c.relname, c.relkind, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
ORDER BY c.relname, a.attnum
LIMIT %s
"""
CONSTRAINTS_SQL = """
SELECT c.relname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord),
       rn.nspname, rc.relname,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(num, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
WHERE n.nspname = 'public' AND con.contype IN ('p', 'f')
LIMIT %s
"""
INDEXES_SQL = """
SELECT t.relname, a.attname
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
WHERE n.nspname = 'public' AND x.indisvalid
LIMIT %s
"""


class ProbeFailed(Exception):
    def __init__(self, probe: Probe):
        self.probe = probe


def admin_dsn_of(request: CollectRequest, admin_dsn: str | None) -> str:
    dsn = admin_dsn or request.postgres_dsn
    if not dsn:
        raise LabctlError(f"cohort {request.cohort} has no PostgreSQL server (cohort create --postgres-dsn)")
    return dsn


def connect(dsn: str, database: str | None = None) -> psycopg.Connection:
    extra: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "labctl-grader"}
    if database is not None:
        extra["dbname"] = database
    return psycopg.connect(make_conninfo(dsn, **extra), autocommit=False)


def existing_databases(dsn: str, names: list[str]) -> set[str]:
    conn = connect(dsn)
    try:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)", (names,)).fetchall()
        return {r[0] for r in rows}
    finally:
        conn.rollback()
        conn.close()


def read_catalog(conn: psycopg.Connection) -> dict[str, Relation]:
    columns: dict[str, dict[str, Column]] = {}
    kinds: dict[str, str] = {}
    for relname, relkind, attname, type_, not_null in conn.execute(COLUMNS_SQL, (MAX_CATALOG_ROWS,)):
        kinds[relname] = "view" if relkind in ("v", "m") else "table"
        columns.setdefault(relname, {})[attname] = Column(attname, type_, bool(not_null))
    primary: dict[str, tuple[str, ...]] = {}
    foreign: dict[str, list[ForeignKey]] = {}
    for relname, contype, cols, ref_schema, ref_table, ref_cols in conn.execute(
        CONSTRAINTS_SQL, (MAX_CATALOG_ROWS,)
    ):
        if contype == "p":
            primary[relname] = tuple(cols)
        else:
            name = ref_table if ref_schema == "public" else f"{ref_schema}.{ref_table}"
            foreign.setdefault(relname, []).append(ForeignKey(tuple(cols), name, tuple(ref_cols)))
    leading: dict[str, set[str]] = {}
    for relname, first in conn.execute(INDEXES_SQL, (MAX_CATALOG_ROWS,)):
        if first is not None:
            leading.setdefault(relname, set()).add(first)
    return {
        name: Relation(
            name=name,
            kind=kinds[name],  # type: ignore[arg-type]
            columns=cols,
            primary_key=primary.get(name, ()),
            foreign_keys=tuple(foreign.get(name, ())),
            index_first_columns=frozenset(leading.get(name, ())),
        )
        for name, cols in columns.items()
    }


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def savepoint(conn: psycopg.Connection, name: str) -> Iterator[None]:
    """Run a probe step in a savepoint that is always rolled back to; failures become ProbeFailed."""
    conn.execute(sql.SQL("SAVEPOINT {}").format(sql.Identifier(name)))
    try:
        yield
    except errors.QueryCanceled:
        raise ProbeFailed(Probe("timeout", f"did not finish within {PROBE_TIMEOUT_S} s")) from None
    except errors.LockNotAvailable:
        raise ProbeFailed(Probe("timeout", f"waited more than {PROBE_TIMEOUT_S} s for a lock")) from None
    except psycopg.Error as exc:
        state = getattr(exc, "sqlstate", None) or ""
        status = "rejected" if state in REJECTING_STATES else "error"
        raise ProbeFailed(Probe(status, f"{first_line(exc)} (SQLSTATE {state})")) from None
    finally:
        conn.execute(sql.SQL("ROLLBACK TO SAVEPOINT {}").format(sql.Identifier(name)))


def load_fixture(conn: psycopg.Connection, customers: str, orders: str) -> None:
    """Empty both tables and fill them with the grader's rows (inside the caller's transaction)."""
    conn.execute(sql.SQL("DELETE FROM public.{}").format(sql.Identifier(orders)))
    conn.execute(sql.SQL("DELETE FROM public.{}").format(sql.Identifier(customers)))
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL(
                "INSERT INTO public.{} (id, name, country) OVERRIDING SYSTEM VALUE VALUES (%s, %s, %s)"
            ).format(sql.Identifier(customers)),
            FIXTURE_CUSTOMERS,
        )
        cur.executemany(
            sql.SQL(
                "INSERT INTO public.{} (id, customer_id, amount, created_at) OVERRIDING SYSTEM VALUE "
                "VALUES (%s, %s, %s, %s)"
            ).format(sql.Identifier(orders)),
            FIXTURE_ORDERS,
        )


def insert_order(conn: psycopg.Connection, orders: str, column: str, value: Decimal, order_id: int) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO public.{} (id, customer_id, {}, created_at) OVERRIDING SYSTEM VALUE "
            "VALUES (%s, %s, %s, now())"
        ).format(sql.Identifier(orders), sql.Identifier(column)),
        (order_id, FIXTURE_CUSTOMERS[0][0], value),
    )


def select_view(conn: psycopg.Connection, view: str) -> Probe:
    with conn.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT customer_id, total_amount, rank FROM public.{} LIMIT %s").format(
                sql.Identifier(view)
            ),
            (MAX_VIEW_ROWS + 1,),
        )
        rows = cur.fetchall()
    return Probe(
        "accepted", rows=tuple(tuple(r) for r in rows[:MAX_VIEW_ROWS]), truncated=len(rows) > MAX_VIEW_ROWS
    )


@dataclass(frozen=True)
class ProbePlan:
    """Which probes the graded checks ask for, gathered from their params (`inserts()`, `views()`).

    The fixture tables are the lab's schema: customers(id, name, country) and
    orders(id, customer_id, amount, created_at).
    """

    inserts: tuple[tuple[str, str, Decimal], ...]
    views: tuple[str, ...]
    customers: str = "customers"
    orders: str = "orders"


def probe_plan(wanted: tuple[Any, ...]) -> ProbePlan:
    inserts = [probe for params in wanted for probe in getattr(params, "inserts", lambda: ())()]
    views = [view for params in wanted for view in getattr(params, "views", lambda: ())()]
    return ProbePlan(tuple(dict.fromkeys(inserts)), tuple(dict.fromkeys(views)))


def run_probes(
    conn: psycopg.Connection,
    role: str | None,
    relations: dict[str, Relation],
    plan: ProbePlan,
) -> dict[str, Probe]:
    """Every probe's outcome; the caller rolls the whole transaction back afterwards."""
    keys = [insert_probe_key(t, c, v) for t, c, v in plan.inserts] + [select_probe_key(v) for v in plan.views]
    if not keys:
        return {}
    if role is None:
        return {
            k: Probe("not-run", "the student's role does not exist, so the probes were not run") for k in keys
        }
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    missing = [t for t in (plan.customers, plan.orders) if t not in relations or relations[t].kind != "table"]
    if missing:
        reason = f"table {missing[0]} does not exist, so the grader's fixture cannot be loaded"
        return {k: Probe("skipped", reason) for k in keys}
    probes: dict[str, Probe] = {}
    try:
        with savepoint(conn, "labctl_fixture"):
            load_fixture(conn, plan.customers, plan.orders)
            for number, (table, column, value) in enumerate(plan.inserts):
                key = insert_probe_key(table, column, value)
                try:
                    with savepoint(conn, f"labctl_insert_{number}"):
                        insert_order(conn, table, column, value, order_id=900_001 + number)
                    probes[key] = Probe("accepted", f"an order with {column} {value} was stored")
                except ProbeFailed as failed:
                    probes[key] = failed.probe
            for number, view in enumerate(plan.views):
                key = select_probe_key(view)
                if view not in relations:
                    probes[key] = Probe("skipped", f"{view} does not exist")
                    continue
                try:
                    with savepoint(conn, f"labctl_select_{number}"):
                        probes[key] = select_view(conn, view)
                except ProbeFailed as failed:
                    probes[key] = failed.probe
    except ProbeFailed as failed:
        reason = f"could not load the grader's fixture: {failed.probe.message}"
        status = "timeout" if failed.probe.status == "timeout" else "error"
        return {k: Probe(status, reason) for k in keys}
    return probes


def read_database(dsn: str, database: str, plan: ProbePlan) -> PostgresInventory:
    """Catalog and probes of one database, in one transaction that is always rolled back."""
    try:
        conn = connect(dsn, database)
    except psycopg.Error as exc:
        return PostgresInventory(database, exists=True, error=f"cannot connect: {first_line(exc)}")
    try:
        timeout_ms = PROBE_TIMEOUT_S * 1000
        conn.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
        conn.execute(f"SET LOCAL lock_timeout = {timeout_ms}")
        # Student objects in `public` must not shadow built-ins the grader's own queries use.
        conn.execute("SET LOCAL search_path = pg_catalog, public")
        relations = read_catalog(conn)
        role_row = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = %s", (database,)).fetchone()
        probes = run_probes(conn, role_row[0] if role_row else None, relations, plan)
        return PostgresInventory(database, exists=True, relations=relations, probes=probes)
    except errors.QueryCanceled:
        return PostgresInventory(
            database, exists=True, error=f"catalog reads took more than {PROBE_TIMEOUT_S} s"
        )
    except psycopg.Error as exc:
        return PostgresInventory(database, exists=True, error=first_line(exc))
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()


def collect_postgres(request: CollectRequest, admin_dsn: str | None = None) -> PostgresSnapshot:
    """List the graded students' databases once, then read each one (bounded concurrency).

    `admin_dsn` is the cohort's admin connection; without it, `request.postgres_dsn` is used.
    """
    dsn = admin_dsn_of(request, admin_dsn)
    databases = {prefix: database_for(prefix) for prefix in request.prefixes}
    present = existing_databases(dsn, sorted(set(databases.values())))
    plan = probe_plan(request.wanted)
    reading = [p for p, db in databases.items() if db in present]
    workers = max(1, min(request.concurrency, MAX_CONNECTIONS))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        read = dict(
            zip(reading, pool.map(lambda p: read_database(dsn, databases[p], plan), reading), strict=True)
        )
    return PostgresSnapshot(
        {p: read.get(p, PostgresInventory(database=databases[p], exists=False)) for p in request.prefixes}
    )
