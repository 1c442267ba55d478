"""sns-fanout with the subscriptions but no queue policies: SNS "delivers" and every message is
silently dropped, because neither queue lets the topic send.

billing-policy and shipping-policy fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def no_policy(sqs, queue_url: str, queue_arn: str, topic_arn: str) -> None:
    """The mistake: the queue policy step is left out."""


solve = reference(__file__, allow_topic=no_policy).solve

if __name__ == "__main__":
    run_by_hand(solve)
