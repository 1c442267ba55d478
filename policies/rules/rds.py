"""RDS: student databases are private and encrypted (isolation), small and single-AZ (cost)."""

from __future__ import annotations

from typing import Any, Iterator

from pydantic import Field

from labctl.policies.model import PolicyResource, RuleConfig, resource_rule

RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"


@resource_rule(
    "rds-private-encrypted",
    pack="isolation",
    description="Checks whether student RDS instances and clusters are not publicly accessible and "
    "encrypt their storage.",
    types={RDS_INSTANCE, RDS_CLUSTER},
)
def rds_private_encrypted(resource: PolicyResource, _config: Any) -> Iterator[str]:
    if resource.props.get("publiclyAccessible") is True:
        yield f"{resource.type} {resource.name!r} must not be publicly accessible."
    if resource.props.get("storageEncrypted") is not True:
        yield f"{resource.type} {resource.name!r} must set storageEncrypted to true."


class RdsCostConfig(RuleConfig):
    allowed_instance_classes: list[str] = Field(
        default=["db.t3.micro", "db.t4g.micro", "db.t3.small", "db.t4g.small"],
        alias="allowedInstanceClasses",
    )
    max_storage_gb: int = Field(default=20, gt=0, alias="maxStorageGb")
    allow_multi_az: bool = Field(default=False, alias="allowMultiAz")


def number(value: Any) -> float | None:
    """Storage sizes arrive as numbers, or as numeric strings from some front ends."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


@resource_rule(
    "cost-rds-limits",
    pack="cost",
    description="Checks whether RDS instances use an allowed instance class, at most maxStorageGb of "
    "storage and no multi-AZ deployment.",
    types={RDS_INSTANCE},
    config=RdsCostConfig,
)
def cost_rds_limits(resource: PolicyResource, config: RdsCostConfig) -> Iterator[str]:
    props = resource.props
    klass = props.get("instanceClass")
    if isinstance(klass, str) and klass not in config.allowed_instance_classes:
        yield (
            f"{resource.type} {resource.name!r} must use one of "
            f"{', '.join(config.allowed_instance_classes)} (it uses {klass!r})."
        )
    for prop in ("allocatedStorage", "maxAllocatedStorage"):
        size = number(props.get(prop))
        if size is not None and size > config.max_storage_gb:
            yield (
                f"{resource.type} {resource.name!r} must have {prop} of at most "
                f"{config.max_storage_gb} GB (it has {size:g})."
            )
    if props.get("multiAz") is True and not config.allow_multi_az:
        yield f"{resource.type} {resource.name!r} must not be multi-AZ."


RULES = (rds_private_encrypted, cost_rds_limits)
