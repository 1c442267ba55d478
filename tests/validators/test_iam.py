"""The pure IAM helpers: wildcard matching, coverage and statement reading."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labctl.validators import iam

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


# ---- killing mutation survivors (docs/testing.md): each case states IAM's documented rule ----


def test_resources_are_covered_case_sensitively_unless_asked() -> None:
    """IAM compares resource ARNs case-sensitively: `glob_covers` does too by default."""
    assert not iam.glob_covers("arn:aws:s3:::B/*", "arn:aws:s3:::b/*")
    assert not iam.glob_covers("A", "a")
    assert iam.glob_covers("A", "a", ignore_case=True)


def test_a_question_mark_covers_exactly_one_character() -> None:
    assert iam.glob_covers("arn:aws:s3:::b/?.html", "arn:aws:s3:::b/a.html")
    assert not iam.glob_covers("arn:aws:s3:::b/?.html", "arn:aws:s3:::b/ab.html")
    assert not iam.glob_covers("arn:aws:s3:::b/a.html", "arn:aws:s3:::b/?.html")


def test_not_principal_is_public_whatever_it_names() -> None:
    """An Allow with NotPrincipal grants everyone but the named principals: public."""
    assert iam.is_public({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}})


@pytest.mark.parametrize(
    ("action", "wanted", "covered"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        (["s3:PutObject", "S3:GET*"], "s3:GetObject", True),  # actions are case-insensitive
        ("s3:Get*", "s3:GetObject", True),
        ("s3:PutObject", "s3:GetObject", False),
        ("s3:GetObject", "s3:Get*", False),  # one action does not grant every Get
        (None, "s3:GetObject", False),
    ],
)
def test_an_action_statement_covers_what_its_patterns_cover(action: object, wanted: str, covered: bool) -> None:
    assert iam.covers_action({"Effect": "Allow", "Action": action}, wanted) is covered


@pytest.mark.parametrize(
    ("not_action", "wanted", "covered"),
    [
        ("s3:Delete*", "s3:GetObject", True),
        ("s3:Delete*", "s3:DeleteObject", False),  # excluded by the pattern
        ("S3:Delete*", "s3:deleteobject", False),  # excluded whatever the case
        ("s3:delete*", "S3:*", False),  # s3:* includes actions the statement leaves out
        (["s3:GetObject", "s3:DeleteObject"], "s3:DeleteObject", False),
    ],
)
def test_a_not_action_statement_covers_all_but_what_it_excludes(not_action: object, wanted: str, covered: bool) -> None:
    assert iam.covers_action({"Effect": "Allow", "NotAction": not_action}, wanted) is covered


@pytest.mark.parametrize(
    ("resource", "wanted", "covered"),
    [
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/index.html", True),
        (["arn:aws:s3:::a/*", "arn:aws:s3:::b/*"], "arn:aws:s3:::b/*", True),
        ("arn:aws:s3:::B/*", "arn:aws:s3:::b/index.html", False),  # resources are case-sensitive
        ("arn:aws:s3:::b/index.html", "arn:aws:s3:::b/*", False),
        (None, "arn:aws:s3:::b/index.html", False),
    ],
)
def test_a_resource_statement_covers_what_its_patterns_cover(resource: object, wanted: str, covered: bool) -> None:
    assert iam.covers_resource({"Effect": "Allow", "Resource": resource}, wanted) is covered


def test_not_action_names_every_exclusion() -> None:
    statement = {"Effect": "Allow", "NotAction": ["s3:DeleteObject", "s3:PutBucketPolicy"]}
    assert iam.actions_beyond(statement, ["*"]) == ["every action except s3:DeleteObject, s3:PutBucketPolicy"]


@pytest.mark.parametrize(("statement", "expected"), [({"Effect": "Allow"}, "Allow"), ({"Effect": "deny"}, "Deny"), ({}, "")])
def test_effect_reads_allow_or_deny_in_any_case(statement: dict, expected: str) -> None:
    assert iam.effect(statement) == expected
