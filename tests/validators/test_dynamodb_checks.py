"""DynamoDB checks on fixture inventories (no emulator; tests/validators/test_dynamodb.py grades the lab
on the real moto server), each outcome stated from the lab's rule: the table exists and is ACTIVE;
the partition and sort keys are the named attributes of the named types, and there is no sort key
when none is asked; the index is keyed and projected as asked; billing mode and point-in-time
recovery are as asked; the table holds enough items, each with the attribute in the type asked; a
provisioned table and its indexes stay within the capacity cap (the cap itself admitted).

Values are built as they come off the wire (decoded JSON: new string objects, never the literals the
checks compare with)."""

from __future__ import annotations

import json

import pytest
from named_objects import assert_missing_unread_and_undetailed

from labctl.validators.checks import dynamodb as ddb
from labctl.validators.inventory.dynamodb import DynamoDBInventory, Index, Key, Table

NAME = "c-ada-orders"
TABLE = ddb.TableParams(table=NAME)


def wire(value):
    """`value` as decoded from an AWS response."""
    return json.loads(json.dumps(value))


def key(attribute: str, key_type: str, attribute_type: str | None = "S") -> Key:
    return Key(wire(attribute), wire(key_type), wire(attribute_type))


def index(name: str = "by-status", *keys: Key, projection: str | None = "ALL", **capacity) -> Index:
    return Index(wire(name), keys or (key("status", "HASH"),), wire(projection), **capacity)


def item(status: dict | None = None) -> dict:
    found = {"customer_id": {"S": "c1"}, "order_id": {"S": "o1"}}
    if status is not None:
        found["status"] = status
    return wire(found)


def table(**fields) -> DynamoDBInventory:
    """The dynamodb-orders solution, with `fields` changed."""
    good = dict(
        status=wire("ACTIVE"),
        keys=(key("customer_id", "HASH"), key("order_id", "RANGE")),
        billing_mode=wire("PAY_PER_REQUEST"),
        indexes={"by-status": index()},
        pitr=wire("ENABLED"),
        item_count=3,
        sample=tuple(item({"S": s}) for s in ("NEW", "PAID", "SHIPPED")),
    )
    return DynamoDBInventory({NAME: Table(name=NAME, **{**good, **fields})})


def test_table_exists_when_listed_and_active() -> None:
    missing = ddb.table_exists(DynamoDBInventory(), TABLE)
    assert (missing.status, missing.message) == ("failed", f"table {NAME} does not exist") and missing.hint
    assert ddb.table_exists(table(), TABLE).status == "passed"
    # A table only listed (no check reads its details) exists; its status was never read.
    assert ddb.table_exists(table(detailed=False, status=None), TABLE).status == "passed"
    unread = ddb.table_exists(table(error="DescribeTable failed: AccessDeniedException"), TABLE)
    assert (unread.status, unread.message) == ("error", f"could not read table {NAME}: DescribeTable failed: AccessDeniedException")


@pytest.mark.parametrize("status", ["CREATING", "UPDATING", "DELETING", "ARCHIVED", "INACCESSIBLE_ENCRYPTION_CREDENTIALS"])
def test_a_table_that_is_not_active_yet_fails(status: str) -> None:
    result = ddb.table_exists(table(status=wire(status)), TABLE)
    assert (result.status, result.message) == ("failed", f"table {NAME} is {status}, not ACTIVE yet")


DETAILED_CHECKS = [
    (ddb.key_schema, ddb.KeySchemaParams(table=NAME, hash_key="customer_id", range_key="order_id")),
    (ddb.gsi, ddb.IndexParams(table=NAME, index="by-status", hash_key="status")),
    (ddb.billing_mode, ddb.BillingParams(table=NAME)),
    (ddb.pitr, TABLE),
    (ddb.seed_items, ddb.SeedItemsParams(table=NAME, attribute="status")),
    (ddb.capacity_at_most, ddb.CapacityParams(table=NAME, max_capacity=5)),
]


@pytest.mark.parametrize(("check", "params"), DETAILED_CHECKS)
def test_every_detailed_check_passes_the_solution_skips_a_missing_table_and_reports_an_unread_one(check, params) -> None:
    assert check(table(), params).status == "passed"
    assert_missing_unread_and_undetailed(
        check, params, kind="table", name=NAME, empty=DynamoDBInventory(), inventory=table, error="AccessDeniedException"
    )


# --- dynamodb.key-schema -------------------------------------------------------------------------


def keys(*found: Key, **wanted):
    params = ddb.KeySchemaParams(table=NAME, **{"hash_key": "customer_id", **wanted})
    return ddb.key_schema(table(keys=found), params)


def test_the_asked_keys_pass() -> None:
    assert keys(key("customer_id", "HASH"), key("order_id", "RANGE"), range_key="order_id").status == "passed"
    numbers = (key("customer_id", "HASH", "N"), key("order_id", "RANGE", "B"))
    assert keys(*numbers, hash_type="N", range_key="order_id", range_type="B").status == "passed"
    # Without a sort key asked, a table with a partition key only is right (the types default to S).
    assert keys(key("customer_id", "HASH")).status == "passed"


@pytest.mark.parametrize("attribute", ["account_id", "order_id", "tenant_id", "customer"])
def test_another_partition_key_fails(attribute: str) -> None:
    result = keys(key(attribute, "HASH"))
    assert (result.status, result.message) == ("failed", f"the partition (HASH) key is {attribute}, expected customer_id")
    assert result.hint == "the key schema is fixed at creation: recreate the table"


@pytest.mark.parametrize(("found", "wanted"), [("N", "S"), ("S", "N"), ("B", "N"), ("N", "B")])
def test_a_key_of_another_type_fails(found: str, wanted: str) -> None:
    result = keys(key("customer_id", "HASH", found), hash_type=wanted)
    assert result.message == f"the partition (HASH) key customer_id has type {found}, expected {wanted}"
    sort = keys(key("customer_id", "HASH"), key("order_id", "RANGE", found), range_key="order_id", range_type=wanted)
    assert sort.message == f"the sort (RANGE) key order_id has type {found}, expected {wanted}"


def test_a_missing_or_unexpected_sort_key_fails() -> None:
    missing = keys(key("customer_id", "HASH"), range_key="order_id")
    assert missing.message == "there is no sort (RANGE) key (expected order_id of type S)"
    unexpected = keys(key("customer_id", "HASH"), key("order_id", "RANGE"))
    assert unexpected.message == "the table has a sort key order_id, expected none"


def test_every_key_problem_is_named() -> None:
    result = keys(key("tenant_id", "HASH"), key("created_at", "RANGE", "N"), range_key="order_id")
    assert result.message == "the partition (HASH) key is tenant_id, expected customer_id; the sort (RANGE) key is created_at, expected order_id"


# --- dynamodb.gsi --------------------------------------------------------------------------------


def gsi(*indexes: Index, **wanted):
    params = ddb.IndexParams(table=NAME, **{"index": "by-status", "hash_key": "status", **wanted})
    return ddb.gsi(table(indexes={i.name: i for i in indexes}), params)


def test_an_index_keyed_and_projected_as_asked_passes() -> None:
    # An index may have a sort key too: its partition key is the one checked.
    with_sort = index("by-status", key("status", "HASH"), key("created_at", "RANGE", "N"))
    assert gsi(with_sort).status == "passed"
    keys_only = index("by-status", key("status", "HASH", "N"), projection="KEYS_ONLY")
    assert gsi(keys_only, hash_type="N", projection="KEYS_ONLY").status == "passed"


def test_a_missing_index_fails_naming_the_ones_found() -> None:
    result = gsi(index("by-status-v2"), index("by-customer"), index("by-date"))
    assert (result.status, result.message) == ("failed", "no global secondary index named by-status (found: by-customer, by-date, by-status-v2)")
    assert gsi().message == "no global secondary index named by-status (found: none)"


def test_an_index_on_another_key_fails() -> None:
    for attribute in ("created_at", "state"):
        result = gsi(index("by-status", key(attribute, "HASH")))
        assert (result.status, result.message) == ("failed", f"the index partition (HASH) key is {attribute}, expected status")
    assert gsi(index("by-status", key("status", "HASH", "N"))).message == "the index partition (HASH) key status has type N, expected S"


@pytest.mark.parametrize(("found", "wanted"), [("KEYS_ONLY", "ALL"), ("INCLUDE", "ALL"), ("ALL", "KEYS_ONLY"), ("INCLUDE", "KEYS_ONLY"), (None, "ALL")])
def test_another_projection_fails(found: str | None, wanted: str) -> None:
    result = gsi(index(projection=found), projection=wanted)
    assert (result.status, result.message) == ("failed", f"the index projects {found or 'nothing'}, expected {wanted}")


def test_a_wrong_key_and_projection_are_both_named() -> None:
    result = gsi(index("by-status", key("state", "HASH"), projection="KEYS_ONLY"))
    assert result.message == "the index partition (HASH) key is state, expected status; the index projects KEYS_ONLY, expected ALL"


# --- dynamodb.billing-mode and dynamodb.pitr -----------------------------------------------------


@pytest.mark.parametrize(("found", "wanted"), [("PROVISIONED", "PAY_PER_REQUEST"), ("PAY_PER_REQUEST", "PROVISIONED")])
def test_another_billing_mode_fails(found: str, wanted: str) -> None:
    result = ddb.billing_mode(table(billing_mode=wire(found)), ddb.BillingParams(table=NAME, mode=wanted))
    assert (result.status, result.message) == ("failed", f"billing mode is {found}, expected {wanted}")
    assert ddb.billing_mode(table(billing_mode=wire(wanted)), ddb.BillingParams(table=NAME, mode=wanted)).status == "passed"


def test_billing_mode_asks_for_on_demand_unless_told() -> None:
    result = ddb.billing_mode(table(billing_mode=wire("PROVISIONED")), ddb.BillingParams(table=NAME))
    assert result.message == "billing mode is PROVISIONED, expected PAY_PER_REQUEST"


@pytest.mark.parametrize(("found", "shown"), [("DISABLED", "DISABLED"), (None, "unknown")])
def test_point_in_time_recovery_off_or_unread_fails(found: str | None, shown: str) -> None:
    result = ddb.pitr(table(pitr=wire(found)), TABLE)
    assert (result.status, result.message) == ("failed", f"point-in-time recovery is {shown}") and result.hint


# --- dynamodb.seed-items -------------------------------------------------------------------------


def seeded(count: int, sample: tuple[dict, ...], **wanted):
    params = ddb.SeedItemsParams(table=NAME, **{"attribute": "status", **wanted})
    return ddb.seed_items(table(item_count=count, sample=sample), params)


def test_enough_items_each_with_the_attribute_pass() -> None:
    three = tuple(item({"S": s}) for s in ("NEW", "PAID", "SHIPPED"))
    assert seeded(3, three).status == "passed"
    assert seeded(5, three, min_items=5).status == "passed"
    assert seeded(3, tuple(item({"N": str(n)}) for n in range(3)), attribute_type="N").status == "passed"


@pytest.mark.parametrize(("count", "wanted"), [(0, 1), (2, 3), (4, 5)])
def test_too_few_items_fail(count: int, wanted: int) -> None:
    result = seeded(count, tuple(item({"S": "NEW"}) for _ in range(count)), min_items=wanted)
    assert (result.status, result.message) == ("failed", f"the table holds {count} items, expected at least {wanted}")


def test_the_item_count_asked_defaults_to_three_and_lies_within_one_to_a_thousand() -> None:
    assert seeded(2, (item({"S": "NEW"}),) * 2).message == "the table holds 2 items, expected at least 3"
    edge = (ddb.SeedItemsParams(table=NAME, attribute="a", min_items=1), ddb.SeedItemsParams(table=NAME, attribute="a", min_items=1000))
    assert [p.min_items for p in edge] == [1, 1000]
    for bad in (0, 1001):
        with pytest.raises(ValueError):
            ddb.SeedItemsParams(table=NAME, attribute="a", min_items=bad)


def test_sampled_items_without_the_attribute_or_of_another_type_are_counted() -> None:
    sample = (item({"S": "NEW"}), item(), item({"N": "2"}), item({"S": "PAID"}))
    result = seeded(4, sample)
    assert (result.status, result.message) == ("failed", "2 of 4 sampled items have no S attribute status")
    assert seeded(4, sample, attribute_type="N").message == "3 of 4 sampled items have no N attribute status"
    assert ddb.SeedItemsParams(table=NAME, attribute="status").sampled_attributes() == ("status",)


# --- dynamodb.capacity-at-most -------------------------------------------------------------------


def capacity(read: int, write: int, *indexes: Index, cap: int = 5, mode: str = "PROVISIONED"):
    inv = table(billing_mode=wire(mode), read_capacity=read, write_capacity=write, indexes={i.name: i for i in indexes})
    return ddb.capacity_at_most(inv, ddb.CapacityParams(table=NAME, max_capacity=cap))


def test_capacity_up_to_the_cap_passes() -> None:
    assert capacity(5, 5, index(read_capacity=5, write_capacity=5)).status == "passed"
    assert capacity(1, 1, cap=1).status == "passed"
    on_demand = capacity(0, 0, index(), mode="PAY_PER_REQUEST")
    assert (on_demand.status, on_demand.message) == ("passed", "billing mode is PAY_PER_REQUEST")


@pytest.mark.parametrize(("read", "write"), [(6, 5), (5, 6), (10, 10)])
def test_read_or_write_capacity_over_the_cap_fails(read: int, write: int) -> None:
    result = capacity(read, write)
    assert (result.status, result.message) == ("failed", f"table {NAME} has {read} RCU / {write} WCU (at most 5 each)")


def test_every_index_over_the_cap_is_named() -> None:
    hot = index("by-status", read_capacity=5, write_capacity=6)
    cold = index("by-date", read_capacity=1, write_capacity=1)
    assert capacity(5, 5, hot, cold).message == "index by-status has 5 RCU / 6 WCU (at most 5 each)"
    both = capacity(10, 1, cold, hot)
    assert both.message == f"table {NAME} has 10 RCU / 1 WCU; index by-status has 5 RCU / 6 WCU (at most 5 each)"


def test_the_cap_is_at_least_one_unit() -> None:
    with pytest.raises(ValueError):
        ddb.CapacityParams(table=NAME, max_capacity=0)
