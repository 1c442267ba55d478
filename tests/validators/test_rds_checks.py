"""RDS checks on fixture inventories (no emulator), each outcome stated from the lab's rule rather than
from the code: an instance that is gone or broken does not exist for grading; public, unencrypted,
Multi-AZ, an unlisted class or fewer backup days than asked fail; a missing instance skips the
checks that need one (its existence is graded once, by rds.instance-exists)."""

from __future__ import annotations

import pytest

from labctl.validators.checks import rds
from labctl.validators.inventory.rds import DbInstance, RdsInventory

NAME = "c-ada-db"
DB = rds.InstanceParams(instance=NAME)


def one(**fields) -> RdsInventory:
    return RdsInventory({NAME: DbInstance(NAME, **fields)})


@pytest.mark.parametrize("status", ["available", "creating", "backing-up", "modifying", "stopped", None])
def test_an_instance_in_a_usable_or_passing_state_exists(status: str | None) -> None:
    assert rds.instance_exists(one(status=status), DB).status == "passed"


@pytest.mark.parametrize("status", ["deleting", "failed", "incompatible-parameters", "storage-full"])
def test_an_instance_that_is_going_or_broken_does_not_count(status: str) -> None:
    result = rds.instance_exists(one(status=status), DB)
    assert (result.status, result.message) == ("failed", f"DB instance {NAME} is {status}")


def test_a_missing_instance_fails_existence_with_a_hint_and_skips_the_rest() -> None:
    missing = rds.instance_exists(RdsInventory(), DB)
    assert missing.status == "failed" and NAME in missing.message and missing.hint
    for fn, params in (
        (rds.not_public, DB),
        (rds.encrypted, DB),
        (rds.instance_class, rds.ClassParams(instance=NAME, allowed=["db.t4g.micro"])),
        (rds.backups, rds.BackupParams(instance=NAME)),
        (rds.single_az, DB),
    ):
        skipped = fn(RdsInventory(), params)
        assert (skipped.status, skipped.message) == ("skipped", f"DB instance {NAME} does not exist")


def test_public_fails_private_and_unreported_pass() -> None:
    public = rds.not_public(one(publicly_accessible=True), DB)
    assert public.status == "failed" and "publicly accessible" in public.message and public.hint
    assert rds.not_public(one(publicly_accessible=False), DB).status == "passed"
    assert rds.not_public(one(publicly_accessible=None), DB).status == "passed"


def test_storage_must_be_encrypted() -> None:
    plain = rds.encrypted(one(storage_encrypted=False), DB)
    assert plain.status == "failed" and "does not encrypt" in plain.message
    assert rds.encrypted(one(storage_encrypted=True), DB).status == "passed"


def test_the_class_must_be_one_of_the_allowed() -> None:
    allowed = rds.ClassParams(instance=NAME, allowed=["db.t3.micro", "db.t4g.micro"])
    assert rds.instance_class(one(instance_class="db.t4g.micro"), allowed).status == "passed"
    assert rds.instance_class(one(instance_class="db.t3.micro"), allowed).status == "passed"
    big = rds.instance_class(one(instance_class="db.m5.large"), allowed)
    assert (big.status, big.message) == ("failed", f"{NAME} is a db.m5.large; allowed: db.t3.micro, db.t4g.micro")
    # A prefix of an allowed class is not that class.
    assert rds.instance_class(one(instance_class="db.t4g"), allowed).status == "failed"


@pytest.mark.parametrize(("days", "status"), [(0, "failed"), (6, "failed"), (7, "passed"), (35, "passed")])
def test_backups_kept_at_least_the_days_asked(days: int, status: str) -> None:
    result = rds.backups(one(backup_retention_days=days), rds.BackupParams(instance=NAME, min_days=7))
    assert result.status == status
    if status == "failed":
        assert result.message == f"{NAME} keeps backups for {days} day(s), expected at least 7"


def test_backups_default_to_at_least_one_day() -> None:
    params = rds.BackupParams(instance=NAME)
    assert rds.backups(one(backup_retention_days=0), params).status == "failed"
    assert rds.backups(one(backup_retention_days=1), params).status == "passed"


def test_multi_az_fails_and_single_az_passes() -> None:
    multi = rds.single_az(one(multi_az=True), DB)
    assert multi.status == "failed" and "Multi-AZ" in multi.message
    assert rds.single_az(one(multi_az=False), DB).status == "passed"
