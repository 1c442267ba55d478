"""The escalation catalog's checks one by one, on small boundaries that each get one thing wrong."""

from __future__ import annotations

import pytest

from labctl.policies.rules.escalation import (
    allowed,
    attach_limited,
    denied_on,
    denied_unless_own_boundary,
    no_pathed_role,
    outside_own_denied,
    pass_role_limited,
)

PREFIX = "c1-s001"
OWN = f"arn:aws:iam::${{aws:PrincipalAccount}}:policy/labctl/c1/{PREFIX}-boundary"
PEERS = "arn:aws:iam::${aws:PrincipalAccount}:policy/labctl/c1/c1-s002-boundary"


def deny(actions, resource="*", **condition):
    statement = {"Effect": "Deny", "Action": actions, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


def allow(actions, **condition):
    statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(("granted", "need", "reachable"), [
    (["iam:*"], "iam:PutRolePolicy", True),        # the grant covers the need
    (["s3:GetObject"], "s3:*", True),              # the need covers the grant
    (["IAM:PutRolePolicy"], "iam:putrolepolicy", True),  # IAM actions are case-insensitive
    (["S3:GetObject"], "s3:*", True),
    (["s3:GetObject"], "iam:PutRolePolicy", False),
    (["iam:Get*"], "iam:PutRolePolicy", False),
])
def test_reachable_when_grant_and_need_overlap_either_way_whatever_the_case(granted, need, reachable):
    assert allowed([allow(granted)], need) is reachable
    assert allowed([deny(granted)], need) is False  # a Deny grants nothing


def test_role_writes_are_blocked_only_by_a_deny_on_every_resource_naming_the_own_boundary():
    writes = ["iam:PutRolePolicy"]
    assert denied_unless_own_boundary([deny(writes, StringNotEquals={"iam:PermissionsBoundary": OWN})], writes[0], PREFIX)
    assert denied_unless_own_boundary([deny(writes, ArnNotEquals={"iam:PermissionsBoundary": OWN})], writes[0], PREFIX)
    # A first Deny on some roles only does not hide a later one on every resource.
    narrow = deny(writes, "arn:aws:iam::*:role/x", StringNotEquals={"iam:PermissionsBoundary": OWN})
    assert denied_unless_own_boundary([narrow, deny(writes, StringNotEquals={"iam:PermissionsBoundary": OWN})], writes[0], PREFIX)
    assert not denied_unless_own_boundary([narrow], writes[0], PREFIX)
    assert not denied_unless_own_boundary([deny(writes, StringNotEquals={"iam:PermissionsBoundary": PEERS})], writes[0], PREFIX)
    assert not denied_unless_own_boundary([deny(writes, StringNotEquals={"aws:RequestedRegion": "us-east-1"})], writes[0], PREFIX)
    assert not denied_unless_own_boundary([deny(writes, StringEquals={"iam:PermissionsBoundary": OWN})], writes[0], PREFIX)


def test_a_pathed_role_is_blocked_only_by_an_unconditional_deny_covering_it():
    pathed = "arn:aws:iam::123456789012:role/c1-s001-x/someone"
    assert denied_on([deny(["iam:CreateRole"], ["arn:aws:iam::*:role/*/*"])], "iam:CreateRole", pathed)
    assert not denied_on([deny(["iam:CreateRole"], ["arn:aws:iam::*:role/c1-s002-*"])], "iam:CreateRole", pathed)
    assert not denied_on([deny(["iam:CreateRole"], ["arn:aws:iam::*:role/*/*"], Null={"x": "true"})], "iam:CreateRole", pathed)


def test_a_deny_of_paths_under_the_students_own_prefix_is_enough():
    """`role/<prefix>-*` reaches a pathed role only through a path that starts with the prefix."""
    assert no_pathed_role([deny(["iam:CreateRole"], [f"arn:aws:iam::*:role/{PREFIX}-*/*"])], PREFIX)
    assert not no_pathed_role([deny(["iam:CreateRole"], ["arn:aws:iam::*:role/c1-s002-*/*"])], PREFIX)


@pytest.mark.parametrize(("statement", "limited"), [
    (deny(["iam:AttachRolePolicy"]), True),
    (deny(["iam:AttachRolePolicy"], ArnNotEquals={"iam:PolicyARN": ["arn:aws:iam::aws:policy/a"]}), True),
    (deny(["iam:AttachRolePolicy"], StringNotEquals={"iam:PolicyARN": "arn:aws:iam::aws:policy/a"}), True),
    (deny(["iam:Attach*"], ArnNotEquals={"iam:PolicyARN": ["arn:aws:iam::aws:policy/a"]}), True),
    (deny(["iam:AttachRolePolicy"], ArnNotEquals={"iam:PolicyARN": ["arn:aws:iam::aws:policy/*"]}), False),
    (deny(["iam:AttachRolePolicy"], ArnNotEquals={"iam:PolicyARN": ["arn:aws:iam::aws:policy/a?"]}), False),
    (deny(["iam:AttachRolePolicy"], ArnNotEquals={"iam:PermissionsBoundary": [OWN]}), False),
    (deny(["iam:AttachRolePolicy"], ArnEquals={"iam:PolicyARN": ["arn:aws:iam::aws:policy/a"]}), False),
    (deny(["iam:PutRolePolicy"], ArnNotEquals={"iam:PolicyARN": ["arn:aws:iam::aws:policy/a"]}), False),
])
def test_attaching_is_limited_by_an_outright_deny_or_one_naming_exact_policy_arns(statement, limited):
    assert attach_limited([statement]) is limited


@pytest.mark.parametrize(("statements", "limited"), [
    ([allow(["iam:PassRole"], StringEquals={"iam:PassedToService": ["lambda.amazonaws.com"]})], True),
    ([deny(["s3:*"]), allow(["iam:PassRole"])], False),  # the Deny first does not end the search
    ([allow(["iam:PassRole"], StringEquals={"iam:PassedToService": "*.amazonaws.com"})], False),
    ([allow(["iam:PassRole"], StringEquals={"iam:PassedToService": "lambda.amazonaws.co?"})], False),
    ([allow(["iam:PassRole"], StringLike={"iam:PassedToService": "lambda.amazonaws.com"})], False),
    ([allow(["s3:GetObject"]), allow(["IAM:passrole"])], False),
    ([allow(["s3:GetObject"])], True),
])
def test_passing_roles_is_limited_when_every_grant_names_its_services_exactly(statements, limited):
    assert pass_role_limited(statements) is limited


@pytest.mark.parametrize(("statement", "closed"), [
    (deny(["s3:*"]), True),
    ({"Effect": "Deny", "Action": ["s3:*"], "NotResource": ["arn:aws:s3:::c1-s001-*"]}, True),
    ({"Effect": "Deny", "Action": ["s3:*"], "NotResource": ["arn:aws:s3:::*"]}, False),
    ({"Effect": "Deny", "Action": ["s3:*"], "NotResource": ["arn:aws:s3:::zz-*"]}, False),
    ({"Effect": "Deny", "Action": ["s3:*"], "NotResource": []}, False),
    ({"Effect": "Deny", "Action": ["sqs:*"], "NotResource": ["arn:aws:s3:::c1-s001-*"]}, False),
])
def test_a_peers_resource_policy_is_closed_by_a_deny_outside_the_own_names(statement, closed):
    assert outside_own_denied([statement], "s3") is closed
