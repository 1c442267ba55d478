"""A working task that keeps the image defaults: it runs as root on a writable root filesystem.

non-root and read-only-root fail. Run by hand like the reference, with AWS_ENDPOINT_URL (optional),
LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_container = reference(__file__).container


def image_defaults(prefix: str, region: str) -> dict:
    web = {**reference_container(prefix, region), "image": "nginx:1.27-alpine", "readonlyRootFilesystem": False, "mountPoints": []}
    del web["user"]
    return web


solve = reference(__file__, container=image_defaults).solve

if __name__ == "__main__":
    run_by_hand(solve)
