"""s3-secure-bucket whose lifecycle rule was saved as Disabled, and whose versioning was suspended
"to save money".

versioning, lifecycle-transition and lifecycle-expiration fail. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

disabled = {**reference(__file__).RULE, "Status": "Disabled"}
solve = reference(__file__, RULE=disabled, VERSIONING="Suspended").solve

if __name__ == "__main__":
    run_by_hand(solve)
