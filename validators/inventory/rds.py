"""The RDS inventory: every student-owned DB instance of a cohort as plain frozen data.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class DbInstance:
    identifier: str
    status: str | None = None
    engine: str | None = None
    instance_class: str | None = None
    publicly_accessible: bool | None = None
    """None when the API did not say (some emulators): treated as not public."""
    storage_encrypted: bool = False
    backup_retention_days: int = 0
    multi_az: bool = False


@dataclass(frozen=True)
class RdsInventory:
    """One student's DB instances."""

    instances: Mapping[str, DbInstance] = field(default_factory=dict)

    def instance(self, identifier: str) -> DbInstance | None:
        return self.instances.get(identifier.lower())


@dataclass(frozen=True)
class RdsSnapshot:
    """A cohort's DB instances partitioned by owner prefix, from one listing."""

    by_prefix: Mapping[str, RdsInventory]

    def for_prefix(self, prefix: str) -> RdsInventory:
        return self.by_prefix.get(prefix, RdsInventory())
