"""PostgreSQL: a student's login role and database on the shared server stay their own.

PostgreSQL grants CONNECT and TEMP on every new database to PUBLIC, so without an explicit revoke
every other student can connect to it; a superuser, CREATEDB or CREATEROLE role escapes entirely.
"""

from __future__ import annotations

from typing import Iterator

from pydantic import Field

from labctl.policies.model import UNEVALUABLE, Finding, PolicyResource, RuleConfig, Stack, resource_rule, stack_rule
from labctl.policies.rules.rds import number

PG_ROLE = "postgresql:index/role:Role"
PG_DATABASE = "postgresql:index/database:Database"
PG_GRANT = "postgresql:index/grant:Grant"
ESCALATING_ATTRIBUTES = ("superuser", "createDatabase", "createRole", "replication", "bypassRowLevelSecurity")


class ConnectionsConfig(RuleConfig):
    max_connections: int = Field(default=10, gt=0, alias="maxConnections")


def connection_problem(resource: PolicyResource, config: ConnectionsConfig) -> str | None:
    """PostgreSQL's -1 (the default) means unlimited: a limit must be set, positive and small."""
    limit = number(resource.props.get("connectionLimit"))
    if resource.props.get("connectionLimit") in UNEVALUABLE:
        return None
    if limit is None or limit <= 0 or limit > config.max_connections:
        shown = "unlimited" if limit is None or limit < 0 else f"{limit:g}"
        return (
            f"{resource.type} {resource.name!r} must have a connectionLimit between 1 and "
            f"{config.max_connections} (it has {shown})."
        )
    return None


@resource_rule(
    "postgres-role-limited",
    pack="isolation",
    description="Checks whether student PostgreSQL roles have no superuser, createdb, createrole, "
    "replication or RLS-bypass attribute and, when they can log in, a connection limit.",
    types={PG_ROLE},
    config=ConnectionsConfig,
)
def postgres_role_limited(resource: PolicyResource, config: ConnectionsConfig) -> Iterator[str]:
    granted = [a for a in ESCALATING_ATTRIBUTES if resource.props.get(a) is True]
    if granted:
        yield f"{resource.type} {resource.name!r} must not have {', '.join(granted)}."
    # A NOLOGIN role (a group the student grants to) can never connect: a limit means nothing there.
    if resource.props.get("login") is False:
        return
    problem = connection_problem(resource, config)
    if problem:
        yield problem


def revokes_public_connect(grant: PolicyResource, database: str) -> bool:
    """A Grant to role `public` on the database with no privileges is how the provider revokes them."""
    props = grant.props
    role = props.get("role")
    return (
        isinstance(role, str)
        and role.lower() == "public"
        and props.get("objectType") == "database"
        and props.get("database") == database
        and props.get("privileges") in ([], None)
    )


@stack_rule(
    "postgres-database-private",
    pack="isolation",
    description="Checks whether every student PostgreSQL database revokes CONNECT from PUBLIC and has "
    "a connection limit.",
    config=ConnectionsConfig,
)
def postgres_database_private(stack: Stack, config: ConnectionsConfig) -> Iterator[Finding]:
    grants = [r for r in stack.resources if r.type == PG_GRANT]
    for database in (r for r in stack.resources if r.type == PG_DATABASE):
        name = database.props.get("name", database.name)
        if isinstance(name, str) and name not in UNEVALUABLE and not any(revokes_public_connect(g, name) for g in grants):
            yield Finding(
                f"{database.type} {database.name!r} must revoke CONNECT from PUBLIC "
                f"(a {PG_GRANT} to role public on {name!r} with privileges []).",
                database,
            )
        problem = connection_problem(database, config)
        if problem:
            yield Finding(problem, database)


RULES = (postgres_role_limited, postgres_database_private)
