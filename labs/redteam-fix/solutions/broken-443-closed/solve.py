"""Fixes the bucket and revokes every security group rule, HTTPS included: safe, and down.

https-open fails. Run by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX
and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

steps = reference(__file__)


def close_everything(ec2, prefix: str) -> None:
    steps.revoke_all_ingress(ec2, steps.app_group(ec2, prefix))


solve = reference(__file__, fix_group=close_everything).solve

if __name__ == "__main__":
    run_by_hand(solve)
