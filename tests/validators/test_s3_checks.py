"""S3 checks as pure functions of hand-built inventories: one inventory per outcome."""

from __future__ import annotations

import json

from labctl.validators.checks import s3
from labctl.validators.inventory.s3 import Bucket, S3Inventory, S3Object, Website

NAME = "c-ada-site"


def inv(**fields) -> S3Inventory:
    return S3Inventory({NAME: Bucket(name=NAME, **fields)})


def public(*actions: str) -> dict:
    return {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": list(actions), "Resource": "*"}]}


READ = s3.PublicReadParams(bucket=NAME, action="s3:GetObject", resource=f"arn:aws:s3:::{NAME}/*")
ONLY = s3.PublicReadOnlyParams(bucket=NAME, allow=["s3:GetObject"])
CONTENT = s3.ObjectContentParams(bucket=NAME, key="index.html", content_type="text/html", contains="Hello from ada")


def test_invalid_policy_json_fails_public_read_and_cannot_be_judged_by_the_guard() -> None:
    broken = inv(policy_error="invalid JSON (Expecting value: line 1 column 1 (char 0))")
    assert s3.public_read(broken, READ).status == "failed"
    assert s3.public_read_only(broken, ONLY).status == "error"


def test_an_unreadable_bucket_is_an_error_but_it_exists() -> None:
    denied = inv(error="GetBucketPolicy failed: AccessDenied")
    assert s3.bucket_exists(denied, s3.BucketParams(bucket=NAME)).status == "passed"
    result = s3.versioning(denied, s3.BucketParams(bucket=NAME))
    assert (result.status, result.message) == ("error", f"could not read bucket {NAME}: GetBucketPolicy failed: AccessDenied")


def test_object_not_collected_is_an_error_and_missing_is_a_failure() -> None:
    assert s3.object_content(inv(), CONTENT).status == "error"
    assert s3.object_content(inv(objects={"index.html": None}), CONTENT).status == "failed"
    good = S3Object("index.html", "text/html", 20, b"<p>Hello from ada</p>")
    assert s3.object_content(inv(objects={"index.html": good}), CONTENT).status == "passed"
    upper = S3Object("index.html", "TEXT/HTML", 20, b"<p>Hello from ada</p>")
    assert s3.object_content(inv(objects={"index.html": upper}), CONTENT).status == "passed"


def test_guard_outcomes() -> None:
    assert s3.public_read_only(inv(), ONLY).status == "passed"
    assert s3.public_read_only(inv(policy=public("s3:GetObject")), ONLY).status == "passed"
    for grant in ("s3:*", "s3:PutObject", "s3:DeleteObject", "s3:PutBucketPolicy", "*"):
        result = s3.public_read_only(inv(policy=public("s3:GetObject", grant)), ONLY)
        assert result.status == "failed" and grant in result.message, grant
    private = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"}]}
    assert s3.public_read_only(inv(policy=private), ONLY).status == "passed"
    denied = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*"}]}
    assert s3.public_read_only(inv(policy=denied), ONLY).status == "passed"


def test_public_read_respects_conditions_and_denies() -> None:
    conditional = public("s3:GetObject")
    conditional["Statement"][0]["Condition"] = {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}
    assert s3.public_read(inv(policy=conditional), READ).status == "failed"
    with_deny = public("s3:GetObject")
    with_deny["Statement"].append({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    assert s3.public_read(inv(policy=with_deny), READ).status == "failed"
    assert s3.public_read(inv(policy=public("S3:GETOBJECT")), READ).status == "passed"


def test_website_messages() -> None:
    params = s3.WebsiteParams(bucket=NAME, index="index.html", error="error.html")
    result = s3.website_config(inv(website=Website("home.html", None)), params)
    assert result.message == "index document is home.html, expected index.html; error document is not set, expected error.html"


def test_missing_bucket_skips_every_check_but_bucket_exists() -> None:
    empty = S3Inventory()
    assert s3.bucket_exists(empty, s3.BucketParams(bucket=NAME)).status == "failed"
    for fn, params in (
        (s3.website_config, s3.WebsiteParams(bucket=NAME, index="i", error="e")),
        (s3.object_content, CONTENT),
        (s3.public_read, READ),
        (s3.versioning, s3.BucketParams(bucket=NAME)),
        (s3.tag, s3.TagParams(bucket=NAME, key="lab", value="x")),
        (s3.public_read_only, ONLY),
    ):
        assert fn(empty, params) == s3.Result.skipped(f"bucket {NAME} does not exist")


# --- edges the mutation run found untested (docs/testing.md) -------------------------------------

def test_the_guard_names_each_public_statement_by_sid_or_position_after_a_private_one() -> None:
    """A private statement first must not end the scan; unnamed statements are numbered from 1."""
    policy = {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"},
        {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject"},
        {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:DeleteObject"},
    ]}
    result = s3.public_read_only(inv(policy=policy), ONLY)
    assert (result.status, result.message) == ("failed", (
        "statement #2 grants s3:PutObject to principal *; statement Open grants s3:DeleteObject to principal *"
        " (the public may only have s3:GetObject)"))
    nothing = s3.public_read_only(inv(policy=public("s3:GetObject")), s3.PublicReadOnlyParams(bucket=NAME, allow=[]))
    assert nothing.message == "statement #1 grants s3:GetObject to principal * (the public may only have nothing)"


def test_either_public_access_block_setting_stops_public_read() -> None:
    for setting in ("RestrictPublicBuckets", "BlockPublicPolicy"):
        blocked = inv(policy=public("s3:GetObject"), public_access_block={setting: True})
        assert s3.public_read(blocked, READ).status == "failed", setting


def test_versioning_off_or_suspended_fails_and_a_tag_must_equal_exactly() -> None:
    for state, shown in ((None, "off"), ("Suspended", "Suspended")):
        result = s3.versioning(inv(versioning=state), s3.BucketParams(bucket=NAME))
        assert (result.status, result.message) == ("failed", f"versioning is {shown}")
    params = s3.TagParams(bucket=NAME, key="lab", value="s3-static-website")
    for value in ("s3-static-websitf", "s3-static-websitd", "s3-static-website "):
        assert s3.tag(inv(tags={"lab": value}), params).status == "failed", value
    assert s3.tag(inv(tags={"lab": "s3-static-website"}), params).status == "passed"


def test_object_content_says_why_it_could_not_judge_or_what_differs() -> None:
    """The collector reads at most 1 MiB of an object (validators/inventory/s3.py)."""
    large = S3Object("index.html", "text/html", 5 * 1024 * 1024, None, too_large=True)
    result = s3.object_content(inv(objects={"index.html": large}), CONTENT)
    assert (result.status, result.message) == ("failed", "index.html is larger than 1 MiB, so its content was not read")
    plain = S3Object("index.html", None, 20, b"<p>Hello from ada</p>")
    assert s3.object_content(inv(objects={"index.html": plain}), CONTENT).message == (
        "index.html has Content-Type (none), expected text/html")
    anything = s3.ObjectContentParams(bucket=NAME, key="index.html")
    assert s3.object_content(inv(objects={"index.html": large}), anything).status == "passed"


def test_values_decoded_from_an_aws_response_compare_by_value() -> None:
    """What the collector reads is decoded from S3's responses: strings equal to the literals the
    checks compare with, but never the same objects. Caught: `==`/`!=` written as `is`/`is not` on
    the versioning status, a statement's effect, the website documents and a tag's value (in the unit
    tests above every value is an interned literal, so identity and equality agree)."""
    wire = json.loads(
        '{"versioning": "Enabled", "index": "index.html", "error": "error.html", "tag": "s3-static-website",'
        ' "allow": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]},'
        ' "deny": {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]},'
        ' "write": {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject", "Resource": "*"}]}}'
    )
    assert s3.versioning(inv(versioning=wire["versioning"]), s3.BucketParams(bucket=NAME)).status == "passed"
    assert s3.public_read(inv(policy=wire["allow"]), READ).status == "passed"
    both = {"Statement": wire["allow"]["Statement"] + wire["deny"]["Statement"]}
    assert s3.public_read(inv(policy=both), READ).status == "failed"
    assert s3.public_read_only(inv(policy=wire["write"]), ONLY).status == "failed"
    site = s3.WebsiteParams(bucket=NAME, index="index.html", error="error.html")
    assert s3.website_config(inv(website=Website(wire["index"], wire["error"])), site).status == "passed"
    tag = s3.TagParams(bucket=NAME, key="lab", value="s3-static-website")
    assert s3.tag(inv(tags={"lab": wire["tag"]}), tag).status == "passed"
