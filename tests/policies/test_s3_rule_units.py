"""The S3 isolation rules one by one, called as functions, each expectation from S3's documented
behaviour (canned ACLs, principals, read actions), on the shapes a plausible wrong rule would miss."""

from __future__ import annotations

import json
from typing import Any

import pytest

from labctl.policies.model import SECRET, UNKNOWN, PolicyResource
from labctl.policies.rules.s3 import BUCKET_POLICY, PUBLIC_ACCESS_BLOCK, is_everyone, s3_no_public_acl, s3_no_public_write, write_actions

BUCKET = "aws:s3/bucketV2:BucketV2"


def resource(type_: str, **props: Any) -> PolicyResource:
    return PolicyResource(type_, "r", "urn:r", props, "s1", "c1-s1")


@pytest.mark.parametrize(
    ("block", "off"),
    [
        ({"blockPublicAcls": True, "ignorePublicAcls": True}, None),
        ({"blockPublicAcls": True}, "ignorePublicAcls"),
        ({"blockPublicAcls": "true", "ignorePublicAcls": True}, "blockPublicAcls"),  # not the boolean
        ({"blockPublicAcls": False, "ignorePublicAcls": False}, "blockPublicAcls and ignorePublicAcls"),
    ],
)
def test_a_public_access_block_blocks_and_ignores_public_acls(block: dict, off: str | None) -> None:
    found = list(s3_no_public_acl.check(resource(PUBLIC_ACCESS_BLOCK, **block), None))
    assert found == ([f"{PUBLIC_ACCESS_BLOCK} 'r' must set {off} to true."] if off else [])


@pytest.mark.parametrize(
    ("acl", "public"),
    [("private", False), ("public-read", True), ("public-read-write", True), ("authenticated-read", True),
     ("bucket-owner-full-control", False), (None, False), (["public-read"], False)],
)
def test_the_public_canned_acls_are_refused(acl: Any, public: bool) -> None:
    for type_ in (BUCKET, "aws:s3/bucketAclV2:BucketAclV2"):
        found = list(s3_no_public_acl.check(resource(type_, acl=acl), None))
        assert found == ([f"{type_} 'r' must not use the public ACL {acl!r}."] if public else [])


@pytest.mark.parametrize(
    ("principal", "everyone"),
    [("*", True), ({"AWS": "*"}, True), ({"AWS": ["arn:aws:iam::1:root", "*"]}, True),
     ({"AWS": "arn:aws:iam::1:root"}, False), ({"Service": "*"}, False), ("arn:aws:iam::1:root", False), (None, False)],
)
def test_everyone_is_star_or_aws_star(principal: Any, everyone: bool) -> None:
    assert is_everyone(principal) is everyone


@pytest.mark.parametrize(
    ("actions", "writes"),
    [
        (["s3:GetObject", "s3:ListBucket", "s3:HeadObject", "S3:getObjectVersion"], []),
        (["s3:PutObject", "s3:DeleteObject", "s3:*"], ["s3:PutObject", "s3:DeleteObject", "s3:*"]),
        (["*"], ["*"]),
        (["*:GetObject"], []),
        (["sqs:GetQueueUrl"], ["sqs:GetQueueUrl"]),  # not an S3 action at all
        (["s3:GetObject", 7, None], []),
        (["s3:"], ["s3:"]),
    ],
)
def test_only_get_list_and_head_are_reads(actions: list, writes: list) -> None:
    assert write_actions(actions) == writes


def policy(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def writes_found(document: Any) -> list[str]:
    return list(s3_no_public_write.check(resource(BUCKET_POLICY, policy=document), None))


def test_a_public_read_policy_is_fine_and_a_public_write_is_named() -> None:
    read = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    assert writes_found(policy(read)) == []
    write = {**read, "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]}
    assert writes_found(policy(write)) == [f"{BUCKET_POLICY} 'r' must not allow s3:PutObject, s3:DeleteObject to principal '*'."]


def test_which_statements_are_judged() -> None:
    put = {"Principal": "*", "Action": "s3:PutObject"}
    assert writes_found(policy({**put, "Effect": "Deny"})) == []
    assert writes_found(policy(put)) == [f"{BUCKET_POLICY} 'r' must not allow s3:PutObject to principal '*'."]  # Allow by default
    assert writes_found(policy({**put, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}})) == []
    not_principal = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:PutObject"}
    assert writes_found(policy(not_principal)) == [f"{BUCKET_POLICY} 'r' must not allow s3:PutObject to principal '*'."]
    not_action = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject"}
    assert writes_found(policy(not_action, "junk")) == [f"{BUCKET_POLICY} 'r' must not allow NotAction to principal '*'."]


@pytest.mark.parametrize("document", [None, UNKNOWN, SECRET])
def test_a_policy_unknown_at_plan_time_is_not_judged(document: Any) -> None:
    assert writes_found(document) == []


@pytest.mark.parametrize("document", ["{not json", "[]", 7])
def test_a_policy_that_is_not_a_json_document_is_reported(document: Any) -> None:
    assert writes_found(document) == [f"{BUCKET_POLICY} 'r' must have a JSON bucket policy."]


def test_every_statement_is_judged_after_ones_that_are_not() -> None:
    """A Deny, a statement that is not an object, a private one or a NotAction one before it does not
    hide a public write after it."""
    write = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject"}
    for before in ({**write, "Effect": "Deny"}, "junk", {**write, "Principal": {"AWS": "arn:aws:iam::1:root"}}):
        assert writes_found(policy(before, write)) == [f"{BUCKET_POLICY} 'r' must not allow s3:PutObject to principal '*'."]
    not_action = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject"}
    assert writes_found(policy(not_action, write)) == [
        f"{BUCKET_POLICY} 'r' must not allow NotAction to principal '*'.",
        f"{BUCKET_POLICY} 'r' must not allow s3:PutObject to principal '*'.",
    ]
    assert write_actions([7, "s3:PutObject"]) == ["s3:PutObject"]


def test_the_engine_judges_bucket_acls_as_well_as_buckets() -> None:
    from labctl.policies.engine import evaluate

    acl = PolicyResource("aws:s3/bucketAclV2:BucketAclV2", "c1-s1-acl", "urn:acl", {"acl": "public-read"}, "s1", "c1-s1")
    report = evaluate([acl], None)
    assert [(v.policy, v.message) for v in report.violations if v.policy == "s3-no-public-acl"] == [
        ("s3-no-public-acl", "aws:s3/bucketAclV2:BucketAclV2 'c1-s1-acl' must not use the public ACL 'public-read'.")
    ]
