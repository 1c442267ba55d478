"""The lab spec model: what `labs/<id>/lab.yaml` may say, validated by pydantic."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

SLUG = r"^[a-z][a-z0-9-]{1,62}$"
PLACEHOLDERS = frozenset({"prefix", "student", "cohort", "lab"})
ROLE_NAME = r"^[a-z][a-z0-9_]{0,16}$"
# An AWS managed policy or one of the account's own, by ARN, with no wildcard.
ROLE_POLICY_ARN = r"^arn:aws:iam::(aws|\d{12}):policy/[\w+=,.@/-]+$"


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
    role_policies: list[Annotated[str, StringConstraints(pattern=ROLE_POLICY_ARN)]] = Field(
        default_factory=list,
        description="managed policy ARNs the student's Lambda/ECS roles may have attached; none by default",
    )
    setup: str | None = Field(
        default=None,
        description="Python file in the lab folder whose `setup(session, endpoint_url, prefix, student)` "
        "builds the lab's starting state with the instructor's credentials at provisioning",
    )


StudentManaged = Literal["networkpolicies", "rbac"]


class KubernetesEnvironment(Strict):
    """The student's namespace quota and fence; the defaults are safe for a beginner's lab.

    `student_manages` opts a lab into extra write rights in the student's own namespace: its own
    NetworkPolicies, or its own Roles, RoleBindings and ServiceAccounts (never `bind`/`escalate`,
    never cluster-wide). `allow_same_namespace: false` drops the platform's rule that lets every pod
    of the namespace reach every other, for labs that grade which pods may reach which.
    """

    cpu: str = "2"
    memory: str = "4Gi"
    pods: int = Field(default=20, gt=0, le=500)
    services: int = Field(default=10, ge=0, le=100)
    pvcs: int = Field(default=5, ge=0, le=100)
    storage: str = "10Gi"
    student_manages: list[StudentManaged] = Field(default_factory=list)
    allow_same_namespace: bool = True

    @field_validator("student_manages")
    @classmethod
    def each_once(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("list each kind once")
        return sorted(value)


class DatabaseEnvironment(Strict):
    """`shared`: a database and login role on the cohort's PostgreSQL server; `rds`: an RDS instance."""

    engine: Literal["postgres"] = "postgres"
    mode: Literal["shared", "rds"] = "shared"
    instance_class: str = "db.t4g.micro"
    storage_gb: int = Field(default=20, ge=20, le=100)
    connection_limit: int = Field(default=10, ge=1, le=100)
    seed: str | None = Field(default=None, description="SQL file in the lab folder run at provisioning")
    roles: list[str] = Field(
        default_factory=list,
        description="Extra NOLOGIN roles `<database>_<name>` the student may GRANT to (shared mode only)",
    )

    @field_validator("roles")
    @classmethod
    def role_names(cls, value: list[str]) -> list[str]:
        # `<database>_<name>` must fit PostgreSQL's 63-byte names: a database name is at most 45.
        for name in value:
            if not re.fullmatch(ROLE_NAME, name):
                raise ValueError(f"role {name!r} must match {ROLE_NAME}")
        if len(set(value)) != len(value):
            raise ValueError("list each role once")
        return value

    @model_validator(mode="after")
    def roles_need_shared(self) -> "DatabaseEnvironment":
        if self.roles and self.mode != "shared":
            raise ValueError("extra roles need mode shared (an RDS instance is not reachable to create them)")
        return self


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
