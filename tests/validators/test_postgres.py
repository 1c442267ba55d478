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

from labctl.cohorts.cohort import Cohort, Student, Target
from labctl.labs.catalog import get_lab
from labctl.labs.solutions import solutions_for
from labctl.labs.spec import LabSpec, render
from labctl.validators import checks as check_modules
from labctl.validators.collectors import COLLECTORS, CollectRequest
from labctl.validators.collectors.postgres import collect_postgres
from labctl.validators.inventory.postgres import PostgresSnapshot, database_for
from labctl.validators.runner import grade_cohort

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
        self.extra_roles: list[str] = []

    def admin(self, database: str | None = None) -> psycopg.Connection:
        kwargs = {"dbname": database} if database else {}
        return psycopg.connect(self.dsn, autocommit=True, **kwargs)

    def prefix(self, student: str) -> str:
        return f"{self.cohort}-{student}"

    def role(self, name: str) -> str:
        """A NOLOGIN role (cluster-wide, like a lab's analyst role), dropped at the end."""
        with self.admin() as conn:
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
        self.extra_roles.append(name)
        return name

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
            for role in (*self.extra_roles, *self.roles):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


@pytest.fixture
def server(postgres_dsn: str) -> Iterator[Server]:
    server = Server(postgres_dsn)
    yield server
    server.drop()


def rendered(lab: LabSpec, server: Server, student: str) -> list[tuple[str, object]]:
    registered = check_modules.load()
    context = {"prefix": server.prefix(student), "student": student, "cohort": server.cohort, "lab": lab.id}
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
    specs = {spec.id: spec for spec in (*lab.checks, *lab.guards)}
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


def test_without_an_admin_dsn_nobody_is_graded(server, lab):
    server.student("ada", REFERENCE)
    students = (Student("ada", "ada", "Ada", "", server.prefix("ada")),)
    cohort = Cohort(server.cohort, (LAB,), Target("emulator", None, "us-east-1"), students)
    report = grade_cohort(cohort, [lab], None, None)  # type: ignore[arg-type]
    assert report.results == ()
    assert "--postgres-dsn" in report.ungraded[0].reason


# ---- the generic checks of the other data labs: grader scenarios from the lab's fixture files ----


def lab_sql(lab_id: str, *names: str) -> str:
    """The seed (when the lab has one) and the named solutions of a catalog lab, as one script."""
    lab = get_lab(lab_id)
    database = lab.spec.environment.database
    parts = [(lab.folder / database.seed).read_text()] if database and database.seed else []
    solutions = {s.name: s for s in solutions_for(lab.folder)}
    parts += [solutions[name].script or "" for name in names]
    return "\n".join(parts)


def table_rows(server: Server, student: str, table: str) -> list[tuple]:
    with server.admin(database_for(server.prefix(student))) as conn:
        return conn.execute(sql.SQL("SELECT * FROM {} ORDER BY 1").format(sql.Identifier(table))).fetchall()


def test_view_rows_use_the_grader_fixture_and_leave_the_students_rows_alone(server):
    lab = get_lab("sql-joins-report").spec
    server.student("ada", lab_sql("sql-joins-report", "reference"))
    before = {t: table_rows(server, "ada", t) for t in ("customers", "products", "orders")}
    assert statuses(server, lab, "ada") == dict.fromkeys(("report-view", "report-rows", "excludes-cancelled"), "passed")
    assert {t: table_rows(server, "ada", t) for t in before} == before
    assert len(before["orders"]) == 6, "the seeded rows, not the fixture's"


def test_a_fixture_the_students_schema_refuses_fails_the_check_with_the_reason(server):
    lab = get_lab("sql-joins-report").spec
    server.student(
        "ada",
        lab_sql("sql-joins-report", "reference") + "ALTER TABLE orders ADD COLUMN channel text NOT NULL DEFAULT 'web';"
        "ALTER TABLE orders ALTER COLUMN channel DROP DEFAULT;",
    )
    result = results(server, lab, "ada")
    assert {k: r.status for k, r in result.items()} == {
        "report-view": "passed",
        "report-rows": "failed",
        "excludes-cancelled": "failed",
    }
    message = result["report-rows"].message
    assert "the grader's fixture could not be loaded" in message and "channel" in message


def test_view_rows_name_missing_and_unexpected_rows(server):
    lab = get_lab("sql-aggregation").spec
    server.student("ada", lab_sql("sql-aggregation", "broken-count-without-distinct"))
    result = results(server, lab, "ada")["sales-rows"]
    assert result.status == "failed"
    assert result.message == (
        "on the grader's data, country_sales: missing (NL, 2, 3, 70, 23.33); unexpected (NL, 3, 3, 70, 23.33)"
    )


def test_a_view_that_returns_a_right_row_twice_fails(server):
    """Rows compare as multisets: a set comparison (a surviving mutant) let a duplicating view pass."""
    lab = get_lab("sql-aggregation").spec
    server.student(
        "ada",
        lab_sql("sql-aggregation", "reference").replace("HAVING COUNT(*) >= 2;", "HAVING COUNT(*) >= 2")
        + """
        UNION ALL
        SELECT c.country, COUNT(DISTINCT c.id), COUNT(*), SUM(o.amount), ROUND(AVG(o.amount), 2)
        FROM orders o JOIN customers c ON c.id = o.customer_id
        WHERE c.country = 'NL' GROUP BY c.country HAVING COUNT(*) >= 2;
        """,
    )
    result = results(server, lab, "ada")["sales-rows"]
    assert (result.status, result.message) == (
        "failed", "on the grader's data, country_sales: unexpected (NL, 2, 3, 70, 23.33)"
    )


def test_a_slow_view_times_out_as_an_error_in_a_scenario_too(server):
    lab = get_lab("sql-aggregation").spec
    server.student(
        "ada",
        lab_sql("sql-aggregation")
        + """
        CREATE VIEW country_sales AS
        SELECT 'NL' AS country, 1 AS customer_count, 1 AS order_count, 1.0 AS revenue, 1.0 AS average_order
        FROM pg_sleep(10);
        """,
    )
    result = results(server, lab, "ada")
    assert result["sales-view"].status == "passed"
    assert result["sales-rows"].status == "error"
    assert "did not finish within 3 s" in result["sales-rows"].message


def test_code_that_swallows_the_statement_timeout_is_still_bounded(server, monkeypatch):
    """A function that catches the one cancel `statement_timeout` sends escapes that bound, not the watchdog.

    Without the watchdog's repeated cancel (shown by removing its `cancel_safe` call) the view returns
    its row once the second sleep ends, and sales-rows is graded "failed" instead of an error.
    """
    from labctl.validators.collectors import postgres as collector

    monkeypatch.setattr(collector, "DATABASE_BUDGET_S", 2.0)
    lab = get_lab("sql-aggregation").spec
    server.student(
        "ada",
        lab_sql("sql-aggregation")
        + """
        CREATE FUNCTION stall() RETURNS numeric LANGUAGE plpgsql AS $$
        BEGIN
            BEGIN
                PERFORM pg_sleep(60);
            EXCEPTION WHEN query_canceled THEN
                NULL;
            END;
            PERFORM pg_sleep(4);
            RETURN 1.0;
        END $$;
        CREATE VIEW country_sales AS
        SELECT 'NL' AS country, 1 AS customer_count, 1 AS order_count, stall() AS revenue, 1.0 AS average_order;
        """,
    )
    result = results(server, lab, "ada")
    assert {result["sales-rows"].status, result["having-filter"].status} == {"error"}
    assert "ran out" in result["sales-rows"].message
    assert "ran out" in result["having-filter"].message


def test_rejects_row_needs_the_right_kind_of_rule(server):
    """A duplicate email refused by a too-strict CHECK on salary does not prove emails are unique."""
    lab = get_lab("sql-schema-constraints").spec
    server.student(
        "ada",
        """
        CREATE TABLE departments (id integer PRIMARY KEY, name text NOT NULL UNIQUE);
        CREATE TABLE employees (
            id integer PRIMARY KEY, email text NOT NULL, full_name text NOT NULL,
            department_id integer NOT NULL REFERENCES departments (id),
            salary numeric(10, 2) NOT NULL CHECK (salary > 4500), hired_on date DEFAULT current_date);
        """,
    )
    result = results(server, lab, "ada")
    assert result["rejects-duplicate-email"].status == "failed"
    assert "rejected by a check violation, not by a unique constraint" in result["rejects-duplicate-email"].message
    assert result["rejects-zero-salary"].status == "passed"
    assert result["valid-rows-accepted"].status == "passed"


def test_rejects_row_counts_a_trigger_and_leaves_no_row_behind(server):
    lab = get_lab("sql-schema-constraints").spec
    server.student(
        "ada",
        lab_sql("sql-schema-constraints", "broken-no-checks")
        + """
        CREATE FUNCTION positive_salary() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.salary <= 0 THEN RAISE EXCEPTION 'salary must be positive'; END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER employees_salary BEFORE INSERT ON employees FOR EACH ROW EXECUTE FUNCTION positive_salary();
        INSERT INTO departments VALUES (7, 'Mine');
        """,
    )
    result = results(server, lab, "ada")
    assert result["rejects-zero-salary"].status == "passed"
    assert result["rejects-duplicate-email"].status == "failed"
    assert table_rows(server, "ada", "departments") == [(7, "Mine")]
    assert table_rows(server, "ada", "employees") == []


def test_a_payload_that_really_drops_the_table_is_caught_and_rolled_back(server):
    lab = get_lab("sql-injection-safe").spec
    server.student(
        "ada",
        lab_sql("sql-injection-safe")
        + """
        CREATE FUNCTION find_customer(name text) RETURNS TABLE (id integer) LANGUAGE plpgsql AS $$
        BEGIN
            RETURN QUERY SELECT c.id FROM customers c WHERE c.name = find_customer.name;
            EXECUTE 'SELECT count(*) FROM customers WHERE name = ''' || name || '''';
        END $$;
        """,
    )
    result = results(server, lab, "ada")
    assert result["drop-payload"].status == "failed"
    assert "afterwards customers could not be read" in result["drop-payload"].message
    assert result["no-string-built-sql"].status == "failed"
    assert len(table_rows(server, "ada", "customers")) == 4, "the grader's DROP was rolled back"


ANALYST = "_analyst"
PRIVACY_SCHEMA = """
CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text, phone text, country text);
CREATE VIEW customers_masked AS
SELECT id, name, regexp_replace(email, '^[^@]+', '***') AS email, country FROM customers;
"""


def privacy_inventory(server: Server, student: str, params) -> object:
    request = CollectRequest(
        cohort=server.cohort,
        prefixes=(server.prefix(student),),
        session=None,  # type: ignore[arg-type]
        endpoint_url=None,
        wanted=(params,),
    )
    return collect_postgres(request, admin_dsn=server.dsn).for_prefix(server.prefix(student))


@pytest.mark.parametrize(
    ("grants", "status", "message"),
    [
        (
            "GRANT SELECT ON customers_masked TO {a}; GRANT SELECT (id, name, country) ON customers TO {a};",
            "passed",
            "",
        ),
        (
            "GRANT SELECT ON customers_masked, customers TO {a};",
            "failed",
            "can read customers.email; can read customers.phone",
        ),
        ("GRANT SELECT, INSERT ON customers_masked TO {a};", "failed", "can change customers_masked"),
        (
            "GRANT UPDATE (name) ON customers TO {a};",
            "failed",
            "cannot read customers_masked; can change customers.name",
        ),
        (None, "failed", "does not exist"),
    ],
)
def test_role_privileges_of_an_analyst_role_named_after_the_database(server, grants, status, message):
    from labctl.validators.checks.postgres import RolePrivilegesParams, role_privileges

    database = database_for(server.prefix("ada"))
    analyst = database + ANALYST
    if grants is not None:
        server.role(analyst)
    server.student("ada", PRIVACY_SCHEMA + (grants or "").format(a=f'"{analyst}"'))
    params = RolePrivilegesParams(
        role_suffix=ANALYST, select=["customers_masked"], no_select={"customers": ["email", "phone"]}
    )
    result = role_privileges(privacy_inventory(server, "ada", params), params)
    assert result.status == status
    assert message in result.message


def test_the_index_tuning_plan_check_names_the_index_the_planner_chose(server):
    lab = get_lab("sql-index-tuning").spec
    server.student("ada", lab_sql("sql-index-tuning", "broken-wrong-column"))
    result = results(server, lab, "ada")["plan-uses-index"]
    assert result.status == "failed"
    assert result.message == "the plan uses events_created_at_idx (created_at), which does not start with account_id"


# ---- components/seed.py: a lab's seed, applied as the student's own role ----


def login_student(server: Server, student: str) -> str:
    database = server.student(student)
    with server.admin() as conn:
        conn.execute(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(database)))
    return database


@pytest.mark.parametrize("lab_id", ["sql-joins-report", "sql-index-tuning", "sql-injection-safe"])
def test_seed_runs_as_the_student_and_can_run_again(server, lab_id):
    from labctl.components.seed import seed_student_database

    database = login_student(server, "ada")
    lab = get_lab(lab_id)
    seed = lab.spec.environment.database.seed
    seed_student_database(server.dsn, database, lab.folder, seed)
    with server.admin(database) as conn:
        first = conn.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), c.reltuples FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()
    seed_student_database(server.dsn, database, lab.folder, seed)
    with server.admin(database) as conn:
        again = conn.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), c.reltuples FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' ORDER BY 1"
        ).fetchall()
    assert first and {owner for _, owner, _ in first} == {database}
    assert [(n, o) for n, o, _ in again] == [(n, o) for n, o, _ in first]


def test_a_failing_seed_leaves_nothing_and_says_why(server, tmp_path):
    from labctl.components.seed import seed_student_database
    from labctl.labs.errors import LabctlError

    database = login_student(server, "ada")
    (tmp_path / "seed.sql").write_text("CREATE TABLE t (id integer);\nINSERT INTO nowhere VALUES (1);\n")
    with pytest.raises(LabctlError, match=f"seeding database {database} with seed.sql failed: .*nowhere"):
        seed_student_database(server.dsn, database, tmp_path, "seed.sql")
    with server.admin(database) as conn:
        assert conn.execute("SELECT to_regclass('public.t')").fetchone() == (None,)


def test_a_seed_cannot_do_more_than_the_student(server, tmp_path):
    from labctl.components.seed import seed_student_database
    from labctl.labs.errors import LabctlError

    database = login_student(server, "ada")
    (tmp_path / "seed.sql").write_text("CREATE ROLE labctl_seed_should_not_exist;\n")
    with pytest.raises(LabctlError, match="permission denied"):
        seed_student_database(server.dsn, database, tmp_path, "seed.sql")


def test_a_seed_path_must_stay_inside_the_lab_folder(tmp_path):
    from labctl.components.seed import seed_student_database
    from labctl.labs.errors import InputError

    (tmp_path / "lab").mkdir()
    (tmp_path / "outside.sql").write_text("SELECT 1;")
    with pytest.raises(InputError, match="inside the lab folder"):
        seed_student_database("postgresql://127.0.0.1/postgres", "x", tmp_path / "lab", "../outside.sql")
    with pytest.raises(InputError, match="seed file not found"):
        seed_student_database("postgresql://127.0.0.1/postgres", "x", tmp_path / "lab", "missing.sql")


def test_the_student_connection_never_carries_the_admin_password():
    from psycopg.conninfo import conninfo_to_dict

    from labctl.components.seed import student_conninfo

    admin = "postgresql://admin:s3cret@db.example:6432/postgres?sslmode=require"
    info = conninfo_to_dict(student_conninfo(admin, "c_ada"))
    assert info["user"] == info["dbname"] == "c_ada"
    assert (info["host"], info["port"], info["sslmode"]) == ("db.example", "6432", "require")
    assert "password" not in info


def test_a_view_whose_function_writes_leaves_nothing_behind(server, lab):
    """Hostile content: reading the view calls a function that writes; the probe is rolled back."""
    server.student(
        "ada",
        TABLES
        + CONSTRAINT
        + INDEX
        + """
        CREATE TABLE audit (note text);
        CREATE FUNCTION leak() RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
        BEGIN INSERT INTO audit VALUES ('graded'); RETURN 1; END $$;
        CREATE VIEW customer_ranking AS
        SELECT c.id AS customer_id, SUM(o.amount) AS total_amount,
               RANK() OVER (ORDER BY SUM(o.amount) DESC) * leak() AS rank
        FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
        """,
    )
    before = server.rows("ada")
    result = results(server, lab, "ada")
    assert result["ranking-view"].status == "passed"
    with server.admin(database_for(server.prefix("ada"))) as conn:
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == 0
    assert server.rows("ada") == before
