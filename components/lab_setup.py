"""A lab's starting state, built at `up` time through the components: its database seed and its AWS setup.

Each is a Pulumi dynamic resource whose provider runs the lab's own script when the engine creates
it: the seed (`environment.database.seed`) through `components.seed.seed_student_database` as the
student's role, the setup script (`environment.aws.setup`) as `setup(session, endpoint_url, prefix,
student)` with the instructor's AWS access. Credentials travel only as secret inputs (encrypted in
the state, "[secret]" in a plan); the providers hold no state of their own, so their serialized form
carries none. A script is tracked by its content hash: a changed seed or setup runs again on the
next `up`, an unchanged one does not.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from labctl.labs.errors import InputError, LabctlError

if TYPE_CHECKING:
    from labctl.components.database import StudentDatabase

SECRET_INPUTS = frozenset({"password", "access_key_id", "secret_access_key"})


def script_path(lab_folder: Path, script: str) -> Path:
    """The script inside the lab folder; one that leaves the folder or is missing is an error."""
    folder = Path(lab_folder).resolve()
    path = (folder / script).resolve()
    if folder not in path.parents:
        raise InputError("a lab's starting-state script must be inside the lab folder", f"{lab_folder}/{script}")
    if not path.is_file():
        raise InputError("starting-state script not found", str(path))
    return path


def script_digest(lab_folder: Path, script: str) -> str:
    return hashlib.sha256(script_path(lab_folder, script).read_bytes()).hexdigest()


def checked_script(props: Mapping[str, Any]) -> Path:
    """The script the inputs name, refused when its content is no longer what was planned."""
    path = script_path(Path(props["lab_folder"]), props["script"])
    if hashlib.sha256(path.read_bytes()).hexdigest() != props["sha256"]:
        raise LabctlError(f"{path} changed since the program read it; run the update again")
    return path


def public(props: Mapping[str, Any]) -> dict[str, Any]:
    """What the state keeps as outputs: every input but the credentials."""
    return {k: v for k, v in props.items() if k not in SECRET_INPUTS and not k.startswith("__")}


class ScriptProvider(ResourceProvider):
    """Runs a lab script on create, and again on update when the script or its target changed.

    Scripts are idempotent (they converge on the starting state), so a retried `up` is safe.
    """

    watched: tuple[str, ...] = ("script", "sha256")

    def run(self, props: Mapping[str, Any]) -> str:
        """Run the script; returns the resource's id."""
        raise NotImplementedError

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=self.run(props), outs=public(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in self.watched if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], stables=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self.run(news)
        return UpdateResult(outs=public(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo here: what a script made is not this resource's to remove. The seed's rows
        go with the student's database (StudentDatabase); what a setup script made in AWS is named
        with the student's prefix, and `labctl sweep` deletes prefixed resources no state knows."""


class SeedProvider(ScriptProvider):
    """Loads the lab's seed into the student's database as the student's own role."""

    watched = ("script", "sha256", "database", "host", "port")

    def run(self, props: Mapping[str, Any]) -> str:
        from psycopg.conninfo import make_conninfo

        from labctl.components.seed import seed_student_database

        checked_script(props)
        server = {"host": props["host"], "port": str(int(props["port"]))}
        if props.get("sslmode"):
            server["sslmode"] = props["sslmode"]
        seed_student_database(
            make_conninfo("", **server),
            props["database"],
            Path(props["lab_folder"]),
            props["script"],
            password=props.get("password"),
        )
        return f"{props['database']}/{props['script']}"


def load_setup(path: Path) -> Any:
    """The lab's setup module, loaded from its file (lab folders are not packages)."""
    name = f"labctl_setup_{path.parent.name.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise InputError("cannot load the setup script", str(path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if not callable(getattr(module, "setup", None)):
        raise InputError("a setup script must define setup(session, endpoint_url, prefix, student)", str(path))
    return module


class AwsSetupProvider(ScriptProvider):
    """Runs the lab's `setup(session, endpoint_url, prefix, student)` with the instructor's AWS access."""

    watched = ("script", "sha256", "prefix", "student", "region", "endpoint_url", "profile", "role_arn")

    def run(self, props: Mapping[str, Any]) -> str:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        module = load_setup(checked_script(props))
        session = boto3.Session(
            aws_access_key_id=props.get("access_key_id") or None,
            aws_secret_access_key=props.get("secret_access_key") or None,
            region_name=props["region"],
            profile_name=props.get("profile") or None,
        )
        try:
            if props.get("role_arn"):
                session = assumed(session, props)
            module.setup(session, props.get("endpoint_url") or None, props["prefix"], props["student"])
        except (BotoCoreError, ClientError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise LabctlError(f"setting up {props['prefix']} with {props['script']} failed: {first}") from None
        return f"{props['prefix']}/{props['script']}"


def assumed(session: Any, props: Mapping[str, Any]) -> Any:
    """A session as `role_arn` (the student's account's access role, isolation mode `account`)."""
    import boto3

    sts = session.client("sts", endpoint_url=props.get("endpoint_url") or None)
    creds = sts.assume_role(RoleArn=props["role_arn"], RoleSessionName="labctl-setup")["Credentials"]
    return boto3.Session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], props["region"])


class DatabaseSeed(Resource, module="labctl", name="DatabaseSeed"):
    """The lab's seed, loaded into one student's database."""


class AwsSetup(Resource, module="labctl", name="AwsSetup"):
    """The lab's AWS starting state, built for one student."""


@dataclass(frozen=True)
class AwsAccess:
    """The instructor's AWS target for setup scripts: a profile, or keys (kept out of reprs); with
    `role_arn` (isolation mode `account`) the script runs as that role in the student's own account."""

    region: str
    endpoint_url: str | None = None
    profile: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    role_arn: str | None = None


@dataclass(frozen=True)
class LabSetupArgs:
    """`seed` needs the student's `database` component; `setup` needs the instructor's `aws` access."""

    prefix: str
    student: str
    lab_folder: Path
    seed: str | None = None
    setup: str | None = None
    database: StudentDatabase | None = None
    aws: AwsAccess | None = None

    def __post_init__(self) -> None:
        if self.seed and self.database is None:
            raise ValueError("a seed needs the student's database")
        if self.setup and self.aws is None:
            raise ValueError("an AWS setup script needs the instructor's AWS access")


def secret(value: str | None) -> pulumi.Output[str] | None:
    return pulumi.Output.secret(value) if value else None


class LabSetup(pulumi.ComponentResource):
    """The lab's starting state for one student: a DatabaseSeed and/or an AwsSetup."""

    def __init__(self, name: str, args: LabSetupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:lab:LabSetup", name, None, opts)
        self.seed: DatabaseSeed | None = None
        self.aws_setup: AwsSetup | None = None
        outputs: dict[str, Any] = {}
        if args.seed:
            database = args.database
            self.seed = DatabaseSeed(
                SeedProvider(),
                f"{name}-seed",
                {
                    "database": database.database,
                    "host": database.host,
                    "port": database.port,
                    "sslmode": database.sslmode,
                    "lab_folder": str(Path(args.lab_folder).resolve()),
                    "script": args.seed,
                    "sha256": script_digest(args.lab_folder, args.seed),
                    "password": database.secret_password,
                },
                # The seed logs in as the student's role into the student's database, and may grant
                # to the lab's extra roles: all of the database component's children must exist first.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[database]),
            )
            outputs["seed"] = self.seed.id
        if args.setup:
            access = args.aws
            self.aws_setup = AwsSetup(
                AwsSetupProvider(),
                f"{name}-aws",
                {
                    "prefix": args.prefix,
                    "student": args.student,
                    "lab_folder": str(Path(args.lab_folder).resolve()),
                    "script": args.setup,
                    "sha256": script_digest(args.lab_folder, args.setup),
                    "region": access.region,
                    "endpoint_url": access.endpoint_url,
                    "profile": access.profile,
                    **({"role_arn": access.role_arn} if access.role_arn else {}),
                    "access_key_id": secret(access.access_key_id),
                    "secret_access_key": secret(access.secret_access_key),
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            outputs["aws_setup"] = self.aws_setup.id
        self.register_outputs(outputs)
