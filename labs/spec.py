"""The lab spec model: what `labs/<id>/lab.yaml` may say, validated by pydantic."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

SLUG = r"^[a-z][a-z0-9-]{1,62}$"
PLACEHOLDERS = frozenset({"prefix", "student", "cohort", "lab"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def placeholders_in(value: Any) -> set[str]:
    """Every `{name}` used in a (nested) params value."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(set(), *(placeholders_in(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(set(), *(placeholders_in(v) for v in value))
    return set()


def render(value: Any, context: dict[str, str]) -> Any:
    """Substitute `{prefix}`, `{student}`, `{cohort}`, `{lab}` in a (nested) value; other braces stay."""
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: context.get(m.group(1), m.group(0)), value)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


class ParamsHolder(Strict):
    with_: dict[str, Any] = Field(default_factory=dict, alias="with")

    @field_validator("with_")
    @classmethod
    def known_placeholders(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = placeholders_in(value) - PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}} "
                f"(allowed: {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))})"
            )
        return value


class CheckSpec(ParamsHolder):
    id: str = Field(pattern=SLUG)
    use: str
    points: int = Field(ge=0, le=1000)
    title: str | None = None
    hint: str | None = None


class GuardSpec(ParamsHolder):
    id: str = Field(pattern=SLUG)
    use: str
    penalty: int = Field(ge=0, le=1000)
    hint: str | None = None


class AwsEnvironment(Strict):
    services: list[str] = Field(min_length=1)
    regions: list[str] = Field(default_factory=lambda: ["us-east-1"], min_length=1)
    budget_usd: float = Field(default=10.0, gt=0, le=10_000)
    instance_types: list[str] = Field(default_factory=list, description="EC2 allow-list, when ec2 is used")


class KubernetesEnvironment(Strict):
    """The student's namespace quota; the defaults are safe for a beginner's lab."""

    cpu: str = "2"
    memory: str = "4Gi"
    pods: int = Field(default=20, gt=0, le=500)
    services: int = Field(default=10, ge=0, le=100)
    pvcs: int = Field(default=5, ge=0, le=100)
    storage: str = "10Gi"


class DatabaseEnvironment(Strict):
    """`shared`: a database and login role on the cohort's PostgreSQL server; `rds`: an RDS instance."""

    engine: Literal["postgres"] = "postgres"
    mode: Literal["shared", "rds"] = "shared"
    instance_class: str = "db.t4g.micro"
    storage_gb: int = Field(default=20, ge=20, le=100)
    connection_limit: int = Field(default=10, ge=1, le=100)
    seed: str | None = Field(default=None, description="SQL file in the lab folder run at provisioning")


class WorkspaceEnvironment(Strict):
    image: str = "codercom/code-server:4.96.4"
    cpu: float = Field(default=1.0, gt=0, le=8)
    memory_mb: int = Field(default=2048, ge=256, le=16384)
    port: int = Field(default=8080, ge=1, le=65535)


class Environment(Strict):
    aws: AwsEnvironment | None = None
    kubernetes: KubernetesEnvironment | None = None
    database: DatabaseEnvironment | None = None
    workspace: WorkspaceEnvironment | None = None


class LabSpec(Strict):
    id: str = Field(pattern=SLUG)
    title: str = Field(min_length=1)
    track: Literal["cloud", "kubernetes", "data", "web"]
    level: Literal["beginner", "intermediate", "advanced"]
    minutes: int = Field(gt=0, le=24 * 60)
    topics: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=1)
    environment: Environment = Field(default_factory=Environment)
    checks: list[CheckSpec] = Field(min_length=1)
    guards: list[GuardSpec] = Field(default_factory=list)
    pass_percent: int = Field(default=75, ge=0, le=100)
    next: list[str] = Field(default_factory=list)

    @property
    def max_points(self) -> int:
        return sum(c.points for c in self.checks)
