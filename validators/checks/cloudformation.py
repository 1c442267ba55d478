"""CloudFormation checks: pure functions of one student's CloudFormationInventory."""

from __future__ import annotations

from typing import Any, Mapping

from labctl.validators import iam
from labctl.validators.inventory.cloudformation import CloudFormationInventory, Stack, StackResource
from labctl.validators.registry import Params, Result, check

READS = "cloudformation"
COMPLETE = ("CREATE_COMPLETE", "UPDATE_COMPLETE")


class StackParams(Params):
    stack: str


class StatusParams(StackParams):
    statuses: list[str] = list(COMPLETE)


class ResourceParams(StackParams):
    type: str
    physical_id: str


class OutputParams(StackParams):
    key: str
    value: str


class PropertyParams(ResourceParams):
    path: str
    """Dotted path inside the resource's Properties, such as VersioningConfiguration.Status."""
    value: str


def stack_or_result(inv: CloudFormationInventory, name: str) -> Stack | Result:
    stack = inv.stack(name)
    if stack is None:
        return Result.skipped(f"stack {name} does not exist")
    if stack.error:
        return Result.error(f"could not read stack {name}: {stack.error}")
    if not stack.detailed:
        return Result.error(f"stack {name} was not collected in detail")
    return stack


def resource_or_result(stack: Stack, p: ResourceParams) -> StackResource | Result:
    resource = stack.resource_by_physical_id(p.physical_id)
    if resource is None:
        managed = ", ".join(f"{r.logical_id} ({r.type})" for r in stack.resources) or "nothing"
        return Result.failed(f"stack {p.stack} does not manage {p.physical_id} (it manages {managed})")
    if resource.type != p.type:
        return Result.failed(f"{p.physical_id} in {p.stack} is a {resource.type}, expected {p.type}")
    return resource


def lookup(node: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@check("cloudformation.stack-status", title="Stack {stack} is {statuses}", reads=READS, params=StatusParams)
def stack_status(inv: CloudFormationInventory, p: StatusParams) -> Result:
    stack = inv.stack(p.stack)
    if stack is None:
        return Result.failed(f"stack {p.stack} does not exist", hint="create-stack")
    if stack.status not in p.statuses:
        reason = f": {stack.status_reason}" if stack.status_reason else ""
        return Result.failed(f"stack {p.stack} is {stack.status}{reason}")
    return Result.passed()


@check(
    "cloudformation.resource",
    title="Stack {stack} manages {type} {physical_id}",
    reads=READS,
    params=ResourceParams,
)
def resource(inv: CloudFormationInventory, p: ResourceParams) -> Result:
    stack = stack_or_result(inv, p.stack)
    if isinstance(stack, Result):
        return stack
    found = resource_or_result(stack, p)
    if isinstance(found, Result):
        return found
    if not (found.status or "").endswith("_COMPLETE") or (found.status or "").startswith("DELETE"):
        return Result.failed(f"{found.logical_id} in {p.stack} is {found.status}")
    return Result.passed()


@check(
    "cloudformation.output", title="Stack {stack} outputs {key} = {value}", reads=READS, params=OutputParams
)
def output(inv: CloudFormationInventory, p: OutputParams) -> Result:
    stack = stack_or_result(inv, p.stack)
    if isinstance(stack, Result):
        return stack
    if p.key not in stack.outputs:
        present = ", ".join(sorted(stack.outputs)) or "none"
        return Result.failed(f"stack {p.stack} has no output {p.key} (outputs: {present})")
    if stack.outputs[p.key] != p.value:
        return Result.failed(f"output {p.key} is {stack.outputs[p.key]!r}, expected {p.value!r}")
    return Result.passed()


@check(
    "cloudformation.resource-property",
    title="The template sets {path} = {value} on {physical_id}",
    reads=READS,
    params=PropertyParams,
)
def resource_property(inv: CloudFormationInventory, p: PropertyParams) -> Result:
    """Reads the deployed template: what CloudFormation keeps the resource at on every update."""
    stack = stack_or_result(inv, p.stack)
    if isinstance(stack, Result):
        return stack
    found = resource_or_result(stack, p)
    if isinstance(found, Result):
        return Result.skipped(found.message)
    if stack.template_error:
        return Result.error(f"the template of {p.stack} cannot be read: {stack.template_error}")
    declared = stack.template_resource(found.logical_id)
    if declared is None:
        return Result.error(f"resource {found.logical_id} is not in the template of {p.stack}")
    actual = lookup(declared.get("Properties"), p.path)
    if actual is None:
        return Result.failed(f"{found.logical_id} does not set {p.path}")
    if str(actual) != p.value:
        return Result.failed(f"{found.logical_id} sets {p.path} to {actual!r}, expected {p.value!r}")
    return Result.passed()


@check(
    "cloudformation.termination-protection",
    title="Stack {stack} has termination protection",
    reads=READS,
    params=StackParams,
)
def termination_protection(inv: CloudFormationInventory, p: StackParams) -> Result:
    stack = stack_or_result(inv, p.stack)
    if isinstance(stack, Result):
        return stack
    if not stack.termination_protection:
        return Result.failed(f"stack {p.stack} can be deleted by one mistaken command")
    return Result.passed()


@check(
    "cloudformation.no-public-bucket-policy",
    title="The template of {stack} grants nothing on its buckets to the public",
    reads=READS,
    params=StackParams,
)
def no_public_bucket_policy(inv: CloudFormationInventory, p: StackParams) -> Result:
    stack = stack_or_result(inv, p.stack)
    if isinstance(stack, Result):
        return stack
    if stack.template_error:
        return Result.error(f"the template of {p.stack} cannot be read: {stack.template_error}")
    resources = (stack.template or {}).get("Resources") or {}
    public = []
    for logical_id, declared in resources.items() if isinstance(resources, Mapping) else ():
        if not isinstance(declared, Mapping) or declared.get("Type") != "AWS::S3::BucketPolicy":
            continue
        document = lookup(declared.get("Properties"), "PolicyDocument")
        if not isinstance(document, Mapping):
            continue
        for statement in iam.statements(document):
            if iam.effect(statement) == "Allow" and iam.is_public(statement):
                actions = ", ".join(map(str, iam.as_list(statement.get("Action")))) or "NotAction"
                public.append(f"{logical_id} allows {actions} to principal *")
    if public:
        return Result.failed("; ".join(public))
    return Result.passed()
