"""s3-secure-bucket without any lifecycle rule: every object stays in STANDARD and every old version
is kept forever.

lifecycle-transition and lifecycle-expiration fail. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def no_lifecycle(s3, bucket: str) -> None:
    """The mistake: the lifecycle step is skipped."""


solve = reference(__file__, add_lifecycle=no_lifecycle).solve

if __name__ == "__main__":
    run_by_hand(solve)
