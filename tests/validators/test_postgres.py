"""sql-customer-ranking: scenario tests on the machine's real PostgreSQL.

Every test creates its own uniquely named databases (`labctl_test_<hex>_<student>`) and roles,
builds the student's schema as that role, grades, and drops them again.
"""

from __future__ import annotations

import functools
import uuid
from typing import Iterator

import psycopg
import pytest
from psycopg import sql

from labs.catalog import get_lab
from labs.spec import LabSpec, render
from stacks.cohort import Cohort, Student, Target
from validators import checks as check_modules
from validators.collectors import COLLECTORS, CollectRequest
from validators.collectors.postgres import collect_postgres
from validators.inventory.postgres import PostgresSnapshot, database_for
from validators.runner import grade_cohort

LAB = "sql-customer-ranking"
CHECK_IDS = ("customers-table", "orders-table", "amount-positive", "customer-fk-index", "ranking-view")

TABLES = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, country text);
CREATE TABLE orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customers (id),
    amount numeric(10, 2),
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
CONSTRAINT = "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0);"
INDEX = "CREATE INDEX orders_customer_id_idx ON orders (customer_id, created_at);"


def ranking(function: str = "RANK()", join: str = "JOIN") -> str:
    return f"""
CREATE VIEW customer_ranking AS
SELECT c.id AS customer_id,
       COALESCE(SUM(o.amount), 0) AS total_amount,
       {function} OVER (ORDER BY COALESCE(SUM(o.amount), 0) DESC) AS rank
FROM customers c {join} orders o ON o.customer_id = c.id
GROUP BY c.id;
"""


REFERENCE = TABLES + CONSTRAINT + INDEX + ranking()
STUDENT_ROWS = """
INSERT INTO customers VALUES (10, 'Mine', 'NL'), (11, 'Also mine', NULL);
INSERT INTO orders (id, customer_id, amount) VALUES (20, 10, 5.00), (21, 11, 7.50);
"""


@pytest.fixture(scope="module")
def lab() -> LabSpec:
    return get_lab(LAB).spec


class Server:
    """Creates student databases and roles on the real server, and drops them all at the end."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.cohort = f"labctl-test-{uuid.uuid4().hex[:8]}"
        self.databases: list[str] = []
        self.roles: list[str] = []

    def admin(self, database: str | None = None) -> psycopg.Connection:
        kwargs = {"dbname": database} if database else {}
        return psycopg.connect(self.dsn, autocommit=True, **kwargs)

    def prefix(self, student: str) -> str:
        return f"{self.cohort}-{student}"

    def student(self, student: str, script: str = "", *, role: bool = True) -> str:
        """A database for `student` (owned by its own role unless role=False) with `script` run in it."""
        database = database_for(self.prefix(student))
        with self.admin() as conn:
            if role:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(database)))
                self.roles.append(database)
            owner = sql.Identifier(database if role else "postgres")
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), owner))
            self.databases.append(database)
        if script:
            with self.admin(database) as conn:
                if role:
                    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(database)))
                conn.execute(script)
        return database

    def rows(self, student: str) -> dict[str, list[tuple]]:
        with self.admin(database_for(self.prefix(student))) as conn:
            return {
                table: conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                for table in ("customers", "orders")
            }

    def drop(self) -> None:
        with self.admin() as conn:
            for database in self.databases:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
                )
            for role in self.roles:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def server(postgres_dsn: str) -> Iterator[Server]:
    server = Server(postgres_dsn)
    yield server
    server.drop()


def rendered(lab: LabSpec, server: Server, student: str) -> list[tuple[str, object]]:
    registered = check_modules.load()
    context = {"prefix": server.prefix(student), "student": student, "cohort": server.cohort, "lab": LAB}
    return [
        (spec.id, registered[spec.use].params.model_validate(render(spec.with_, context)))
        for spec in (*lab.checks, *lab.guards)
    ]


def collect(server: Server, lab: LabSpec, students: list[str]) -> PostgresSnapshot:
    request = CollectRequest(
        cohort=server.cohort,
        prefixes=tuple(server.prefix(s) for s in students),
        session=None,  # type: ignore[arg-type] - PostgreSQL needs no AWS session
        endpoint_url=None,
        wanted=tuple(params for s in students for _, params in rendered(lab, server, s)),
    )
    return collect_postgres(request, admin_dsn=server.dsn)


def results(server: Server, lab: LabSpec, student: str, snapshot: PostgresSnapshot | None = None) -> dict:
    snapshot = snapshot or collect(server, lab, [student])
    inventory = snapshot.for_prefix(server.prefix(student))
    registered = check_modules.load()
    specs = {spec.id: spec for spec in lab.checks}
    return {
        check_id: registered[specs[check_id].use].fn(inventory, params)
        for check_id, params in rendered(lab, server, student)
    }


def statuses(server: Server, lab: LabSpec, student: str) -> dict[str, str]:
    return {k: r.status for k, r in results(server, lab, student).items()}


def test_reference_solution_passes_and_the_probes_leave_the_rows_untouched(server, lab):
    server.student("ada", REFERENCE + STUDENT_ROWS)
    before = server.rows("ada")
    assert statuses(server, lab, "ada") == dict.fromkeys(CHECK_IDS, "passed")
    assert server.rows("ada") == before
    assert [r[0] for r in before["orders"]] == [20, 21]


def test_empty_database(server, lab):
    server.student("ada")
    assert statuses(server, lab, "ada") == {
        "customers-table": "failed",
        "orders-table": "failed",
        "amount-positive": "skipped",
        "customer-fk-index": "skipped",
        "ranking-view": "failed",
    }


def test_missing_database(server, lab):
    result = results(server, lab, "ghost")
    assert {k: r.status for k, r in result.items()} == {
        "customers-table": "failed",
        "orders-table": "failed",
        "amount-positive": "skipped",
        "customer-fk-index": "skipped",
        "ranking-view": "skipped",
    }
    assert "does not exist" in result["customers-table"].message


def test_partial_tables_only(server, lab):
    server.student("ada", TABLES + STUDENT_ROWS)
    result = results(server, lab, "ada")
    assert {k: r.status for k, r in result.items()} == {
        "customers-table": "passed",
        "orders-table": "passed",
        "amount-positive": "failed",
        "customer-fk-index": "failed",
        "ranking-view": "failed",
    }
    assert result["amount-positive"].message == "an order with amount 0 or -1 was accepted"
    assert [row[0] for row in server.rows("ada")["orders"]] == [20, 21], (
        "the accepted probe rows were rolled back"
    )


@pytest.mark.parametrize(
    ("function", "hint"),
    [("ROW_NUMBER()", "ROW_NUMBER"), ("DENSE_RANK()", "DENSE_RANK")],
)
def test_wrong_window_function_fails_the_view_with_a_hint(server, lab, function, hint):
    server.student("ada", TABLES + CONSTRAINT + INDEX + ranking(function))
    result = results(server, lab, "ada")
    assert {k: r.status for k, r in result.items()} == {
        **dict.fromkeys(CHECK_IDS, "passed"),
        "ranking-view": "failed",
    }
    assert hint in (result["ranking-view"].hint or "")


def test_customers_without_orders_must_not_be_ranked(server, lab):
    server.student("ada", TABLES + CONSTRAINT + INDEX + ranking(join="LEFT JOIN"))
    result = results(server, lab, "ada")["ranking-view"]
    assert result.status == "failed"
    assert "customer 5 has no orders but is listed" in result.message


def test_wrong_but_plausible_schema(server, lab):
    """Nullable customer_id without a foreign key, amount >= 0, an index led by another column."""
    server.student(
        "ada",
        """
        CREATE TABLE customers (id integer PRIMARY KEY, name text, country text);
        CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer, amount numeric CHECK (amount >= 0),
                             created_at timestamptz);
        CREATE INDEX ON orders (created_at, customer_id);
        """
        + ranking(),
    )
    result = results(server, lab, "ada")
    assert {k: r.status for k, r in result.items()} == {
        "customers-table": "failed",
        "orders-table": "failed",
        "amount-positive": "failed",
        "customer-fk-index": "failed",
        "ranking-view": "passed",
    }
    assert result["customers-table"].message == "customers: name allows NULL"
    assert result["orders-table"].message == (
        "orders: customer_id allows NULL; customer_id has no foreign key to customers(id)"
    )
    assert result["amount-positive"].message == "an order with amount 0 was accepted"


def test_a_trigger_that_rejects_bad_amounts_counts(server, lab):
    server.student(
        "ada",
        TABLES
        + INDEX
        + ranking()
        + """
        CREATE FUNCTION reject_bad_amount() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.amount <= 0 THEN RAISE EXCEPTION 'amount must be positive'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER orders_amount BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION reject_bad_amount();
        """,
    )
    assert statuses(server, lab, "ada")["amount-positive"] == "passed"


def test_a_slow_view_times_out_as_an_error_within_bounds(server, lab):
    server.student(
        "ada",
        TABLES
        + CONSTRAINT
        + INDEX
        + """
        CREATE VIEW customer_ranking AS
        SELECT 1 AS customer_id, 1.0 AS total_amount, 1 AS rank FROM pg_sleep(10);
        """,
    )
    result = results(server, lab, "ada")
    assert result["ranking-view"].status == "error"
    assert "did not finish within 3 s" in result["ranking-view"].message
    assert result["amount-positive"].status == "passed"


def test_probes_run_as_the_students_role_never_as_the_admin(server, lab):
    database = server.student(
        "ada",
        TABLES
        + ranking()
        + """
        CREATE FUNCTION who() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'running as %', current_user; END $$;
        CREATE TRIGGER orders_who BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION who();
        """,
    )
    result = results(server, lab, "ada")["ranking-view"]
    assert result.status == "failed"
    assert f"running as {database}" in result.message


def test_without_the_students_role_the_probes_are_not_run(server, lab):
    server.student("ada", REFERENCE, role=False)
    result = results(server, lab, "ada")
    assert {k: r.status for k, r in result.items()} == {
        **dict.fromkeys(CHECK_IDS, "passed"),
        "amount-positive": "error",
        "ranking-view": "error",
    }
    assert "role does not exist" in result["ranking-view"].message


def test_end_to_end_through_the_runner(server, lab, monkeypatch):
    """Two databases in one pass; the runner is given the admin DSN by binding it to the collector."""
    monkeypatch.setitem(COLLECTORS, "postgres", functools.partial(collect_postgres, admin_dsn=server.dsn))
    server.student("ada", REFERENCE + STUDENT_ROWS)
    server.student("bob", TABLES + ranking("DENSE_RANK()"))
    students = tuple(Student(s, s, s.title(), "", server.prefix(s)) for s in ("ada", "bob", "cy"))
    cohort = Cohort(server.cohort, (LAB,), Target("emulator", None, "us-east-1"), students)
    before = server.rows("ada")
    report = grade_cohort(cohort, [lab], None, None)  # type: ignore[arg-type] - no AWS needed
    ada, bob, cy = report.results
    assert (ada.score, ada.passed) == (100, True)
    assert {c.id: c.status for c in bob.checks} == {
        "customers-table": "passed",
        "orders-table": "passed",
        "amount-positive": "failed",
        "customer-fk-index": "failed",
        "ranking-view": "failed",
    }
    assert bob.score == 30
    assert cy.score == 0 and {c.status for c in cy.checks} == {"failed", "skipped"}
    assert server.rows("ada") == before


def test_without_an_admin_dsn_every_check_is_an_error(server, lab):
    server.student("ada", REFERENCE)
    students = (Student("ada", "ada", "Ada", "", server.prefix("ada")),)
    cohort = Cohort(server.cohort, (LAB,), Target("emulator", None, "us-east-1"), students)
    report = grade_cohort(cohort, [lab], None, None)  # type: ignore[arg-type]
    assert {c.status for c in report.results[0].checks} == {"error"}
    assert "--postgres-dsn" in report.results[0].checks[0].message
