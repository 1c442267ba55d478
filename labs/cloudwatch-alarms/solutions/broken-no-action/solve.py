"""cloudwatch-alarms with an alarm that notifies nobody (no alarm actions) and a log group kept forever.

log-retention and alarm-notifies fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_alarm = reference(__file__).alarm


def log_group_kept_forever(logs, group: str) -> None:
    logs.create_log_group(logGroupName=group)


def alarm_without_actions(prefix: str, topic_arn: str) -> dict:
    return {key: value for key, value in reference_alarm(prefix, topic_arn).items() if key != "AlarmActions"}


solve = reference(__file__, create_log_group=log_group_kept_forever, alarm=alarm_without_actions).solve

if __name__ == "__main__":
    run_by_hand(solve)
