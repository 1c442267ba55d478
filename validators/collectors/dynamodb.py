"""Collect a cohort's DynamoDB tables once: one paginated listing, then bounded reads per table.

Only tables named `<cohort>-…` that a graded student's prefix owns are kept; only those a check
names are described, their point-in-time recovery read, their items counted (bounded) and sampled
(at most SAMPLE_ITEMS). A ClientError while reading one table is recorded on that table (its checks
report an error); a failed listing or an unreachable endpoint propagates to the runner.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.dynamodb import (
    COUNT_LIMIT,
    SAMPLE_ITEMS,
    DynamoDBInventory,
    DynamoDBSnapshot,
    Index,
    Key,
    Table,
)

REQUEST_TIMEOUT_S = 5
LIST_PAGE_SIZE = 100


def dynamodb_client(request: CollectRequest):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max(10, request.concurrency),
    )
    return request.session.client("dynamodb", endpoint_url=request.endpoint_url, config=config)


def code_of(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def list_table_names(client, cohort: str) -> list[str]:
    """Every table of the account and region whose name starts with `<cohort>-`, over all pages."""
    names: list[str] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = client.list_tables(Limit=LIST_PAGE_SIZE, **kwargs)
        names += [n for n in page.get("TableNames", []) if n.startswith(f"{cohort}-")]
        last = page.get("LastEvaluatedTableName")
        if not last:
            return names
        kwargs["ExclusiveStartTableName"] = last


def keys_of(schema: list[dict], types: dict[str, str]) -> tuple[Key, ...]:
    return tuple(Key(k["AttributeName"], k["KeyType"], types.get(k["AttributeName"])) for k in schema)


def capacity(description: dict) -> tuple[int, int]:
    throughput = description.get("ProvisionedThroughput") or {}
    return int(throughput.get("ReadCapacityUnits", 0)), int(throughput.get("WriteCapacityUnits", 0))


def count_items(client, name: str) -> tuple[int, bool]:
    """(items counted, whether COUNT_LIMIT cut the count short): at most COUNT_LIMIT items read."""
    total = 0
    kwargs: dict[str, Any] = {}
    while total < COUNT_LIMIT:
        page = client.scan(TableName=name, Select="COUNT", Limit=COUNT_LIMIT - total, **kwargs)
        total += int(page.get("Count", 0))
        if "LastEvaluatedKey" not in page:
            return total, False
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return total, True


def sample_items(client, name: str, attributes: tuple[str, ...]) -> list[dict]:
    """Up to SAMPLE_ITEMS items; only `attributes` of each when checks name some, to bound the size."""
    kwargs: dict[str, Any] = {}
    if attributes:
        names = {f"#a{i}": attribute for i, attribute in enumerate(attributes)}
        kwargs = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    return client.scan(TableName=name, Limit=SAMPLE_ITEMS, **kwargs).get("Items", [])


def read_table(client, name: str, attributes: tuple[str, ...]) -> Table | None:
    """Everything the DynamoDB checks read about one table; None if it vanished since the listing."""
    try:
        described = client.describe_table(TableName=name)["Table"]
        backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        count, truncated = count_items(client, name)
        sample = sample_items(client, name, attributes)
    except ClientError as exc:
        if code_of(exc) == "ResourceNotFoundException":
            return None
        message = exc.response.get("Error", {}).get("Message", "")
        return Table(name=name, error=f"{exc.operation_name} failed: {code_of(exc)} {message}".strip())
    types = {a["AttributeName"]: a["AttributeType"] for a in described.get("AttributeDefinitions", [])}
    indexes = {}
    for gsi in described.get("GlobalSecondaryIndexes", []):
        read, write = capacity(gsi)
        indexes[gsi["IndexName"]] = Index(
            name=gsi["IndexName"],
            keys=keys_of(gsi.get("KeySchema", []), types),
            projection=(gsi.get("Projection") or {}).get("ProjectionType"),
            read_capacity=read,
            write_capacity=write,
        )
    read, write = capacity(described)
    pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    return Table(
        name=name,
        status=described.get("TableStatus"),
        keys=keys_of(described.get("KeySchema", []), types),
        billing_mode=(described.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED"),
        read_capacity=read,
        write_capacity=write,
        indexes=indexes,
        pitr=pitr,
        item_count=count,
        count_truncated=truncated,
        sample=tuple(sample[:SAMPLE_ITEMS]),
    )


def collect_dynamodb(request: CollectRequest) -> DynamoDBSnapshot:
    """List once, keep tables the graded students own, read details of the tables checks name."""
    client = dynamodb_client(request)
    owned: dict[str, str] = {}
    for name in list_table_names(client, request.cohort):
        prefix = owner(name, request.prefixes)
        if prefix is not None:
            owned[name] = prefix

    named = {getattr(p, "table", None) for p in request.wanted}
    attributes = tuple(
        sorted({a for p in request.wanted for a in getattr(p, "sampled_attributes", lambda: ())()})
    )
    detailed = [n for n in owned if None in named or n in named]
    with ThreadPoolExecutor(max_workers=max(1, request.concurrency)) as pool:
        details = dict(
            zip(detailed, pool.map(lambda n: read_table(client, n, attributes), detailed), strict=True)
        )

    by_prefix: dict[str, dict[str, Table]] = {p: {} for p in request.prefixes}
    for name, prefix in owned.items():
        table = details[name] if name in details else Table(name=name, detailed=False)
        if table is not None:
            by_prefix[prefix][name] = table
    return DynamoDBSnapshot({p: DynamoDBInventory(tables) for p, tables in by_prefix.items()})
