"""The PostgreSQL inventory: catalog facts and behaviour-probe outcomes of each student database.

The collector reads the `public` schema's catalog and runs probes inside a transaction it always
rolls back; checks read only these objects (DESIGN decision 4). The grader's ranking fixture lives
here because both sides need it: the collector loads it, the ranking check derives the expected
rows from it. Other labs describe their probes as `Scenario`s (grader SQL from the lab's own
fixture files); the collector runs each one and stores its step outcomes under the scenario's key.
"""

from __future__ import annotations

import hashlib
import json
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
    unique_keys: frozenset[frozenset[str]] = frozenset()
    """The column sets of the table's primary key, unique constraints and unique indexes."""
    indexes: tuple["Index", ...] = ()


@dataclass(frozen=True)
class Index:
    """A valid index; `columns` holds None for an expression column."""

    name: str
    table: str
    columns: tuple[str | None, ...]
    unique: bool = False


@dataclass(frozen=True)
class Function:
    """A function of the `public` schema: its argument types, language and source (bounded)."""

    name: str
    arguments: tuple[str, ...]
    language: str
    source: str
    security_definer: bool = False


@dataclass(frozen=True)
class Grantee:
    """What one role may do in the student's `public` schema (read by the collector as the admin)."""

    role: str
    exists: bool
    login: bool = False
    table_privileges: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """relation → privileges the role holds on the whole relation (SELECT, INSERT, ...)."""
    column_privileges: Mapping[str, Mapping[str, frozenset[str]]] = field(default_factory=dict)
    """relation → column → privileges the role holds on that column (from either grant)."""


@dataclass(frozen=True)
class Step:
    """One grader statement of a scenario; `%s` placeholders take `args`, bound by the driver."""

    sql: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """Grader SQL run as the student's role inside the rolled-back transaction.

    `fixture` runs first (in a savepoint); then each step in a nested savepoint that is kept when it
    succeeds (so a later step sees what an earlier one did, e.g. a dropped table) and rolled back to
    when it fails. Everything is rolled back at the end.
    """

    fixture: str
    steps: tuple[Step, ...]

    @property
    def key(self) -> str:
        payload = json.dumps([self.fixture, [[s.sql, [str(a) for a in s.args]] for s in self.steps]])
        return "scenario:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


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
    sqlstate: str = ""


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
    functions: Mapping[str, tuple[Function, ...]] = field(default_factory=dict)
    """Function name → its overloads."""
    grantees: Mapping[str, Grantee] = field(default_factory=dict)
    """Role name → its privileges, for the roles the checks name."""
    scenarios: Mapping[str, tuple[Probe, ...]] = field(default_factory=dict)
    """Scenario key → one Probe per step (all the same Probe when the fixture could not load)."""

    def table(self, name: str) -> Relation | None:
        relation = self.relations.get(name)
        return relation if relation is not None and relation.kind == "table" else None

    def view(self, name: str) -> Relation | None:
        relation = self.relations.get(name)
        return relation if relation is not None and relation.kind == "view" else None

    def probe(self, key: str) -> Probe | None:
        return self.probes.get(key)

    def scenario(self, scenario: Scenario) -> tuple[Probe, ...] | None:
        return self.scenarios.get(scenario.key)


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
