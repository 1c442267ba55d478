"""dynamodb-orders without the by-status index and without point-in-time recovery.

Queries by status would need a full scan, and a bad write could not be undone: gsi-by-status and pitr
fail. Run by hand like the reference: python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_table = reference(__file__).table_definition


def table_without_index(table: str) -> dict:
    definition = reference_table(table)
    del definition["GlobalSecondaryIndexes"]
    definition["AttributeDefinitions"] = [a for a in definition["AttributeDefinitions"] if a["AttributeName"] != "status"]
    return definition


def no_recovery(dynamodb, table: str) -> None:
    """The mistake's second half: point-in-time recovery is never turned on."""


solve = reference(__file__, table_definition=table_without_index, enable_recovery=no_recovery).solve

if __name__ == "__main__":
    run_by_hand(solve)
