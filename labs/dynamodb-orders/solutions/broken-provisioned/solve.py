"""dynamodb-orders with provisioned capacity of 10 units: billing is wrong and the overspend guard applies.

Everything else is right: on-demand fails and the no-provisioned-overspend guard applies. Run by hand
like the reference: python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

CAPACITY = {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10}
reference_table = reference(__file__).table_definition


def provisioned_table(table: str) -> dict:
    definition = {**reference_table(table), "BillingMode": "PROVISIONED", "ProvisionedThroughput": CAPACITY}
    definition["GlobalSecondaryIndexes"] = [
        {**index, "ProvisionedThroughput": CAPACITY} for index in definition["GlobalSecondaryIndexes"]
    ]
    return definition


solve = reference(__file__, table_definition=provisioned_table).solve

if __name__ == "__main__":
    run_by_hand(solve)
