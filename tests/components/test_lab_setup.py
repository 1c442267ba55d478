"""LabSetup: a lab's starting state through the components.

Under the SDK's mock runtime (the plan's recording monitor): which dynamic resources a lab's
StudentLab registers, with which inputs (credentials secret) and which dependencies. The providers'
create/update/diff/delete are plain Python, called here directly against the real PostgreSQL and
the real moto server, as the engine's dynamic provider process would call them at `up`.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from labctl.cohorts.cohort import Cohort, Services, Target, synthetic_students
from labctl.components.lab_setup import (
    AwsAccess,
    AwsSetupProvider,
    LabSetupArgs,
    SeedProvider,
    script_digest,
)
from labctl.components.student_lab import StudentLab, StudentLabArgs
from labctl.labs.catalog import CATALOG_DIR, get_lab
from labctl.labs.errors import InputError, LabctlError
from labctl.labs.loader import load_lab
from labctl.labs.spec import Environment
from labctl.stacks.plan import run_recorded
from labctl.stacks.program import TargetSettings, setup_access, student_program

EMULATOR = Target("emulator", "http://127.0.0.1:4566", "us-east-1")
SEED = "pulumi-python:dynamic/labctl:DatabaseSeed"
AWS_SETUP = "pulumi-python:dynamic/labctl:AwsSetup"
LAB_SETUP = "labctl:lab:LabSetup"
# Distinctive so that a leak anywhere in a plan would be found by a plain substring search.
ACCESS_KEY = "AKIALABCTLTESTKEY000"
SECRET_KEY = "labctl-instructor-secret-9f3b2c"


def recorded(lab_id: str, settings: TargetSettings = TargetSettings.from_target(EMULATOR)):
    cohort = Cohort("c1", (lab_id,), EMULATOR, synthetic_students("c1", 1), Services())
    student = cohort.students[0]
    return run_recorded(student_program(cohort, student, get_lab(lab_id).spec, settings), "c1.s001")


def one(resources: list[dict], type_: str) -> dict:
    (found,) = [r for r in resources if r["type"] == type_]
    return found


@pytest.fixture(scope="module")
def seed_monitor():
    return recorded("sql-privacy-access")


@pytest.fixture(scope="module")
def setup_monitor():
    settings = TargetSettings("emulator", "http://127.0.0.1:4566", "us-east-1", ACCESS_KEY, SECRET_KEY)
    return recorded("redteam-fix", settings)


def test_a_seeded_lab_registers_its_seed_under_lab_setup(seed_monitor):
    resources = seed_monitor.plan_resources()
    assert one(resources, LAB_SETUP)["parent"] == "labctl:lab:StudentLab"
    seed = one(resources, SEED)
    assert (seed["name"], seed["parent"], seed["provider"]) == ("c1-s001-setup-seed", LAB_SETUP, None)
    folder = CATALOG_DIR / "sql-privacy-access"
    assert seed["inputs"] == {
        "database": "c1_s001",
        "host": "127.0.0.1",
        "port": 5432,
        "lab_folder": str(folder.resolve()),
        "script": "seed.sql",
        "sha256": script_digest(folder, "seed.sql"),
        "password": "[secret]",
        "__provider": "[secret]",
    }
    assert not any(r["type"] == AWS_SETUP for r in resources)


def test_the_seed_waits_for_every_part_of_the_student_database(seed_monitor):
    resources = seed_monitor.plan_resources()
    urns = {r["name"]: r["urn"] for r in resources}
    waits_for = set(seed_monitor.dependencies[one(resources, SEED)["urn"]])
    assert {
        urns["c1-s001-db-role"],
        urns["c1-s001-db-db"],
        urns["c1-s001-db-revoke-public"],
        urns["c1-s001-db-role-analyst"],
    } <= waits_for


def test_a_setup_script_gets_the_instructors_access_as_secrets_only(setup_monitor):
    resources = setup_monitor.plan_resources()
    setup = one(resources, AWS_SETUP)
    assert (setup["name"], setup["parent"]) == ("c1-s001-setup-aws", LAB_SETUP)
    folder = CATALOG_DIR / "redteam-fix"
    assert setup["inputs"] == {
        "prefix": "c1-s001",
        "student": "s001",
        "lab_folder": str(folder.resolve()),
        "script": "setup.py",
        "sha256": script_digest(folder, "setup.py"),
        "region": "us-east-1",
        "endpoint_url": "http://127.0.0.1:4566",
        "access_key_id": "[secret]",
        "secret_access_key": "[secret]",
        "__provider": "[secret]",
    }
    assert not any(r["type"] == SEED for r in resources)
    shown = json.dumps(resources)
    assert ACCESS_KEY not in shown and SECRET_KEY not in shown


def test_real_aws_setup_access_is_the_profile_without_keys():
    access = setup_access(TargetSettings("aws", None, "eu-west-1", profile="instructor"))
    assert access == AwsAccess("eu-west-1", None, "instructor")
    assert ACCESS_KEY not in repr(AwsAccess("us-east-1", access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY))


def test_a_lab_without_starting_state_has_no_lab_setup():
    resources = recorded("sql-customer-ranking").plan_resources()
    assert not any(r["type"] in (LAB_SETUP, SEED, AWS_SETUP) for r in resources)


def test_the_serialized_providers_carry_no_state_and_load_by_reference():
    import dill

    for provider in (SeedProvider(), AwsSetupProvider()):
        raw = base64.b64decode(serialize_provider(provider))
        assert b"labctl.components.lab_setup" in raw and len(raw) < 400
        assert type(dill.loads(raw)) is type(provider)


def test_a_starting_state_needs_its_lab_folder():
    env = get_lab("sql-privacy-access").spec.environment

    def program() -> None:
        StudentLab("c1-s001", StudentLabArgs("c1", "s001", "c1-s001", "sql-privacy-access", env))

    with pytest.raises(ValueError, match="lab_folder is required"):
        run_recorded(program, "c1.s001")
    with pytest.raises(ValueError, match="needs the instructor's AWS access"):
        LabSetupArgs("c1-s001", "s001", CATALOG_DIR / "redteam-fix", setup="setup.py")


def test_diff_reruns_only_when_the_script_or_its_target_changes():
    olds = {"script": "seed.sql", "sha256": "a", "database": "c1_s001", "host": "h", "port": 5432}
    provider = SeedProvider()
    assert provider.diff("id", olds, dict(olds, password="new")).changes is False
    changed = provider.diff("id", olds, dict(olds, sha256="b"))
    assert changed.changes is True and changed.replaces == []
    assert provider.diff("id", olds, dict(olds, database="c1_s002")).changes is True


# ---- the providers against the real services ----------------------------------------------------


@pytest.fixture
def student_database(postgres_dsn):
    import psycopg

    database = "t" + uuid.uuid4().hex[:8] + "_ada"
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE \"{database}\" LOGIN PASSWORD 'student-pw'")
        admin.execute(f'CREATE ROLE "{database}_analyst" NOLOGIN NOINHERIT')
        admin.execute(f'CREATE DATABASE "{database}" OWNER "{database}"')
    yield database
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'DROP ROLE IF EXISTS "{database}"')
        admin.execute(f'DROP ROLE IF EXISTS "{database}_analyst"')


def seed_props(database: str, folder: Path, script: str = "seed.sql") -> dict:
    return {
        "database": database,
        "host": "127.0.0.1",
        "port": 5432,
        "sslmode": None,
        "lab_folder": str(folder),
        "script": script,
        "sha256": script_digest(folder, script),
        "password": "student-pw",
    }


def test_seed_create_loads_the_rows_as_the_student_and_is_idempotent(postgres_dsn, student_database):
    import psycopg
    from psycopg.conninfo import make_conninfo

    folder = CATALOG_DIR / "sql-privacy-access"
    props = seed_props(student_database, folder)
    provider = SeedProvider()
    created = provider.create(props)
    assert created.id == f"{student_database}/seed.sql"
    assert "password" not in created.outs and created.outs["sha256"] == props["sha256"]
    provider.update(created.id, created.outs, props)
    with psycopg.connect(make_conninfo(postgres_dsn, dbname=student_database)) as conn:
        owner, rows = conn.execute(
            "SELECT tableowner, (SELECT count(*) FROM customers) FROM pg_tables WHERE tablename = 'customers'"
        ).fetchone()
    assert (owner, rows) == (student_database, 8)
    provider.delete(created.id, created.outs)
    with psycopg.connect(make_conninfo(postgres_dsn, dbname=student_database)) as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 8


def test_a_seed_changed_since_the_program_read_it_is_refused(student_database, tmp_path):
    (tmp_path / "seed.sql").write_text("CREATE TABLE t (id integer);\n")
    props = seed_props(student_database, tmp_path)
    (tmp_path / "seed.sql").write_text("CREATE TABLE u (id integer);\n")
    with pytest.raises(LabctlError, match="changed since the program read it"):
        SeedProvider().create(props)


def setup_props(lab_folder: Path, endpoint: str, prefix: str) -> dict:
    return {
        "prefix": prefix,
        "student": "ada",
        "lab_folder": str(lab_folder),
        "script": "setup.py",
        "sha256": script_digest(lab_folder, "setup.py"),
        "region": "us-east-1",
        "endpoint_url": endpoint,
        "access_key_id": "test",
        "secret_access_key": "test",
    }


def test_aws_setup_create_builds_the_insecure_state_once(aws, moto_endpoint):
    folder = CATALOG_DIR / "redteam-fix"
    props = setup_props(folder, moto_endpoint, "c1-ada")
    provider = AwsSetupProvider()
    created = provider.create(props)
    provider.create(props)
    assert created.id == "c1-ada/setup.py"
    assert not {"access_key_id", "secret_access_key"} & set(created.outs)
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    policy = json.loads(s3.get_bucket_policy(Bucket="c1-ada-app")["Policy"])
    assert {s["Action"] for s in policy["Statement"]} == {"s3:*", "*"}
    assert b"Hello from ada" in s3.get_object(Bucket="c1-ada-app", Key="index.html")["Body"].read()
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["c1-ada-app"]}])["SecurityGroups"]
    assert len(groups) == 1
    assert [p["IpProtocol"] for p in groups[0]["IpPermissions"]] == ["-1"]
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["c1-ada-app-vpc"]}])["Vpcs"]
    assert len(vpcs) == 1


def test_aws_setup_failure_names_the_script_not_the_credentials(aws, moto_endpoint, tmp_path):
    (tmp_path / "setup.py").write_text(
        "def setup(session, endpoint_url, prefix, student):\n"
        "    session.client('s3', endpoint_url=endpoint_url).get_bucket_policy(Bucket=prefix + '-none')\n"
    )
    props = setup_props(tmp_path, moto_endpoint, "c1-ada") | {"secret_access_key": SECRET_KEY}
    with pytest.raises(LabctlError, match="setting up c1-ada with setup.py failed") as failed:
        AwsSetupProvider().create(props)
    assert SECRET_KEY not in str(failed.value)


# ---- the spec and the loader -----------------------------------------------------------------


def test_the_loader_requires_the_setup_file_inside_the_lab_folder(tmp_path):
    text = (CATALOG_DIR / "redteam-fix" / "lab.yaml").read_text()
    lab = tmp_path / "redteam-fix"
    lab.mkdir()
    (lab / "lab.yaml").write_text(text)
    with pytest.raises(InputError, match=r"environment.aws.setup: file setup.py does not exist") as missing:
        load_lab(lab / "lab.yaml")
    assert "lab.yaml:" in missing.value.where
    (lab / "lab.yaml").write_text(text.replace("setup: setup.py", "setup: ../setup.py"))
    with pytest.raises(InputError, match="must be inside the lab folder"):
        load_lab(lab / "lab.yaml")
    (lab / "lab.yaml").write_text(text)
    (lab / "setup.py").write_text("def setup(session, endpoint_url, prefix, student): pass\n")
    assert load_lab(lab / "lab.yaml").environment.aws.setup == "setup.py"


def test_the_catalog_names_its_starting_state():
    assert get_lab("redteam-fix").spec.environment.aws.setup == "setup.py"
    env = get_lab("sql-privacy-access").spec.environment.database
    assert (env.seed, env.roles) == ("seed.sql", ["analyst"])
    assert Environment.model_validate({"database": {"roles": ["analyst"]}}).database.roles == ["analyst"]
