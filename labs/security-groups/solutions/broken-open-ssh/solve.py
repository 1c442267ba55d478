"""The classic: SSH opened to 0.0.0.0/0 "just for now", next to HTTPS.

least-privilege fails and the no-open-ssh guard applies. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

tcp = reference(__file__).tcp


def ssh_from_anywhere() -> list[dict]:
    return [tcp(443, "0.0.0.0/0", "https"), tcp(22, "0.0.0.0/0", "ssh, temporary")]


solve = reference(__file__, ingress=ssh_from_anywhere).solve

if __name__ == "__main__":
    run_by_hand(solve)
