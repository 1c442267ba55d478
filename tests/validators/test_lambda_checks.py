"""Lambda checks on fixture inventories (no emulator), each outcome stated from the lab's rule: the
environment holds the required variables (exact values where given, any non-empty value where null);
memory and timeout lie within the bounds (both admitted); the function runs as the named IAM role; its
resource policy lets the named service call lambda:InvokeFunction, limited to a source ARN inside the
pattern when one is asked; no variable name looks like a secret; nobody else may invoke it."""

from __future__ import annotations

import pytest

from labctl.validators.checks import lambda_functions as lf
from labctl.validators.inventory.lambda_functions import Function, LambdaInventory

NAME = "c-ada-fn"
APIGW = "apigateway.amazonaws.com"
ROLE = "arn:aws:iam::123456789012:role/c-ada-fn-role"
FN = lf.FunctionParams(function=NAME)


def function(**fields) -> LambdaInventory:
    return LambdaInventory({NAME: Function(name=NAME, **fields)})


def invoke(principal: str = APIGW, condition: dict | None = None, **fields) -> dict:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": "lambda:InvokeFunction",
        "Resource": f"arn:aws:lambda:us-east-1:123456789012:function:{NAME}",
        **fields,
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def source(arn: str) -> dict:
    return {"ArnLike": {"AWS:SourceArn": arn}}


def test_function_exists_fails_only_when_there_is_none() -> None:
    missing = lf.function_exists(LambdaInventory(), FN)
    assert missing.status == "failed" and NAME in missing.message and missing.hint
    assert lf.function_exists(function(), FN).status == "passed"
    # Existence needs no details: a function only listed still exists.
    assert lf.function_exists(function(detailed=False), FN).status == "passed"


def test_every_detailed_check_skips_a_missing_function_and_reports_an_unread_one() -> None:
    for fn, params in (
        (lf.environment, lf.EnvironmentParams(function=NAME, variables={"A": None})),
        (lf.limits, lf.LimitsParams(function=NAME)),
        (lf.execution_role, lf.RoleParams(function=NAME, role="r")),
        (lf.invoke_permission, lf.InvokePermissionParams(function=NAME, principal=APIGW)),
        (lf.no_plaintext_secrets, FN),
        (lf.no_public_invoke, FN),
    ):
        assert fn(LambdaInventory(), params).status == "skipped"
        unread = fn(function(error="AccessDenied"), params)
        assert unread.status == "error" and "AccessDenied" in unread.message
        assert fn(function(detailed=False), params).status == "error"


def environment(env: dict, **variables):
    return lf.environment(function(environment=env), lf.EnvironmentParams(function=NAME, variables=variables))


def test_required_variables_with_values_and_with_any_value() -> None:
    env = {"TABLE_NAME": "c-ada-orders", "LOG_LEVEL": "DEBUG", "EXTRA": "x"}
    assert environment(env, TABLE_NAME="c-ada-orders", LOG_LEVEL=None).status == "passed"
    wrong = environment(env, TABLE_NAME="c-ada-other", LOG_LEVEL="INFO")
    assert wrong.status == "failed" and wrong.hint
    assert wrong.message == "TABLE_NAME is 'c-ada-orders', expected 'c-ada-other'; LOG_LEVEL is 'DEBUG', expected 'INFO'"
    assert environment({"LOG_LEVEL": "WARN"}, LOG_LEVEL="INFO").message == "LOG_LEVEL is 'WARN', expected 'INFO'"
    # A value read off the wire is a new string object, never the literal the lab names.
    assert environment({"LOG_LEVEL": "".join(["IN", "FO"])}, LOG_LEVEL="INFO").status == "passed"


@pytest.mark.parametrize("env", [{}, {"TABLE_NAME": ""}])
def test_a_missing_or_empty_variable_is_not_set(env: dict) -> None:
    for wanted in (None, "c-ada-orders", ""):
        result = environment(env, TABLE_NAME=wanted)
        assert (result.status, result.message) == ("failed", "TABLE_NAME is not set")


def limits(memory, timeout, **bounds):
    return lf.limits(function(memory_mb=memory, timeout_s=timeout), lf.LimitsParams(function=NAME, **bounds))


@pytest.mark.parametrize(("memory", "status"), [(127, "failed"), (128, "passed"), (256, "passed"), (257, "failed"), (None, "failed")])
def test_memory_within_the_bounds_inclusive(memory, status: str) -> None:
    result = limits(memory, 10, memory_min=128, memory_max=256)
    assert result.status == status
    if status == "failed":
        assert result.message == f"memory is {memory} MB, expected 128-256 MB"


@pytest.mark.parametrize(("timeout", "status"), [(2, "failed"), (3, "passed"), (30, "passed"), (31, "failed"), (None, "failed")])
def test_timeout_within_the_bounds_inclusive(timeout, status: str) -> None:
    result = limits(128, timeout, timeout_min=3, timeout_max=30)
    assert result.status == status
    if status == "failed":
        assert result.message == f"timeout is {timeout} s, expected 3-30 s"


def test_limit_defaults_are_lambdas_own_range_and_both_problems_are_named() -> None:
    assert limits(128, 1).status == "passed"
    assert limits(10240, 900).status == "passed"
    assert limits(None, None).message == "memory is None MB, expected 128-10240 MB; timeout is None s, expected 1-900 s"
    both = limits(4096, 120, memory_max=1024, timeout_max=60)
    assert both.message == "memory is 4096 MB, expected 128-1024 MB; timeout is 120 s, expected 1-60 s"


def role(arn: str | None, wanted: str = "c-ada-fn-role"):
    return lf.execution_role(function(role=arn), lf.RoleParams(function=NAME, role=wanted))


def test_the_execution_role_is_named_by_its_arn() -> None:
    assert role(ROLE).status == "passed"
    assert role("arn:aws:iam::123456789012:role/service-role/c-ada-fn-role").status == "passed"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/c-ada-fn-role-old",
        "arn:aws:iam::123456789012:role/c-ada-other",
        "arn:aws:iam::123456789012:role/c-ada-app-role",
        "arn:aws:iam::123456789012:user/c-ada-fn-role",
        "c-ada-fn-role",
    ],
)
def test_another_role_or_a_non_role_fails(arn: str) -> None:
    result = role(arn)
    assert (result.status, result.message) == ("failed", f"the function runs as {arn}, expected role c-ada-fn-role")


def test_no_role_says_so() -> None:
    assert role(None).message == "the function runs as no role, expected role c-ada-fn-role"


def permission(doc: dict | None, principal: str = APIGW, source_arn: str | None = None):
    params = lf.InvokePermissionParams(function=NAME, principal=principal, source_arn=source_arn)
    return lf.invoke_permission(function(policy=doc), params)


def test_an_allow_for_the_service_grants_invoke() -> None:
    assert permission(policy(invoke())).status == "passed"
    assert permission(policy(invoke(Action="lambda:*"))).status == "passed"
    assert permission(policy(invoke(principal="events.amazonaws.com"), invoke())).status == "passed"


@pytest.mark.parametrize(
    "statement",
    [
        invoke(Effect="Deny"),
        invoke(Action="lambda:GetFunction"),
        invoke(principal="events.amazonaws.com"),
    ],
)
def test_a_deny_another_action_or_another_service_grants_nothing(statement: dict) -> None:
    result = permission(policy(statement))
    assert (result.status, result.message) == ("failed", f"no statement allows {APIGW} to call lambda:InvokeFunction")


def test_no_resource_policy_fails_with_a_hint() -> None:
    result = permission(None)
    assert (result.status, result.message) == ("failed", f"function {NAME} has no resource policy") and result.hint


def test_a_source_limit_must_lie_inside_the_asked_pattern() -> None:
    wanted = "arn:aws:execute-api:*:*:*"
    assert permission(policy(invoke(condition=source("arn:aws:execute-api:r:1:abc/*/GET/orders"))), source_arn=wanted).status == "passed"
    unlimited = permission(policy(invoke()), source_arn=wanted)
    assert unlimited.status == "failed" and unlimited.hint
    assert unlimited.message == f"the permission for {APIGW} is not limited by an aws:SourceArn inside {wanted}"
    too_wide = permission(policy(invoke(condition=source("*"))), source_arn=wanted)
    assert too_wide.status == "failed"
    # One limited statement among the granting ones is enough.
    limited = invoke(condition=source("arn:aws:execute-api:r:1:abc/*"))
    assert permission(policy(invoke(condition=source("arn:aws:sns:*")), limited), source_arn=wanted).status == "passed"
    # A limited statement that grants nothing does not count.
    denied = invoke(Effect="Deny", condition=source("arn:aws:execute-api:r:1:abc/*"))
    assert permission(policy(invoke(), denied), source_arn=wanted).status == "failed"


def secrets(env: dict):
    return lf.no_plaintext_secrets(function(environment=env), FN)


@pytest.mark.parametrize(
    "name",
    ["DB_PASSWORD", "passwd", "CLIENT_SECRET", "GITHUB_TOKEN", "APIKEY", "api_key", "AWS_ACCESS_KEY", "ACCESSKEY_ID", "PRIVATE_KEY", "sshprivatekey"],
)
def test_variables_named_like_secrets_fail(name: str) -> None:
    result = secrets({name: "x", "TABLE_NAME": "t"})
    assert (result.status, result.message) == ("failed", f"environment variables look like secrets: {name}")


def test_secret_names_are_listed_sorted_and_plain_names_pass() -> None:
    assert secrets({"Z_TOKEN": "x", "A_SECRET": "y"}).message == "environment variables look like secrets: A_SECRET, Z_TOKEN"
    assert secrets({"TABLE_NAME": "t", "LOG_LEVEL": "INFO", "KEYSPACE": "k", "API_URL": "u"}).status == "passed"
    assert secrets({}).status == "passed"


def test_public_or_unconditioned_service_invoke_fails() -> None:
    anyone = lf.no_public_invoke(function(policy=policy({**invoke(), "Principal": "*", "Sid": "open"})), FN)
    assert (anyone.status, anyone.message) == ("failed", "statement open allows anyone to invoke the function")
    service = lf.no_public_invoke(function(policy=policy(invoke())), FN)
    assert service.status == "failed" and service.message.endswith(" to invoke the function")


def test_a_limited_or_absent_policy_keeps_invoke_private() -> None:
    limited = lf.no_public_invoke(function(policy=policy(invoke(condition=source("arn:aws:execute-api:r:1:abc/*")))), FN)
    assert limited.status == "passed"
    none = lf.no_public_invoke(function(policy=None), FN)
    assert (none.status, none.message) == ("passed", "no resource policy")


def test_the_limit_bounds_a_lab_may_ask_are_lambdas_own() -> None:
    # Lambda runs with 128-10240 MB of memory and a 1-900 s timeout.
    edge = lf.LimitsParams(function=NAME, memory_min=128, memory_max=10240, timeout_min=1, timeout_max=900)
    assert (edge.memory_min, edge.memory_max, edge.timeout_min, edge.timeout_max) == (128, 10240, 1, 900)
    for bad in (dict(memory_min=127), dict(memory_max=10241), dict(timeout_min=0), dict(timeout_max=901)):
        with pytest.raises(ValueError):
            lf.LimitsParams(function=NAME, **bad)
