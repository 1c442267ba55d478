"""A complete site whose bucket policy lets the world do anything: `s3:*` to principal `*`.

Every check passes (the wildcard covers s3:GetObject), but the no-public-write guard applies.
Run by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def public_everything(bucket: str) -> dict:
    # The mistake: "make it public" done with a wildcard instead of s3:GetObject.
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


solve = reference(__file__, public_policy=public_everything).solve

if __name__ == "__main__":
    run_by_hand(solve)
