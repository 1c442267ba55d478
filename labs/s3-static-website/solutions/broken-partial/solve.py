"""A partial solution of s3-static-website: bucket, website hosting and the pages only.

It stops before the bucket policy, versioning and tags, so public-read, versioning and tags fail.
Run by hand like the reference, with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand


def not_yet(s3, bucket: str) -> None:
    """A step the student has not got to."""


solve = reference(__file__, open_to_readers=not_yet, version_and_tag=not_yet).solve

if __name__ == "__main__":
    run_by_hand(solve)
