"""Collect a cohort's ECS task definitions once: one family listing by the cohort's prefix, then one
DescribeTaskDefinition (latest ACTIVE revision) per family a check names.

A ClientError while describing one family is recorded on it (its checks report an error); a failed
listing or an unreachable endpoint propagates to the runner.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.ecs import Container, EcsInventory, EcsSnapshot, TaskDefinition

REQUEST_TIMEOUT_S = 5


def ecs_client(request: CollectRequest):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max(10, request.concurrency),
    )
    return request.session.client("ecs", endpoint_url=request.endpoint_url, config=config)


def units(value: Any, per_unit: int) -> int | None:
    """ "256" → 256; "1 vCPU" → 1024 (per_unit 1024); "2 GB" → 2048 (per_unit 1024); else None."""
    if value is None:
        return None
    text = str(value).strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Za-z]+)?", text)
    if match is None:
        return None
    number = float(match.group(1))
    return int(number * per_unit) if match.group(2) else int(number)


def container_of(raw: dict) -> Container:
    logging = raw.get("logConfiguration") or {}
    return Container(
        name=str(raw.get("name", "")),
        image=str(raw.get("image", "")),
        cpu=int(raw.get("cpu") or 0),
        memory=raw.get("memory"),
        memory_reservation=raw.get("memoryReservation"),
        user=raw.get("user"),
        readonly_root=bool(raw.get("readonlyRootFilesystem")),
        privileged=bool(raw.get("privileged")),
        log_driver=logging.get("logDriver"),
        log_options=dict(logging.get("options") or {}),
    )


def read_family(client, family: str) -> TaskDefinition:
    try:
        described = client.describe_task_definition(taskDefinition=family)["taskDefinition"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return TaskDefinition(
            family,
            error=f"DescribeTaskDefinition failed: {error.get('Code', '')} {error.get('Message', '')}".strip(),
        )
    return TaskDefinition(
        family=family,
        revision=int(described.get("revision", 0)),
        cpu=units(described.get("cpu"), 1024),
        memory=units(described.get("memory"), 1024),
        containers=tuple(container_of(c) for c in described.get("containerDefinitions", [])),
    )


def list_families(client, cohort: str) -> list[str]:
    families: list[str] = []
    kwargs: dict[str, Any] = {"familyPrefix": f"{cohort}-", "status": "ACTIVE"}
    while True:
        page = client.list_task_definition_families(**kwargs)
        families += page.get("families", [])
        if not page.get("nextToken"):
            return families
        kwargs["nextToken"] = page["nextToken"]


def collect_ecs(request: CollectRequest) -> EcsSnapshot:
    """List the cohort's families once, describe the ones checks name."""
    client = ecs_client(request)
    owned = {f: p for f in list_families(client, request.cohort) if (p := owner(f, request.prefixes))}
    named = {getattr(p, "family", None) for p in request.wanted}
    detailed = [f for f in owned if None in named or f in named]
    with ThreadPoolExecutor(max_workers=max(1, request.concurrency)) as pool:
        details = dict(zip(detailed, pool.map(lambda f: read_family(client, f), detailed), strict=True))
    by_prefix: dict[str, dict[str, TaskDefinition]] = {p: {} for p in request.prefixes}
    for family, prefix in owned.items():
        by_prefix[prefix][family] = details.get(family) or TaskDefinition(family, detailed=False)
    return EcsSnapshot({p: EcsInventory(families) for p, families in by_prefix.items()})
