"""dynamodb-orders, complete: keys, the by-status index, on-demand billing, PITR and three orders.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set: python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3

ORDERS = [("c1", "o1", "NEW"), ("c1", "o2", "SHIPPED"), ("c2", "o3", "NEW")]


def table_definition(table: str) -> dict:
    """create_table's arguments: the keys, the by-status index, on-demand billing."""
    return {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "customer_id", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "S"},
            {"AttributeName": "status", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def enable_recovery(dynamodb, table: str) -> None:
    dynamodb.update_continuous_backups(
        TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    dynamodb = session.client("dynamodb", endpoint_url=endpoint_url)
    table = f"{prefix}-orders"
    dynamodb.create_table(**table_definition(table))
    dynamodb.get_waiter("table_exists").wait(TableName=table)
    enable_recovery(dynamodb, table)
    for customer, order, status in ORDERS:
        item = {"customer_id": {"S": customer}, "order_id": {"S": order}, "status": {"S": status}}
        dynamodb.put_item(TableName=table, Item=item)


if __name__ == "__main__":
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    solve(boto3.Session(), os.environ.get("AWS_ENDPOINT_URL"), os.environ["LABCTL_PREFIX"], os.environ["LABCTL_STUDENT"])
