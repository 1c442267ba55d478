"""dynamodb-orders: scenario tests on the real moto server over HTTP, asserting each check's status."""

from __future__ import annotations

from typing import Iterable

import boto3
import pytest

from labctl.cohorts.cohort import Cohort, Student, Target, prefix_for
from labctl.labs.catalog import get_lab
from labctl.labs.spec import LabSpec, render
from labctl.validators import checks as check_modules
from labctl.validators.collectors import COLLECTORS, CollectRequest
from labctl.validators.collectors import dynamodb as dynamodb_collector
from labctl.validators.collectors.dynamodb import collect_dynamodb
from labctl.validators.inventory.dynamodb import DynamoDBSnapshot
from labctl.validators.runner import grade_cohort

LAB = "dynamodb-orders"
COHORT = "c1"
ALL_PARTS = ("table", "gsi", "on-demand", "pitr", "items")
CHECK_IDS = ("table-exists", "key-schema", "gsi-by-status", "on-demand", "pitr", "seed-items")
GUARD = "no-provisioned-overspend"


@pytest.fixture(scope="module")
def lab() -> LabSpec:
    return get_lab(LAB).spec


@pytest.fixture
def ddb(aws: boto3.Session, moto_endpoint: str):
    return aws.client("dynamodb", endpoint_url=moto_endpoint)


def deploy(
    ddb,
    prefix: str,
    parts: Iterable[str] = ALL_PARTS,
    *,
    capacity: int = 5,
    key_types: tuple[str, str] = ("S", "S"),
    projection: str = "ALL",
    items: list[dict] | None = None,
) -> str:
    """Build (part of) the lab's solution the way a student would; returns the table name."""
    parts = set(parts)
    table = f"{prefix}-orders"
    if "table" not in parts:
        return table
    attributes = [
        {"AttributeName": "customer_id", "AttributeType": key_types[0]},
        {"AttributeName": "order_id", "AttributeType": key_types[1]},
    ]
    kwargs: dict = {}
    if "gsi" in parts:
        attributes.append({"AttributeName": "status", "AttributeType": "S"})
        index = {
            "IndexName": "by-status",
            "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": projection},
        }
        if "on-demand" not in parts:
            index["ProvisionedThroughput"] = {"ReadCapacityUnits": capacity, "WriteCapacityUnits": capacity}
        kwargs["GlobalSecondaryIndexes"] = [index]
    if "on-demand" in parts:
        kwargs["BillingMode"] = "PAY_PER_REQUEST"
    else:
        kwargs["ProvisionedThroughput"] = {"ReadCapacityUnits": capacity, "WriteCapacityUnits": capacity}
    ddb.create_table(
        TableName=table,
        AttributeDefinitions=attributes,
        KeySchema=[
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        **kwargs,
    )
    if "pitr" in parts:
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    if "items" in parts:
        rows = (
            items
            if items is not None
            else [
                {
                    "customer_id": {key_types[0]: "1" if key_types[0] == "N" else "c1"},
                    "order_id": {key_types[1]: str(n) if key_types[1] == "N" else f"o{n}"},
                    "status": {"S": status},
                }
                for n, status in enumerate(("NEW", "PAID", "SHIPPED"), 1)
            ]
        )
        for item in rows:
            ddb.put_item(TableName=table, Item=item)
    return table


def context(prefix: str, student: str) -> dict[str, str]:
    return {"prefix": prefix, "student": student, "cohort": COHORT, "lab": LAB}


def wanted(lab: LabSpec, students: Iterable[str]) -> tuple:
    registered = check_modules.load()
    return tuple(
        registered[spec.use].params.model_validate(render(spec.with_, context(prefix_for(COHORT, s), s)))
        for s in students
        for spec in (*lab.checks, *lab.guards)
    )


def collect(session, endpoint: str, lab: LabSpec, students: Iterable[str]) -> DynamoDBSnapshot:
    students = tuple(students)
    request = CollectRequest(
        cohort=COHORT,
        prefixes=tuple(prefix_for(COHORT, s) for s in students),
        session=session,
        endpoint_url=endpoint,
        wanted=wanted(lab, students),
    )
    return collect_dynamodb(request)


def statuses(snapshot: DynamoDBSnapshot, lab: LabSpec, student: str) -> dict[str, str]:
    """Each check's and guard's status for one student, calling the registered check functions."""
    registered = check_modules.load()
    prefix = prefix_for(COHORT, student)
    inventory = snapshot.for_prefix(prefix)
    out = {}
    for spec in (*lab.checks, *lab.guards):
        check = registered[spec.use]
        out[spec.id] = check.fn(
            inventory, check.params.model_validate(render(spec.with_, context(prefix, student)))
        ).status
    return out


def test_complete_solution_passes_every_check_and_no_guard(aws, moto_endpoint, ddb, lab):
    deploy(ddb, prefix_for(COHORT, "ada"))
    result = statuses(collect(aws, moto_endpoint, lab, ["ada"]), lab, "ada")
    assert result == {**dict.fromkeys(CHECK_IDS, "passed"), GUARD: "passed"}


def test_empty_account_fails_the_table_and_skips_the_rest(aws, moto_endpoint, lab):
    result = statuses(collect(aws, moto_endpoint, lab, ["ada"]), lab, "ada")
    assert result == {
        "table-exists": "failed",
        **dict.fromkeys(CHECK_IDS[1:], "skipped"),
        GUARD: "skipped",
    }


def test_partial_solution_keys_only(aws, moto_endpoint, ddb, lab):
    """A provisioned table with the right keys and 5 units, one item, no index, no PITR."""
    table = deploy(
        ddb,
        prefix_for(COHORT, "ada"),
        ("table", "items"),
        items=[{"customer_id": {"S": "c1"}, "order_id": {"S": "o1"}, "status": {"S": "NEW"}}],
    )
    snapshot = collect(aws, moto_endpoint, lab, ["ada"])
    assert statuses(snapshot, lab, "ada") == {
        "table-exists": "passed",
        "key-schema": "passed",
        "gsi-by-status": "failed",
        "on-demand": "failed",
        "pitr": "failed",
        "seed-items": "failed",
        GUARD: "passed",
    }
    assert snapshot.for_prefix(prefix_for(COHORT, "ada")).table(table).item_count == 1


def test_wrong_but_plausible_provisioned_10_rcu_number_keys_keys_only_index(aws, moto_endpoint, ddb, lab):
    deploy(
        ddb,
        prefix_for(COHORT, "ada"),
        ("table", "gsi", "pitr", "items"),
        capacity=10,
        key_types=("S", "N"),
        projection="KEYS_ONLY",
        items=[
            {"customer_id": {"S": "c1"}, "order_id": {"N": "1"}, "status": {"S": "NEW"}},
            {"customer_id": {"S": "c1"}, "order_id": {"N": "2"}, "status": {"S": "PAID"}},
            {"customer_id": {"S": "c2"}, "order_id": {"N": "3"}, "state": {"S": "NEW"}},
        ],
    )
    snapshot = collect(aws, moto_endpoint, lab, ["ada"])
    assert statuses(snapshot, lab, "ada") == {
        "table-exists": "passed",
        "key-schema": "failed",
        "gsi-by-status": "failed",
        "on-demand": "failed",
        "pitr": "passed",
        "seed-items": "failed",
        GUARD: "failed",
    }
    inventory = snapshot.for_prefix(prefix_for(COHORT, "ada"))
    registered = check_modules.load()
    params = wanted(lab, ["ada"])
    key_result = registered["dynamodb.key-schema"].fn(inventory, params[1])
    assert "the sort (RANGE) key order_id has type N, expected S" in key_result.message
    guard = registered["dynamodb.capacity-at-most"].fn(inventory, params[-1])
    assert "has 10 RCU / 10 WCU" in guard.message
    seed = registered["dynamodb.seed-items"].fn(inventory, params[5])
    assert seed.message == "1 of 3 sampled items have no S attribute status"
    # The sample keeps only the attribute a check names, so student-sized items are never read whole.
    assert sorted(map(sorted, inventory.table("c1-ada-orders").sample)) == [[], ["status"], ["status"]]


def test_string_status_must_be_a_string(aws, moto_endpoint, ddb, lab):
    deploy(
        ddb,
        prefix_for(COHORT, "ada"),
        items=[
            {"customer_id": {"S": "c1"}, "order_id": {"S": f"o{n}"}, "status": {"N": str(n)}}
            for n in range(3)
        ],
    )
    result = statuses(collect(aws, moto_endpoint, lab, ["ada"]), lab, "ada")
    assert result["seed-items"] == "failed"


def test_tables_are_partitioned_by_longest_prefix_and_other_cohorts_ignored(
    aws, moto_endpoint, ddb, lab, monkeypatch
):
    """`c1-ab` must not receive `c1-ab-x-orders`; a page size of 2 exercises list_tables paging."""
    monkeypatch.setattr(dynamodb_collector, "LIST_PAGE_SIZE", 2)
    deploy(ddb, prefix_for(COHORT, "ab"), ("table",))
    deploy(ddb, prefix_for(COHORT, "ab-x"))
    deploy(ddb, prefix_for("c2", "ab"))
    ddb.create_table(
        TableName="a-unrelated-table",
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    snapshot = collect(aws, moto_endpoint, lab, ["ab", "ab-x", "missing"])
    assert set(snapshot.for_prefix("c1-ab").tables) == {"c1-ab-orders"}
    assert set(snapshot.for_prefix("c1-ab-x").tables) == {"c1-ab-x-orders"}
    assert snapshot.for_prefix("c1-missing").tables == {}
    assert statuses(snapshot, lab, "ab-x") == {**dict.fromkeys(CHECK_IDS, "passed"), GUARD: "passed"}
    assert statuses(snapshot, lab, "ab")["gsi-by-status"] == "failed"


def test_listing_is_once_per_cohort_and_reads_grow_linearly(aws, moto_endpoint, ddb, lab):
    calls: dict[str, int] = {}

    def count(event_name: str, **_):
        operation = event_name.rsplit(".", 1)[-1]
        calls[operation] = calls.get(operation, 0) + 1

    aws.events.register("before-call.dynamodb", count)
    for student in ("s1", "s2", "s3"):
        deploy(ddb, prefix_for(COHORT, student))
    calls.clear()
    collect(aws, moto_endpoint, lab, ["s1", "s2", "s3"])
    assert calls["ListTables"] == 1
    assert calls["DescribeTable"] == 3 and calls["DescribeContinuousBackups"] == 3


def test_end_to_end_through_the_runner(aws, moto_endpoint, ddb, lab):
    assert COLLECTORS["dynamodb"] is collect_dynamodb
    deploy(ddb, prefix_for(COHORT, "ada"))
    deploy(ddb, prefix_for(COHORT, "bob"), ("table", "items"), capacity=10)
    students = tuple(Student(s, s, s.title(), "", prefix_for(COHORT, s)) for s in ("ada", "bob"))
    cohort = Cohort(COHORT, (LAB,), Target("emulator", moto_endpoint, "us-east-1"), students)
    report = grade_cohort(cohort, [lab], aws, moto_endpoint)
    ada, bob = report.results
    assert (ada.score, ada.passed) == (100, True)
    assert {c.id: c.status for c in bob.checks} == {
        "table-exists": "passed",
        "key-schema": "passed",
        "gsi-by-status": "failed",
        "on-demand": "failed",
        "pitr": "failed",
        "seed-items": "passed",
    }
    assert [(g.id, g.deducted) for g in bob.guards] == [(GUARD, 20)]
    assert bob.score == 15 + 20 + 15 - 20 and not bob.passed
