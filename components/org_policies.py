"""Service control policies for isolation mode `account`, as pure functions of the cohort's labs.

One leased member account per student: inside it the student has broad rights, and these SCPs (on the
cohort's OU and on each leased account) are what bounds them, whatever IAM in the account says:
- `region-and-services`: requests outside the allowed regions are denied (global services excepted),
  and so is every action outside the labs' services;
- `guardrails`: leaving the organization, and touching labctl's roles, the budget and its action,
  or CloudTrail, are denied to everyone but the organization's access role;
- `cost-limits`: EC2 only of the allowed instance types and never GPU, accelerated or bare-metal
  families; RDS only of small classes and at most RDS_MAX_STORAGE_GB; no Marketplace subscriptions,
  reserved capacity or savings plans.
AWS allows five SCPs per target (FullAWSAccess is one), and 5,120 characters per SCP.
"""

from __future__ import annotations

import json
from typing import Sequence

from labctl.labs.spec import LabSpec
from labctl.policies.aws_actions import scp_service_actions

POLICY_VERSION = "2012-10-17"
SCP_MAX_CHARS = 5120
ACCESS_ROLE_ARN = "arn:aws:iam::*:role/OrganizationAccountAccessRole"
LABCTL_ROLE_ARNS = ("arn:aws:iam::*:role/labctl/*", ACCESS_ROLE_ARN)
LABCTL_POLICY_ARNS = ("arn:aws:iam::*:policy/labctl/*",)
GLOBAL_SERVICE_ACTIONS = (
    "iam:*", "organizations:*", "sts:*", "budgets:*", "ce:*", "cur:*", "support:*", "health:*",
    "account:*", "cloudfront:*", "route53:*", "waf:*", "tag:*", "s3:ListAllMyBuckets", "s3:GetBucketLocation",
)
"""Served from us-east-1 whatever the caller's region: the region lock must not deny them."""
DEFAULT_INSTANCE_TYPES = ("t3.micro", "t3.small", "t4g.micro", "t4g.small")
SMALL_DB_CLASSES = ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small")
RDS_MAX_STORAGE_GB = 100
LARGE_INSTANCE_PATTERNS = ("p*", "g*", "inf*", "trn*", "dl*", "f*", "vt*", "x*", "u-*", "*.metal", "*.*xlarge")
"""GPU, accelerated, high-memory and bare-metal families, and any size from xlarge up."""
RDS_SIZE_ACTIONS = ("rds:CreateDBInstance", "rds:ModifyDBInstance", "rds:CreateDBCluster", "rds:ModifyDBCluster",
                    "rds:RestoreDBInstanceFromDBSnapshot", "rds:RestoreDBInstanceToPointInTime")
PURCHASE_ACTIONS = (
    "aws-marketplace:Subscribe", "aws-marketplace:AcceptAgreementRequest",
    "ec2:PurchaseReservedInstancesOffering", "ec2:PurchaseHostReservation", "ec2:PurchaseScheduledInstances",
    "ec2:AcceptReservedInstancesExchangeQuote", "rds:PurchaseReservedDBInstancesOffering",
    "dynamodb:PurchaseReservedCapacityOfferings", "elasticache:PurchaseReservedCacheNodesOffering",
    "redshift:PurchaseReservedNodeOffering", "savingsplans:CreateSavingsPlan",
)
BUDGET_ACTIONS = ("budgets:ModifyBudget", "budgets:DeleteBudget*", "budgets:UpdateBudgetAction",
                  "budgets:DeleteBudgetAction", "budgets:ExecuteBudgetAction", "budgets:CreateBudgetAction")
CLOUDTRAIL_ACTIONS = ("cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                      "cloudtrail:PutEventSelectors")


def allowed_regions(labs: Sequence[LabSpec], home_region: str) -> tuple[str, ...]:
    """The regions a cohort's accounts may use: every lab's regions and the target's own, sorted."""
    return tuple(sorted({home_region, *(r for lab in labs if lab.environment.aws for r in lab.environment.aws.regions)}))


def lab_services(labs: Sequence[LabSpec]) -> list[str]:
    return sorted({s for lab in labs if lab.environment.aws for s in lab.environment.aws.services})


def instance_types(labs: Sequence[LabSpec]) -> list[str]:
    """The EC2 types the labs allow (their `instance_types` that are not DB classes), else small ones."""
    named = {t for lab in labs if lab.environment.aws for t in lab.environment.aws.instance_types
             if not t.startswith("db.")}
    return sorted(named or set(DEFAULT_INSTANCE_TYPES))


def db_classes(labs: Sequence[LabSpec]) -> list[str]:
    named = {t for lab in labs if lab.environment.aws for t in lab.environment.aws.instance_types if t.startswith("db.")}
    return sorted(named or set(SMALL_DB_CLASSES))


def except_labctl() -> dict:
    """The condition that exempts the organization's access role (labctl's own provisioning)."""
    return {"ArnNotLike": {"aws:PrincipalARN": [ACCESS_ROLE_ARN]}}


def deny(sid: str, actions: Sequence[str], resources: Sequence[str] = ("*",), condition: dict | None = None,
         not_action: bool = False) -> dict:
    statement = {"Sid": sid, "Effect": "Deny", ("NotAction" if not_action else "Action"): sorted(actions),
                 "Resource": list(resources)}
    if condition:
        statement["Condition"] = condition
    return statement


def document(*statements: dict) -> dict:
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def region_and_services_scp(labs: Sequence[LabSpec], home_region: str) -> dict:
    regions = list(allowed_regions(labs, home_region))
    return document(
        deny("RegionLock", GLOBAL_SERVICE_ACTIONS, condition={
            "StringNotEquals": {"aws:RequestedRegion": regions}, **except_labctl()}, not_action=True),
        deny("LabServicesOnly", scp_service_actions(lab_services(labs)), condition=except_labctl(), not_action=True),
    )


def guardrails_scp() -> dict:
    return document(
        deny("DenyLeaveOrganization", ["organizations:LeaveOrganization"]),
        deny("ProtectLabctlRoles", ["iam:*"], [*LABCTL_ROLE_ARNS, *LABCTL_POLICY_ARNS], except_labctl()),
        deny("ProtectBudgets", BUDGET_ACTIONS, condition=except_labctl()),
        deny("ProtectCloudTrail", CLOUDTRAIL_ACTIONS, condition=except_labctl()),
    )


def cost_limits_scp(labs: Sequence[LabSpec]) -> dict:
    instances = ["arn:aws:ec2:*:*:instance/*"]
    return document(
        deny("InstanceTypes", ["ec2:RunInstances"], instances,
             {"StringNotEquals": {"ec2:InstanceType": instance_types(labs)}}),
        deny("NoLargeInstances", ["ec2:RunInstances"], instances,
             {"StringLike": {"ec2:InstanceType": list(LARGE_INSTANCE_PATTERNS)}}),
        deny("DatabaseClasses", RDS_SIZE_ACTIONS, condition={"StringNotEquals": {"rds:DatabaseClass": db_classes(labs)}}),
        deny("DatabaseSize", RDS_SIZE_ACTIONS, condition={"NumericGreaterThan": {"rds:StorageSize": RDS_MAX_STORAGE_GB}}),
        deny("NoPurchases", PURCHASE_ACTIONS),
    )


def cohort_scps(labs: Sequence[LabSpec], home_region: str) -> dict[str, dict]:
    """The cohort's SCPs by short name; each within AWS's size limit."""
    return {
        "region-and-services": region_and_services_scp(labs, home_region),
        "guardrails": guardrails_scp(),
        "cost-limits": cost_limits_scp(labs),
    }


def scp_json(doc: dict) -> str:
    """Minified, as AWS counts an SCP's size."""
    return json.dumps(doc, separators=(",", ":"))
