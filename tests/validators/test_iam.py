"""The pure IAM helpers: wildcard matching, coverage and statement reading."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from validators import iam

globs = st.text(alphabet="ab*?", max_size=6)
literals = st.text(alphabet="ab:/", max_size=8)


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("s3:getobject", "s3:GetObject", True),
        ("S3:*", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Put*", "s3:GetObject", False),
        ("*", "s3:GetObject", True),
        ("s3:[G]etObject", "s3:GetObject", False),
    ],
)
def test_action_match(pattern: str, action: str, matches: bool) -> None:
    assert iam.glob_match(pattern, action, ignore_case=True) is matches


def test_resources_match_case_sensitively() -> None:
    assert iam.glob_match("arn:aws:s3:::c-ada-site/*", "arn:aws:s3:::c-ada-site/a/b.html")
    assert not iam.glob_match("arn:aws:s3:::C-ADA-SITE/*", "arn:aws:s3:::c-ada-site/x")


@pytest.mark.parametrize(
    ("pattern", "wanted", "covers"),
    [
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/*", True),
        ("arn:aws:s3:::*", "arn:aws:s3:::b/*", True),
        ("*", "arn:aws:s3:::b/*", True),
        ("arn:aws:s3:::b/index.html", "arn:aws:s3:::b/*", False),
        ("arn:aws:s3:::b/?", "arn:aws:s3:::b/*", False),
        ("arn:aws:s3:::b", "arn:aws:s3:::b/*", False),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:GetObject", "s3:Get*", False),
        ("s3:*", "s3:Get*", True),
    ],
)
def test_covers(pattern: str, wanted: str, covers: bool) -> None:
    assert iam.glob_covers(pattern, wanted, ignore_case=True) is covers


@given(globs, literals)
def test_covers_equals_match_on_literals(pattern: str, value: str) -> None:
    assert iam.glob_covers(pattern, value) == iam.glob_match(pattern, value)


@settings(max_examples=300)
@given(globs, globs, st.randoms(use_true_random=False))
def test_covers_is_sound(pattern: str, wanted: str, rnd: random.Random) -> None:
    """If `pattern` covers `wanted`, it matches every string `wanted` matches."""
    if not iam.glob_covers(pattern, wanted):
        return
    for _ in range(5):
        sample = "".join(
            "".join(rnd.choices("ab", k=rnd.randint(0, 3))) if c == "*" else rnd.choice("ab") if c == "?" else c
            for c in wanted
        )
        assert iam.glob_match(pattern, sample), (pattern, wanted, sample)


@pytest.mark.parametrize(
    ("principal", "public"),
    [
        ("*", True),
        ({"AWS": "*"}, True),
        ({"AWS": ["arn:aws:iam::123456789012:root", "*"]}, True),
        ({"AWS": "arn:aws:iam::123456789012:root"}, False),
        ({"Service": "cloudfront.amazonaws.com"}, False),
        (None, False),
    ],
)
def test_is_public(principal: object, public: bool) -> None:
    assert iam.is_public({"Effect": "Allow", "Principal": principal}) is public


def test_statement_may_be_one_object_or_a_list() -> None:
    one = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}
    assert iam.statements({"Statement": one}) == [one]
    assert iam.statements({"Statement": [one, "junk"]}) == [one]
    assert iam.statements({}) == []


@pytest.mark.parametrize(
    ("action", "beyond"),
    [
        ("s3:GetObject", []),
        (["s3:getobject"], []),
        ("s3:*", ["s3:*"]),
        (["s3:GetObject", "s3:PutObject"], ["s3:PutObject"]),
        (["s3:DeleteObject", "s3:PutBucketPolicy"], ["s3:DeleteObject", "s3:PutBucketPolicy"]),
        ("s3:Get*", ["s3:Get*"]),
        ("*", ["*"]),
    ],
)
def test_actions_beyond(action: object, beyond: list[str]) -> None:
    statement = {"Effect": "Allow", "Principal": "*", "Action": action}
    assert iam.actions_beyond(statement, ["s3:GetObject"]) == beyond


def test_not_action_is_beyond_any_allow_list() -> None:
    statement = {"Effect": "Allow", "Principal": "*", "NotAction": "s3:DeleteObject"}
    assert iam.actions_beyond(statement, ["s3:GetObject"]) == ["every action except s3:DeleteObject"]
    assert iam.covers_action(statement, "s3:GetObject")
    assert not iam.covers_action(statement, "s3:DeleteObject")


def test_not_resource() -> None:
    statement = {"NotResource": "arn:aws:s3:::b/private/*"}
    assert iam.covers_resource(statement, "arn:aws:s3:::b/index.html")
    assert not iam.covers_resource(statement, "arn:aws:s3:::b/private/x")
