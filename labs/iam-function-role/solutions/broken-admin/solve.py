"""iam-function-role with the right inline policy, plus an "admin" managed policy attached "to make it
work": a customer managed policy allowing Action "*" on Resource "*".

logs-write and table-read pass, least-privilege fails and the no-admin guard applies. Run by hand
like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import json

from labctl.labs.solutions import reference, run_by_hand

ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
reference_role = reference(__file__).create_role


def role_with_admin(iam, role: str, account: str, prefix: str, student: str) -> None:
    reference_role(iam, role, account, prefix, student)
    # The mistake: a debugging shortcut that was never removed.
    arn = iam.create_policy(PolicyName=f"{prefix}-admin", PolicyDocument=json.dumps(ADMIN))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)


solve = reference(__file__, create_role=role_with_admin).solve

if __name__ == "__main__":
    run_by_hand(solve)
