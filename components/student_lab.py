"""A student's lab: the environments the lab's `environment` asks for, composed under one component."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.aws_sandbox import AwsSandbox, AwsSandboxArgs
from components.tags import student_tags
from labs.spec import Environment


@dataclass(frozen=True)
class StudentLabArgs:
    cohort: str
    student: str
    prefix: str
    lab: str
    environment: Environment


class StudentLab(pulumi.ComponentResource):
    """Everything one student gets for one lab; providers come from `opts` (e.g. `providers=[aws]`)."""

    def __init__(self, name: str, args: StudentLabArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:lab:StudentLab", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = student_tags(args.cohort, args.student, args.lab)
        self.aws: AwsSandbox | None = None
        outputs: dict[str, object] = {"prefix": args.prefix, "lab": args.lab}
        if args.environment.aws is not None:
            env = args.environment.aws
            self.aws = AwsSandbox(
                f"{name}-aws",
                AwsSandboxArgs(
                    prefix=args.prefix,
                    cohort=args.cohort,
                    services=tuple(env.services),
                    regions=tuple(env.regions),
                    tags=tags,
                ),
                opts=child,
            )
            outputs |= {
                "aws_user": self.aws.user_name,
                "aws_access_key_id": self.aws.access_key_id,
                "aws_secret_access_key": self.aws.secret_access_key,
            }
        self.outputs = outputs
        self.register_outputs(outputs)
