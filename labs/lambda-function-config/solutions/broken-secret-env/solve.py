"""lambda-function-config with the database password in an environment variable instead of LOG_LEVEL.

environment fails (LOG_LEVEL is missing) and the no-secrets guard applies. Run by hand like the
reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_settings = reference(__file__).settings


def password_in_environment(prefix: str) -> dict:
    variables = {"TABLE_NAME": f"{prefix}-orders", "DB_PASSWORD": "hunter2"}
    return {**reference_settings(prefix), "Environment": {"Variables": variables}}


solve = reference(__file__, settings=password_in_environment).solve

if __name__ == "__main__":
    run_by_hand(solve)
