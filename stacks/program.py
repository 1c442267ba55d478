"""The inline Pulumi program for one student's lab, and the provider for the cohort's target."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import pulumi
import pulumi_aws as aws

from components.student_lab import StudentLab, StudentLabArgs
from labs.spec import LabSpec
from stacks.cohort import TARGETS, Cohort, Student, Target

EMULATED = ("emulator", "localstack")
EMULATOR_CREDENTIALS = ("test", "test")
# The sandbox itself needs IAM, and every AWS SDK asks STS who it is.
ALWAYS_ENDPOINTS = ("iam", "sts")


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


def aws_provider(
    name: str, settings: TargetSettings, services: Sequence[str], opts: pulumi.ResourceOptions | None = None
) -> aws.Provider:
    """An explicit provider: emulators get an endpoint per service and test credentials as secrets."""
    if settings.kind not in EMULATED:
        return aws.Provider(name, region=settings.region, profile=settings.profile, opts=opts)
    access_key = settings.access_key or EMULATOR_CREDENTIALS[0]
    secret_key = settings.secret_key or EMULATOR_CREDENTIALS[1]
    endpoint = settings.endpoint
    return aws.Provider(
        name,
        region=settings.region,
        access_key=pulumi.Output.secret(access_key),
        secret_key=pulumi.Output.secret(secret_key),
        endpoints=[{service: endpoint for service in sorted({*services, *ALWAYS_ENDPOINTS})}],
        skip_credentials_validation=True,
        skip_requesting_account_id=True,
        skip_metadata_api_check=True,
        s3_use_path_style=True,
        opts=opts,
    )


def student_program(
    cohort: Cohort, student: Student, lab: LabSpec, settings: TargetSettings
) -> Callable[[], None]:
    """The inline program that builds `lab` for `student`: one StudentLab and the providers it needs."""

    def program() -> None:
        providers: list[pulumi.ProviderResource] = []
        if lab.environment.aws is not None:
            services = lab.environment.aws.services
            providers.append(aws_provider(f"{student.prefix}-aws-provider", settings, services))
        student_lab = StudentLab(
            student.prefix,
            StudentLabArgs(
                cohort=cohort.name,
                student=student.student,
                prefix=student.prefix,
                lab=lab.id,
                environment=lab.environment,
            ),
            # Explicit providers only: no resource may fall back to ambient credentials or region.
            opts=pulumi.ResourceOptions(providers=providers),
        )
        for key, value in student_lab.outputs.items():
            pulumi.export(key, value)

    return program
