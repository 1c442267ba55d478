"""sqs-dlq with both queues created but never connected: no redrive policy, and the DLQ keeps the
default 4 days.

redrive and dlq-retention fail. Run by hand like the reference, with AWS_ENDPOINT_URL (optional),
LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def not_connected(dlq_arn: str) -> dict:
    return {"VisibilityTimeout": "120"}


solve = reference(__file__, DLQ_ATTRIBUTES={}, queue_attributes=not_connected).solve

if __name__ == "__main__":
    run_by_hand(solve)
