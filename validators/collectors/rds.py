"""Collect a cohort's RDS instances once: one paginated DescribeDBInstances for the region.

RDS stores identifiers in lowercase, as prefixes are, so ownership is the name. A failed
listing or an unreachable endpoint propagates to the runner.
"""

from __future__ import annotations

from botocore.config import Config

from labctl.validators.collectors.base import CollectRequest, owner
from labctl.validators.inventory.rds import DbInstance, RdsInventory, RdsSnapshot

REQUEST_TIMEOUT_S = 5


def rds_client(request: CollectRequest):
    config = Config(
        connect_timeout=REQUEST_TIMEOUT_S,
        read_timeout=REQUEST_TIMEOUT_S,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return request.session.client("rds", endpoint_url=request.endpoint_url, config=config)


def instance_of(raw: dict) -> DbInstance:
    public = raw.get("PubliclyAccessible")
    return DbInstance(
        identifier=raw["DBInstanceIdentifier"].lower(),
        status=raw.get("DBInstanceStatus"),
        engine=raw.get("Engine"),
        instance_class=raw.get("DBInstanceClass"),
        publicly_accessible=bool(public) if public is not None else None,
        storage_encrypted=bool(raw.get("StorageEncrypted")),
        backup_retention_days=int(raw.get("BackupRetentionPeriod") or 0),
        multi_az=bool(raw.get("MultiAZ")),
    )


def collect_rds(request: CollectRequest) -> RdsSnapshot:
    """Describe every instance once and keep those the graded students' prefixes own."""
    client = rds_client(request)
    by_prefix: dict[str, dict[str, DbInstance]] = {p: {} for p in request.prefixes}
    for page in client.get_paginator("describe_db_instances").paginate():
        for raw in page.get("DBInstances", []):
            instance = instance_of(raw)
            prefix = owner(instance.identifier, request.prefixes)
            if prefix is not None:
                by_prefix[prefix][instance.identifier] = instance
    return RdsSnapshot({p: RdsInventory(instances) for p, instances in by_prefix.items()})
