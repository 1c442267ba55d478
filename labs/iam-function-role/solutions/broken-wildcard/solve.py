"""iam-function-role done the quick way: the policy copied from a tutorial, with `Resource: "*"`
for the logs and `dynamodb:*` on every table.

The role works, but logs-write, table-read and least-privilege fail: nothing is scoped to this
function's log group or table. Run by hand like the reference, with AWS_ENDPOINT_URL (optional),
LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def tutorial_policy(region: str, account: str, prefix: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            },
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
        ],
    }


solve = reference(__file__, permissions=tutorial_policy).solve

if __name__ == "__main__":
    run_by_hand(solve)
