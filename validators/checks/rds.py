"""RDS checks: pure functions of one student's RdsInventory (validators.inventory.rds)."""

from __future__ import annotations

from labctl.validators.inventory.rds import DbInstance, RdsInventory
from labctl.validators.registry import Params, Result, check

READS = "rds"


class InstanceParams(Params):
    instance: str


class ClassParams(InstanceParams):
    allowed: list[str]


class BackupParams(InstanceParams):
    min_days: int = 1


def instance_or_result(inv: RdsInventory, name: str) -> DbInstance | Result:
    instance = inv.instance(name)
    if instance is None:
        return Result.skipped(f"DB instance {name} does not exist")
    return instance


@check("rds.instance-exists", title="DB instance {instance} exists", reads=READS, params=InstanceParams)
def instance_exists(inv: RdsInventory, p: InstanceParams) -> Result:
    instance = inv.instance(p.instance)
    if instance is None:
        return Result.failed(f"DB instance {p.instance} does not exist", hint="create-db-instance")
    if instance.status in ("deleting", "failed", "incompatible-parameters", "storage-full"):
        return Result.failed(f"DB instance {p.instance} is {instance.status}")
    return Result.passed()


@check(
    "rds.not-public",
    title="DB instance {instance} is not publicly accessible",
    reads=READS,
    params=InstanceParams,
)
def not_public(inv: RdsInventory, p: InstanceParams) -> Result:
    instance = instance_or_result(inv, p.instance)
    if isinstance(instance, Result):
        return instance
    if instance.publicly_accessible:
        return Result.failed(
            f"{p.instance} is publicly accessible: its endpoint resolves to a public address",
            hint="modify-db-instance --no-publicly-accessible",
        )
    return Result.passed()


@check(
    "rds.encrypted", title="DB instance {instance} encrypts its storage", reads=READS, params=InstanceParams
)
def encrypted(inv: RdsInventory, p: InstanceParams) -> Result:
    instance = instance_or_result(inv, p.instance)
    if isinstance(instance, Result):
        return instance
    if not instance.storage_encrypted:
        return Result.failed(
            f"{p.instance} does not encrypt its storage (set at creation: --storage-encrypted)"
        )
    return Result.passed()


@check(
    "rds.instance-class",
    title="DB instance {instance} uses an allowed class ({allowed})",
    reads=READS,
    params=ClassParams,
)
def instance_class(inv: RdsInventory, p: ClassParams) -> Result:
    instance = instance_or_result(inv, p.instance)
    if isinstance(instance, Result):
        return instance
    if instance.instance_class not in p.allowed:
        return Result.failed(f"{p.instance} is a {instance.instance_class}; allowed: {', '.join(p.allowed)}")
    return Result.passed()


@check(
    "rds.backups",
    title="DB instance {instance} keeps automated backups for at least {min_days} day(s)",
    reads=READS,
    params=BackupParams,
)
def backups(inv: RdsInventory, p: BackupParams) -> Result:
    instance = instance_or_result(inv, p.instance)
    if isinstance(instance, Result):
        return instance
    if instance.backup_retention_days < p.min_days:
        return Result.failed(
            f"{p.instance} keeps backups for {instance.backup_retention_days} day(s), expected at least {p.min_days}"
        )
    return Result.passed()


@check(
    "rds.single-az", title="DB instance {instance} runs in a single AZ", reads=READS, params=InstanceParams
)
def single_az(inv: RdsInventory, p: InstanceParams) -> Result:
    instance = instance_or_result(inv, p.instance)
    if isinstance(instance, Result):
        return instance
    if instance.multi_az:
        return Result.failed(f"{p.instance} is Multi-AZ, which doubles its cost; a lab needs one AZ")
    return Result.passed()
