"""PostgreSQL checks: pure functions of one student's PostgresInventory (validators.inventory.postgres).

Behaviour checks read the outcomes of probes the collector ran in a rolled-back transaction on the
grader's fixture (customers(id, name, country), orders(id, customer_id, amount, created_at)).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Iterator

from pydantic import Field

from validators.inventory.postgres import (
    FIXTURE_CUSTOMERS,
    FIXTURE_ORDERS,
    PostgresInventory,
    Probe,
    Relation,
    insert_probe_key,
    select_probe_key,
)
from validators.registry import Params, Result, check

READS = "postgres"


class TableParams(Params):
    table: str
    columns: list[str] = Field(default_factory=list)
    primary_key: list[str] = Field(default_factory=list)
    not_null: list[str] = Field(default_factory=list)
    references: dict[str, str] = Field(default_factory=dict)
    """column → `table.column` it must reference with a foreign key."""


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
