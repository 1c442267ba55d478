"""The PostgreSQL inventory: catalog facts and behaviour-probe outcomes of each student database.

The collector reads the `public` schema's catalog and runs probes inside a transaction it always
rolls back; checks read only these objects (DESIGN decision 4). The grader's ranking fixture lives
here because both sides need it: the collector loads it, the ranking check derives the expected
rows from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, Mapping

PROBE_TIMEOUT_S = 3
MAX_VIEW_ROWS = 100
"""A probed view is read up to this many rows (plus one, to notice more)."""

FIXTURE_CUSTOMERS: tuple[tuple[int, str, str], ...] = (
    (1, "Ada", "UK"),
    (2, "Grace", "US"),
    (3, "Linus", "FI"),
    (4, "Margaret", "US"),
    (5, "Ken", "US"),
    (6, "Barbara", "US"),
)
"""Customer 5 has no orders: it must not appear in the ranking."""
FIXTURE_ORDERS: tuple[tuple[int, int, Decimal, str], ...] = (
    (101, 1, Decimal("100.00"), "2026-01-02T10:00:00+00:00"),
    (102, 1, Decimal("50.00"), "2026-01-03T10:00:00+00:00"),
    (103, 2, Decimal("150.00"), "2026-01-04T10:00:00+00:00"),
    (104, 3, Decimal("120.00"), "2026-01-05T10:00:00+00:00"),
    (105, 4, Decimal("30.50"), "2026-01-06T10:00:00+00:00"),
    (106, 4, Decimal("10.00"), "2026-01-07T10:00:00+00:00"),
    (107, 6, Decimal("40.50"), "2026-01-08T10:00:00+00:00"),
)
"""Customers 1 and 2 tie at 150 (rank 1, then 3 for customer 3); 4 and 6 tie at 40.50 (rank 4)."""

ProbeStatus = Literal["accepted", "rejected", "error", "timeout", "skipped", "not-run"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    """A table or view of the `public` schema."""

    name: str
    kind: Literal["table", "view"]
    columns: Mapping[str, Column] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    index_first_columns: frozenset[str] = frozenset()
    """The first column of each valid index on the table (expression indexes have none)."""


@dataclass(frozen=True)
class Probe:
    """The outcome of one statement the grader ran in the rolled-back transaction.

    `accepted`: it succeeded (`rows` holds what a SELECT returned); `rejected`: the database refused
    it with a constraint or trigger error (`message` holds the reason); `error`: it failed for
    another reason; `timeout`: it hit the statement timeout; `skipped`: a table the student had to
    create is missing; `not-run`: the grader could not run it (no student role to run it as).
    """

    status: ProbeStatus
    message: str = ""
    rows: tuple[tuple[Any, ...], ...] = ()
    truncated: bool = False


@dataclass(frozen=True)
class PostgresInventory:
    """One student's database."""

    database: str
    exists: bool = False
    error: str | None = None
    """Set when the database could not be read at all (connection refused, ...)."""
    relations: Mapping[str, Relation] = field(default_factory=dict)
    probes: Mapping[str, Probe] = field(default_factory=dict)
    """Keyed by `insert:<table>.<column>=<value>` and `select:<view>`."""

    def table(self, name: str) -> Relation | None:
        relation = self.relations.get(name)
        return relation if relation is not None and relation.kind == "table" else None

    def probe(self, key: str) -> Probe | None:
        return self.probes.get(key)


def insert_probe_key(table: str, column: str, value: Decimal) -> str:
    return f"insert:{table}.{column}={value}"


def select_probe_key(view: str) -> str:
    return f"select:{view}"


@dataclass(frozen=True)
class PostgresSnapshot:
    """A cohort's student databases, keyed by owner prefix."""

    by_prefix: Mapping[str, PostgresInventory]

    def for_prefix(self, prefix: str) -> PostgresInventory:
        return self.by_prefix.get(prefix, PostgresInventory(database=database_for(prefix)))


def database_for(prefix: str) -> str:
    """A student's database (and role) name: the prefix with `-` → `_` (DESIGN decision 7)."""
    return prefix.replace("-", "_")
