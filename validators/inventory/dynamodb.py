"""The DynamoDB inventory: every student-owned table of a cohort as plain frozen data.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

SAMPLE_ITEMS = 100
"""At most this many items are read from a table (a student controls their content and size)."""
COUNT_LIMIT = 1000
"""Items are counted with `Select=COUNT` up to this bound; `count_truncated` says it was reached."""


@dataclass(frozen=True)
class Key:
    attribute: str
    key_type: str
    """HASH or RANGE."""
    attribute_type: str | None
    """S, N or B, from the table's AttributeDefinitions."""


@dataclass(frozen=True)
class Index:
    """A global secondary index."""

    name: str
    keys: tuple[Key, ...]
    projection: str | None
    read_capacity: int = 0
    write_capacity: int = 0


@dataclass(frozen=True)
class Table:
    name: str
    detailed: bool = True
    """False when no check names this table, so only its existence was recorded."""
    status: str | None = None
    keys: tuple[Key, ...] = ()
    billing_mode: str | None = None
    """PAY_PER_REQUEST or PROVISIONED (a table created without BillingMode is PROVISIONED)."""
    read_capacity: int = 0
    write_capacity: int = 0
    indexes: Mapping[str, Index] = field(default_factory=dict)
    pitr: str | None = None
    """Point-in-time recovery status: ENABLED, DISABLED, or None when it could not be read."""
    item_count: int = 0
    count_truncated: bool = False
    sample: tuple[Mapping[str, Any], ...] = ()
    """Up to SAMPLE_ITEMS items in DynamoDB's typed JSON ({"status": {"S": "new"}}), holding only the
    attributes checks name (an item without them is `{}`)."""
    error: str | None = None
    """Set when reading this table's details failed (AccessDenied, ...): checks report an error."""

    def key(self, key_type: str) -> Key | None:
        return next((k for k in self.keys if k.key_type == key_type), None)


@dataclass(frozen=True)
class DynamoDBInventory:
    """One student's tables."""

    tables: Mapping[str, Table] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        return self.tables.get(name)


@dataclass(frozen=True)
class DynamoDBSnapshot:
    """A cohort's tables partitioned by owner prefix, from one listing."""

    by_prefix: Mapping[str, DynamoDBInventory]

    def for_prefix(self, prefix: str) -> DynamoDBInventory:
        return self.by_prefix.get(prefix, DynamoDBInventory())
