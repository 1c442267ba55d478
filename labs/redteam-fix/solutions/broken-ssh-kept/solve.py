"""Fixes the bucket and the all-traffic rule, but keeps SSH open to the world (for the on-call).

sg-least-privilege fails and the no-remote-admin guard applies. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

SSH_FROM_ANYWHERE = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
reference_ingress = reference(__file__).ingress


def https_and_ssh() -> list[dict]:
    return [*reference_ingress(), SSH_FROM_ANYWHERE]


solve = reference(__file__, ingress=https_and_ssh).solve

if __name__ == "__main__":
    run_by_hand(solve)
