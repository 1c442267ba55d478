"""cloudwatch-alarms whose metric filter publishes `ErrorCount` (the alarm watches `Errors`, so it never
sees a data point) and whose alarm actions are disabled "while testing".

metric-filter fails and the actions-enabled guard applies. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_alarm = reference(__file__).alarm


def disabled_alarm(prefix: str, topic_arn: str) -> dict:
    return {**reference_alarm(prefix, topic_arn), "ActionsEnabled": False}


solve = reference(__file__, METRIC="ErrorCount", alarm=disabled_alarm).solve

if __name__ == "__main__":
    run_by_hand(solve)
