"""S3 hardening checks on fixture inventories (no emulator), each outcome stated from the lab's rule:
default encryption with one of the accepted algorithms; all four public access block settings on; an
*enabled* lifecycle rule that moves objects to one of the named classes within N days, or expires
current objects / noncurrent versions within the bounds given (a bound of N days admits N)."""

from __future__ import annotations

import pytest

from labctl.validators.checks import s3_hardening as hardening
from labctl.validators.inventory.s3 import Bucket, S3Inventory

NAME = "c-ada-records"
FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def bucket(**fields) -> S3Inventory:
    return S3Inventory({NAME: Bucket(name=NAME, **fields)})


def sse(algorithm: str) -> dict:
    return {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": algorithm}}


def encryption(inv: S3Inventory, **params):
    return hardening.default_encryption(inv, hardening.EncryptionParams(bucket=NAME, **params))


@pytest.mark.parametrize("algorithm", ["aws:kms", "aws:kms:dsse"])
def test_kms_default_encryption_passes_by_default(algorithm: str) -> None:
    assert encryption(bucket(encryption=(sse(algorithm),))).status == "passed"


def test_s3_managed_keys_fail_unless_accepted() -> None:
    result = encryption(bucket(encryption=(sse("AES256"),)))
    assert (result.status, result.message) == ("failed", "default encryption is AES256, expected aws:kms or aws:kms:dsse")
    assert encryption(bucket(encryption=(sse("AES256"),)), algorithms=["AES256"]).status == "passed"


def test_one_accepted_rule_among_several_passes() -> None:
    assert encryption(bucket(encryption=(sse("AES256"), sse("aws:kms")))).status == "passed"


@pytest.mark.parametrize("rules", [None, ()])
def test_no_default_encryption_says_so(rules) -> None:
    result = encryption(bucket(encryption=rules), algorithms=["aws:kms"])
    assert (result.status, result.message) == ("failed", f"bucket {NAME} has no default encryption, expected aws:kms")


def test_a_rule_without_a_default_algorithm_is_not_kms() -> None:
    assert encryption(bucket(encryption=({"BucketKeyEnabled": True},))).status == "failed"


def test_hardening_checks_skip_a_missing_bucket_and_report_an_unread_one() -> None:
    transition = hardening.TransitionParams(bucket=NAME, storage_classes=["GLACIER"], max_days=30)
    expiration = hardening.ExpirationParams(bucket=NAME, current_max_days=30)
    for fn, params in (
        (hardening.default_encryption, hardening.EncryptionParams(bucket=NAME)),
        (hardening.public_access_blocked, hardening.BucketParams(bucket=NAME)),
        (hardening.lifecycle_transition, transition),
        (hardening.lifecycle_expiration, expiration),
    ):
        assert fn(S3Inventory(), params).status == "skipped"
        assert fn(bucket(error="AccessDenied"), params).status == "error"


def blocked(block) -> object:
    return hardening.public_access_blocked(bucket(public_access_block=block), hardening.BucketParams(bucket=NAME))


def test_all_four_block_settings_on_passes() -> None:
    assert blocked(dict.fromkeys(FLAGS, True)).status == "passed"


@pytest.mark.parametrize("flag", FLAGS)
def test_any_one_block_setting_off_fails_and_is_named(flag: str) -> None:
    result = blocked({**dict.fromkeys(FLAGS, True), flag: False})
    assert (result.status, result.message) == ("failed", f"public access block settings off: {flag}")


def test_no_public_access_block_fails_with_a_hint() -> None:
    result = blocked(None)
    assert result.status == "failed" and "no public access block" in result.message and result.hint


def rule(status: str = "Enabled", **fields) -> dict:
    return {"ID": "r", "Status": status, **fields}


def transition(inv: S3Inventory, classes=("GLACIER", "DEEP_ARCHIVE"), max_days: int = 90):
    params = hardening.TransitionParams(bucket=NAME, storage_classes=list(classes), max_days=max_days)
    return hardening.lifecycle_transition(inv, params)


@pytest.mark.parametrize(("days", "status"), [(0, "passed"), (90, "passed"), (91, "failed")])
def test_a_transition_within_the_days_passes(days: int, status: str) -> None:
    inv = bucket(lifecycle=(rule(Transitions=[{"Days": days, "StorageClass": "DEEP_ARCHIVE"}]),))
    assert transition(inv).status == status


def test_a_transition_to_another_class_fails_and_lists_what_was_found() -> None:
    inv = bucket(
        lifecycle=(
            rule(Transitions=[{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Date": "2027-01-01", "StorageClass": "GLACIER"}]),
        )
    )
    result = transition(inv)
    assert result.status == "failed"
    assert result.message == (
        "no enabled rule transitions to GLACIER or DEEP_ARCHIVE within 90 days"
        " (found: STANDARD_IA after 30 days, GLACIER after 2027-01-01 days)"
    )


def test_a_transition_later_in_the_rules_still_passes() -> None:
    inv = bucket(
        lifecycle=(
            rule(Transitions=[{"Days": 365, "StorageClass": "GLACIER"}]),
            rule(Transitions=[{"Days": 200, "StorageClass": "GLACIER"}, {"Days": 60, "StorageClass": "GLACIER"}]),
        )
    )
    assert transition(inv).status == "passed"


def test_an_enabled_rule_without_transitions_finds_none() -> None:
    result = transition(bucket(lifecycle=(rule(Expiration={"Days": 30}),)))
    assert result.message.endswith("(found: none)")


def test_only_disabled_rules_say_none_is_enabled() -> None:
    inv = bucket(lifecycle=(rule("Disabled", Transitions=[{"Days": 1, "StorageClass": "GLACIER"}]),))
    assert (transition(inv).status, transition(inv).message) == ("failed", "no lifecycle rule is Enabled")
    expire = hardening.lifecycle_expiration(
        bucket(lifecycle=(rule("Disabled", Expiration={"Days": 1}),)),
        hardening.ExpirationParams(bucket=NAME, current_max_days=30),
    )
    assert expire.status == "failed"


@pytest.mark.parametrize("rules", [None, ()])
def test_no_lifecycle_rules_fail_with_a_hint(rules) -> None:
    result = transition(bucket(lifecycle=rules))
    assert (result.status, result.message) == ("failed", f"bucket {NAME} has no lifecycle rules") and result.hint
    expire = hardening.lifecycle_expiration(bucket(lifecycle=rules), hardening.ExpirationParams(bucket=NAME, current_max_days=1))
    assert (expire.status, expire.message) == ("failed", f"bucket {NAME} has no lifecycle rules") and expire.hint


def expiration(rules, **bounds):
    return hardening.lifecycle_expiration(bucket(lifecycle=rules), hardening.ExpirationParams(bucket=NAME, **bounds))


@pytest.mark.parametrize(("days", "status"), [(1, "passed"), (30, "passed"), (31, "failed")])
def test_current_objects_expire_within_the_bound(days: int, status: str) -> None:
    assert expiration((rule(Expiration={"Days": days}),), current_max_days=30).status == status


@pytest.mark.parametrize(("days", "status"), [(1, "passed"), (90, "passed"), (91, "failed")])
def test_noncurrent_versions_expire_within_the_bound(days: int, status: str) -> None:
    rules = (rule(NoncurrentVersionExpiration={"NoncurrentDays": days}),)
    assert expiration(rules, noncurrent_max_days=90).status == status


def test_an_expiration_counts_only_against_its_own_bound() -> None:
    noncurrent = (rule(NoncurrentVersionExpiration={"NoncurrentDays": 1}),)
    assert expiration(noncurrent, current_max_days=30).status == "failed"
    current = (rule(Expiration={"Days": 1}),)
    assert expiration(current, noncurrent_max_days=30).status == "failed"
    # A date or a delete-marker cleanup is no number of days.
    assert expiration((rule(Expiration={"Date": "2027-01-01"}),), current_max_days=30).status == "failed"
    assert expiration((rule(Expiration={"ExpiredObjectDeleteMarker": True}),), current_max_days=30).status == "failed"


def test_either_bound_met_passes_in_a_later_rule() -> None:
    rules = (rule(Expiration={"Days": 400}), rule(NoncurrentVersionExpiration={"NoncurrentDays": 10}))
    assert expiration(rules, current_max_days=30, noncurrent_max_days=30).status == "passed"


def test_the_failure_names_the_bounds_asked() -> None:
    rules = (rule(Expiration={"Days": 400}),)
    both = expiration(rules, current_max_days=30, noncurrent_max_days=60)
    assert both.message == "no enabled lifecycle rule expires objects within 30 days or noncurrent versions within 60 days"
    assert expiration(rules, noncurrent_max_days=60).message == (
        "no enabled lifecycle rule expires noncurrent versions within 60 days"
    )
    assert expiration(rules).message == "no enabled lifecycle rule expires anything"


def test_a_status_read_off_the_wire_counts_as_enabled() -> None:
    # Parsed responses hold new string objects, never the literal the code compares with.
    enabled = "".join(["Enab", "led"])
    inv = bucket(lifecycle=({"ID": "r", "Status": enabled, "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}]},))
    assert transition(inv).status == "passed"


def test_the_day_bounds_a_lab_may_ask() -> None:
    # A transition on day 0 is allowed by S3; an expiration needs at least one day.
    assert hardening.TransitionParams(bucket=NAME, storage_classes=["GLACIER"], max_days=0).max_days == 0
    assert hardening.ExpirationParams(bucket=NAME, current_max_days=1, noncurrent_max_days=1).noncurrent_max_days == 1
    for bad in (
        dict(storage_classes=["GLACIER"], max_days=-1),
        dict(current_max_days=0),
        dict(noncurrent_max_days=0),
    ):
        model = hardening.TransitionParams if "max_days" in bad else hardening.ExpirationParams
        with pytest.raises(ValueError):
            model(bucket=NAME, **bad)
