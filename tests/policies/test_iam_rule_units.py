"""The IAM rule's building blocks one by one, each on the document shape that tells a right answer from
a plausible wrong one (each case was a surviving mutant of policies/rules/iam.py, see docs/testing.md)."""

from __future__ import annotations

import json

import pytest

from labctl.policies.model import PolicyResource, Stack
from labctl.policies.rules.iam import (
    WildcardConfig,
    allowed_services,
    boundary_policies,
    denies,
    own_boundary_arn,
    own_role_arn,
    role_action_problem,
    statement_problems,
    tagging_scoped_to_owner,
    tagging_verb,
    read_only_verb,
    trust_problems,
    wildcard_resource,
)

PREFIX, STUDENT = "c1-s1", "s1"
CONFIG = WildcardConfig()
OWN_TAG = {"StringEquals": {"aws:ResourceTag/labctl:student": STUDENT}}
REQUEST_TAG = {"StringEquals": {"aws:RequestTag/labctl:student": STUDENT}}


def problems(statement: dict) -> list[str]:
    return list(statement_problems(statement, CONFIG, STUDENT, PREFIX))


@pytest.mark.parametrize(("resource", "wild"), [
    ("*", True), ("arn:aws:s3:::*", True), ("arn:aws:logs:us-east-1:1:log-group:*", False),
    ("arn:aws:s3:::c1-s1-*", False), (None, False), ({"Ref": "x"}, False), (["*"], False),
])
def test_wildcard_resource(resource, wild):
    assert wildcard_resource(resource) is wild


@pytest.mark.parametrize(("action", "tagging", "reading"), [
    ("sqs:TagQueue", True, False), ("s3:*", True, False), ("ec2:DescribeTags", False, True),
    ("*", False, False), ("iam", False, False), ("rds:ListTagsForResource", False, True),
])
def test_verbs_of_actions_with_and_without_a_service(action, tagging, reading):
    assert tagging_verb(action) is tagging
    assert read_only_verb(action) is reading


def test_a_statement_without_effect_is_checked_as_the_allow_iam_takes_it_for():
    assert problems({"Action": ["s3:DeleteBucket"], "Resource": "*"}) != []
    assert problems({"Effect": "Deny", "Action": ["s3:DeleteBucket"], "Resource": "*"}) == []


def test_action_star_on_star_owner_conditioned_is_reported_without_crashing():
    found = problems({"Sid": "All", "Effect": "Allow", "Action": ["*"], "Resource": "*", "Condition": OWN_TAG})
    assert found == ["allow Action '*' (statement 'All')"]


def test_messages_name_every_action_and_leave_forbidden_services_to_their_own_message():
    statement = {"Sid": "Mixed", "Effect": "Allow", "Action": ["s3:DeleteBucket", "sqs:DeleteQueue", "iam:TagUser"],
                 "Resource": "*"}
    found = problems(statement)
    assert found[0].startswith("allow iam:TagUser (statement 'Mixed'): iam actions are forbidden")
    assert found[1].startswith("allow s3:DeleteBucket, sqs:DeleteQueue on every resource (statement 'Mixed'): only")
    retag = {"Sid": "Retag", "Effect": "Allow", "Action": ["sqs:TagQueue", "sns:TagResource", "iam:TagUser"],
             "Resource": "*", "Condition": REQUEST_TAG}
    assert [p for p in problems(retag) if "re-tag" in p][0].startswith(
        "allow sqs:TagQueue, sns:TagResource on every resource (statement 'Retag') conditioned only on the request's tags")


def test_a_condition_pinned_to_another_student_is_not_the_owners():
    other = {"Sid": "Other", "Effect": "Allow", "Action": ["sqs:TagQueue"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:ResourceTag/labctl:student": "s2"}}}
    assert problems(other) == [
        "allow sqs:TagQueue on every resource (statement 'Other'): only List*/Describe* actions, or statements "
        "conditioned on the owner's labctl:student tag, may use Resource '*'"
    ]
    assert not tagging_scoped_to_owner(other, STUDENT)
    assert not tagging_scoped_to_owner({"Condition": {"StringEquals": {"aws:RequestTag/labctl:student": "s2"}}}, STUDENT)


@pytest.mark.parametrize(("condition", "scoped"), [
    (OWN_TAG, True),
    ({**REQUEST_TAG, "Null": {"aws:ResourceTag/labctl:student": "true"}}, True),
    ({**REQUEST_TAG, "Null": {"aws:ResourceTag/labctl:student": "false"}}, False),
    ({"StringEquals": {"aws:RequestTag/labctl:student": STUDENT, "ec2:CreateAction": "RunInstances"}}, True),
    (REQUEST_TAG, False),
    ({}, False),
])
def test_tag_writes_on_star_need_more_than_the_request_tags(condition, scoped):
    assert tagging_scoped_to_owner({"Condition": condition}, STUDENT) is scoped


@pytest.mark.parametrize(("arn", "own"), [
    ("arn:aws:iam::*:role/c1-s1-*", True), ("arn:aws:iam::123456789012:role/c1-s1-fn", True),
    ("arn:aws:iam::*:role/c1-s1-*-fn", False), ("arn:aws:iam::*:role/c1-s1-f*n", False),
    ("arn:aws:iam::*:role/c1-s1-x/fn", False), ("arn:aws:iam::*:role/c1-s2-*", False), (None, False), (3, False),
])
def test_own_role_arn(arn, own):
    assert own_role_arn(arn, PREFIX) is own


@pytest.mark.parametrize(("arn", "own"), [
    ("arn:aws:iam::${aws:PrincipalAccount}:policy/labctl/c1/c1-s1-boundary", True),
    ("arn:aws:iam::*:policy/labctl/c1/c1-s1-boundary", True),
    ("arn:aws:iam::*:policy/labctl/c1/c1-s2-boundary", False), (None, False), (["x"], False),
])
def test_own_boundary_arn(arn, own):
    assert own_boundary_arn(arn, PREFIX) is own


def test_role_actions_with_not_resource_are_refused():
    statement = {"Action": ["iam:GetRole"], "NotResource": ["arn:aws:iam::*:role/c1-s2-*"]}
    assert role_action_problem("iam:GetRole", statement, PREFIX) == "role actions are allowed only on roles arn:aws:iam::*:role/c1-s1-*"


def test_denies_needs_the_named_condition_to_match():
    tag_keys = {"operator": "ForAnyValue:StringLike", "key": "aws:TagKeys", "value": "labctl:student"}
    labctl = {"Effect": "Deny", "Action": ["sqs:TagQueue"], "Resource": "*",
              "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["labctl:*"]}}}
    team = {**labctl, "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["team"]}}}
    assert denies([labctl], "sqs:TagQueue", tag_keys)
    assert not denies([team], "sqs:TagQueue", tag_keys)
    assert not denies([labctl], "sqs:TagQueue")  # conditioned: not unconditional


def test_allowed_services_reads_past_odd_statements_and_actions():
    statements = ["not a statement", {"Effect": "Deny", "Action": ["ec2:*"]},
                  {"Action": [3, "sqs:SendMessage"]}, {"Effect": "Allow", "Action": "SNS:Publish"}]
    assert allowed_services(statements) == {"sqs", "sns"}
    assert allowed_services([{"Effect": "Allow", "Action": "*"}]) >= {"s3", "sqs", "ec2", "iam"}


def trust(*statements: object) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_trust_problems_read_every_statement():
    service = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    outside = {"Principal": {"AWS": ["arn:aws:iam::999999999999:root", "arn:aws:iam::888888888888:root"]}}
    found = list(trust_problems(trust("odd", {"Effect": "Deny", "Principal": "*"}, service, outside)))
    assert found == ["AWS principal arn:aws:iam::999999999999:root, arn:aws:iam::888888888888:root"]
    assert list(trust_problems(trust(service))) == []


def managed(name: str, path: str = "/labctl/c1/") -> PolicyResource:
    return PolicyResource(type="aws:iam/policy:Policy", name=name, urn=f"urn:{name}",
                          props={"name": name, "path": path, "policy": "{}", "tags": {"labctl:cohort": "c1"}},
                          student=STUDENT, prefix=PREFIX)


def test_a_boundary_listed_in_a_roles_managed_policies_is_a_grant():
    boundary = managed(f"{PREFIX}-boundary")
    role = PolicyResource(type="aws:iam/role:Role", name="r", urn="urn:r", props={
        "permissionsBoundary": "arn:aws:iam::1:policy/labctl/c1/c1-s1-boundary",
        "managedPolicyArns": ["arn:aws:iam::1:policy/labctl/c1/c1-s1-boundary"]})
    assert boundary_policies(Stack([boundary])) == {boundary.urn}
    assert boundary_policies(Stack([boundary, role])) == set()
    other_role = PolicyResource(type="aws:iam/role:Role", name="o", urn="urn:o", props={"managedPolicyArns": []})
    assert boundary_policies(Stack([boundary, role, other_role])) == set()  # one role's grant is enough
    inline = PolicyResource(type="aws:iam/userPolicy:UserPolicy", name="u", urn="urn:u",
                            props={"name": f"{PREFIX}-boundary", "path": "/labctl/c1/"}, student=STUDENT, prefix=PREFIX)
    assert boundary_policies(Stack([inline])) == set()  # only managed policies can be boundaries


def test_request_tags_of_another_student_do_not_make_a_tag_write_the_owners():
    other_request = {"StringEquals": {"aws:RequestTag/labctl:student": "s2"}, "Null": {"aws:ResourceTag/labctl:student": "true"}}
    assert not tagging_scoped_to_owner({"Condition": other_request}, STUDENT)
    # The owner's request tags on a resource pinned to another student: still not the owner's write.
    crossed = {"Sid": "Crossed", "Effect": "Allow", "Action": ["sqs:TagQueue"], "Resource": "*", "Condition": {
        "StringEquals": {"aws:RequestTag/labctl:student": STUDENT, "aws:ResourceTag/labctl:student": "s2"}}}
    assert any("re-tag another student's resource" in p for p in problems(crossed))


def test_role_actions_naming_both_resource_and_not_resource_are_refused():
    statement = {"Action": ["iam:GetRole"], "Resource": ["arn:aws:iam::*:role/c1-s1-*"], "NotResource": ["x"]}
    assert role_action_problem("iam:GetRole", statement, PREFIX) is not None


def test_an_action_without_a_service_is_no_service_of_ours():
    statement = {"Effect": "Allow", "Action": ["iam"], "Resource": "arn:aws:s3:::c1-s1-site"}
    assert problems(statement) == []
    assert allowed_services([{"Action": "foo"}]) == allowed_services([{"Action": "*"}])


def test_an_inline_policy_named_and_tagged_like_a_boundary_is_still_no_boundary():
    inline = PolicyResource(type="aws:iam/userPolicy:UserPolicy", name="u", urn="urn:u",
                            props={"name": f"{PREFIX}-boundary", "path": "/labctl/c1/", "tags": {"labctl:cohort": "c1"}},
                            student=STUDENT, prefix=PREFIX)
    assert boundary_policies(Stack([inline])) == set()


def test_every_bad_trust_statement_is_reported_not_only_the_first():
    found = list(trust_problems(trust({"Principal": "*"}, {"Principal": {"AWS": "arn:aws:iam::999999999999:root"}})))
    assert found == ["principal '*'", "AWS principal arn:aws:iam::999999999999:root"]


@pytest.mark.parametrize("operator", ["StringEquals", "StringLike", "ArnEquals", "ArnLike"])
def test_role_writes_may_name_the_own_boundary_with_any_string_or_arn_operator(operator):
    boundary = "arn:aws:iam::*:policy/labctl/c1/c1-s1-boundary"
    statement = {"Action": ["iam:CreateRole"], "Resource": ["arn:aws:iam::*:role/c1-s1-*"],
                 "Condition": {operator: {"iam:PermissionsBoundary": boundary}}}
    assert role_action_problem("iam:CreateRole", statement, PREFIX) is None
    other = {**statement, "Condition": {operator: {"iam:PermissionsBoundary": boundary.replace("c1-s1", "c1-s2")}}}
    assert role_action_problem("iam:CreateRole", other, PREFIX) is not None


@pytest.mark.parametrize(("operator", "service", "ok"), [
    ("StringEquals", "lambda.amazonaws.com", True), ("StringLike", "lambda.amazonaws.com", True),
    ("StringLike", "lambda.amazonaws.co?", False), ("StringEquals", "*", False), ("StringEquals", "", False),
])
def test_passing_roles_names_its_services_exactly(operator, service, ok):
    statement = {"Action": ["iam:PassRole"], "Resource": ["arn:aws:iam::*:role/c1-s1-*"],
                 "Condition": {operator: {"iam:PassedToService": service}}}
    assert (role_action_problem("iam:PassRole", statement, PREFIX) is None) is ok


def test_role_actions_of_an_unknown_owner_and_role_names_with_a_single_wildcard():
    statement = {"Action": ["iam:GetRole"], "Resource": ["arn:aws:iam::*:role/c1-s1-*"]}
    assert role_action_problem("iam:GetRole", statement, None) == "the student's prefix is unknown, so its roles cannot be told apart"
    assert not own_role_arn("arn:aws:iam::*:role/c1-s1-f?", PREFIX)


def test_what_a_statement_must_not_do_word_for_word():
    assert problems("text") == ["contain a statement that is not an object"]
    assert problems({"Sid": "S", "Effect": "Allow", "Action": ["*:*"], "Resource": "arn:aws:s3:::c1-s1-x"}) == [
        "allow Action '*' (statement 'S')"]
    assert problems({"Sid": "S", "Effect": "Allow", "Action": ["*:GetObject"], "Resource": "arn:aws:s3:::c1-s1-x"}) == [
        "allow *:GetObject (statement 'S'): * actions are forbidden to students"]
    not_resource = problems({"Sid": "N", "Effect": "Allow", "Action": ["s3:DeleteBucket"], "NotResource": ["arn:aws:s3:::x"]})
    assert not_resource == ["allow s3:DeleteBucket on every resource (statement 'N'): only List*/Describe* actions, or "
                            "statements conditioned on the owner's labctl:student tag, may use Resource '*'"]
    everything = problems({"Sid": "E", "Effect": "Allow", "Action": ["*", "*:*", "s3:DeleteBucket"], "Resource": "*"})
    assert everything[-1].startswith("allow s3:DeleteBucket on every resource (statement 'E')")


def test_a_trust_policy_with_not_principal_is_reported():
    assert list(trust_problems(trust({"NotPrincipal": {"AWS": "x"}, "Principal": {"Service": "lambda.amazonaws.com"}}))) == [
        "NotPrincipal"]
