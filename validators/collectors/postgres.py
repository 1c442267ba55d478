"""Collect a cohort's student databases: catalog facts plus behaviour probes that never persist.

One admin connection lists which student databases exist; then one connection per existing
database (bounded concurrency) reads the `public` schema's catalog and runs the probes the checks
ask for, all inside one transaction that is always rolled back, with `SET LOCAL statement_timeout`
and `lock_timeout`. The probes run as the student's own role (`SET LOCAL ROLE`, the role named
like the database): student SQL (views, triggers, functions) never runs with the grader's
privileges. A failure in one database is recorded on its inventory; a failed listing propagates,
and a server that does not answer (or no admin DSN) is Unreachable: nobody is graded on it.

The admin DSN is the cohort's `--postgres-dsn`; its password comes from PGPASSWORD or ~/.pgpass
as libpq does.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterator

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from labctl.validators.collectors.base import CollectRequest, Unreachable
from labctl.validators.inventory.postgres import (
    FIXTURE_CUSTOMERS,
    FIXTURE_ORDERS,
    MAX_VIEW_ROWS,
    PROBE_TIMEOUT_S,
    Column,
    ForeignKey,
    Function,
    Grantee,
    Index,
    PostgresInventory,
    PostgresSnapshot,
    Probe,
    Relation,
    Scenario,
    database_for,
    insert_probe_key,
    select_probe_key,
)

CONNECT_TIMEOUT_S = 5
MAX_CONNECTIONS = 4
MAX_CATALOG_ROWS = 5000
DATABASE_BUDGET_S = 20.0
"""All reads and probes of one database, together; the watchdog cancels whatever runs past it."""
MAX_SOURCE_CHARS = 20_000
"""A function's source is read up to this many characters (the no-concatenated-EXECUTE guard)."""
REJECTING_STATES = frozenset({"23514", "P0001"})
"""check_violation, or an exception raised by a trigger: the database refused the row."""
INTEGRITY_CLASS = "23"
"""Any integrity-constraint violation (not null, foreign key, unique, check, exclusion)."""

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
WHERE n.nspname = 'public' AND con.contype IN ('p', 'f', 'u')
LIMIT %s
"""
INDEXES_SQL = """
SELECT t.relname, i.relname, x.indisunique OR x.indisprimary,
       ARRAY(SELECT a.attname FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY AS k(num, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.num ORDER BY k.ord)
FROM pg_index x
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND x.indisvalid
LIMIT %s
"""
FUNCTIONS_SQL = """
SELECT p.proname, ARRAY(SELECT format_type(t, NULL) FROM unnest(p.proargtypes) AS t),
       l.lanname, left(p.prosrc, %s), p.prosecdef
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
ORDER BY p.proname, p.oid
LIMIT %s
"""
GRANTEE_SQL = """
SELECT r.rolcanlogin,
       ARRAY(SELECT c.relname || ':' || pr.p FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS pr(p)
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
               AND has_table_privilege(r.oid, c.oid, pr.p)),
       ARRAY(SELECT c.relname || ':' || a.attname || ':' || pr.p FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE']) AS pr(p)
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
               AND has_column_privilege(r.oid, c.oid, a.attnum, pr.p))
FROM pg_roles r WHERE r.rolname = %s
"""


class Watchdog:
    """Cancels what the connection runs once `budget_s` have passed, then again every second.

    `statement_timeout` bounds each grader statement, but student code can lift it (a function
    declared with `SET statement_timeout = 0`) or catch a cancel in an exception block; the
    watchdog bounds the whole database's read regardless. Probes not yet run once it has fired
    are reported as timeouts.
    """

    def __init__(self, conn: psycopg.Connection, budget_s: float):
        self.conn = conn
        self.budget_s = budget_s
        self.done = threading.Event()
        self.fired = threading.Event()
        self.thread = threading.Thread(target=self.run, name="labctl-postgres-watchdog", daemon=True)

    def run(self) -> None:
        if self.done.wait(self.budget_s):
            return
        self.fired.set()
        while not self.done.is_set():
            try:
                self.conn.cancel_safe(timeout=2)
            except Exception:  # noqa: BLE001 - the connection may be closing; the next round retries
                pass
            self.done.wait(1)

    def __enter__(self) -> "Watchdog":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=5)


def out_of_time(watchdog: Watchdog | None) -> Probe | None:
    if watchdog is not None and watchdog.fired.is_set():
        return Probe("timeout", f"the grader's {watchdog.budget_s:g} s for this database ran out")
    return None


class ProbeFailed(Exception):
    def __init__(self, probe: Probe):
        self.probe = probe


def admin_dsn_of(request: CollectRequest, admin_dsn: str | None) -> str:
    dsn = admin_dsn or request.postgres_dsn
    if not dsn:
        raise Unreachable(f"cohort {request.cohort} has no PostgreSQL server (cohort create --postgres-dsn)")
    return dsn


def connect(dsn: str, database: str | None = None) -> psycopg.Connection:
    extra: dict[str, Any] = {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "labctl-grader"}
    if database is not None:
        extra["dbname"] = database
    return psycopg.connect(make_conninfo(dsn, **extra), autocommit=False)


def existing_databases(dsn: str, names: list[str]) -> set[str]:
    try:
        conn = connect(dsn)
    except psycopg.OperationalError as exc:
        raise Unreachable(f"the PostgreSQL server did not answer: {first_line(exc)}") from None
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
    unique: dict[str, set[frozenset[str]]] = {}
    for relname, contype, cols, ref_schema, ref_table, ref_cols in conn.execute(
        CONSTRAINTS_SQL, (MAX_CATALOG_ROWS,)
    ):
        if contype == "p":
            primary[relname] = tuple(cols)
        if contype in ("p", "u"):
            unique.setdefault(relname, set()).add(frozenset(cols))
        if contype == "f":
            name = ref_table if ref_schema == "public" else f"{ref_schema}.{ref_table}"
            foreign.setdefault(relname, []).append(ForeignKey(tuple(cols), name, tuple(ref_cols)))
    leading: dict[str, set[str]] = {}
    indexes: dict[str, list[Index]] = {}
    for relname, index_name, is_unique, cols in conn.execute(INDEXES_SQL, (MAX_CATALOG_ROWS,)):
        keys = tuple(cols)
        indexes.setdefault(relname, []).append(Index(index_name, relname, keys, bool(is_unique)))
        if keys and keys[0] is not None:
            leading.setdefault(relname, set()).add(keys[0])
        if is_unique and keys and None not in keys:
            unique.setdefault(relname, set()).add(frozenset(keys))
    return {
        name: Relation(
            name=name,
            kind=kinds[name],  # type: ignore[arg-type]
            columns=cols,
            primary_key=primary.get(name, ()),
            foreign_keys=tuple(foreign.get(name, ())),
            index_first_columns=frozenset(leading.get(name, ())),
            unique_keys=frozenset(unique.get(name, ())),
            indexes=tuple(indexes.get(name, ())),
        )
        for name, cols in columns.items()
    }


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def savepoint(conn: psycopg.Connection, name: str, *, keep: bool = False) -> Iterator[None]:
    """Run a probe step in a savepoint; failures become ProbeFailed and are always rolled back to.

    On success the savepoint is released when `keep` (its effects stay for the next step of the
    same scenario) and rolled back to otherwise.
    """
    conn.execute(sql.SQL("SAVEPOINT {}").format(sql.Identifier(name)))
    kept = False
    try:
        yield
        kept = keep
    except errors.QueryCanceled:
        raise ProbeFailed(Probe("timeout", f"did not finish within {PROBE_TIMEOUT_S} s")) from None
    except errors.LockNotAvailable:
        raise ProbeFailed(Probe("timeout", f"waited more than {PROBE_TIMEOUT_S} s for a lock")) from None
    except psycopg.Error as exc:
        state = getattr(exc, "sqlstate", None) or ""
        status = "rejected" if state in REJECTING_STATES else "error"
        raise ProbeFailed(Probe(status, f"{first_line(exc)} (SQLSTATE {state})", sqlstate=state)) from None
    finally:
        verb = "RELEASE SAVEPOINT {}" if kept else "ROLLBACK TO SAVEPOINT {}"
        conn.execute(sql.SQL(verb).format(sql.Identifier(name)))


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
    """Which probes the graded checks ask for, gathered from their params (`inserts()`, `views()`,
    `scenarios()`, `role_suffixes()`).

    The legacy fixture tables are the ranking lab's schema: customers(id, name, country) and
    orders(id, customer_id, amount, created_at). Scenarios bring their own fixture.
    """

    inserts: tuple[tuple[str, str, Decimal], ...]
    views: tuple[str, ...]
    scenarios: tuple[Scenario, ...] = ()
    role_suffixes: tuple[str, ...] = ()
    customers: str = "customers"
    orders: str = "orders"


def gathered(wanted: tuple[Any, ...], method: str) -> tuple[Any, ...]:
    """Every item the params' `method()` yields, first occurrence first, without duplicates."""
    items = [item for params in wanted for item in getattr(params, method, lambda: ())()]
    return tuple(dict.fromkeys(items))


def probe_plan(wanted: tuple[Any, ...]) -> ProbePlan:
    return ProbePlan(
        inserts=gathered(wanted, "inserts"),
        views=gathered(wanted, "views"),
        scenarios=gathered(wanted, "scenarios"),
        role_suffixes=gathered(wanted, "role_suffixes"),
    )


def rows_probe(cur: psycopg.Cursor) -> Probe:
    """The outcome of a statement that succeeded: up to MAX_VIEW_ROWS of what it returned."""
    if cur.description is None:
        return Probe("accepted", f"{cur.rowcount} rows affected")
    rows = cur.fetchmany(MAX_VIEW_ROWS + 1)
    return Probe(
        "accepted", rows=tuple(tuple(r) for r in rows[:MAX_VIEW_ROWS]), truncated=len(rows) > MAX_VIEW_ROWS
    )


def run_scenario(
    conn: psycopg.Connection, scenario: Scenario, number: int, watchdog: Watchdog | None = None
) -> tuple[Probe, ...]:
    """Fixture, then each step (kept on success so later steps see it); all rolled back at the end."""
    late = out_of_time(watchdog)
    if late is not None:
        return tuple(late for _ in scenario.steps)
    try:
        with savepoint(conn, f"labctl_scenario_{number}"):
            if scenario.fixture.strip():
                try:
                    with savepoint(conn, "labctl_scenario_fixture", keep=True):
                        conn.execute(scenario.fixture.encode("utf-8"))
                except ProbeFailed as failed:
                    status = "timeout" if failed.probe.status == "timeout" else "error"
                    probe = Probe(
                        status,
                        f"the grader's fixture could not be loaded: {failed.probe.message}",
                        sqlstate=failed.probe.sqlstate,
                    )
                    return tuple(probe for _ in scenario.steps)
            probes = []
            for index, step in enumerate(scenario.steps):
                try:
                    with savepoint(conn, f"labctl_scenario_step_{index}", keep=True):
                        with conn.cursor() as cur:
                            cur.execute(step.sql, step.args or None)
                            probes.append(rows_probe(cur))
                except ProbeFailed as failed:
                    probes.append(out_of_time(watchdog) or failed.probe)
            return tuple(probes)
    except ProbeFailed as failed:  # only the outer ROLLBACK TO can get here
        return tuple(failed.probe for _ in scenario.steps)


def read_functions(conn: psycopg.Connection) -> dict[str, tuple[Function, ...]]:
    functions: dict[str, list[Function]] = {}
    for name, arguments, language, source, definer in conn.execute(
        FUNCTIONS_SQL, (MAX_SOURCE_CHARS, MAX_CATALOG_ROWS)
    ):
        functions.setdefault(name, []).append(Function(name, tuple(arguments), language, source, bool(definer)))
    return {name: tuple(overloads) for name, overloads in functions.items()}


def read_grantee(conn: psycopg.Connection, role: str) -> Grantee:
    row = conn.execute(GRANTEE_SQL, (role,)).fetchone()
    if row is None:
        return Grantee(role, exists=False)
    login, table_grants, column_grants = row
    tables: dict[str, set[str]] = {}
    for item in table_grants:
        relation, _, privilege = item.rpartition(":")
        tables.setdefault(relation, set()).add(privilege)
    columns: dict[str, dict[str, set[str]]] = {}
    for item in column_grants:
        rest, _, privilege = item.rpartition(":")
        relation, _, column = rest.rpartition(":")
        columns.setdefault(relation, {}).setdefault(column, set()).add(privilege)
    return Grantee(
        role,
        exists=True,
        login=bool(login),
        table_privileges={r: frozenset(p) for r, p in tables.items()},
        column_privileges={r: {c: frozenset(p) for c, p in cols.items()} for r, cols in columns.items()},
    )


def run_probes(
    conn: psycopg.Connection,
    role: str | None,
    relations: dict[str, Relation],
    plan: ProbePlan,
    watchdog: Watchdog | None = None,
) -> tuple[dict[str, Probe], dict[str, tuple[Probe, ...]]]:
    """Every probe's and scenario's outcome; the caller rolls the whole transaction back afterwards."""
    keys = [insert_probe_key(t, c, v) for t, c, v in plan.inserts] + [select_probe_key(v) for v in plan.views]
    if not keys and not plan.scenarios:
        return {}, {}
    if role is None:
        missing_role = Probe("not-run", "the student's role does not exist, so the probes were not run")
        return (
            {k: missing_role for k in keys},
            {s.key: tuple(missing_role for _ in s.steps) for s in plan.scenarios},
        )
    conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
    scenarios = {s.key: run_scenario(conn, s, number, watchdog) for number, s in enumerate(plan.scenarios)}
    return (run_ranking_probes(conn, relations, plan, keys) if keys else {}), scenarios


def run_ranking_probes(
    conn: psycopg.Connection, relations: dict[str, Relation], plan: ProbePlan, keys: list[str]
) -> dict[str, Probe]:
    """The ranking lab's inserts and view reads on the grader's customers/orders fixture."""
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
        with Watchdog(conn, DATABASE_BUDGET_S) as watchdog:
            return read_connected(conn, database, plan, watchdog)
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


def read_connected(conn: psycopg.Connection, database: str, plan: ProbePlan, watchdog: Watchdog) -> PostgresInventory:
    timeout_ms = PROBE_TIMEOUT_S * 1000
    conn.execute(f"SET LOCAL statement_timeout = {timeout_ms}")
    conn.execute(f"SET LOCAL lock_timeout = {timeout_ms}")
    # Student objects in `public` must not shadow built-ins the grader's own queries use.
    conn.execute("SET LOCAL search_path = pg_catalog, public")
    # Timestamps the probes return compare with the lab's expected rows written in UTC.
    conn.execute("SET LOCAL TimeZone = 'UTC'")
    relations = read_catalog(conn)
    functions = read_functions(conn)
    grantees = {role: read_grantee(conn, role) for role in (database + s for s in plan.role_suffixes)}
    role_row = conn.execute("SELECT rolname FROM pg_roles WHERE rolname = %s", (database,)).fetchone()
    probes, scenarios = run_probes(conn, role_row[0] if role_row else None, relations, plan, watchdog)
    return PostgresInventory(
        database,
        exists=True,
        relations=relations,
        probes=probes,
        functions=functions,
        grantees=grantees,
        scenarios=scenarios,
    )


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
