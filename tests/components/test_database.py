"""StudentDatabase under the SDK's mock runtime: shared PostgreSQL (pulumi-postgresql) and RDS modes.

Registrations come from the plan's recording monitor (`stacks.plan.run_recorded`, a preview); the DSN's
value and the providers used from an `up` under the mock runtime.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pulumi
import pulumi_aws as aws
import pulumi_postgresql as postgresql
import pytest
from mock_up import EchoMocks, resolve

from labctl.components.database import RDS_CLASSES, DatabaseArgs, StudentDatabase, dsn
from labctl.components.tags import student_tags
from labctl.labs.spec import DatabaseEnvironment
from labctl.stacks.plan import run_recorded

PREFIX = "c1-alice"
SQL_NAME = "c1_alice"
TAGS = student_tags("c1", "alice", "sql-joins")
COMPONENT = "labctl:db:StudentDatabase"


def shared() -> StudentDatabase:
    provider = postgresql.Provider(
        f"{PREFIX}-postgresql-provider", host="db.internal", username="postgres", password=pulumi.Output.secret("admin")
    )
    return StudentDatabase(
        f"{PREFIX}-db",
        DatabaseArgs(
            prefix=PREFIX, tags=TAGS, spec=DatabaseEnvironment(connection_limit=7), host="db.internal", port=5433
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


def rds() -> StudentDatabase:
    provider = aws.Provider(f"{PREFIX}-aws-provider", region="us-east-1")
    return StudentDatabase(
        f"{PREFIX}-db",
        DatabaseArgs(prefix=PREFIX, tags=TAGS, spec=DatabaseEnvironment(mode="rds", storage_gb=30)),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


@pytest.fixture(scope="module")
def shared_plan() -> list[dict]:
    return run_recorded(shared, "c1.alice").plan_resources()


@pytest.fixture(scope="module")
def rds_plan() -> list[dict]:
    return run_recorded(rds, "c1.alice").plan_resources()


def one(recorded: list[dict], type_: str) -> dict:
    (found,) = [r for r in recorded if r["type"] == type_]
    return found


SERVER_VALUES = {
    "random:index/randomPassword:RandomPassword": {"result": "p4ssw0rd"},
    "aws:rds/instance:Instance": {"address": "c1-alice.rds.example", "port": 5432},
}


def outputs_of(database: StudentDatabase) -> dict[str, pulumi.Output]:
    return {"dsn": database.dsn, "database": database.database, "role": database.role}


def test_shared_mode_exact_resource_set(shared_plan):
    assert {(r["type"], r["name"], r["parent"]) for r in shared_plan} == {
        ("pulumi:providers:postgresql", f"{PREFIX}-postgresql-provider", None),
        (COMPONENT, f"{PREFIX}-db", None),
        ("random:index/randomPassword:RandomPassword", f"{PREFIX}-db-password", COMPONENT),
        ("postgresql:index/role:Role", f"{PREFIX}-db-role", COMPONENT),
        ("postgresql:index/database:Database", f"{PREFIX}-db-db", COMPONENT),
        ("postgresql:index/grant:Grant", f"{PREFIX}-db-revoke-public", COMPONENT),
    }
    assert all(r["name"].startswith(PREFIX) for r in shared_plan)


def test_login_role_cannot_reach_beyond_its_database(shared_plan):
    role = one(shared_plan, "postgresql:index/role:Role")["inputs"]
    assert role == {
        "name": SQL_NAME,
        "login": True,
        "superuser": False,
        "createDatabase": False,
        "createRole": False,
        "replication": False,
        "bypassRowLevelSecurity": False,
        "connectionLimit": 7,
        "password": "[secret]",
    }


def test_database_is_owned_by_the_role_and_closed_to_public(shared_plan):
    assert one(shared_plan, "postgresql:index/database:Database")["inputs"] == {
        "name": SQL_NAME,
        "owner": SQL_NAME,
        "connectionLimit": 7,
    }
    assert one(shared_plan, "postgresql:index/grant:Grant")["inputs"] == {
        "database": SQL_NAME,
        "role": "public",
        "objectType": "database",
        "privileges": [],
    }


def test_shared_outputs_dsn_is_secret(shared_plan):
    assert one(shared_plan, COMPONENT)["outputs"] == {"dsn": "[secret]", "database": SQL_NAME, "role": SQL_NAME}


def test_shared_dsn_points_at_the_students_database_on_the_given_provider():
    mocks = EchoMocks(SERVER_VALUES)
    settled = resolve(lambda: outputs_of(shared()), mocks)
    value, secret = settled["dsn"]
    assert secret and value == f"postgresql://{SQL_NAME}:p4ssw0rd@db.internal:5433/{SQL_NAME}"
    assert settled["database"] == (SQL_NAME, False) and settled["role"] == (SQL_NAME, False)
    postgres_children = {a.name: a.provider for a in mocks.created if a.typ.startswith("postgresql:index/")}
    assert len(postgres_children) == 3
    assert {provider.split("::")[3] for provider in postgres_children.values()} == {f"{PREFIX}-postgresql-provider"}


# What could widen the network path to a student's RDS instance if the component made it.
NETWORK_OPENERS = ("aws:ec2/", "aws:vpc/", "aws:rds/subnetGroup:", "aws:rds/parameterGroup:", "aws:rds/proxy")


def test_rds_mode_is_one_instance_and_opens_no_network_path(rds_plan):
    """One instance and its password, under the component; no security group, ingress rule, subnet
    or parameter group of its own. Shown failing with a security group added to the component."""
    assert not [r["type"] for r in rds_plan if r["type"].startswith(NETWORK_OPENERS)]
    assert [r["type"] for r in rds_plan if r["type"].startswith("aws:rds/")] == ["aws:rds/instance:Instance"]
    assert {r["parent"] for r in rds_plan if r["type"].startswith(("aws:", "random:"))} == {COMPONENT}


def test_rds_instance_is_private_encrypted_single_az_and_tagged(rds_plan):
    inputs = one(rds_plan, "aws:rds/instance:Instance")["inputs"]
    assert inputs["identifier"] == PREFIX and inputs["dbName"] == SQL_NAME and inputs["username"] == SQL_NAME
    assert inputs["publiclyAccessible"] is False
    assert inputs["storageEncrypted"] is True
    assert inputs["multiAz"] is False
    assert inputs["skipFinalSnapshot"] is True
    assert inputs["instanceClass"] == "db.t4g.micro" and inputs["instanceClass"] in RDS_CLASSES
    assert inputs["allocatedStorage"] == 30 and inputs["maxAllocatedStorage"] == 0
    assert inputs["password"] == "[secret]"
    assert inputs["tags"] == {"labctl:cohort": "c1", "labctl:student": "alice", "labctl:lab": "sql-joins"}
    assert one(rds_plan, COMPONENT)["outputs"]["dsn"] == "[secret]"


def test_rds_dsn_requires_tls_and_is_secret():
    settled = resolve(lambda: outputs_of(rds()), EchoMocks(SERVER_VALUES))
    value, secret = settled["dsn"]
    assert secret and value == f"postgresql://{SQL_NAME}:p4ssw0rd@c1-alice.rds.example:5432/{SQL_NAME}?sslmode=require"


def test_rds_class_outside_the_allow_list_is_refused_before_anything_is_registered():
    with pytest.raises(ValueError, match="db.r6g.4xlarge"):
        DatabaseArgs(prefix=PREFIX, tags=TAGS, spec=DatabaseEnvironment(mode="rds", instance_class="db.r6g.4xlarge"))
    with pytest.raises(ValueError, match="db.t4g.small"):
        DatabaseArgs(
            prefix=PREFIX,
            tags=TAGS,
            spec=DatabaseEnvironment(mode="rds", instance_class="db.t4g.small"),
            allowed_classes=("db.t4g.micro",),
        )
    # The allow-list is for RDS only: a shared database has no instance class.
    DatabaseArgs(prefix=PREFIX, tags=TAGS, spec=DatabaseEnvironment(instance_class="db.r6g.4xlarge"))


def test_dsn_percent_encodes_the_password():
    url = urlsplit(dsn("u", "p@ss/w:rd", "h", 5432.0, "d"))
    assert unquote(url.password) == "p@ss/w:rd" and url.hostname == "h" and url.port == 5432 and url.path == "/d"


def shared_with_roles() -> StudentDatabase:
    provider = postgresql.Provider(f"{PREFIX}-postgresql-provider", host="db.internal", username="postgres")
    return StudentDatabase(
        f"{PREFIX}-db",
        DatabaseArgs(prefix=PREFIX, tags=TAGS, spec=DatabaseEnvironment(roles=["analyst", "auditor"])),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


def test_extra_roles_are_nologin_members_of_nothing_and_outlive_the_database():
    monitor = run_recorded(shared_with_roles, "c1.alice")
    recorded = monitor.plan_resources()
    roles = {r["name"]: r for r in recorded if r["type"] == "postgresql:index/role:Role"}
    assert set(roles) == {f"{PREFIX}-db-role", f"{PREFIX}-db-role-analyst", f"{PREFIX}-db-role-auditor"}
    assert roles[f"{PREFIX}-db-role-analyst"]["inputs"] == {
        "name": f"{SQL_NAME}_analyst",
        "login": False,
        "inherit": False,
        "superuser": False,
        "createDatabase": False,
        "createRole": False,
        "replication": False,
        "bypassRowLevelSecurity": False,
        "connectionLimit": 1,
    }
    assert roles[f"{PREFIX}-db-role-auditor"]["inputs"]["name"] == f"{SQL_NAME}_auditor"
    # No membership in anything: the student grants these roles privileges, never the reverse.
    assert all("roles" not in r["inputs"] for r in roles.values())
    database = one(recorded, "postgresql:index/database:Database")
    extra = {roles[f"{PREFIX}-db-role-{n}"]["urn"] for n in ("analyst", "auditor")}
    assert extra <= set(monitor.dependencies[database["urn"]])


def test_extra_roles_are_checked_names_and_need_shared_mode():
    with pytest.raises(ValueError, match="must match"):
        DatabaseEnvironment(roles=["Analyst"])
    with pytest.raises(ValueError, match="must match"):
        DatabaseEnvironment(roles=["a" * 18])
    with pytest.raises(ValueError, match="once"):
        DatabaseEnvironment(roles=["analyst", "analyst"])
    with pytest.raises(ValueError, match="need mode shared"):
        DatabaseEnvironment(mode="rds", roles=["analyst"])
