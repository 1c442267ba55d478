"""Collect a cohort's CloudFormation stacks once: one paginated DescribeStacks for the region, then
resources and template of each stack a check names.

Stack names carry the student's prefix. A ClientError while reading one stack is recorded on it (its
checks report an error); a failed listing or an unreachable endpoint propagates to the runner.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from labctl.labs.loader import plain
from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.cloudformation import (
    CloudFormationInventory,
    CloudFormationSnapshot,
    Stack,
    StackResource,
)

REQUEST_TIMEOUT_S = 5
MAX_TEMPLATE_CHARS = 1024 * 1024


def cloudformation_client(request: CollectRequest):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
        max_pool_connections=max(10, request.concurrency),
    )
    return request.session.client("cloudformation", endpoint_url=request.endpoint_url, config=config)


def parse_template(body: Any) -> tuple[dict | None, str | None]:
    """GetTemplate's body (a mapping for JSON templates, text for YAML) → (mapping, None) or (None, why)."""
    if isinstance(body, dict):
        return body, None
    text = str(body)
    if len(text) > MAX_TEMPLATE_CHARS:
        return None, f"the template is larger than {MAX_TEMPLATE_CHARS // 1024} KiB"
    try:
        document = json.loads(text)
    except ValueError:
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            # Round-trip mode keeps short-form tags (!Ref, !Sub) as tagged values instead of failing.
            document = plain(YAML(typ="rt", pure=True).load(text))
        except YAMLError as exc:
            return None, f"the template is neither JSON nor YAML ({str(exc).splitlines()[0]})"
    if not isinstance(document, dict):
        return None, "the template is not a mapping"
    return document, None


def read_stack(client, summary: dict) -> Stack:
    name = summary["StackName"]
    try:
        resources = [
            item
            for page in client.get_paginator("list_stack_resources").paginate(StackName=name)
            for item in page.get("StackResourceSummaries", [])
        ]
        body = client.get_template(StackName=name).get("TemplateBody")
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return Stack(
            name,
            status=summary.get("StackStatus"),
            error=f"{exc.operation_name} failed: {error.get('Code', '')} {error.get('Message', '')}".strip(),
        )
    template, template_error = parse_template(body)
    return Stack(
        name=name,
        status=summary.get("StackStatus"),
        status_reason=summary.get("StackStatusReason"),
        outputs={o["OutputKey"]: str(o.get("OutputValue", "")) for o in summary.get("Outputs", []) or []},
        termination_protection=bool(summary.get("EnableTerminationProtection")),
        resources=tuple(
            StackResource(
                logical_id=r.get("LogicalResourceId", ""),
                type=r.get("ResourceType", ""),
                physical_id=r.get("PhysicalResourceId"),
                status=r.get("ResourceStatus"),
            )
            for r in resources
            if r.get("LogicalResourceId")
        ),
        template=template,
        template_error=template_error,
    )


def collect_cloudformation(request: CollectRequest) -> CloudFormationSnapshot:
    """Describe every live stack once; read resources and template of the stacks checks name."""
    client = cloudformation_client(request)
    owned: dict[str, tuple[str, dict]] = {}
    for page in client.get_paginator("describe_stacks").paginate():
        for summary in page.get("Stacks", []):
            prefix = owner(summary["StackName"], request.prefixes)
            if prefix is not None and summary.get("StackStatus") != "DELETE_COMPLETE":
                owned[summary["StackName"]] = (prefix, summary)
    named = {getattr(p, "stack", None) for p in request.wanted}
    detailed = [n for n in owned if None in named or n in named]
    with ThreadPoolExecutor(max_workers=max(1, request.concurrency)) as pool:
        details = dict(
            zip(detailed, pool.map(lambda n: read_stack(client, owned[n][1]), detailed), strict=True)
        )
    by_prefix: dict[str, dict[str, Stack]] = {p: {} for p in request.prefixes}
    for name, (prefix, summary) in owned.items():
        by_prefix[prefix][name] = details.get(name) or Stack(
            name, status=summary.get("StackStatus"), detailed=False
        )
    return CloudFormationSnapshot({p: CloudFormationInventory(stacks) for p, stacks in by_prefix.items()})
