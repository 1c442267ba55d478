"""The inline Pulumi program for one student's lab, and the providers for the cohort's services.

Providers are cohort-level settings made explicit per program: AWS from the cohort's target,
Kubernetes from its kubeconfig and context, PostgreSQL from its admin DSN (the password from
`PGPASSWORD` at run time, as a secret: an explicit provider's inputs are kept in the stack's state,
so it is stored there encrypted with the stack's passphrase, never in clear), Docker on the local socket.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_docker as docker
import pulumi_kubernetes as k8s
import pulumi_postgresql as postgresql

from labctl.cohorts.accounts import role_arn
from labctl.cohorts.cohort import TARGETS, Cohort, Services, Student, Target
from labctl.components.kubeconfig import cluster_endpoint
from labctl.components.student_account import CohortOrganization, CohortOrganizationArgs
from labctl.components.tags import COHORT_TAG, LAB_TAG
from labctl.components.lab_setup import AwsAccess
from labctl.components.student_lab import (
    WORKSPACE_BASE_PORT,
    AccountPlacement,
    SharedServices,
    StudentLab,
    StudentLabArgs,
)
from labctl.labs.catalog import CATALOG_DIR
from labctl.labs.spec import LabSpec

EMULATED = ("emulator", "localstack")
EMULATOR_CREDENTIALS = ("test", "test")
# The sandbox itself needs IAM and Budgets, and every AWS SDK asks STS who it is.
ALWAYS_ENDPOINTS = ("budgets", "iam", "sts")
# Lab services whose API the provider splits over more than one endpoint (REST and HTTP APIs).
SERVICE_ENDPOINTS = {"apigateway": ("apigateway", "apigatewayv2")}


@dataclass(frozen=True)
class TargetSettings:
    """Where a cohort's AWS resources go: the emulator, LocalStack or real AWS (by profile)."""

    kind: str
    endpoint: str | None
    region: str
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    profile: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in TARGETS:
            raise ValueError(f"unknown target {self.kind!r} (known: {', '.join(TARGETS)})")
        if self.kind in EMULATED and not self.endpoint:
            raise ValueError(f"target {self.kind!r} needs an endpoint")

    @classmethod
    def from_target(
        cls, target: Target, access_key: str | None = None, secret_key: str | None = None
    ) -> "TargetSettings":
        return cls(target.kind, target.endpoint, target.region, access_key, secret_key, target.profile)


def provider_endpoints(services: Sequence[str]) -> list[str]:
    """The provider endpoints an emulator must answer for these lab services, sorted."""
    named = (endpoint for service in services for endpoint in SERVICE_ENDPOINTS.get(service, (service,)))
    return sorted({*named, *ALWAYS_ENDPOINTS})


def aws_provider(
    name: str, settings: TargetSettings, services: Sequence[str], opts: pulumi.ResourceOptions | None = None,
    account_id: str | None = None,
) -> aws.Provider:
    """An explicit provider: emulators get an endpoint per service and test credentials as secrets.
    With `account_id` (isolation mode `account`) it acts in that member account, through the pool's
    access role."""
    assume_roles = None
    if account_id:
        assume_roles = [aws.ProviderAssumeRoleArgs(role_arn=role_arn(account_id), session_name="labctl-up")]
    if settings.kind not in EMULATED:
        return aws.Provider(name, region=settings.region, profile=settings.profile, assume_roles=assume_roles,
                            opts=opts)
    access_key = settings.access_key or EMULATOR_CREDENTIALS[0]
    secret_key = settings.secret_key or EMULATOR_CREDENTIALS[1]
    endpoint = settings.endpoint
    return aws.Provider(
        name,
        region=settings.region,
        access_key=pulumi.Output.secret(access_key),
        secret_key=pulumi.Output.secret(secret_key),
        endpoints=[{service: endpoint for service in provider_endpoints(services)}],
        skip_credentials_validation=True,
        # STS is mapped to the emulator, which answers GetCallerIdentity: without the account id a budget's
        # id reads `:<name>`, which the provider's own parser rejects on read, update and delete.
        skip_requesting_account_id=False,
        skip_metadata_api_check=True,
        s3_use_path_style=True,
        assume_roles=assume_roles,
        opts=opts,
    )


def setup_access(settings: TargetSettings, account_id: str | None = None) -> AwsAccess:
    """The instructor's access for a lab's setup script: the same target, endpoint and credentials
    as the explicit AWS provider (the emulators' test keys when none are given); with `account_id`
    (isolation mode `account`) through the pool's access role in that account, as the provider."""
    role = role_arn(account_id) if account_id else None
    if settings.kind not in EMULATED:
        return AwsAccess(settings.region, None, settings.profile, settings.access_key, settings.secret_key, role)
    return AwsAccess(
        settings.region,
        settings.endpoint,
        None,
        settings.access_key or EMULATOR_CREDENTIALS[0],
        settings.secret_key or EMULATOR_CREDENTIALS[1],
        role,
    )


DOCKER_HOST = "unix:///var/run/docker.sock"
POSTGRES_DEFAULTS = {"host": "127.0.0.1", "port": "5432", "user": "postgres", "dbname": "postgres"}
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


def postgres_admin(dsn: str | None) -> dict[str, str]:
    """host, port, user, dbname (and sslmode when given) of the cohort's admin DSN; local defaults without one."""
    parts = dict(POSTGRES_DEFAULTS)
    if dsn:
        from psycopg.conninfo import conninfo_to_dict

        parts |= {k: str(v) for k, v in conninfo_to_dict(dsn).items() if k in (*POSTGRES_DEFAULTS, "sslmode")}
    return parts


@functools.lru_cache(maxsize=16)
def shared_services(services: Services) -> SharedServices:
    """Where students reach the cohort's cluster and PostgreSQL server (read once per process)."""
    server, ca = SharedServices().cluster_server, ""
    if services.kubeconfig:
        server, ca = cluster_endpoint(Path(services.kubeconfig).read_text(encoding="utf-8"), services.kube_context)
    admin = postgres_admin(services.postgres_dsn)
    return SharedServices(server, ca, admin["host"], int(admin["port"]))


def kubernetes_provider(name: str, services: Services) -> k8s.Provider:
    """The cohort's cluster; the kubeconfig is passed by path, so no credential enters the state."""
    return k8s.Provider(name, kubeconfig=services.kubeconfig, context=services.kube_context)


def postgres_sslmode(admin: dict[str, str]) -> str:
    """The DSN's sslmode, else `disable` on this machine and `require` elsewhere. Never left unset: the
    provider SDK would take the shell's PGSSLMODE (pulumi_postgresql/provider.py) and the provider its
    own default, which need not suit a local server without TLS."""
    if admin.get("sslmode"):
        return admin["sslmode"]
    return "disable" if admin["host"] in LOOPBACK_HOSTS else "require"


def postgresql_provider(name: str, services: Services) -> postgresql.Provider:
    """The cohort's PostgreSQL server as its admin; the password only from PGPASSWORD, as a secret."""
    admin = postgres_admin(services.postgres_dsn)
    password = os.environ.get("PGPASSWORD")
    return postgresql.Provider(
        name,
        host=admin["host"],
        port=int(admin["port"]),
        username=admin["user"],
        database=admin["dbname"],
        sslmode=postgres_sslmode(admin),
        password=pulumi.Output.secret(password) if password else None,
    )


def workspace_port(cohort: Cohort, student: Student, lab: LabSpec) -> int:
    """A loopback port per student and lab, stable while the roster and lab list stay the same."""
    index = next((i for i, s in enumerate(cohort.students) if s.student == student.student), 0)
    lab_index = cohort.labs.index(lab.id) if lab.id in cohort.labs else 0
    return WORKSPACE_BASE_PORT + index * max(1, len(cohort.labs)) + lab_index


def aws_services(lab: LabSpec) -> list[str]:
    """The AWS endpoints the lab's resources use: the sandbox's services, and RDS for an RDS database."""
    env = lab.environment
    services = list(env.aws.services) if env.aws is not None else []
    if env.database is not None and env.database.mode == "rds":
        services.append("rds")
    return services


def student_program(
    cohort: Cohort, student: Student, lab: LabSpec, settings: TargetSettings, lab_folder: Path | None = None,
    account: AccountPlacement | None = None,
) -> Callable[[], None]:
    """The inline program that builds `lab` for `student`: one StudentLab and the providers it needs.

    `lab_folder` holds the lab's seed and setup script (the catalog's folder for `lab` by default);
    `account` is the student's own member account in isolation mode `account`.
    """
    folder = lab_folder or CATALOG_DIR / lab.id

    def program() -> None:
        env = lab.environment
        prefix = student.prefix
        account_id = account.account_id if account else None
        providers: list[pulumi.ProviderResource] = []
        if env.aws is not None or (env.database is not None and env.database.mode == "rds"):
            providers.append(aws_provider(f"{prefix}-aws-provider", settings, aws_services(lab), account_id=account_id))
        if env.kubernetes is not None:
            providers.append(kubernetes_provider(f"{prefix}-k8s-provider", cohort.services))
        if env.database is not None and env.database.mode == "shared":
            providers.append(postgresql_provider(f"{prefix}-postgresql-provider", cohort.services))
        if env.workspace is not None:
            providers.append(docker.Provider(f"{prefix}-docker-provider", host=DOCKER_HOST))
        student_lab = StudentLab(
            student.prefix,
            StudentLabArgs(
                cohort=cohort.name,
                student=student.student,
                prefix=student.prefix,
                lab=lab.id,
                environment=lab.environment,
                cohort_budget_usd=cohort.budget_usd,
                instructor_email=cohort.instructor_email,
                shared=shared_services(cohort.services),
                workspace_port=workspace_port(cohort, student, lab),
                lab_folder=folder,
                setup_access=setup_access(settings, account_id) if env.aws is not None and env.aws.setup else None,
                account=account,
            ),
            # Explicit providers only: no resource may fall back to ambient credentials or region.
            opts=pulumi.ResourceOptions(providers=providers),
        )
        for key, value in student_lab.outputs.items():
            pulumi.export(key, value)

    return program


ORGANIZATION_ENDPOINTS = ("organizations", "ce")


def organization_program(cohort: Cohort, labs: Sequence[LabSpec], account_ids: Sequence[str], parent_id: str,
                         settings: TargetSettings) -> Callable[[], None]:
    """The management account's program for a cohort in isolation mode `account`: its OU, SCPs and
    cost-allocation tags (`components.student_account.CohortOrganization`)."""

    def program() -> None:
        provider = aws_provider(f"{cohort.name}-organization-provider", settings, ORGANIZATION_ENDPOINTS)
        organization = CohortOrganization(
            f"{cohort.name}-organization",
            CohortOrganizationArgs(cohort.name, tuple(labs), cohort.target.region, tuple(account_ids), parent_id,
                                   {COHORT_TAG: cohort.name, LAB_TAG: " ".join(lab.id for lab in labs)}),
            opts=pulumi.ResourceOptions(providers=[provider]),
        )
        pulumi.export("ou_id", organization.ou.id)

    return program
