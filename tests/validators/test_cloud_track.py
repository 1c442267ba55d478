"""Pure helpers and checks of the cloud-track labs (IAM roles, Lambda, API Gateway, SQS/SNS, CloudWatch,
S3 hardening), on fixture inventories: no emulator needed. The labs themselves are proven on the real
moto server by tests/labs/test_catalog_solutions.py."""

from __future__ import annotations

import pytest

from labctl.validators.checks import apigateway, iam as iam_checks, lambda_functions, logs, messaging, s3_hardening
from labctl.validators.checks.iam import Grant
from labctl.validators.collectors.logs import owner_name
from labctl.validators.inventory.apigateway import Api, ApiGatewayInventory, Route
from labctl.validators.inventory.iam import IamInventory, Role
from labctl.validators.inventory.lambda_functions import Function, LambdaInventory
from labctl.validators.inventory.logs import Alarm, LogGroup, LogsInventory, MetricFilter
from labctl.validators.inventory.messaging import Queue, SqsInventory
from labctl.validators.inventory.s3 import Bucket, S3Inventory
from labctl.validators.resource_policies import limited_to_source, open_statements, principals, source_arns

LAMBDA = "lambda.amazonaws.com"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": LAMBDA}, "Action": "sts:AssumeRole"}],
}
LOGS = "arn:aws:logs:*:*:log-group:/aws/lambda/c-ada-fn:*"
TABLE = "arn:aws:dynamodb:*:*:table/c-ada-orders"
ALLOW = [
    Grant(action="logs:CreateLogStream", within=LOGS),
    Grant(action="logs:PutLogEvents", within=LOGS),
    Grant(action="dynamodb:GetItem", within=TABLE),
]


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource, **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


# --- resource policies -------------------------------------------------------------------------


def test_principals_cover_every_shape():
    assert principals({"Principal": "*"}) == ["*"]
    assert principals({"Principal": {"Service": ["a.amazonaws.com", "b.amazonaws.com"], "AWS": "*"}}) == [
        "Service:a.amazonaws.com",
        "Service:b.amazonaws.com",
        "AWS:*",
    ]
    assert principals({}) == []


def test_source_conditions_are_case_insensitive_and_by_operator_family():
    statement = {"Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:r:1:abc/*"}}}
    assert source_arns(statement) == ["arn:aws:execute-api:r:1:abc/*"]
    assert limited_to_source(statement)
    assert source_arns({"Condition": {"NumericLessThan": {"aws:SourceArn": "x"}}}) == []
    assert limited_to_source({"Condition": {"StringEquals": {"aws:SourceAccount": "123"}}})
    assert not limited_to_source({"Condition": {"Bool": {"aws:SecureTransport": "true"}}})


def test_open_statements_flag_public_and_unconditioned_service_principals():
    policy = doc(
        {"Sid": "world", "Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage"},
        {"Sid": "sns", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"}, "Action": "sqs:SendMessage"},
        {
            "Sid": "scoped",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:r:1:t"}},
        },
        {"Sid": "deny", "Effect": "Deny", "Principal": "*", "Action": "*"},
    )
    assert open_statements(policy) == [
        "statement world allows anyone",
        "statement sns allows any sns.amazonaws.com resource in any account",
    ]


# --- IAM roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trust", "problem"),
    [
        (LAMBDA_TRUST, None),
        (None, "no trust policy"),
        (
            doc({"Effect": "Allow", "Principal": {"Service": [LAMBDA, "ec2.amazonaws.com"]}, "Action": "sts:AssumeRole"}),
            "also trusts Service:ec2.amazonaws.com",
        ),
        (doc({"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}), "also trusts AWS:*"),
        (doc({"Effect": "Allow", "NotPrincipal": {"AWS": "x"}, "Action": "sts:AssumeRole"}), "NotPrincipal"),
        (doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:TagSession"}), "no statement lets"),
    ],
)
def test_trust_problems(trust, problem):
    problems = iam_checks.trust_problems(trust, "lambda.amazonaws.com")
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_grant_scope_distinguishes_missing_from_too_broad():
    scoped = [("inline policy p", doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/c-ada-orders")))]
    assert iam_checks.grant_scope(scoped, "dynamodb:GetItem", TABLE) == (True, [])
    broad = [("inline policy p", doc(allow("dynamodb:*", "*")))]
    assert iam_checks.grant_scope(broad, "dynamodb:GetItem", TABLE) == (False, ["*"])
    assert iam_checks.grant_scope(broad, "logs:PutLogEvents", LOGS) == (False, [])
    other_table = [("p", doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/c-ada-ordersx")))]
    assert iam_checks.grant_scope(other_table, "dynamodb:GetItem", TABLE)[0] is False


def test_excess_grants_lists_every_uncovered_pair():
    documents = [
        (
            "inline policy p",
            doc(
                allow(["logs:CreateLogStream", "logs:PutLogEvents"], "arn:aws:logs:us-east-1:1:log-group:/aws/lambda/c-ada-fn:*"),
                allow("dynamodb:GetItem", ["arn:aws:dynamodb:us-east-1:1:table/c-ada-orders", "*"]),
                {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*"},
            ),
        )
    ]
    assert iam_checks.excess_grants(documents, ALLOW) == [
        "dynamodb:GetItem on * (inline policy p)",
        "inline policy p uses NotAction/NotResource",
    ]


def role(**kwargs) -> IamInventory:
    return IamInventory({"c-ada-fn-role": Role(name="c-ada-fn-role", trust=LAMBDA_TRUST, **kwargs)})


def test_admin_grants_and_the_no_admin_guard():
    admin = role(attached={"arn:aws:iam::aws:policy/AdministratorAccess": None})
    result = iam_checks.no_admin(admin, iam_checks.RoleParams(role="c-ada-fn-role"))
    assert result.status == "failed" and "AdministratorAccess" in result.message
    star = role(inline={"p": doc(allow("*:*", "*"))})
    assert iam_checks.admin_grants(star.role("c-ada-fn-role")) == ["action *:* in inline policy p"]
    clean = role(inline={"p": doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:r:1:table/c-ada-orders"))})
    assert iam_checks.no_admin(clean, iam_checks.RoleParams(role="c-ada-fn-role")).status == "passed"
    assert iam_checks.no_admin(IamInventory(), iam_checks.RoleParams(role="c-ada-fn-role")).status == "skipped"


def test_only_grants_fails_on_an_unreadable_managed_policy():
    unread = role(attached={"arn:aws:iam::1:policy/mine": None})
    result = iam_checks.only_grants(unread, iam_checks.OnlyGrantsParams(role="c-ada-fn-role", allow=ALLOW))
    assert result.status == "failed" and "cannot be read" in result.message


# --- Lambda and API Gateway --------------------------------------------------------------------


def function(**kwargs) -> LambdaInventory:
    return LambdaInventory({"c-ada-fn": Function(name="c-ada-fn", **kwargs)})


def test_invoke_permission_outcomes():
    scoped = doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:r:1:function:c-ada-fn",
            "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:execute-api:r:1:abc/*/*/orders"}},
        }
    )
    wide = doc({**scoped["Statement"][0], "Condition": {"ArnLike": {"AWS:SourceArn": "*"}}})
    params = lambda_functions.InvokePermissionParams(
        function="c-ada-fn", principal="apigateway.amazonaws.com", source_arn="arn:aws:execute-api:*"
    )
    assert lambda_functions.invoke_permission(function(policy=scoped), params).status == "passed"
    assert lambda_functions.invoke_permission(function(policy=wide), params).status == "failed"
    assert lambda_functions.invoke_permission(function(policy=None), params).status == "failed"
    assert lambda_functions.invoke_permission(LambdaInventory(), params).status == "skipped"
    fn_params = lambda_functions.FunctionParams(function="c-ada-fn")
    assert lambda_functions.no_public_invoke(function(policy=wide), fn_params).status == "passed"


@pytest.mark.parametrize(
    ("env", "status"),
    [
        ({"TABLE_NAME": "t", "LOG_LEVEL": "INFO"}, "passed"),
        ({"DB_PASSWORD": "x"}, "failed"),
        ({"GITHUB_TOKEN": "x"}, "failed"),
        ({"api_key": "x"}, "failed"),
    ],
)
def test_no_plaintext_secrets(env, status):
    result = lambda_functions.no_plaintext_secrets(function(environment=env), lambda_functions.FunctionParams(function="c-ada-fn"))
    assert result.status == status


@pytest.mark.parametrize(
    ("uri", "matches"),
    [
        ("arn:aws:lambda:us-east-1:1:function:c-ada-fn", True),
        ("arn:aws:lambda:us-east-1:1:function:c-ada-fn:live", True),
        (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:us-east-1:1:function:c-ada-fn/invocations",
            True,
        ),
        ("arn:aws:lambda:us-east-1:1:function:c-ada-fn-old", False),
        ("https://example.com/c-ada-fn", False),
        (None, False),
    ],
)
def test_invokes_function(uri, matches):
    assert apigateway.invokes_function(uri, "c-ada-fn") is matches


def test_lambda_route_accepts_any_and_reports_what_it_found():
    fn = "arn:aws:lambda:r:1:function:c-ada-fn"
    params = apigateway.LambdaRouteParams(api="c-ada-api", function="c-ada-fn", method="GET", path="/orders")

    def inv(*routes: Route) -> ApiGatewayInventory:
        return ApiGatewayInventory({"c-ada-api": (Api("c-ada-api", "a1", "HTTP", routes=routes),)})

    assert apigateway.lambda_route(inv(Route("ANY", "/orders", "AWS_PROXY", fn)), params).status == "passed"
    mock = apigateway.lambda_route(inv(Route("GET", "/orders", "MOCK", None)), params)
    assert mock.status == "failed" and "MOCK" in mock.message
    assert apigateway.lambda_route(inv(Route("POST", "/orders", "AWS_PROXY", fn)), params).status == "failed"
    assert apigateway.lambda_route(ApiGatewayInventory(), params).status == "skipped"


# --- SQS, CloudWatch, S3 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("redrive", "status", "text"),
    [
        ({"deadLetterTargetArn": "arn:aws:sqs:r:1:c-ada-orders-dlq", "maxReceiveCount": "4"}, "passed", ""),
        ({"deadLetterTargetArn": "arn:aws:sqs:r:1:c-ada-orders-dlq", "maxReceiveCount": 10}, "failed", "maxReceiveCount is 10"),
        ({"deadLetterTargetArn": "arn:aws:sqs:r:1:c-ada-other", "maxReceiveCount": 3}, "failed", "dead-letter target"),
        (None, "failed", "no redrive policy"),
    ],
)
def test_redrive(redrive, status, text):
    inv = SqsInventory({"c-ada-orders": Queue(name="c-ada-orders", redrive=redrive)})
    params = messaging.RedriveParams(queue="c-ada-orders", dlq="c-ada-orders-dlq", min_receives=3, max_receives=5)
    result = messaging.redrive(inv, params)
    assert result.status == status and text in result.message


def test_retention_and_alarm_outcomes():
    params = logs.RetentionParams(log_group="/aws/lambda/c-ada-fn", min_days=7, max_days=30)
    never = LogsInventory({"/aws/lambda/c-ada-fn": LogGroup(name="/aws/lambda/c-ada-fn")})
    assert "never expire" in logs.retention(never, params).message
    assert logs.retention(LogsInventory(), params).status == "failed"
    ok = LogsInventory({"/aws/lambda/c-ada-fn": LogGroup(name="/aws/lambda/c-ada-fn", retention_days=14)})
    assert logs.retention(ok, params).status == "passed"

    alarm = Alarm("c-ada-errors", "c-ada", "Errors", "Sum", "LessThanThreshold", 50.0, False, ("arn:aws:sns:r:1:c-ada-alerts",))
    inv = LogsInventory(alarms={"c-ada-errors": alarm})
    result = logs.alarm(
        inv,
        logs.AlarmMetricParams(
            alarm="c-ada-errors",
            namespace="c-ada",
            metric="Errors",
            comparisons=["GreaterThanThreshold"],
            max_threshold=10,
        ),
    )
    assert result.status == "failed" and "comparison is LessThanThreshold" in result.message and "at most 10" in result.message
    assert logs.alarm_notifies(inv, logs.AlarmActionParams(alarm="c-ada-errors", topic="c-ada-alerts")).status == "passed"
    assert logs.actions_enabled(inv, logs.AlarmParams(alarm="c-ada-errors")).status == "failed"


def test_metric_filter_pattern():
    group = LogGroup(name="c-ada-app", metric_filters=(MetricFilter("f", "WARN", (("c-ada", "Errors"),)),))
    params = logs.MetricFilterParams(log_group="c-ada-app", namespace="c-ada", metric="Errors", pattern_contains="ERROR")
    result = logs.metric_filter(LogsInventory({"c-ada-app": group}), params)
    assert result.status == "failed" and "'WARN'" in result.message


def test_log_groups_of_lambda_belong_to_the_function_owner():
    assert owner_name("/aws/lambda/c-ada-fn") == "c-ada-fn"
    assert owner_name("c-ada-app") == "c-ada-app"


def test_lifecycle_checks_only_count_enabled_rules():
    rules = (
        {"ID": "off", "Status": "Disabled", "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]},
        {
            "ID": "on",
            "Status": "Enabled",
            "Transitions": [{"Days": 120, "StorageClass": "GLACIER"}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        },
    )
    inv = S3Inventory({"c-ada-records": Bucket(name="c-ada-records", lifecycle=rules)})
    transition = s3_hardening.lifecycle_transition(
        inv, s3_hardening.TransitionParams(bucket="c-ada-records", storage_classes=["GLACIER"], max_days=90)
    )
    assert transition.status == "failed" and "GLACIER after 120 days" in transition.message
    expiration = s3_hardening.lifecycle_expiration(
        inv, s3_hardening.ExpirationParams(bucket="c-ada-records", noncurrent_max_days=90)
    )
    assert expiration.status == "passed"
    assert s3_hardening.TransitionParams.reads_lifecycle is True


def test_public_access_block_names_the_flags_that_are_off():
    bucket = Bucket(name="b", public_access_block={"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False})
    result = s3_hardening.public_access_blocked(S3Inventory({"b": bucket}), s3_hardening.BucketParams(bucket="b"))
    assert result.message == "public access block settings off: BlockPublicPolicy, RestrictPublicBuckets"


# --- collectors on the real moto server: one listing per cohort, partitioned by the longest prefix --


def test_collectors_partition_by_owner_prefix(aws, moto_endpoint):
    from labctl.validators.collectors import COLLECTORS, CollectRequest

    sqs = aws.client("sqs", endpoint_url=moto_endpoint)
    sns = aws.client("sns", endpoint_url=moto_endpoint)
    logs_client = aws.client("logs", endpoint_url=moto_endpoint)
    for name in ("c-ab-orders", "c-ab-x-orders", "other-ab-orders"):
        sqs.create_queue(QueueName=name)
        sns.create_topic(Name=name)
    logs_client.create_log_group(logGroupName="/aws/lambda/c-ab-x-fn")
    logs_client.create_log_group(logGroupName="c-ab-app")

    def collect(kind, *wanted):
        request = CollectRequest("c", ("c-ab", "c-ab-x"), aws, moto_endpoint, tuple(wanted))
        return COLLECTORS[kind](request)

    queues = collect("sqs", messaging.QueueParams(queue="c-ab-x-orders"))
    assert set(queues.for_prefix("c-ab").queues) == {"c-ab-orders"}
    assert queues.for_prefix("c-ab").queue("c-ab-orders").detailed is False
    assert queues.for_prefix("c-ab-x").queue("c-ab-x-orders").arn.endswith(":c-ab-x-orders")
    topics = collect("sns", messaging.TopicParams(topic="c-ab-orders"))
    assert set(topics.for_prefix("c-ab").topics) == {"c-ab-orders"}
    assert set(topics.for_prefix("c-ab-x").topics) == {"c-ab-x-orders"}
    groups = collect("logs", logs.LogGroupParams(log_group="/aws/lambda/c-ab-x-fn"))
    assert set(groups.for_prefix("c-ab-x").log_groups) == {"/aws/lambda/c-ab-x-fn"}
    assert set(groups.for_prefix("c-ab").log_groups) == {"c-ab-app"}
