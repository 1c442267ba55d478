"""sns-fanout whose queue policies let anyone send (Principal "*", no condition), and whose billing
subscription keeps the SNS envelope.

billing-raw, billing-policy and shipping-policy fail; both not-open guards apply. Run by hand like
the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json

from labctl.labs.solutions import reference, run_by_hand


def anyone_may_send(queue_arn: str, topic_arn: str) -> str:
    statement = {"Sid": "AllowSns", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": queue_arn}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


solve = reference(__file__, queue_policy=anyone_may_send, CONSUMERS=(("billing", False), ("shipping", False))).solve

if __name__ == "__main__":
    run_by_hand(solve)
