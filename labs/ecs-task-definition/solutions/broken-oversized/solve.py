"""Sized like a database server: 4 vCPU and 8 GiB for the task, and only a soft memory
reservation on the container.

limits fails and the no-oversized guard applies. Run by hand like the reference, with
AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

from labctl.labs.solutions import reference, run_by_hand

reference_container = reference(__file__).container


def soft_limited(prefix: str, region: str) -> dict:
    web = reference_container(prefix, region)
    web["memoryReservation"] = web.pop("memory")
    return web


solve = reference(__file__, TASK_SIZE={"cpu": "4096", "memory": "8192"}, container=soft_limited).solve

if __name__ == "__main__":
    run_by_hand(solve)
