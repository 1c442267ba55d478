"""iam-function-role with a trust policy copied from an EC2 role (EC2 and Lambda may both assume it)
and the logs permission on every log group.

trust-lambda-only, logs-write and least-privilege fail; table-read passes. Run by hand like the
reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

EC2_AND_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": ["ec2.amazonaws.com", "lambda.amazonaws.com"]},
            "Action": "sts:AssumeRole",
        }
    ],
}
reference_permissions = reference(__file__).permissions


def every_log_group(region: str, account: str, prefix: str) -> dict:
    policy = reference_permissions(region, account, prefix)
    policy["Statement"][0]["Resource"] = f"arn:aws:logs:{region}:{account}:log-group:*"
    return policy


solve = reference(__file__, TRUST=EC2_AND_LAMBDA, permissions=every_log_group).solve

if __name__ == "__main__":
    run_by_hand(solve)
