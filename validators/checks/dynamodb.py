"""DynamoDB checks: pure functions of one student's DynamoDBInventory (validators.inventory.dynamodb)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from labctl.validators.inventory.dynamodb import DynamoDBInventory, Index, Key, Table
from labctl.validators.registry import Params, Result, check

READS = "dynamodb"
AttributeType = Literal["S", "N", "B"]


class TableParams(Params):
    table: str


class KeySchemaParams(TableParams):
    hash_key: str
    hash_type: AttributeType = "S"
    range_key: str | None = None
    range_type: AttributeType = "S"


class IndexParams(TableParams):
    index: str
    hash_key: str
    hash_type: AttributeType = "S"
    projection: Literal["ALL", "KEYS_ONLY", "INCLUDE"] = "ALL"


class BillingParams(TableParams):
    mode: Literal["PAY_PER_REQUEST", "PROVISIONED"] = "PAY_PER_REQUEST"


class SeedItemsParams(TableParams):
    min_items: int = Field(default=3, ge=1, le=1000)
    attribute: str
    attribute_type: AttributeType = "S"

    def sampled_attributes(self) -> tuple[str, ...]:
        """The item attributes the DynamoDB collector must keep in its sample for this check."""
        return (self.attribute,)


class CapacityParams(TableParams):
    max_capacity: int = Field(ge=1)


def table_or_result(inv: DynamoDBInventory, name: str) -> Table | Result:
    """The table, or the Result a check on it must return: skipped when missing, error when unread."""
    table = inv.table(name)
    if table is None:
        return Result.skipped(f"table {name} does not exist")
    if table.error:
        return Result.error(f"could not read table {name}: {table.error}")
    if not table.detailed:
        return Result.error(f"table {name} was not collected in detail")
    return table


def key_problem(role: str, key: Key | None, attribute: str, attribute_type: str) -> str | None:
    if key is None:
        return f"there is no {role} key (expected {attribute} of type {attribute_type})"
    if key.attribute != attribute:
        return f"the {role} key is {key.attribute}, expected {attribute}"
    if key.attribute_type != attribute_type:
        return f"the {role} key {attribute} has type {key.attribute_type}, expected {attribute_type}"
    return None


@check("dynamodb.table-exists", title="Table {table} exists and is ACTIVE", reads=READS, params=TableParams)
def table_exists(inv: DynamoDBInventory, p: TableParams) -> Result:
    table = inv.table(p.table)
    if table is None:
        return Result.failed(f"table {p.table} does not exist", hint="create-table")
    if table.error:
        return Result.error(f"could not read table {p.table}: {table.error}")
    if table.detailed and table.status != "ACTIVE":
        return Result.failed(f"table {p.table} is {table.status}, not ACTIVE yet")
    return Result.passed()


@check("dynamodb.key-schema", title="The table's primary key is right", reads=READS, params=KeySchemaParams)
def key_schema(inv: DynamoDBInventory, p: KeySchemaParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    problems = [key_problem("partition (HASH)", table.key("HASH"), p.hash_key, p.hash_type)]
    if p.range_key is not None:
        problems.append(key_problem("sort (RANGE)", table.key("RANGE"), p.range_key, p.range_type))
    elif table.key("RANGE") is not None:
        problems.append(f"the table has a sort key {table.key('RANGE').attribute}, expected none")
    problems = [x for x in problems if x]
    if problems:
        return Result.failed(
            "; ".join(problems), hint="the key schema is fixed at creation: recreate the table"
        )
    return Result.passed()


@check("dynamodb.gsi", title="Global secondary index {index} is right", reads=READS, params=IndexParams)
def gsi(inv: DynamoDBInventory, p: IndexParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    index: Index | None = table.indexes.get(p.index)
    if index is None:
        found = ", ".join(sorted(table.indexes)) or "none"
        return Result.failed(f"no global secondary index named {p.index} (found: {found})")
    hash_key = next((k for k in index.keys if k.key_type == "HASH"), None)
    problems = [key_problem("index partition (HASH)", hash_key, p.hash_key, p.hash_type)]
    if index.projection != p.projection:
        problems.append(f"the index projects {index.projection or 'nothing'}, expected {p.projection}")
    problems = [x for x in problems if x]
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check("dynamodb.billing-mode", title="Billing mode is {mode}", reads=READS, params=BillingParams)
def billing_mode(inv: DynamoDBInventory, p: BillingParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if table.billing_mode == p.mode:
        return Result.passed()
    return Result.failed(f"billing mode is {table.billing_mode}, expected {p.mode}")


@check("dynamodb.pitr", title="Point-in-time recovery is enabled", reads=READS, params=TableParams)
def pitr(inv: DynamoDBInventory, p: TableParams) -> Result:
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if table.pitr == "ENABLED":
        return Result.passed()
    return Result.failed(
        f"point-in-time recovery is {table.pitr or 'unknown'}", hint="update-continuous-backups"
    )


@check(
    "dynamodb.seed-items",
    title="At least {min_items} items, each with a {attribute_type} attribute {attribute}",
    reads=READS,
    params=SeedItemsParams,
)
def seed_items(inv: DynamoDBInventory, p: SeedItemsParams) -> Result:
    """Counts with Select=COUNT (bounded); the attribute is checked on a sample of up to 100 items."""
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if table.item_count < p.min_items:
        return Result.failed(f"the table holds {table.item_count} items, expected at least {p.min_items}")
    wrong = 0
    for item in table.sample:
        value = item.get(p.attribute)
        if not isinstance(value, dict) or p.attribute_type not in value:
            wrong += 1
    if wrong:
        return Result.failed(
            f"{wrong} of {len(table.sample)} sampled items have no {p.attribute_type} attribute {p.attribute}"
        )
    return Result.passed()


@check(
    "dynamodb.capacity-at-most",
    title="Provisioned capacity is at most {max_capacity} units",
    reads=READS,
    params=CapacityParams,
)
def capacity_at_most(inv: DynamoDBInventory, p: CapacityParams) -> Result:
    """Fails when a PROVISIONED table, or one of its GSIs, has read or write capacity above the cap."""
    table = table_or_result(inv, p.table)
    if isinstance(table, Result):
        return table
    if table.billing_mode != "PROVISIONED":
        return Result.passed(f"billing mode is {table.billing_mode}")
    over = [
        f"{what} has {rcu} RCU / {wcu} WCU"
        for what, rcu, wcu in (
            (f"table {table.name}", table.read_capacity, table.write_capacity),
            *((f"index {i.name}", i.read_capacity, i.write_capacity) for i in table.indexes.values()),
        )
        if rcu > p.max_capacity or wcu > p.max_capacity
    ]
    if over:
        return Result.failed("; ".join(over) + f" (at most {p.max_capacity} each)")
    return Result.passed()
