""" "It didn't start, so I made it privileged": privileged, image nginx:latest, logs nowhere.

logging and image-pinned fail and the no-privileged guard applies. Run by hand like the reference,
with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_container = reference(__file__).container


def privileged_without_logs(prefix: str, region: str) -> dict:
    web = {**reference_container(prefix, region), "image": "nginx:latest", "privileged": True}
    del web["logConfiguration"]
    return web


solve = reference(__file__, container=privileged_without_logs).solve

if __name__ == "__main__":
    run_by_hand(solve)
