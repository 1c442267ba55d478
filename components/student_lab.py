"""A student's lab: the environments the lab's `environment` asks for, composed under one component."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi

from labctl.components.aws_sandbox import AwsSandbox, AwsSandboxArgs, budget_limit
from labctl.components.database import DatabaseArgs, StudentDatabase
from labctl.components.k8s_namespace import NamespaceArgs, StudentNamespace
from labctl.components.lab_setup import AwsAccess, LabSetup, LabSetupArgs
from labctl.components.student_account import StudentAccount, StudentAccountArgs
from labctl.components.tags import student_tags
from labctl.components.workspace import StudentWorkspace, WorkspaceArgs
from labctl.labs.spec import Environment

# A reserved name (RFC 2606): a plan without a cohort kubeconfig shows it, and an `up` fails on it.
UNCONFIGURED_CLUSTER = "https://cluster.unconfigured.invalid"
WORKSPACE_BASE_PORT = 20000


@dataclass(frozen=True)
class SharedServices:
    """The cohort's shared servers as students reach them: the cluster's API server and CA (base64
    PEM) for their kubeconfig, the PostgreSQL server for their DSN. Never a secret."""

    cluster_server: str = UNCONFIGURED_CLUSTER
    cluster_ca: str = ""
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432


@dataclass(frozen=True)
class StudentLabArgs:
    """`cohort_budget_usd` caps the lab's AWS budget; `instructor_email` gets the budget alerts;
    `workspace_port` is the student's loopback port on the Docker host (unique per host)."""

    cohort: str
    student: str
    prefix: str
    lab: str
    environment: Environment
    cohort_budget_usd: float | None = None
    instructor_email: str | None = None
    shared: SharedServices = field(default_factory=SharedServices)
    workspace_port: int = WORKSPACE_BASE_PORT
    lab_folder: Path | None = None
    """Where the lab's seed and setup script are; needed only when the lab has one."""
    setup_access: AwsAccess | None = None
    """The instructor's AWS access for the lab's setup script (never the student's)."""
    account: AccountPlacement | None = None
    """Isolation mode `account`: the student's own member account instead of an IAM user in a shared one."""


@dataclass(frozen=True)
class AccountPlacement:
    """The student's leased account, the organization's management account, and the account's email
    (the budget's alerts go there when the cohort has no instructor email)."""

    account_id: str
    management_account: str
    email: str


class StudentLab(pulumi.ComponentResource):
    """Everything one student gets for one lab. Providers come from `opts` (`providers=[...]`): aws for
    the sandbox and RDS, kubernetes for the namespace, postgresql for a shared database, docker for
    the workspace; the children inherit them."""

    def __init__(self, name: str, args: StudentLabArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:lab:StudentLab", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = student_tags(args.cohort, args.student, args.lab)
        env = args.environment
        self.aws: AwsSandbox | None = None
        self.namespace: StudentNamespace | None = None
        self.database: StudentDatabase | None = None
        self.workspace: StudentWorkspace | None = None
        outputs: dict[str, object] = {"prefix": args.prefix, "lab": args.lab}
        self.account: StudentAccount | None = None
        if env.aws is not None and args.account is not None:
            self.account = StudentAccount(
                f"{name}-account",
                StudentAccountArgs(
                    account_id=args.account.account_id,
                    prefix=args.prefix,
                    tags=tags,
                    budget_usd=budget_limit(env.aws.budget_usd, args.cohort_budget_usd),
                    management_account=args.account.management_account,
                    notify_email=args.instructor_email or args.account.email,
                ),
                opts=child,
            )
            outputs |= {"aws_account_id": args.account.account_id, "aws_role_arn": self.account.student_role.arn}
        elif env.aws is not None:
            self.aws = AwsSandbox(
                f"{name}-aws",
                AwsSandboxArgs(
                    prefix=args.prefix,
                    cohort=args.cohort,
                    services=tuple(env.aws.services),
                    regions=tuple(env.aws.regions),
                    tags=tags,
                    budget_usd=budget_limit(env.aws.budget_usd, args.cohort_budget_usd),
                    notify_email=args.instructor_email,
                    instance_types=tuple(env.aws.instance_types),
                    role_policies=tuple(env.aws.role_policies),
                ),
                opts=child,
            )
            outputs |= {
                "aws_user": self.aws.user_name,
                "aws_access_key_id": self.aws.access_key_id,
                "aws_secret_access_key": self.aws.secret_access_key,
            }
        if env.kubernetes is not None:
            self.namespace = StudentNamespace(
                f"{name}-k8s",
                NamespaceArgs(
                    prefix=args.prefix,
                    tags=tags,
                    server=args.shared.cluster_server,
                    ca_data=args.shared.cluster_ca,
                    spec=env.kubernetes,
                ),
                opts=child,
            )
            outputs |= {"namespace": self.namespace.namespace, "kubeconfig": self.namespace.kubeconfig}
        if env.database is not None:
            self.database = StudentDatabase(
                f"{name}-db",
                DatabaseArgs(
                    prefix=args.prefix,
                    tags=tags,
                    spec=env.database,
                    host=args.shared.postgres_host,
                    port=args.shared.postgres_port,
                ),
                opts=child,
            )
            outputs |= {"database_dsn": self.database.dsn}
        if env.workspace is not None:
            self.workspace = StudentWorkspace(
                f"{name}-workspace",
                WorkspaceArgs(prefix=args.prefix, tags=tags, host_port=args.workspace_port, spec=env.workspace),
                opts=child,
            )
            outputs |= {"workspace_url": self.workspace.url, "workspace_password": self.workspace.password}
        seed = env.database.seed if env.database is not None else None
        setup = env.aws.setup if env.aws is not None else None
        self.setup: LabSetup | None = None
        if seed or setup:
            if args.lab_folder is None:
                raise ValueError(f"lab {args.lab} has a starting state: StudentLabArgs.lab_folder is required")
            self.setup = LabSetup(
                f"{name}-setup",
                LabSetupArgs(
                    prefix=args.prefix,
                    student=args.student,
                    lab_folder=args.lab_folder,
                    seed=seed,
                    setup=setup,
                    database=self.database,
                    aws=args.setup_access,
                ),
                opts=child,
            )
        self.outputs = outputs
        self.register_outputs(outputs)
