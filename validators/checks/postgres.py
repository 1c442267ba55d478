"""PostgreSQL checks: pure functions of one student's PostgresInventory (validators.inventory.postgres).

Behaviour checks read the outcomes of probes the collector ran in a rolled-back transaction: the
ranking lab's built-in fixture (customers(id, name, country), orders(id, customer_id, amount,
created_at)), or a `Scenario` a check's params describe — a fixture file of the lab (`fixture:
"{lab}/fixtures/x.sql"`, run as the student's role, so it may only do what the student may) and
the grader's statements after it.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Literal

from pydantic import Field, field_validator

from labctl.validators.inventory.postgres import (
    FIXTURE_CUSTOMERS,
    FIXTURE_ORDERS,
    MAX_VIEW_ROWS,
    Grantee,
    PostgresInventory,
    Probe,
    Relation,
    Scenario,
    Step,
    insert_probe_key,
    select_probe_key,
)
from labctl.validators.registry import Params, Result, check

READS = "postgres"
LABS_DIR = Path(__file__).resolve().parents[2] / "labs"
FIXTURE_PATH = re.compile(r"^(\{lab\}|[a-z][a-z0-9-]{1,62})/([A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+\.sql$")


def quoted(name: str) -> str:
    """An SQL identifier, always quoted (lab authors write the names; quoting keeps them exact)."""
    return '"' + name.replace('"', '""') + '"'


@lru_cache(maxsize=64)
def fixture_sql(path: str) -> str:
    """The text of a lab's fixture file, `path` relative to the catalog (`<lab>/fixtures/x.sql`)."""
    return (LABS_DIR / path).read_text(encoding="utf-8")


class FixtureParams(Params):
    fixture: str | None = None
    """A SQL file of the lab, `{lab}/...`, run as the student's role before the grader's statements."""

    @field_validator("fixture")
    @classmethod
    def fixture_in_lab(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not FIXTURE_PATH.match(value):
            raise ValueError("must be a .sql file inside the lab folder, written `{lab}/<path>.sql`")
        if "{" not in value and not (LABS_DIR / value).is_file():
            raise ValueError(f"fixture file {value} does not exist")
        return value

    def fixture_text(self) -> str:
        return fixture_sql(self.fixture) if self.fixture else ""


class TableParams(Params):
    table: str
    columns: list[str] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    not_null: list[str] = Field(default_factory=list)
    references: dict[str, str] = Field(default_factory=dict)
    """column → `table.column` it must reference with a foreign key."""
    unique: list[list[str]] = Field(default_factory=list)
    """Column sets that must each be kept unique by a unique constraint or unique index."""


class RejectsParams(Params):
    table: str
    column: str
    values: list[Decimal] = Field(min_length=1)

    def inserts(self) -> Iterator[tuple[str, str, Decimal]]:
        """The inserts the PostgreSQL collector must probe for this check."""
        for value in self.values:
            yield self.table, self.column, value


class IndexParams(Params):
    table: str
    column: str


class RankingParams(Params):
    view: str

    def views(self) -> Iterator[str]:
        """The views the PostgreSQL collector must read on the grader's fixture."""
        yield self.view


def database_or_result(inv: PostgresInventory) -> Result | None:
    if not inv.exists:
        return Result.skipped(f"database {inv.database} does not exist")
    if inv.error:
        return Result.error(f"could not read database {inv.database}: {inv.error}")
    return None


def table_or_result(inv: PostgresInventory, name: str) -> Relation | Result:
    problem = database_or_result(inv)
    if problem is not None:
        return problem
    table = inv.table(name)
    if table is None:
        return Result.skipped(f"table {name} does not exist")
    return table


def probe_result(probe: Probe | None, what: str) -> Result | None:
    """The Result for a probe that could not give an answer; None when it did."""
    if probe is None:
        return Result.error(f"{what} was not probed")
    if probe.status == "timeout":
        return Result.error(f"{what}: {probe.message}")
    if probe.status == "error":
        return Result.failed(f"{what} failed: {probe.message}")
    if probe.status == "skipped":
        return Result.skipped(f"{what} was not probed: {probe.message}")
    if probe.status == "not-run":
        return Result.error(f"{what} was not probed: {probe.message}")
    return None


@check(
    "postgres.table", title="Table {table} has the required columns and keys", reads=READS, params=TableParams
)
def table_shape(inv: PostgresInventory, p: TableParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return Result.failed(problem.message) if problem.status == "skipped" else problem
    table = inv.table(p.table)
    if table is None:
        what = "a view" if p.table in inv.relations else "missing"
        return Result.failed(f"table {p.table} is {what}", hint=f"CREATE TABLE {p.table} (...)")
    problems = []
    missing = [c for c in p.columns if c not in table.columns]
    if missing:
        problems.append(f"missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    if p.primary_key and list(table.primary_key) != p.primary_key:
        actual = ", ".join(table.primary_key) or "none"
        problems.append(f"primary key is ({actual}), expected ({', '.join(p.primary_key)})")
    for column in p.not_null:
        if column in table.columns and not table.columns[column].not_null:
            problems.append(f"{column} allows NULL")
    for column, target in p.references.items():
        ref_table, _, ref_column = target.partition(".")
        if not any(
            fk.columns == (column,) and fk.ref_table == ref_table and fk.ref_columns == (ref_column,)
            for fk in table.foreign_keys
        ):
            problems.append(f"{column} has no foreign key to {ref_table}({ref_column})")
    for columns in p.unique:
        if frozenset(columns) not in table.unique_keys:
            problems.append(f"nothing keeps ({', '.join(columns)}) unique")
    if problems:
        return Result.failed(f"{p.table}: " + "; ".join(problems))
    return Result.passed()


@check(
    "postgres.rejects-values",
    title="{table}.{column} rejects {values}",
    reads=READS,
    params=RejectsParams,
)
def rejects_values(inv: PostgresInventory, p: RejectsParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if p.column not in table.columns:
        return Result.skipped(f"{p.table} has no column {p.column}")
    accepted = []
    for value in p.values:
        probe = inv.probe(insert_probe_key(p.table, p.column, value))
        unanswered = probe_result(probe, f"inserting an order with {p.column} {value}")
        if unanswered is not None:
            return unanswered
        if probe.status == "accepted":
            accepted.append(str(value))
    if accepted:
        return Result.failed(
            f"an order with {p.column} {' or '.join(accepted)} was accepted",
            hint=f"ALTER TABLE {p.table} ADD CHECK ({p.column} > 0)",
        )
    return Result.passed()


@check(
    "postgres.index-leads-with",
    title="An index on {table} starts with {column}",
    reads=READS,
    params=IndexParams,
)
def index_leads_with(inv: PostgresInventory, p: IndexParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if p.column in table.index_first_columns:
        return Result.passed()
    return Result.failed(
        f"no index on {p.table} has {p.column} as its first column",
        hint=f"CREATE INDEX ON {p.table} ({p.column})",
    )


def expected_ranking() -> dict[int, tuple[Decimal, int]]:
    """customer_id → (total_amount, RANK() by total descending) on the grader's fixture."""
    totals: dict[int, Decimal] = {}
    for _, customer, amount, _ in FIXTURE_ORDERS:
        totals[customer] = totals.get(customer, Decimal(0)) + amount
    return {c: (t, 1 + sum(1 for other in totals.values() if other > t)) for c, t in totals.items()}


def as_number(value: Any, kind: type) -> Any:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    if kind is int:
        return int(number) if number == number.to_integral_value() else None
    return number


def ranking_flavour(actual: dict[int, int], expected: dict[int, tuple[Decimal, int]]) -> str:
    """A hint naming the window function the actual ranks look like."""
    totals = sorted({t for t, _ in expected.values()}, reverse=True)
    dense = {c: totals.index(t) + 1 for c, (t, _) in expected.items()}
    if actual == dense:
        return "ties share a rank but the next rank must skip (RANK(), not DENSE_RANK())"
    if sorted(actual.values()) == list(range(1, len(actual) + 1)):
        return "tied customers must share a rank (RANK(), not ROW_NUMBER())"
    return "rank = RANK() OVER (ORDER BY total_amount DESC)"


@check(
    "postgres.ranking-view",
    title="View {view} ranks customers by total amount",
    reads=READS,
    params=RankingParams,
)
def ranking_view(inv: PostgresInventory, p: RankingParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return problem
    if p.view not in inv.relations:
        return Result.failed(f"view {p.view} does not exist", hint=f"CREATE VIEW {p.view} AS ...")
    probe = inv.probe(select_probe_key(p.view))
    unanswered = probe_result(probe, f"reading {p.view} on the grader's fixture")
    if unanswered is not None:
        return unanswered
    if probe.truncated:
        return Result.failed(
            f"{p.view} returned more than {len(probe.rows)} rows for {len(FIXTURE_CUSTOMERS)} customers"
        )
    expected = expected_ranking()
    rows: dict[int, tuple[Decimal, int]] = {}
    for row in probe.rows:
        customer, total, rank = as_number(row[0], int), as_number(row[1], Decimal), as_number(row[2], int)
        if customer is None or total is None or rank is None:
            return Result.failed(f"{p.view} returned a row that is not (integer, number, integer): {row!r}")
        if customer in rows:
            return Result.failed(f"{p.view} returns customer {customer} more than once")
        rows[customer] = (total, rank)
    problems = []
    for customer in sorted(set(rows) - set(expected)):
        problems.append(f"customer {customer} has no orders but is listed")
    for customer in sorted(set(expected) - set(rows)):
        problems.append(f"customer {customer} is missing")
    for customer in sorted(set(rows) & set(expected)):
        (total, rank), (want_total, want_rank) = rows[customer], expected[customer]
        if total != want_total:
            problems.append(f"customer {customer} has total_amount {total}, expected {want_total}")
        if rank != want_rank:
            problems.append(f"customer {customer} has rank {rank}, expected {want_rank}")
    if not problems:
        return Result.passed()
    hint = None
    if set(rows) == set(expected) and all(rows[c][0] == expected[c][0] for c in rows):
        hint = ranking_flavour({c: r for c, (_, r) in rows.items()}, expected)
    shown = "; ".join(problems[:4]) + (f"; and {len(problems) - 4} more" if len(problems) > 4 else "")
    return Result.failed(f"on the grader's fixture: {shown}", hint=hint)


# ---- generic checks: tables, views, functions and grader scenarios -----------------------------

Violation = Literal["not-null", "foreign-key", "unique", "check"]
VIOLATION_STATES: dict[str, str] = {
    "not-null": "23502",
    "foreign-key": "23503",
    "unique": "23505",
    "check": "23514",
}
STATE_NAMES = {state: name for name, state in VIOLATION_STATES.items()}
TRIGGER_STATE = "P0001"
INDEX_NODES = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})


def cell(value: Any) -> Any:
    """A value as the grader compares it: numbers by value, times in ISO form, the rest as text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value))
        return "0" if number == 0 else format(number.normalize(), "f")
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def row_key(row: Any) -> tuple[Any, ...]:
    return tuple(cell(v) for v in row)


def shown_row(row: tuple[Any, ...]) -> str:
    return "(" + ", ".join("NULL" if v is None else str(v) for v in row) + ")"


def compare_rows(actual: tuple[tuple[Any, ...], ...], expected: list[list[Any]], ordered: bool) -> list[str]:
    """What differs between the rows returned and those expected (as multisets, or in order)."""
    got = [row_key(r) for r in actual]
    want = [row_key(r) for r in expected]
    if ordered and Counter(got) == Counter(want) and got != want:
        return ["the rows are right but in the wrong order: " + ", ".join(map(shown_row, got[:6]))]
    missing = list((Counter(want) - Counter(got)).elements())
    extra = list((Counter(got) - Counter(want)).elements())
    problems = []
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        problems.append("missing " + ", ".join(map(shown_row, missing[:3])) + more)
    if extra:
        more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        problems.append("unexpected " + ", ".join(map(shown_row, extra[:3])) + more)
    return problems


def scenario_or_result(inv: PostgresInventory, scenario: Scenario, what: str) -> tuple[Probe, ...] | Result:
    probes = inv.scenario(scenario)
    if probes is None or len(probes) != len(scenario.steps):
        return Result.error(f"{what} was not probed")
    for probe in probes:
        if probe.status == "not-run":
            return Result.error(f"{what} was not probed: {probe.message}")
        if probe.status == "timeout":
            return Result.error(f"{what}: {probe.message}")
    return probes


def column_list(columns: list[str]) -> str:
    return ", ".join(quoted(c) for c in columns)


class ViewParams(Params):
    view: str
    columns: list[str] = Field(default_factory=list)


@check("postgres.view", title="View {view} exists with columns {columns}", reads=READS, params=ViewParams)
def view_shape(inv: PostgresInventory, p: ViewParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return Result.failed(problem.message) if problem.status == "skipped" else problem
    view = inv.view(p.view)
    if view is None:
        what = "a table, not a view" if p.view in inv.relations else "missing"
        return Result.failed(f"view {p.view} is {what}", hint=f"CREATE VIEW {p.view} AS SELECT ...")
    missing = [c for c in p.columns if c not in view.columns]
    if missing:
        return Result.failed(
            f"view {p.view} has no column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            hint="name each output column with AS",
        )
    return Result.passed()


class ViewRowsParams(FixtureParams):
    view: str
    columns: list[str] = Field(min_length=1)
    expected: list[list[Any]]
    ordered: bool = False
    """Whether the view's own ORDER BY must produce the expected order."""

    def scenario(self) -> Scenario:
        statement = f"SELECT {column_list(self.columns)} FROM public.{quoted(self.view)} LIMIT {MAX_VIEW_ROWS + 1}"
        return Scenario(self.fixture_text(), (Step(statement),))

    def scenarios(self) -> Iterator[Scenario]:
        yield self.scenario()


@check(
    "postgres.view-rows",
    title="View {view} returns exactly the expected rows on the grader's data",
    reads=READS,
    params=ViewRowsParams,
)
def view_rows(inv: PostgresInventory, p: ViewRowsParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return problem
    if p.view not in inv.relations:
        return Result.skipped(f"view {p.view} does not exist")
    missing = [c for c in p.columns if c not in inv.relations[p.view].columns]
    if missing:
        return Result.skipped(f"{p.view} has no column {', '.join(missing)}")
    probes = scenario_or_result(inv, p.scenario(), f"reading {p.view} on the grader's data")
    if isinstance(probes, Result):
        return probes
    probe = probes[0]
    if probe.status != "accepted":
        return Result.failed(f"reading {p.view} on the grader's data failed: {probe.message}")
    if probe.truncated:
        return Result.failed(f"{p.view} returned more than {MAX_VIEW_ROWS} rows for {len(p.expected)} expected")
    problems = compare_rows(probe.rows, p.expected, p.ordered)
    if problems:
        return Result.failed(f"on the grader's data, {p.view}: " + "; ".join(problems))
    return Result.passed()


class RejectsRowParams(FixtureParams):
    table: str
    values: dict[str, Any] = Field(min_length=1)
    violates: Violation
    """The constraint kind that must refuse the row (a trigger's exception counts too)."""

    def scenario(self) -> Scenario:
        names = list(self.values)
        statement = (
            f"INSERT INTO public.{quoted(self.table)} ({column_list(names)}) OVERRIDING SYSTEM VALUE "
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )
        return Scenario(self.fixture_text(), (Step(statement, tuple(self.values[n] for n in names)),))

    def scenarios(self) -> Iterator[Scenario]:
        yield self.scenario()


@check(
    "postgres.rejects-row",
    title="A row breaking the {violates} rule on {table} is rejected",
    reads=READS,
    params=RejectsRowParams,
)
def rejects_row(inv: PostgresInventory, p: RejectsRowParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    missing = [c for c in p.values if c not in table.columns]
    if missing:
        return Result.skipped(f"{p.table} has no column {', '.join(missing)}")
    row = ", ".join(f"{k}={'NULL' if v is None else v}" for k, v in p.values.items())
    probes = scenario_or_result(inv, p.scenario(), f"inserting ({row}) into {p.table}")
    if isinstance(probes, Result):
        return probes
    probe = probes[0]
    want = VIOLATION_STATES[p.violates]
    if probe.status == "accepted":
        return Result.failed(f"the row ({row}) was accepted; a {p.violates} constraint must reject it")
    if probe.sqlstate in (want, TRIGGER_STATE):
        return Result.passed()
    if probe.message.startswith("the grader's fixture"):
        return Result.failed(probe.message)
    other = STATE_NAMES.get(probe.sqlstate)
    reason = f"a {other} violation" if other else "an error"
    return Result.failed(
        f"the row ({row}) was rejected by {reason}, not by a {p.violates} constraint: {probe.message}"
    )


class AcceptsRowsParams(FixtureParams):
    table: str
    count: int = Field(ge=0)
    """How many rows `table` holds once the fixture's valid rows are in."""

    def scenario(self) -> Scenario:
        return Scenario(self.fixture_text(), (Step(f"SELECT count(*) FROM public.{quoted(self.table)}"),))

    def scenarios(self) -> Iterator[Scenario]:
        yield self.scenario()


@check(
    "postgres.accepts-rows",
    title="Valid rows are accepted into {table}",
    reads=READS,
    params=AcceptsRowsParams,
)
def accepts_rows(inv: PostgresInventory, p: AcceptsRowsParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    probes = scenario_or_result(inv, p.scenario(), f"loading valid rows into {p.table}")
    if isinstance(probes, Result):
        return probes
    probe = probes[0]
    if probe.status != "accepted":
        return Result.failed(f"valid rows were refused: {probe.message}", hint="a constraint is too strict")
    count = probe.rows[0][0] if probe.rows else None
    if count != p.count:
        return Result.failed(f"{p.table} holds {count} rows after loading {p.count} valid ones")
    return Result.passed()


class FunctionParams(Params):
    function: str
    arguments: list[str] = Field(default_factory=list)
    """Argument types as format_type() shows them (`text`, `integer`)."""


@check(
    "postgres.function",
    title="Function {function}({arguments}) exists",
    reads=READS,
    params=FunctionParams,
)
def function_exists(inv: PostgresInventory, p: FunctionParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return Result.failed(problem.message) if problem.status == "skipped" else problem
    signature = f"{p.function}({', '.join(p.arguments)})"
    overloads = inv.functions.get(p.function, ())
    if any(list(f.arguments) == p.arguments for f in overloads):
        return Result.passed()
    if overloads:
        found = ", ".join(f"{p.function}({', '.join(f.arguments)})" for f in overloads)
        return Result.failed(f"{signature} does not exist (found {found})")
    return Result.failed(f"function {signature} does not exist", hint=f"CREATE FUNCTION {signature} ...")


class FunctionRowsParams(FixtureParams):
    function: str
    args: list[Any] = Field(default_factory=list)
    columns: list[str] = Field(min_length=1)
    expected: list[list[Any]]
    unchanged: dict[str, int] = Field(default_factory=dict)
    """table → how many rows it must still hold after the call (it must still exist, too)."""

    def scenario(self) -> Scenario:
        placeholders = ", ".join(["%s"] * len(self.args))
        call = Step(
            f"SELECT {column_list(self.columns)} FROM public.{quoted(self.function)}({placeholders}) "
            f"LIMIT {MAX_VIEW_ROWS + 1}",
            tuple(self.args),
        )
        counts = tuple(Step(f"SELECT count(*) FROM public.{quoted(t)}") for t in self.unchanged)
        return Scenario(self.fixture_text(), (call, *counts))

    def scenarios(self) -> Iterator[Scenario]:
        yield self.scenario()


@check(
    "postgres.function-rows",
    title="{function}({args}) returns exactly the expected rows",
    reads=READS,
    params=FunctionRowsParams,
)
def function_rows(inv: PostgresInventory, p: FunctionRowsParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return problem
    if p.function not in inv.functions:
        return Result.skipped(f"function {p.function} does not exist")
    call = f"{p.function}({', '.join(repr(a) for a in p.args)})"
    probes = scenario_or_result(inv, p.scenario(), f"calling {call}")
    if isinstance(probes, Result):
        return probes
    result, *counts = probes
    if result.status != "accepted":
        return Result.failed(f"{call} failed: {result.message}")
    if result.truncated:
        return Result.failed(f"{call} returned more than {MAX_VIEW_ROWS} rows")
    problems = compare_rows(result.rows, p.expected, ordered=False)
    for (table, want), probe in zip(p.unchanged.items(), counts, strict=True):
        if probe.status != "accepted":
            problems.append(f"afterwards {table} could not be read: {probe.message}")
        elif probe.rows[0][0] != want:
            problems.append(f"afterwards {table} holds {probe.rows[0][0]} rows, not {want}")
    if problems:
        return Result.failed(f"{call}: " + "; ".join(problems))
    return Result.passed()


class SourceParams(Params):
    function: str


QUOTED_LITERAL = re.compile(r"(?:[Ee])?'(?:[^']|'')*'")
DOLLAR_LITERAL = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*|)\$.*?\$\1\$", re.S)
COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
EXECUTE = re.compile(r"\bEXECUTE\b(.*?)(?:\bUSING\b|\bINTO\b|;|$)", re.S | re.I)


def concatenated_execute(source: str) -> str | None:
    """The first EXECUTE whose SQL text is built by concatenation (`||`, concat()) or by format()
    with a plain `%s`; None when every EXECUTE passes its values as parameters or quoted with %L/%I."""

    def literal(match: re.Match[str]) -> str:
        return "'%s'" if "%s" in match.group(0) else "''"

    code = QUOTED_LITERAL.sub(literal, DOLLAR_LITERAL.sub(literal, COMMENTS.sub(" ", source)))
    for match in EXECUTE.finditer(code):
        statement = match.group(1)
        if "||" in statement or re.search(r"\bconcat(_ws)?\s*\(", statement, re.I):
            return "EXECUTE builds its SQL with string concatenation"
        if re.search(r"\bformat\s*\(", statement, re.I) and "%s" in statement:
            return "EXECUTE builds its SQL with format() and a plain %s"
    return None


@check(
    "postgres.no-concatenated-execute",
    title="Function {function} never builds SQL text from its inputs",
    reads=READS,
    params=SourceParams,
)
def no_concatenated_execute(inv: PostgresInventory, p: SourceParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return problem
    overloads = inv.functions.get(p.function, ())
    if not overloads:
        return Result.skipped(f"function {p.function} does not exist")
    for function in overloads:
        found = concatenated_execute(function.source)
        if found:
            return Result.failed(
                f"{p.function}: {found}",
                hint="pass values with EXECUTE ... USING, or use plain SQL with the parameter",
            )
    return Result.passed()


class UsesIndexParams(Params):
    query: str
    """The target query, exactly as the README shows it (the grader EXPLAINs it, never runs it)."""
    table: str
    column: str
    """The leading column of the index the plan must use."""

    def scenario(self) -> Scenario:
        return Scenario("", (Step(f"EXPLAIN (FORMAT JSON) {self.query}"),))

    def scenarios(self) -> Iterator[Scenario]:
        yield self.scenario()


def plan_nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "Node Type" in node:
            yield node
        for key in ("Plan", "Plans"):
            if key in node:
                yield from plan_nodes(node[key])
    elif isinstance(node, list):
        for item in node:
            yield from plan_nodes(item)


@check(
    "postgres.uses-index",
    title="The target query reads {table} through an index starting with {column}",
    reads=READS,
    params=UsesIndexParams,
)
def uses_index(inv: PostgresInventory, p: UsesIndexParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    probes = scenario_or_result(inv, p.scenario(), "explaining the target query")
    if isinstance(probes, Result):
        return probes
    probe = probes[0]
    if probe.status != "accepted" or not probe.rows:
        return Result.failed(f"the target query could not be explained: {probe.message}")
    nodes = list(plan_nodes(probe.rows[0][0]))
    by_name = {index.name: index for index in table.indexes}
    used = [
        by_name[node["Index Name"]]
        for node in nodes
        if node["Node Type"] in INDEX_NODES and node.get("Index Name") in by_name
    ]
    if any(index.columns and index.columns[0] == p.column for index in used):
        return Result.passed()
    hint = f"CREATE INDEX ON {p.table} ({p.column}, ...)"
    if used:
        names = ", ".join(f"{i.name} ({', '.join(c or 'expression' for c in i.columns)})" for i in used)
        return Result.failed(f"the plan uses {names}, which does not start with {p.column}", hint=hint)
    scans = sorted({n["Node Type"] for n in nodes if n.get("Relation Name") == p.table})
    how = " and ".join(scans) or "no index"
    return Result.failed(f"the plan reads {p.table} with {how}", hint=hint)


class IndexColumnsParams(Params):
    table: str
    columns: list[str] = Field(min_length=1)


@check(
    "postgres.index-starts-with",
    title="An index on {table} starts with ({columns})",
    reads=READS,
    params=IndexColumnsParams,
)
def index_starts_with(inv: PostgresInventory, p: IndexColumnsParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    want = tuple(p.columns)
    if any(index.columns[: len(want)] == want for index in table.indexes):
        return Result.passed()
    shown = ", ".join(p.columns)
    return Result.failed(f"no index on {p.table} starts with ({shown})", hint=f"CREATE INDEX ON {p.table} ({shown})")


class MaxIndexesParams(Params):
    table: str
    max: int = Field(ge=1)


@check(
    "postgres.max-indexes",
    title="Table {table} has at most {max} indexes",
    reads=READS,
    params=MaxIndexesParams,
)
def max_indexes(inv: PostgresInventory, p: MaxIndexesParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if len(table.indexes) > p.max:
        names = ", ".join(sorted(i.name for i in table.indexes))
        return Result.failed(
            f"{p.table} has {len(table.indexes)} indexes ({names}); every one slows each write",
            hint="drop the indexes the target query does not use",
        )
    return Result.passed()


WRITE_PRIVILEGES = frozenset({"INSERT", "UPDATE", "DELETE"})


class RolePrivilegesParams(Params):
    role_suffix: str = Field(pattern=r"^_[a-z0-9_]{1,30}$")
    """The role checked is the student's database name plus this suffix (`_analyst`): roles are
    cluster-wide, so each student's is named after their own database."""
    select: list[str] = Field(default_factory=list)
    """Relations the role must be able to read in full."""
    no_select: dict[str, list[str]] = Field(default_factory=dict)
    """relation → columns the role must not be able to read; an empty list: no column at all."""
    read_only: bool = True
    """The role must not INSERT, UPDATE or DELETE anything in `public`."""

    def role_suffixes(self) -> Iterator[str]:
        yield self.role_suffix


def writable_by(grantee: Grantee) -> list[str]:
    """The relations, or else columns, of `public` the role may INSERT into, UPDATE or DELETE from."""
    relations = sorted(r for r, privileges in grantee.table_privileges.items() if privileges & WRITE_PRIVILEGES)
    columns = sorted(
        f"{relation}.{column}"
        for relation, by_column in grantee.column_privileges.items()
        if relation not in relations
        for column, privileges in by_column.items()
        if privileges & WRITE_PRIVILEGES
    )
    return relations + columns


@check(
    "postgres.role-privileges",
    title="Role <database>{role_suffix} can read {select} and nothing it must not",
    reads=READS,
    params=RolePrivilegesParams,
)
def role_privileges(inv: PostgresInventory, p: RolePrivilegesParams) -> Result:
    problem = database_or_result(inv)
    if problem is not None:
        return problem
    name = inv.database + p.role_suffix
    grantee = inv.grantees.get(name)
    if grantee is None:
        return Result.error(f"the privileges of role {name} were not read")
    if not grantee.exists:
        return Result.failed(f"role {name} does not exist")
    problems = []
    for relation in p.select:
        if "SELECT" not in grantee.table_privileges.get(relation, frozenset()):
            problems.append(f"cannot read {relation}")
    for relation, columns in p.no_select.items():
        readable = {c for c, privs in grantee.column_privileges.get(relation, {}).items() if "SELECT" in privs}
        if not columns and readable:
            problems.append(f"can read {relation} ({', '.join(sorted(readable))})")
        for column in columns:
            if column in readable:
                problems.append(f"can read {relation}.{column}")
    if p.read_only:
        writable = writable_by(grantee)
        if writable:
            problems.append(f"can change {', '.join(writable[:4])}")
    if problems:
        return Result.failed(
            f"role {name}: " + "; ".join(problems),
            hint=f"REVOKE ALL ON ... FROM {name}, then GRANT SELECT on the masked view only",
        )
    return Result.passed()
