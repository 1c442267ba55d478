"""Collect a cohort's Lambda functions once: one paginated ListFunctions, then GetPolicy per named function.

ListFunctions already carries each function's configuration (role, memory, timeout, environment);
only the resource policy of functions a check names costs one more call each.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from labctl.validators.collectors.aws_common import aws_client, code_of, failure, named, pages, partition
from labctl.validators.collectors.base import CollectRequest
from labctl.validators.collectors.s3 import parse_policy
from labctl.validators.inventory.lambda_functions import Function, LambdaInventory, LambdaSnapshot


def function_of(listed: dict, policy: dict | None = None, detailed: bool = True) -> Function:
    return Function(
        name=listed["FunctionName"],
        arn=listed.get("FunctionArn", ""),
        detailed=detailed,
        runtime=listed.get("Runtime"),
        role=listed.get("Role"),
        memory_mb=listed.get("MemorySize"),
        timeout_s=listed.get("Timeout"),
        environment=dict((listed.get("Environment") or {}).get("Variables") or {}),
        policy=policy,
    )


def read_function(client, name: str, listed: dict) -> Function | None:
    try:
        text = client.get_policy(FunctionName=name)["Policy"]
    except ClientError as exc:
        if code_of(exc) != "ResourceNotFoundException":
            return Function(name=name, arn=listed.get("FunctionArn", ""), error=failure(exc))
        text = None
    policy = None
    if text is not None:
        policy, problem = parse_policy(text)
        if problem:
            return Function(name=name, arn=listed.get("FunctionArn", ""), error=f"resource policy is {problem}")
    return function_of(listed, policy)


def collect_lambda(request: CollectRequest) -> LambdaSnapshot:
    client = aws_client(request, "lambda")
    listed = {f["FunctionName"]: f for f in pages(client.list_functions, "Functions", "Marker", "NextMarker")}
    by_prefix = partition(
        request,
        listed,
        named(request, "function"),
        lambda name, summary: read_function(client, name, summary),
        lambda name, summary: function_of(summary, detailed=False),
    )
    return LambdaSnapshot({p: LambdaInventory(functions) for p, functions in by_prefix.items()})
