"""Lambda checks: pure functions of one student's LambdaInventory (validators.inventory.lambda_functions)."""

from __future__ import annotations

import re

from pydantic import Field

from labctl.validators import iam
from labctl.validators.inventory.lambda_functions import Function, LambdaInventory
from labctl.validators.registry import Params, Result, check
from labctl.validators.resource_policies import open_statements, services, source_arns

READS = "lambda"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY", re.IGNORECASE)


class FunctionParams(Params):
    function: str


class EnvironmentParams(FunctionParams):
    variables: dict[str, str | None]
    """Required variables: a value must match exactly; null means any non-empty value."""


class LimitsParams(FunctionParams):
    memory_min: int = Field(default=128, ge=128)
    memory_max: int = Field(default=10240, le=10240)
    timeout_min: int = Field(default=1, ge=1)
    timeout_max: int = Field(default=900, le=900)


class RoleParams(FunctionParams):
    role: str


class InvokePermissionParams(FunctionParams):
    principal: str
    source_arn: str | None = None
    """When set, the permission must be limited by an aws:SourceArn condition inside this ARN pattern."""


def function_or_result(inv: LambdaInventory, name: str) -> Function | Result:
    function = inv.function(name)
    if function is None:
        return Result.skipped(f"function {name} does not exist")
    if function.error:
        return Result.error(f"could not read function {name}: {function.error}")
    if not function.detailed:
        return Result.error(f"function {name} was not collected in detail")
    return function


@check("lambda.function-exists", title="Function {function} exists", reads=READS, params=FunctionParams)
def function_exists(inv: LambdaInventory, p: FunctionParams) -> Result:
    if inv.function(p.function) is None:
        return Result.failed(f"function {p.function} does not exist", hint="aws lambda create-function")
    return Result.passed()


@check("lambda.environment", title="The function's environment is set", reads=READS, params=EnvironmentParams)
def environment(inv: LambdaInventory, p: EnvironmentParams) -> Result:
    function = function_or_result(inv, p.function)
    if isinstance(function, Result):
        return function
    problems = []
    for name, wanted in p.variables.items():
        actual = function.environment.get(name)
        if not actual:
            problems.append(f"{name} is not set")
        elif wanted is not None and actual != wanted:
            problems.append(f"{name} is {actual!r}, expected {wanted!r}")
    if problems:
        return Result.failed("; ".join(problems), hint="aws lambda update-function-configuration --environment")
    return Result.passed()


@check("lambda.limits", title="Memory and timeout are within bounds", reads=READS, params=LimitsParams)
def limits(inv: LambdaInventory, p: LimitsParams) -> Result:
    function = function_or_result(inv, p.function)
    if isinstance(function, Result):
        return function
    problems = []
    if function.memory_mb is None or not p.memory_min <= function.memory_mb <= p.memory_max:
        problems.append(f"memory is {function.memory_mb} MB, expected {p.memory_min}-{p.memory_max} MB")
    if function.timeout_s is None or not p.timeout_min <= function.timeout_s <= p.timeout_max:
        problems.append(f"timeout is {function.timeout_s} s, expected {p.timeout_min}-{p.timeout_max} s")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check("lambda.execution-role", title="The function runs as role {role}", reads=READS, params=RoleParams)
def execution_role(inv: LambdaInventory, p: RoleParams) -> Result:
    function = function_or_result(inv, p.function)
    if isinstance(function, Result):
        return function
    role_name = (function.role or "").rsplit("/", 1)[-1]
    if role_name == p.role and ":role/" in (function.role or ""):
        return Result.passed()
    return Result.failed(f"the function runs as {function.role or 'no role'}, expected role {p.role}")


@check(
    "lambda.invoke-permission",
    title="{principal} may invoke the function",
    reads=READS,
    params=InvokePermissionParams,
)
def invoke_permission(inv: LambdaInventory, p: InvokePermissionParams) -> Result:
    function = function_or_result(inv, p.function)
    if isinstance(function, Result):
        return function
    if function.policy is None:
        return Result.failed(f"function {p.function} has no resource policy", hint="aws lambda add-permission")
    granted = [
        s
        for s in iam.statements(function.policy)
        if iam.effect(s) == "Allow"
        and iam.covers_action(s, "lambda:InvokeFunction")
        and p.principal in services(s)
    ]
    if not granted:
        return Result.failed(f"no statement allows {p.principal} to call lambda:InvokeFunction")
    if p.source_arn is None:
        return Result.passed()
    if any(any(iam.glob_covers(p.source_arn, arn) for arn in source_arns(s)) for s in granted):
        return Result.passed()
    return Result.failed(
        f"the permission for {p.principal} is not limited by an aws:SourceArn inside {p.source_arn}",
        hint="add-permission --source-arn arn:aws:execute-api:<region>:<account>:<api-id>/*",
    )


@check("lambda.no-plaintext-secrets", title="No secrets in environment variables", reads=READS, params=FunctionParams)
def no_plaintext_secrets(inv: LambdaInventory, p: FunctionParams) -> Result:
    function = function_or_result(inv, p.function)
    if isinstance(function, Result):
        return function
    suspicious = sorted(name for name in function.environment if SECRET_NAME.search(name))
    if suspicious:
        return Result.failed(f"environment variables look like secrets: {', '.join(suspicious)}")
    return Result.passed()


@check("lambda.no-public-invoke", title="Nobody else may invoke the function", reads=READS, params=FunctionParams)
def no_public_invoke(inv: LambdaInventory, p: FunctionParams) -> Result:
    """Fails on an Allow for principal `*`, or for a service, without an aws:SourceArn/SourceAccount condition."""
    function = function_or_result(inv, p.function)
    if isinstance(function, Result):
        return function
    if function.policy is None:
        return Result.passed("no resource policy")
    open_to = open_statements(function.policy)
    if open_to:
        return Result.failed("; ".join(open_to) + " to invoke the function")
    return Result.passed()
