"""IAM role checks on fixture inventories (no emulator), each outcome stated from the lab's rule
(labs/iam-function-role): the role exists; only the named service may assume it (no other principal,
no NotPrincipal, and some statement lets the service call sts:AssumeRole); each asked action is
allowed on some resource inside the scope; no allowed (action, resource) pair goes beyond the allowed
grants, and every attached policy can be read; no broad AWS managed policy, `*` action or NotAction.
Deny statements grant nothing. Policy documents are built as the collector returns them (json.loads
of the document IAM sends), so their strings are new objects, never the literals here."""

from __future__ import annotations

import json

import pytest

from labctl.validators.checks import iam as checks
from labctl.validators.checks.iam import Grant
from labctl.validators.inventory.iam import IamInventory, Role

NAME = "c-ada-fn-role"
LAMBDA = "lambda.amazonaws.com"
ACCOUNT = "123456789012"
LOGS = "arn:aws:logs:*:*:log-group:/aws/lambda/c-ada-fn:*"
TABLE = "arn:aws:dynamodb:*:*:table/c-ada-orders"
MY_LOGS = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/c-ada-fn:*"
MY_TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/c-ada-orders"
BOB_TABLE = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/c-bob-orders"
ROLE = checks.RoleParams(role=NAME)
# The lab's least-privilege grants.
ALLOW = [
    Grant(action="logs:CreateLogStream", within=LOGS),
    Grant(action="logs:PutLogEvents", within=LOGS),
    Grant(action="logs:CreateLogStream", within=LOGS.removesuffix(":*")),
    Grant(action="logs:PutLogEvents", within=LOGS.removesuffix(":*")),
    Grant(action="dynamodb:GetItem", within=TABLE),
]


def wire(document: dict) -> dict:
    """The document as the collector hands it over: decoded from IAM's JSON text."""
    return json.loads(json.dumps(document))


def policy(*statements: dict) -> dict:
    return wire({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action, resource, **fields) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **fields}


def trusts(principal, action="sts:AssumeRole", **fields) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **fields}


TRUST = policy(trusts({"Service": LAMBDA}))
SOLUTION = policy(
    allow(["logs:CreateLogStream", "logs:PutLogEvents"], MY_LOGS),
    allow("dynamodb:GetItem", MY_TABLE),
)


def role(**fields) -> IamInventory:
    fields.setdefault("trust", TRUST)
    return IamInventory({NAME: Role(name=NAME, arn=f"arn:aws:iam::{ACCOUNT}:role/{NAME}", **fields)})


def with_policy(*statements: dict, **fields) -> IamInventory:
    return role(inline={"p": policy(*statements)}, **fields)


def test_role_exists_fails_only_when_there_is_none() -> None:
    missing = checks.role_exists(IamInventory(), ROLE)
    assert missing.status == "failed" and NAME in missing.message and missing.hint
    assert checks.role_exists(role(), ROLE).status == "passed"
    # Existence needs no details: a role only listed still exists.
    assert checks.role_exists(role(detailed=False), ROLE).status == "passed"


DETAILED = [
    (checks.trust_only, checks.TrustParams(role=NAME, service=LAMBDA)),
    (checks.grants, checks.GrantsParams(role=NAME, actions=["dynamodb:GetItem"], within=TABLE)),
    (checks.only_grants, checks.OnlyGrantsParams(role=NAME, allow=ALLOW)),
    (checks.no_admin, ROLE),
]


@pytest.mark.parametrize(("fn", "params"), DETAILED)
def test_every_detailed_check_skips_a_missing_role_and_reports_an_unread_one(fn, params) -> None:
    assert fn(IamInventory(), params) == checks.Result.skipped(f"role {NAME} does not exist")
    unread = fn(role(error="AccessDenied"), params)
    assert (unread.status, unread.message) == ("error", f"could not read role {NAME}: AccessDenied")
    listed = fn(role(detailed=False), params)
    assert (listed.status, listed.message) == ("error", f"role {NAME} was not collected in detail")


@pytest.mark.parametrize(("fn", "params"), DETAILED)
def test_the_labs_solution_passes_every_check(fn, params) -> None:
    assert fn(role(inline={"fn": SOLUTION}), params).status == "passed"


def problems(*statements: dict) -> list[str]:
    return checks.trust_problems(policy(*statements), LAMBDA)


def trust_only(trust) -> checks.Result:
    return checks.trust_only(role(trust=trust), checks.TrustParams(role=NAME, service=LAMBDA))


@pytest.mark.parametrize("trust", [None, {}])
def test_a_role_without_a_trust_policy_fails(trust) -> None:
    result = trust_only(trust)
    assert (result.status, result.message) == (
        "failed",
        f"the role has no trust policy (only Service {LAMBDA} may assume {NAME})",
    )


def test_a_trust_that_lets_the_service_assume_the_role_passes() -> None:
    assert problems(trusts({"Service": LAMBDA})) == []
    assert problems(trusts({"Service": [LAMBDA]}, action=["sts:TagSession", "sts:AssumeRole"])) == []
    assert problems(trusts({"Service": LAMBDA}, action="sts:*")) == []


def test_deny_statements_neither_trust_nor_count_as_trusting_others() -> None:
    deny_everyone_else = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    assert problems(deny_everyone_else, trusts({"Service": LAMBDA})) == []
    denied = problems({"Effect": "Deny", "Principal": {"Service": LAMBDA}, "Action": "sts:AssumeRole"})
    assert denied == [f"no statement lets {LAMBDA} call sts:AssumeRole"]


def test_a_trust_for_another_action_only_fails() -> None:
    assert problems(trusts({"Service": LAMBDA}, action="sts:TagSession")) == [
        f"no statement lets {LAMBDA} call sts:AssumeRole"
    ]
    result = trust_only(policy(trusts({"Service": LAMBDA}, action="sts:TagSession")))
    assert (result.status, result.message) == (
        "failed",
        f"no statement lets {LAMBDA} call sts:AssumeRole (only Service {LAMBDA} may assume {NAME})",
    )


def test_every_other_principal_beside_the_service_is_named() -> None:
    # Services that sort before and after the wanted one, and an account.
    found = problems(
        trusts({"Service": ["ec2.amazonaws.com", LAMBDA, "states.amazonaws.com"], "AWS": f"arn:aws:iam::{ACCOUNT}:root"})
    )
    assert found == [
        f"statement #1 also trusts Service:ec2.amazonaws.com, Service:states.amazonaws.com, AWS:arn:aws:iam::{ACCOUNT}:root"
    ]


def test_every_statement_is_read_and_named_by_sid_or_position() -> None:
    found = problems(
        trusts({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}),
        trusts({"Federated": "cognito-identity.amazonaws.com"}, action="sts:AssumeRoleWithWebIdentity"),
        {"Effect": "Allow", "NotPrincipal": {"Service": LAMBDA}, "Action": "sts:AssumeRole"},
        trusts({"Service": LAMBDA}, Sid="Lambda"),
        trusts("*", Sid="Anyone"),
    )
    assert found == [
        f"statement #1 also trusts AWS:arn:aws:iam::{ACCOUNT}:root",
        "statement #2 also trusts Federated:cognito-identity.amazonaws.com",
        "statement #3 uses NotPrincipal, which trusts almost everyone",
        "statement Anyone also trusts *",
    ]
    result = trust_only(policy(trusts({"Service": LAMBDA}), trusts("*", Sid="Anyone")))
    assert (result.status, result.message) == (
        "failed",
        f"statement Anyone also trusts * (only Service {LAMBDA} may assume {NAME})",
    )


def grants(*actions: str, within: str = TABLE, inv: IamInventory) -> checks.Result:
    return checks.grants(inv, checks.GrantsParams(role=NAME, actions=list(actions), within=within))


def test_an_action_granted_inside_the_scope_passes_however_it_is_written() -> None:
    for action in ("dynamodb:GetItem", "DynamoDB:getitem", "dynamodb:Get*", ["dynamodb:Query", "dynamodb:GetItem"]):
        assert grants("dynamodb:GetItem", inv=with_policy(allow(action, MY_TABLE))).status == "passed", action
    # Any region and account lie inside the lab's `*:*`; the grant may also come from a managed policy.
    attached = role(attached={f"arn:aws:iam::{ACCOUNT}:policy/reader": policy(allow("dynamodb:GetItem", MY_TABLE))})
    assert grants("dynamodb:GetItem", inv=attached).status == "passed"


def test_deny_statements_grant_nothing() -> None:
    before = with_policy({"Effect": "Deny", "Action": "dynamodb:DeleteTable", "Resource": "*"}, allow("dynamodb:GetItem", MY_TABLE))
    assert grants("dynamodb:GetItem", inv=before).status == "passed"
    denied = grants("dynamodb:GetItem", inv=with_policy({"Effect": "Deny", "Action": "dynamodb:GetItem", "Resource": MY_TABLE}))
    assert (denied.status, denied.message) == ("failed", "dynamodb:GetItem is not granted")


def test_another_action_on_the_resource_is_not_a_grant() -> None:
    result = grants("dynamodb:GetItem", inv=with_policy(allow("dynamodb:PutItem", MY_TABLE)))
    assert (result.status, result.message) == ("failed", "dynamodb:GetItem is not granted")


def test_a_grant_outside_the_scope_names_where_it_is_granted() -> None:
    inv = with_policy(allow("dynamodb:GetItem", BOB_TABLE), allow("dynamodb:*", "*"), allow("dynamodb:GetItem", BOB_TABLE))
    result = grants("dynamodb:GetItem", inv=inv)
    assert (result.status, result.message) == (
        "failed",
        f"dynamodb:GetItem is granted only on *, {BOB_TABLE}, not within {TABLE}",
    )


def test_notaction_and_notresource_statements_are_not_grants_within_a_scope() -> None:
    """Everything but iam:* includes the table, and so does everything but Bob's table: neither is a
    grant the lab can see as limited to the table."""
    everything_but_iam = with_policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": MY_TABLE})
    assert grants("dynamodb:GetItem", inv=everything_but_iam).message == "dynamodb:GetItem is not granted"
    all_but_bob = with_policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": BOB_TABLE})
    assert grants("dynamodb:GetItem", inv=all_but_bob).status == "failed"


def test_each_asked_action_is_checked_and_only_the_missing_ones_named() -> None:
    logs_only = with_policy(allow("logs:CreateLogStream", MY_LOGS))
    result = grants("logs:CreateLogStream", "logs:PutLogEvents", within=LOGS, inv=logs_only)
    assert (result.status, result.message) == ("failed", "logs:PutLogEvents is not granted")
    result = grants("logs:PutLogEvents", "dynamodb:GetItem", within=LOGS, inv=logs_only)
    assert result.message == "logs:PutLogEvents is not granted; dynamodb:GetItem is not granted"


def only_grants(inv: IamInventory) -> checks.Result:
    return checks.only_grants(inv, checks.OnlyGrantsParams(role=NAME, allow=ALLOW))


def test_grants_within_the_allowed_ones_pass_however_the_action_is_written() -> None:
    inv = with_policy(allow(["Logs:PutLogEvents", "LOGS:createlogstream"], MY_LOGS), {"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert only_grants(inv).status == "passed"


@pytest.mark.parametrize(
    ("statement", "excess"),
    [
        (allow("dynamodb:*", MY_TABLE), f"dynamodb:* on {MY_TABLE} (inline policy p)"),
        (allow("dynamodb:GetItem", "*"), "dynamodb:GetItem on * (inline policy p)"),
        (allow("logs:PutLogEvents", MY_TABLE), f"logs:PutLogEvents on {MY_TABLE} (inline policy p)"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": MY_TABLE}, "inline policy p uses NotAction/NotResource"),
        ({"Effect": "Allow", "Action": "dynamodb:GetItem", "NotResource": BOB_TABLE}, "inline policy p uses NotAction/NotResource"),
    ],
)
def test_a_grant_beyond_the_allowed_ones_fails(statement: dict, excess: str) -> None:
    result = only_grants(with_policy(allow("dynamodb:GetItem", MY_TABLE), statement))
    assert (result.status, result.message) == ("failed", f"more than needed: {excess}")


def test_every_excess_grant_is_named_once() -> None:
    inv = role(
        inline={
            "a": policy({"Effect": "Allow", "NotAction": "iam:*", "Resource": [MY_TABLE, MY_LOGS]}, allow("sqs:*", "*")),
            "b": policy(allow("sqs:*", "*"), allow("sqs:*", "*")),
        },
        attached={f"arn:aws:iam::{ACCOUNT}:policy/extra": policy(allow("s3:GetObject", "*"))},
    )
    assert only_grants(inv).message == "more than needed: " + "; ".join(
        [
            "inline policy a uses NotAction/NotResource",
            f"s3:GetObject on * (managed policy arn:aws:iam::{ACCOUNT}:policy/extra)",
            "sqs:* on * (inline policy a)",
            "sqs:* on * (inline policy b)",
        ]
    )


@pytest.mark.parametrize("count", [9, 10, 11, 12])
def test_at_most_ten_excess_grants_are_shown(count: int) -> None:
    actions = [f"dynamodb:Action{n:02d}" for n in range(count)]
    result = only_grants(with_policy(allow(actions, MY_TABLE)))
    shown = [f"{a} on {MY_TABLE} (inline policy p)" for a in actions[:10]]
    assert result.message == "more than needed: " + "; ".join(shown) + (" …" if count > 10 else "")


def test_an_unreadable_attached_policy_fails_because_it_may_grant_anything() -> None:
    inv = role(
        inline={"fn": SOLUTION},
        attached={
            f"arn:aws:iam::{ACCOUNT}:policy/z": None,
            f"arn:aws:iam::{ACCOUNT}:policy/readable": policy(allow("logs:PutLogEvents", MY_LOGS)),
            f"arn:aws:iam::{ACCOUNT}:policy/a": None,
        },
    )
    result = only_grants(inv)
    assert (result.status, result.message) == (
        "failed",
        f"attached policy arn:aws:iam::{ACCOUNT}:policy/a, arn:aws:iam::{ACCOUNT}:policy/z cannot be read, so it may grant anything",
    )


def test_a_role_with_unread_policies_is_an_error_unless_what_was_read_already_fails() -> None:
    unread = only_grants(role(inline={"fn": SOLUTION}, truncated=True))
    assert (unread.status, unread.message) == ("error", f"role {NAME} has more policies than the grader reads")
    assert only_grants(with_policy(allow("sqs:*", "*"), truncated=True)).status == "failed"


def no_admin(inv: IamInventory) -> checks.Result:
    return checks.no_admin(inv, ROLE)


@pytest.mark.parametrize("name", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"])
def test_a_broad_aws_managed_policy_is_an_administrator(name: str) -> None:
    arn = f"arn:aws:iam::aws:policy/{name}"
    result = no_admin(role(attached={arn: policy(allow("*", "*"))}, inline={"fn": SOLUTION}))
    assert (result.status, result.message) == (
        "failed",
        f"administrator-like grants: action * in managed policy {arn}; managed policy {arn}",
    )
    # Found by its ARN even when its document cannot be read.
    assert no_admin(role(attached={arn: None})).message == f"administrator-like grants: managed policy {arn}"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        f"arn:aws:iam::{ACCOUNT}:policy/AdministratorAccess",
    ],
)
def test_other_managed_policies_are_judged_by_what_they_grant(arn: str) -> None:
    """A narrower AWS policy is no administrator, and neither is a student's own policy that only
    borrows an administrator's name."""
    assert no_admin(role(attached={arn: policy(allow("logs:PutLogEvents", MY_LOGS))})).status == "passed"


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        (allow("*", "*"), "action * in inline policy p"),
        (allow(["dynamodb:GetItem", "*:*"], MY_TABLE), "action *:* in inline policy p"),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, "NotAction in inline policy p"),
    ],
)
def test_wildcard_actions_and_notaction_are_administrators(statement: dict, found: str) -> None:
    result = no_admin(with_policy({"Effect": "Deny", "Action": "*", "Resource": "*"}, statement))
    assert (result.status, result.message) == ("failed", f"administrator-like grants: {found}")


def test_a_denied_wildcard_or_a_service_wildcard_is_no_administrator() -> None:
    assert no_admin(with_policy({"Effect": "Deny", "Action": "*", "Resource": "*"})).status == "passed"
    assert no_admin(with_policy(allow("dynamodb:*", "*"))).status == "passed"
