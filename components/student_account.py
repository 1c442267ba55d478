"""Isolation mode `account`: one student's own member account, and the cohort's OU and SCPs.

`StudentAccount` is built through a provider that assumes the pool's access role in the student's
account (see `stacks.program.account_provider`). Inside: the student's role with broad rights
(AdministratorAccess), capped by the cohort's SCPs and by a permissions boundary that protects
labctl's own roles, policies, budget and CloudTrail and makes every role or user the student creates
carry the same boundary; labctl's read-only grader role; a monthly budget on the whole account (a
leased account is one student's, so no cost filter is needed) whose budget action, at 100 % of
actual spend, attaches AWS's deny-all policy to the student's role without waiting for approval.

`CohortOrganization` lives in the management account: the cohort's OU, its SCPs
(`components.org_policies`), attached to the OU and to each leased account directly (so they bind
wherever the account sits in the organization), and the cost-allocation tags activated (only the
management account can activate them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

import pulumi
import pulumi_aws as aws

from labctl.cohorts.accounts import LABCTL_PATH, STUDENT_ROLE
from labctl.cohorts.accounts import STUDENT_BOUNDARY as BOUNDARY_NAME
from labctl.cohorts.organization import cohort_ou_name
from labctl.components.aws_sandbox import budget_notifications
from labctl.components.org_policies import CLOUDTRAIL_ACTIONS, BUDGET_ACTIONS, LABCTL_POLICY_ARNS, cohort_scps, scp_json
from labctl.components.tags import COHORT_TAG, LAB_TAG, STUDENT_TAG
from labctl.labs.spec import LabSpec

GRADER_ROLE = "labctl-grader"
BUDGET_ACTION_ROLE = "labctl-budget-action"
ADMINISTRATOR = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
DENY_ALL = "arn:aws:iam::aws:policy/AWSDenyAll"
BUDGET_ACTIONS_POLICY = "arn:aws:iam::aws:policy/AWSBudgetsActionsWithAWSResourceControlAccess"
COST_ALLOCATION_TAGS = (COHORT_TAG, STUDENT_TAG, LAB_TAG)
IAM_PRINCIPAL_WRITES = ("iam:CreateRole", "iam:CreateUser", "iam:PutRolePermissionsBoundary",
                        "iam:PutUserPermissionsBoundary")
BOUNDARY_REMOVALS = ("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary")


def trust(principal: Mapping[str, str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": dict(principal), "Action": "sts:AssumeRole"}]})


def account_boundary_policy(account_id: str) -> dict:
    """The student's boundary: everything, except labctl's roles and policies, the budget, CloudTrail,
    removing a boundary, and creating a role or user without this same boundary."""
    boundary = f"arn:aws:iam::{account_id}:policy{LABCTL_PATH}{BOUNDARY_NAME}"
    labctl = [f"arn:aws:iam::{account_id}:role{LABCTL_PATH}*",
              f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
              *(arn.replace("*", account_id, 1) for arn in LABCTL_POLICY_ARNS)]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "LabctlOwn", "Effect": "Deny", "Action": "iam:*", "Resource": labctl},
        {"Sid": "Budget", "Effect": "Deny", "Action": list(BUDGET_ACTIONS), "Resource": "*"},
        {"Sid": "CloudTrail", "Effect": "Deny", "Action": list(CLOUDTRAIL_ACTIONS), "Resource": "*"},
        {"Sid": "KeepBoundaries", "Effect": "Deny", "Action": list(BOUNDARY_REMOVALS), "Resource": "*"},
        {"Sid": "SameBoundary", "Effect": "Deny", "Action": list(IAM_PRINCIPAL_WRITES), "Resource": "*",
         "Condition": {"StringNotEquals": {"iam:PermissionsBoundary": boundary}}},
    ]}


@dataclass(frozen=True)
class StudentAccountArgs:
    """`management_account` is the organization's management account id: labctl assumes the student
    and grader roles from there. `notify_email` gets the budget's alerts and its action's notice."""

    account_id: str
    prefix: str
    tags: Mapping[str, str]
    budget_usd: float
    management_account: str
    notify_email: str


class StudentAccount(pulumi.ComponentResource):
    """What labctl puts into a student's own account: their role, the grader's, the boundary, the budget."""

    def __init__(self, name: str, args: StudentAccountArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:aws:StudentAccount", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        management = trust({"AWS": f"arn:aws:iam::{args.management_account}:root"})
        self.boundary = aws.iam.Policy(
            f"{name}-boundary", name=BOUNDARY_NAME, path=LABCTL_PATH,
            description=f"labctl permissions boundary for {args.prefix}",
            policy=json.dumps(account_boundary_policy(args.account_id)), tags=tags, opts=child)
        self.student_role = aws.iam.Role(
            f"{name}-student", name=STUDENT_ROLE, path=LABCTL_PATH, assume_role_policy=management,
            permissions_boundary=self.boundary.arn, max_session_duration=43200, tags=tags, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-student-rights", role=self.student_role.name, policy_arn=ADMINISTRATOR,
                                     opts=child)
        self.grader_role = aws.iam.Role(
            f"{name}-grader", name=GRADER_ROLE, path=LABCTL_PATH, assume_role_policy=management, tags=tags, opts=child)
        aws.iam.RolePolicyAttachment(f"{name}-grader-read", role=self.grader_role.name, policy_arn=READ_ONLY,
                                     opts=child)
        action_role = aws.iam.Role(
            f"{name}-budget-action-role", name=BUDGET_ACTION_ROLE, path=LABCTL_PATH,
            assume_role_policy=trust({"Service": "budgets.amazonaws.com"}), tags=tags, opts=child)
        action_rights = aws.iam.RolePolicyAttachment(
            f"{name}-budget-action-rights", role=action_role.name, policy_arn=BUDGET_ACTIONS_POLICY, opts=child)
        self.budget = aws.budgets.Budget(
            f"{name}-budget", name=f"{args.prefix}-budget", budget_type="COST", time_unit="MONTHLY",
            limit_amount=f"{args.budget_usd:.2f}", limit_unit="USD",
            notifications=budget_notifications(args.notify_email), tags=tags, opts=child)
        self.budget_action = aws.budgets.BudgetAction(
            f"{name}-budget-action",
            budget_name=self.budget.name,
            action_type="APPLY_IAM_POLICY",
            approval_model="AUTOMATIC",
            notification_type="ACTUAL",
            action_threshold={"action_threshold_type": "PERCENTAGE", "action_threshold_value": 100.0},
            definition={"iam_action_definition": {"policy_arn": DENY_ALL, "roles": [self.student_role.name]}},
            execution_role_arn=action_role.arn,
            subscribers=[{"address": args.notify_email, "subscription_type": "EMAIL"}],
            tags=tags,
            # Budgets checks the execution role's rights when the action is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[action_rights]),
        )
        self.register_outputs({
            "account_id": args.account_id,
            "student_role_arn": self.student_role.arn,
            "grader_role_arn": self.grader_role.arn,
            "boundary_arn": self.boundary.arn,
            "budget": self.budget.name,
        })


@dataclass(frozen=True)
class CohortOrganizationArgs:
    """`parent_id` is where the cohort's OU goes (the organization's root, or a pool OU)."""

    cohort: str
    labs: tuple[LabSpec, ...]
    home_region: str
    account_ids: tuple[str, ...]
    parent_id: str
    tags: Mapping[str, str]


class CohortOrganization(pulumi.ComponentResource):
    """In the management account: the cohort's OU, its SCPs on the OU and on each leased account, and
    the cost-allocation tags activated."""

    def __init__(self, name: str, args: CohortOrganizationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:aws:CohortOrganization", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = dict(args.tags)
        self.ou = aws.organizations.OrganizationalUnit(
            f"{name}-ou", name=cohort_ou_name(args.cohort), parent_id=args.parent_id, tags=tags, opts=child)
        self.policies: dict[str, aws.organizations.Policy] = {}
        for short, doc in cohort_scps(list(args.labs), args.home_region).items():
            policy = aws.organizations.Policy(
                f"{name}-scp-{short}", name=f"labctl-{args.cohort}-{short}", type="SERVICE_CONTROL_POLICY",
                description=f"labctl {short} for cohort {args.cohort}", content=scp_json(doc), tags=tags, opts=child)
            self.policies[short] = policy
            for target, target_id in (("ou", self.ou.id), *((account, account) for account in args.account_ids)):
                aws.organizations.PolicyAttachment(f"{name}-scp-{short}-{target}", policy_id=policy.id,
                                                   target_id=target_id, opts=child)
        for key in COST_ALLOCATION_TAGS:
            aws.costexplorer.CostAllocationTag(f"{name}-cost-tag-{key.split(':')[1]}", tag_key=key, status="Active",
                                               opts=child)
        self.register_outputs({"ou_id": self.ou.id, "scp_ids": {k: p.id for k, p in self.policies.items()}})
