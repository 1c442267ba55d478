"""One student's PostgreSQL database: on the cohort's shared server, or an RDS instance of their own.

Shared mode needs a `pulumi_postgresql` provider (the admin connection), RDS mode a `pulumi_aws`
provider; either is passed in `opts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import quote

import pulumi
import pulumi_aws as aws
import pulumi_postgresql as postgresql
import pulumi_random as random

from labctl.labs.spec import DatabaseEnvironment

# Burstable classes only: a lab database never needs more, and the class is most of the bill.
RDS_CLASSES = ("db.t4g.micro", "db.t4g.small", "db.t3.micro", "db.t3.small")
PASSWORD_LENGTH = 32
# Role attributes that would let a student reach beyond their own database.
ROLE_FLAGS = {
    "login": True,
    "superuser": False,
    "create_database": False,
    "create_role": False,
    "replication": False,
    "bypass_row_level_security": False,
}


# A lab's extra roles are groups the student grants to, never a way in: no login and no inheritance.
EXTRA_ROLE_FLAGS = ROLE_FLAGS | {"login": False, "inherit": False}
# NOLOGIN already refuses every connection; the limit is a second wall should LOGIN ever be granted.
EXTRA_ROLE_CONNECTION_LIMIT = 1


def sql_name(prefix: str) -> str:
    """The database and role name for a prefix (DESIGN decision 7): `-` is not valid unquoted SQL."""
    return prefix.replace("-", "_")


def check_instance_class(instance_class: str, allowed: tuple[str, ...]) -> str:
    if instance_class not in allowed:
        raise ValueError(f"RDS instance class {instance_class!r} is not allowed (allowed: {', '.join(allowed)})")
    return instance_class


def dsn(user: str, password: str, host: str, port: int | float, database: str, sslmode: str | None = None) -> str:
    """A libpq URL; the password is percent-encoded so any generated character is safe."""
    query = f"?sslmode={sslmode}" if sslmode else ""
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{int(port)}/{database}{query}"


@dataclass(frozen=True)
class DatabaseArgs:
    """`host`/`port` are the shared server as students reach it (shared mode only).

    RDS mode places the instance with `db_subnet_group_name`/`vpc_security_group_ids` when given
    (the account's default VPC otherwise) and only accepts a class from `allowed_classes`.
    """

    prefix: str
    tags: Mapping[str, str]
    spec: DatabaseEnvironment = field(default_factory=DatabaseEnvironment)
    host: str = "127.0.0.1"
    port: int = 5432
    allowed_classes: tuple[str, ...] = RDS_CLASSES
    db_subnet_group_name: str | None = None
    vpc_security_group_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.spec.mode == "rds":
            check_instance_class(self.spec.instance_class, self.allowed_classes)


class StudentDatabase(pulumi.ComponentResource):
    """A login role and a database only that role can connect to; outputs a secret DSN.

    A lab's extra roles (`spec.roles`, shared mode) are NOLOGIN roles `<database>_<name>` that are
    members of nothing: the student, who owns the tables, grants them exactly what the lab asks.
    """

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:db:StudentDatabase", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.password = random.RandomPassword(
            f"{name}-password",
            length=PASSWORD_LENGTH,
            # Letters and digits only: valid for RDS (which rejects / @ " and space) and in any URL.
            special=False,
            opts=child,
        )
        secret_password = pulumi.Output.secret(self.password.result)
        # What a starting-state script connects with as the student: the role's password (secret)
        # and the server as `host`, `port`, `sslmode` (set by the mode).
        self.secret_password = secret_password
        self.extra_roles: list[postgresql.Role] = []
        if args.spec.mode == "rds":
            self._rds(name, args, secret_password, child)
        else:
            self._shared(name, args, secret_password, child)
        self.register_outputs({"dsn": self.dsn, "database": self.database, "role": self.role})

    def _shared(
        self, name: str, args: DatabaseArgs, password: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> None:
        limit = args.spec.connection_limit
        self.extra_roles = [
            postgresql.Role(
                f"{name}-role-{role}",
                name=f"{sql_name(args.prefix)}_{role}",
                connection_limit=EXTRA_ROLE_CONNECTION_LIMIT,
                **EXTRA_ROLE_FLAGS,
                opts=child,
            )
            for role in args.spec.roles
        ]
        self.login_role = postgresql.Role(
            f"{name}-role",
            name=sql_name(args.prefix),
            password=password,
            connection_limit=limit,
            **ROLE_FLAGS,
            opts=child,
        )
        self.db = postgresql.Database(
            f"{name}-db",
            name=sql_name(args.prefix),
            owner=self.login_role.name,
            connection_limit=limit,
            # Destroy drops the database, and with it every grant the student made to the extra roles,
            # before the roles: DROP ROLE fails while any object still grants it something.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=self.extra_roles)),
        )
        # PostgreSQL grants CONNECT and TEMPORARY on every new database to PUBLIC, i.e. to every other
        # student's role; the provider revokes all of PUBLIC's privileges with an empty list.
        self.revoke_public = postgresql.Grant(
            f"{name}-revoke-public",
            database=self.db.name,
            role="public",
            object_type="database",
            privileges=[],
            opts=child,
        )
        self.database = self.db.name
        self.role = self.login_role.name
        self.host = pulumi.Output.from_input(args.host)
        self.port = pulumi.Output.from_input(args.port)
        self.sslmode: str | None = None
        self.dsn = pulumi.Output.secret(
            pulumi.Output.all(self.role, password, self.database).apply(
                lambda p: dsn(p[0], p[1], args.host, args.port, p[2])
            )
        )

    def _rds(self, name: str, args: DatabaseArgs, password: pulumi.Output[str], child: pulumi.ResourceOptions) -> None:
        self.instance = aws.rds.Instance(
            f"{name}-rds",
            identifier=args.prefix,
            engine=args.spec.engine,
            instance_class=args.spec.instance_class,
            allocated_storage=args.spec.storage_gb,
            # Storage may not grow on its own: the cost stays what the plan shows.
            max_allocated_storage=0,
            db_name=sql_name(args.prefix),
            username=sql_name(args.prefix),
            password=password,
            publicly_accessible=False,
            storage_encrypted=True,
            multi_az=False,
            # Lab databases are disposable; a final snapshot would outlive the cohort and keep costing.
            skip_final_snapshot=True,
            deletion_protection=False,
            db_subnet_group_name=args.db_subnet_group_name,
            vpc_security_group_ids=list(args.vpc_security_group_ids) or None,
            tags=dict(args.tags),
            opts=child,
        )
        self.database = self.instance.db_name
        self.role = self.instance.username
        self.host, self.port, self.sslmode = self.instance.address, self.instance.port, "require"
        self.dsn = pulumi.Output.secret(
            pulumi.Output.all(self.role, password, self.instance.address, self.instance.port, self.database).apply(
                lambda p: dsn(p[0], p[1], p[2], p[3], p[4], sslmode="require")
            )
        )
