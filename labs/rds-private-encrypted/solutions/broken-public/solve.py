"""Everything right except the one that matters: the instance is publicly accessible.

private fails and the no-public-db guard applies. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

# The mistake: "make it reachable from my laptop".
solve = reference(__file__, INSTANCE={**reference(__file__).INSTANCE, "PubliclyAccessible": True}).solve

if __name__ == "__main__":
    run_by_hand(solve)
