"""Closes the bucket by deleting its policy: secure, but the app's page is no longer public.

site-readable fails. Run by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX
and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def delete_policy(s3, prefix: str) -> None:
    s3.delete_bucket_policy(Bucket=f"{prefix}-app")


solve = reference(__file__, fix_bucket=delete_policy).solve

if __name__ == "__main__":
    run_by_hand(solve)
