"""lambda-function-config without the log group (Lambda would create it on the first run, keeping
events forever) and with the maximum timeout "to be safe".

limits and log-retention fail. Run by hand like the reference, with AWS_ENDPOINT_URL (optional),
LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_settings = reference(__file__).settings


def no_log_group(logs, function: str) -> None:
    """The log group is left to Lambda."""


def longest_timeout(prefix: str) -> dict:
    return {**reference_settings(prefix), "Timeout": 900}


solve = reference(__file__, create_log_group=no_log_group, settings=longest_timeout).solve

if __name__ == "__main__":
    run_by_hand(solve)
