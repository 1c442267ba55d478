"""One student's AWS sandbox: an IAM user named by the prefix, its access key and its policy."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_aws as aws

from components.aws_policies import student_identity_policy
from components.tags import owner_tags


@dataclass(frozen=True)
class AwsSandboxArgs:
    prefix: str
    cohort: str
    services: tuple[str, ...]
    regions: tuple[str, ...]
    tags: Mapping[str, str]


class AwsSandbox(pulumi.ComponentResource):
    """An IAM user that may act only on the lab's services, in the lab's regions, on its own names."""

    def __init__(self, name: str, args: AwsSandboxArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:aws:AwsSandbox", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        document = student_identity_policy(args.prefix, args.services, args.regions, owner_tags(tags))
        self.user = aws.iam.User(
            f"{name}-user",
            name=args.prefix,
            path=f"/labctl/{args.cohort}/",
            tags=tags,
            # Teardown must succeed even when the student attached keys or policies of their own.
            force_destroy=True,
            opts=child,
        )
        self.access_key = aws.iam.AccessKey(f"{name}-key", user=self.user.name, opts=child)
        self.policy = aws.iam.UserPolicy(
            f"{name}-policy",
            name=f"{args.prefix}-lab",
            user=self.user.name,
            policy=json.dumps(document, sort_keys=True),
            opts=child,
        )
        self.user_name = self.user.name
        self.access_key_id = self.access_key.id
        self.secret_access_key = pulumi.Output.secret(self.access_key.secret)
        self.register_outputs(
            {
                "user_name": self.user_name,
                "user_arn": self.user.arn,
                "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key,
            }
        )
