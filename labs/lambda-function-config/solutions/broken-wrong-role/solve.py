"""lambda-function-config run as a shared role with a name of its own, and a log group created without
a retention policy (its events never expire).

execution-role and log-retention fail. Run by hand like the reference, with AWS_ENDPOINT_URL
(optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def log_group_kept_forever(logs, function: str) -> None:
    logs.create_log_group(logGroupName=f"/aws/lambda/{function}")


solve = reference(__file__, ROLE_NAME="{prefix}-shared-role", create_log_group=log_group_kept_forever).solve

if __name__ == "__main__":
    run_by_hand(solve)
