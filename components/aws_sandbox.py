"""One student's AWS sandbox: an IAM user named by the prefix, its access key, its identity policy
(managed policies attached to the user), its permissions boundary and its monthly budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_aws as aws

from labctl.components.aws_policies import (
    boundary_arn,
    policy_json,
    split_identity_policy,
    student_boundary_policy,
    student_identity_policy,
)
from labctl.components.tags import COHORT_TAG, STUDENT_TAG, owner_tags

BUDGET_THRESHOLDS = (80, 100)


def budget_limit(lab_usd: float, cohort_usd: float | None = None) -> float:
    """A student's monthly budget: the lab's, lowered to the cohort's cap when the cohort has one."""
    return lab_usd if cohort_usd is None else min(lab_usd, cohort_usd)


def budget_notifications(email: str | None) -> list[dict]:
    """E-mails to `email` when actual spend passes 80 % and 100 % of the limit; none without an address."""
    if not email:
        return []
    return [
        {
            "comparison_operator": "GREATER_THAN",
            "notification_type": "ACTUAL",
            "threshold": float(percent),
            "threshold_type": "PERCENTAGE",
            "subscriber_email_addresses": [email],
        }
        for percent in BUDGET_THRESHOLDS
    ]


def budget_filter(tags: Mapping[str, str]) -> dict:
    """Costs of the resources tagged with this student's cohort and student (cost allocation tags)."""
    return {
        "ands": [
            {"tags": {"key": key, "values": [tags[key]], "match_options": ["EQUALS"]}}
            for key in (COHORT_TAG, STUDENT_TAG)
        ]
    }


@dataclass(frozen=True)
class AwsSandboxArgs:
    """`budget_usd` is the student's monthly limit (see `budget_limit`); `notify_email` gets its alerts.
    `instance_types` is the EC2 allow-list; without one a lab's EC2 is describe-only."""

    prefix: str
    cohort: str
    services: tuple[str, ...]
    regions: tuple[str, ...]
    tags: Mapping[str, str]
    budget_usd: float
    notify_email: str | None = None
    instance_types: tuple[str, ...] = ()
    role_policies: tuple[str, ...] = ()


class AwsSandbox(pulumi.ComponentResource):
    """An IAM user that may act only on the lab's services, in the lab's regions, on its own names,
    capped by a permissions boundary it cannot change, with a budget that alerts the instructor."""

    def __init__(self, name: str, args: AwsSandboxArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:aws:AwsSandbox", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        path = f"/labctl/{args.cohort}/"
        document = student_identity_policy(
            args.prefix,
            args.services,
            args.regions,
            owner_tags(tags),
            args.instance_types,
            boundary_arn(args.cohort, args.prefix),
            args.role_policies,
        )
        self.boundary = aws.iam.Policy(
            f"{name}-boundary",
            name=f"{args.prefix}-boundary",
            path=path,
            description=f"labctl permissions boundary for {args.prefix}",
            policy=policy_json(
                student_boundary_policy(args.prefix, args.services, args.regions, owner_tags(tags), args.role_policies)
            ),
            tags=tags,
            opts=child,
        )
        self.user = aws.iam.User(
            f"{name}-user",
            name=args.prefix,
            path=path,
            permissions_boundary=self.boundary.arn,
            tags=tags,
            # Teardown must succeed even when the student attached keys or policies of their own.
            force_destroy=True,
            opts=child,
        )
        self.access_key = aws.iam.AccessKey(f"{name}-key", user=self.user.name, opts=child)
        # Managed policies, not one inline policy: an inline user policy holds 2,048 characters, a
        # managed one 6,144, and the identity policy of most labs needs more than that.
        self.identity_policies: list[aws.iam.Policy] = []
        self.identity_attachments: list[aws.iam.UserPolicyAttachment] = []
        for number, part in enumerate(split_identity_policy(document), start=1):
            policy = aws.iam.Policy(
                f"{name}-identity-{number}",
                name=f"{args.prefix}-identity-{number}",
                path=path,
                description=f"labctl lab permissions for {args.prefix} ({number})",
                policy=policy_json(part),
                tags=tags,
                opts=child,
            )
            self.identity_policies.append(policy)
            self.identity_attachments.append(
                aws.iam.UserPolicyAttachment(
                    f"{name}-identity-{number}-attach", user=self.user.name, policy_arn=policy.arn, opts=child
                )
            )
        self.budget = aws.budgets.Budget(
            f"{name}-budget",
            name=f"{args.prefix}-budget",
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{args.budget_usd:.2f}",
            limit_unit="USD",
            filter_expression=budget_filter(tags),
            notifications=budget_notifications(args.notify_email) or None,
            tags=tags,
            opts=child,
        )
        self.user_name = self.user.name
        self.access_key_id = self.access_key.id
        self.secret_access_key = pulumi.Output.secret(self.access_key.secret)
        self.register_outputs(
            {
                "user_name": self.user_name,
                "user_arn": self.user.arn,
                "boundary_arn": self.boundary.arn,
                "identity_policy_arns": [policy.arn for policy in self.identity_policies],
                "budget": self.budget.name,
                "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key,
            }
        )
