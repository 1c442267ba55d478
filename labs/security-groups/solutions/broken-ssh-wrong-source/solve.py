"""SSH allowed from the private 10.0.0.0/8 range instead of the admin network, and no rule
descriptions.

ssh-admin, least-privilege and descriptions fail. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

tcp = reference(__file__).tcp


def ssh_from_the_private_range() -> list[dict]:
    return [tcp(443, "0.0.0.0/0"), tcp(22, "10.0.0.0/8")]


solve = reference(__file__, ingress=ssh_from_the_private_range).solve

if __name__ == "__main__":
    run_by_hand(solve)
