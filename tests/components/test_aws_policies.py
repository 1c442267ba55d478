"""The student's IAM policy document: own names allowed, other students' names not matched."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from labctl.components.aws_policies import (
    IAM_ROLE_OTHER_ACTIONS,
    IAM_ROLE_WRITE_ACTIONS,
    IAM_SELF_MANAGEMENT,
    IAM_SELF_MANAGEMENT_PATTERNS,
    IDENTITY_DOCUMENTS_MAX,
    KNOWN_SERVICES,
    MANAGED_POLICY_MAX_CHARS,
    boundary_arn,
    policy_json,
    policy_size,
    split_identity_policy,
    statement,
    student_boundary_policy,
    student_identity_policy,
)
from labctl.components.aws_sandbox import budget_filter, budget_limit, budget_notifications
from labctl.components.tags import owner_tags, student_tags
from labctl.labs.catalog import load_catalog
from tests.iam_eval import ACCOUNT, allowed_by, decide

OWNER = owner_tags(student_tags("c1", "s001", "s3-static-website"))
BOUNDARY = boundary_arn("c1", "c1-s001")


def allows(policy: dict, action: str, resource: str, region: str = "us-east-1", **context: str) -> bool:
    return allowed_by(policy, action, resource, {"aws:RequestedRegion": region, **context})


def effective(identity: dict, boundary: dict, action: str, resource: str, region: str = "us-east-1", **context) -> bool:
    """What a user with `identity` and permissions boundary `boundary` may do (see tests/iam_eval.py)."""
    return decide(action, resource, [identity], boundary, context={"aws:RequestedRegion": region, **context})


def actions(policy: dict) -> list[str]:
    """The actions the policy allows (its Deny statements name actions too)."""
    return [a for s in policy["Statement"] if s["Effect"] == "Allow" for a in s["Action"]]


def test_own_prefix_buckets_and_objects_are_allowed():
    policy = student_identity_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    assert allows(policy, "s3:CreateBucket", "arn:aws:s3:::c1-s001-site")
    assert allows(policy, "s3:PutBucketPolicy", "arn:aws:s3:::c1-s001-site")
    assert allows(policy, "s3:PutObject", "arn:aws:s3:::c1-s001-site/index.html")
    # No listing of every student's buckets: the boundary denies S3 outside the student's names.
    assert not allows(policy, "s3:ListAllMyBuckets", "*")


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:s3:::c1-s002-site",
        "arn:aws:s3:::c1-s002-site/index.html",
        "arn:aws:s3:::c1-s0010-site",
        "arn:aws:s3:::c1-s001",
        "arn:aws:s3:::c2-s001-site",
        "arn:aws:s3:::x-c1-s001-site",
    ],
)
def test_other_names_are_not_matched(resource):
    policy = student_identity_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    assert not allows(policy, "s3:CreateBucket", resource)
    assert not allows(policy, "s3:PutObject", resource)
    assert not allows(policy, "s3:GetObject", resource)


def test_other_regions_are_not_allowed():
    policy = student_identity_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    assert not allows(policy, "s3:CreateBucket", "arn:aws:s3:::c1-s001-site", region="eu-west-1")
    for statement in (s for s in policy["Statement"] if s["Effect"] == "Allow"):
        assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == ["us-east-1"]


@pytest.mark.parametrize("services", [["s3"], ["s3", "dynamodb", "sqs", "sns"]])
def test_no_wildcard_actions_no_iam_and_star_only_for_listing(services):
    policy = student_identity_policy("c1-s001", services, ["us-east-1", "eu-west-1"], OWNER)
    assert policy["Version"] == "2012-10-17"
    for action in actions(policy):
        assert "*" not in action
        assert not action.startswith(("iam:", "sts:"))
    for statement in (s for s in policy["Statement"] if s["Effect"] == "Allow"):
        unscoped = "*" in statement["Resource"] and "aws:ResourceTag/labctl:student" not in json.dumps(statement)
        if unscoped and "aws:RequestTag/labctl:student" not in json.dumps(statement):
            assert all(a.split(":")[1].startswith(("List", "Describe")) for a in statement["Action"]), statement


def test_dynamodb_tables_are_scoped_by_name_and_region():
    policy = student_identity_policy("c1-s001", ["dynamodb"], ["us-east-1"], OWNER)
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/c1-s001-orders"
    assert allows(policy, "dynamodb:CreateTable", table)
    assert allows(policy, "dynamodb:UpdateContinuousBackups", table)
    assert allows(policy, "dynamodb:Query", f"{table}/index/by-status")
    # No listing of every student's tables: the boundary denies DynamoDB outside the student's names.
    assert not allows(policy, "dynamodb:ListTables", "*")
    assert not allows(policy, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/c1-s002-orders")
    assert not allows(policy, "dynamodb:PutItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/c1-s001-orders")


def test_services_without_name_scope_are_scoped_by_owner_tags():
    policy = student_identity_policy("c1-s001", ["sqs"], ["us-east-1"], OWNER)
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["SqsOwnTagged"]["Condition"]["StringEquals"] == {
        "aws:RequestedRegion": ["us-east-1"],
        "aws:ResourceTag/labctl:cohort": "c1",
        "aws:ResourceTag/labctl:student": "s001",
    }
    assert by_sid["SqsCreateTagged"]["Condition"]["StringEquals"]["aws:RequestTag/labctl:student"] == "s001"
    assert "SqsList" not in by_sid  # ListQueues would show every student's queue names


@pytest.mark.parametrize(
    ("services", "owner", "message"),
    [
        (["iam"], OWNER, "never granted"),
        (["sts"], OWNER, "never granted"),
        (["ec2"], None, "owner_tags"),
        (["lambda"], OWNER, "boundary"),
        (["redshift"], OWNER, "no student scope"),
        (["kms"], OWNER, "AWS managed key of another lab service"),
        (["cloudformation"], OWNER, "another lab service"),
        (["sns"], None, "owner_tags"),
        ([], OWNER, "at least one service"),
    ],
)
def test_refuses_what_it_cannot_scope(services, owner, message):
    with pytest.raises(ValueError, match=message):
        student_identity_policy("c1-s001", services, ["us-east-1"], owner)


def test_is_json_and_deterministic():
    first = student_identity_policy("c1-s001", ["s3", "sqs"], ["us-east-1"], OWNER)
    second = student_identity_policy("c1-s001", ["sqs", "s3"], ["us-east-1"], OWNER)
    assert json.loads(json.dumps(first)) == first == second


SLUG = st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True)


@given(own=SLUG, other=SLUG, bucket=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True))
def test_property_only_the_own_prefix_matches(own, other, bucket):
    policy = student_identity_policy(f"c1-{own}", ["s3"], ["us-east-1"], owner_tags(student_tags("c1", own, "lab")))
    assert allows(policy, "s3:PutObject", f"arn:aws:s3:::c1-{own}-{bucket}/key")
    if other != own:
        assert not allows(policy, "s3:PutObject", f"arn:aws:s3:::c1-{other}-{bucket}/key")
        assert not allows(policy, "s3:CreateBucket", f"arn:aws:s3:::c1-{other}-{bucket}")


# --- the permissions boundary -------------------------------------------------------------------

ALL_SERVICES = [
    "s3", "dynamodb", "sqs", "sns", "lambda", "ecs", "ec2", "logs", "apigateway", "cloudwatch", "rds", "kms",
    "cloudformation",
]
# A lab with roles (Lambda, ECS) may not have EC2 (see check_role_services), and with roles the boundary
# holds the delegation's denials too, so fewer services fit one managed policy.
WITH_ROLES = ["s3", "dynamodb", "sqs", "sns", "lambda", "ecs", "logs", "apigateway", "cloudwatch"]
WITHOUT_ROLES = [s for s in ALL_SERVICES if s not in ("lambda", "ecs")]


@pytest.mark.parametrize("services", [["s3"], WITH_ROLES, WITHOUT_ROLES])
@pytest.mark.parametrize("action", [*IAM_SELF_MANAGEMENT, "iam:CreatePolicy", "organizations:LeaveOrganization",
                                    "account:CloseAccount"])
def test_boundary_denies_iam_self_management_whatever_the_identity_policy_grants(services, action):
    boundary = student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}
    for resource in ("*", "arn:aws:iam::123456789012:user/labctl/c1/c1-s001",
                     "arn:aws:iam::123456789012:policy/labctl/c1/c1-s001-boundary"):
        assert not effective(admin, boundary, action, resource)
    assert {"iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
            "iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:CreateAccessKey", "iam:CreatePolicyVersion",
            "iam:SetDefaultPolicyVersion"} <= set(IAM_SELF_MANAGEMENT)


def test_boundary_caps_at_the_labs_services_own_names_and_regions():
    boundary = student_boundary_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}
    assert effective(admin, boundary, "s3:PutObject", "arn:aws:s3:::c1-s001-site/index.html")
    assert not effective(admin, boundary, "s3:ListAllMyBuckets", "*")
    assert not effective(admin, boundary, "s3:PutObject", "arn:aws:s3:::c1-s002-site/index.html")
    assert not effective(admin, boundary, "s3:PutObject", "arn:aws:s3:::c1-s001-site/x", region="eu-west-1")
    assert not effective(admin, boundary, "dynamodb:CreateTable", "arn:aws:dynamodb:us-east-1:1:table/c1-s001-t")
    assert not effective(admin, boundary, "iam:CreateRole", "arn:aws:iam::1:role/c1-s001-r")
    for statement in boundary["Statement"]:
        if statement["Effect"] == "Allow":
            assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == ["us-east-1"]


def test_own_prefix_is_allowed_through_identity_and_boundary_and_another_students_is_not():
    identity = student_identity_policy("c1-s001", ["s3", "dynamodb", "sqs"], ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", ["s3", "dynamodb", "sqs"], ["us-east-1"], OWNER)
    own, other = "arn:aws:s3:::c1-s001-site", "arn:aws:s3:::c1-s002-site"
    assert effective(identity, boundary, "s3:CreateBucket", own)
    assert not effective(identity, boundary, "s3:CreateBucket", other)
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/{}-orders"
    assert effective(identity, boundary, "dynamodb:PutItem", table.format("c1-s001"))
    assert not effective(identity, boundary, "dynamodb:PutItem", table.format("c1-s002"))
    queue = "arn:aws:sqs:us-east-1:123456789012:{}-jobs"
    mine = {"aws:ResourceTag/labctl:cohort": "c1", "aws:ResourceTag/labctl:student": "s001"}
    assert effective(identity, boundary, "sqs:SendMessage", queue.format("c1-s001"), **mine)
    assert not effective(identity, boundary, "sqs:SendMessage", queue.format("c1-s002"), **mine)


def test_boundary_is_deterministic_json_and_refuses_what_the_identity_policy_refuses():
    first = student_boundary_policy("c1-s001", ["sqs", "s3"], ["us-east-1"], OWNER)
    assert json.loads(json.dumps(first)) == first == student_boundary_policy("c1-s001", ["s3", "sqs"], ["us-east-1"], OWNER)
    for services, message in ((["iam"], "never granted"), (["redshift"], "no student scope"), ([], "at least one")):
        with pytest.raises(ValueError, match=message):
            student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)


# --- EC2 and roles ------------------------------------------------------------------------------


def test_ec2_launches_only_allowed_instance_types_tagged_for_the_owner():
    policy = student_identity_policy("c1-s001", ["ec2"], ["us-east-1"], OWNER, instance_types=["t3.micro"])
    instance = "arn:aws:ec2:us-east-1:123456789012:instance/*"
    tagged = {"aws:RequestTag/labctl:cohort": "c1", "aws:RequestTag/labctl:student": "s001"}
    assert allows(policy, "ec2:RunInstances", instance, **tagged, **{"ec2:InstanceType": "t3.micro"})
    assert not allows(policy, "ec2:RunInstances", instance, **tagged, **{"ec2:InstanceType": "m5.24xlarge"})
    assert not allows(policy, "ec2:RunInstances", instance, **{"ec2:InstanceType": "t3.micro"})
    assert not allows(policy, "ec2:RunInstances", instance, "eu-west-1", **tagged, **{"ec2:InstanceType": "t3.micro"})
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["Ec2RunOwnInstances"]["Condition"]["StringEquals"]["ec2:InstanceType"] == ["t3.micro"]
    own = {"aws:ResourceTag/labctl:cohort": "c1", "aws:ResourceTag/labctl:student": "s001"}
    others = {"aws:ResourceTag/labctl:cohort": "c1", "aws:ResourceTag/labctl:student": "s002"}
    assert allows(policy, "ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-1", **own)
    assert not allows(policy, "ec2:TerminateInstances", "arn:aws:ec2:us-east-1:1:instance/i-1", **others)
    assert not allows(policy, "ec2:ModifyInstanceAttribute", "arn:aws:ec2:us-east-1:1:instance/i-1", **own)


@pytest.mark.parametrize(("service", "principal"), [("lambda", "lambda.amazonaws.com"), ("ecs", "ecs-tasks.amazonaws.com")])
def test_roles_only_own_only_with_the_boundary_and_passed_only_to_the_labs_service(service, principal):
    identity = student_identity_policy("c1-s001", [service], ["us-east-1"], OWNER, boundary=BOUNDARY)
    boundary = student_boundary_policy("c1-s001", [service], ["us-east-1"], OWNER)
    own, other = "arn:aws:iam::123456789012:role/c1-s001-fn", "arn:aws:iam::123456789012:role/c1-s002-fn"
    with_boundary = {"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/labctl/c1/c1-s001-boundary"}
    assert effective(identity, boundary, "iam:CreateRole", own, **with_boundary)
    assert not effective(identity, boundary, "iam:CreateRole", own)
    assert not effective(identity, boundary, "iam:AttachRolePolicy", own,
                         **{"iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/admin"})
    assert not effective(identity, boundary, "iam:CreateRole", other, **with_boundary)
    assert effective(identity, boundary, "iam:PassRole", own, **{"iam:PassedToService": principal})
    assert not effective(identity, boundary, "iam:PassRole", own, **{"iam:PassedToService": "ec2.amazonaws.com"})
    assert not effective(identity, boundary, "iam:PassRole", other, **{"iam:PassedToService": principal})
    assert not effective(identity, boundary, "iam:DeleteRolePermissionsBoundary", own)


def test_no_iam_actions_without_a_compute_service():
    policy = student_identity_policy("c1-s001", ["s3", "dynamodb"], ["us-east-1"], OWNER, boundary=BOUNDARY)
    assert not [a for a in actions(policy) if a.startswith("iam:")]


# --- the budget ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("lab", "cohort", "limit"), [(5, None, 5), (5, 3, 3), (5, 20, 5), (10, 10, 10)])
def test_budget_limit_is_the_labs_capped_by_the_cohorts(lab, cohort, limit):
    assert budget_limit(lab, cohort) == limit


def test_budget_alerts_the_instructor_at_80_and_100_percent_of_actual_spend():
    assert budget_notifications(None) == []
    notes = budget_notifications("teacher@example.org")
    assert [(n["threshold"], n["threshold_type"], n["notification_type"], n["comparison_operator"]) for n in notes] == [
        (80.0, "PERCENTAGE", "ACTUAL", "GREATER_THAN"),
        (100.0, "PERCENTAGE", "ACTUAL", "GREATER_THAN"),
    ]
    assert all(n["subscriber_email_addresses"] == ["teacher@example.org"] for n in notes)


def test_budget_counts_only_the_students_tagged_costs():
    tags = student_tags("c1", "s001", "lab")
    keys = {(t["tags"]["key"], tuple(t["tags"]["values"])) for t in budget_filter(tags)["ands"]}
    assert keys == {("labctl:cohort", ("c1",)), ("labctl:student", ("s001",))}


# --- tags are ownership: nobody re-tags another student's resource as their own ------------------

EVERY_SERVICE = {"services": ALL_SERVICES, "instance_types": ["t3.micro"], "boundary": BOUNDARY}
# (tagging action, untagging action, a resource ARN of the student's own name, or an id for EC2)
TAGGING = {
    "sqs": ("sqs:TagQueue", "sqs:UntagQueue", "arn:aws:sqs:us-east-1:123456789012:c1-s001-jobs"),
    "sns": ("sns:TagResource", "sns:UntagResource", "arn:aws:sns:us-east-1:123456789012:c1-s001-news"),
    "dynamodb": ("dynamodb:TagResource", "dynamodb:UntagResource", "arn:aws:dynamodb:us-east-1:123456789012:table/c1-s001-t"),
    "lambda": ("lambda:TagResource", "lambda:UntagResource", "arn:aws:lambda:us-east-1:123456789012:function:c1-s001-fn"),
    "ecs": ("ecs:TagResource", "ecs:UntagResource", "arn:aws:ecs:us-east-1:123456789012:cluster/c1-s001-c"),
    "ec2": ("ec2:CreateTags", "ec2:DeleteTags", "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc"),
    "logs": ("logs:TagResource", "logs:UntagResource", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/c1-s001-fn"),
    "cloudwatch": ("cloudwatch:TagResource", "cloudwatch:UntagResource", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:c1-s001-errors"),
    "rds": ("rds:AddTagsToResource", "rds:RemoveTagsFromResource", "arn:aws:rds:us-east-1:123456789012:db:c1-s001-db"),
    "apigateway": (
        "apigateway:POST", "apigateway:DELETE",
        "arn:aws:apigateway:us-east-1::/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fa1b2c3",
    ),
}
# Services whose ARNs are ids: an untagged resource is nobody's, never claimable by tagging it.
ID_SCOPED = {"ec2", "apigateway"}


def owned_by(student: str) -> dict:
    return {"aws:ResourceTag/labctl:cohort": "c1", "aws:ResourceTag/labctl:student": student}


def tagging(student: str, *keys: str) -> dict:
    """A tag write of `labctl:cohort=c1, labctl:student=<student>` (plus other `keys`)."""
    return {
        "aws:RequestTag/labctl:cohort": "c1",
        "aws:RequestTag/labctl:student": student,
        "aws:TagKeys": ["labctl:cohort", "labctl:student", *keys],
    }


def student_policies(service: str = "lambda") -> tuple[dict, dict]:
    """Every service the lab may have beside `service`: EC2 and roles never share a lab."""
    services = WITH_ROLES if service in WITH_ROLES else WITHOUT_ROLES
    identity = student_identity_policy("c1-s001", services, ["us-east-1"], OWNER, ["t3.micro"], BOUNDARY)
    return identity, student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)


@pytest.mark.parametrize("service", sorted(TAGGING))
def test_another_students_resource_cannot_be_retagged_as_ones_own(service):
    identity, boundary = student_policies(service)
    tag, _untag, arn = TAGGING[service]
    # The resource bears the student's name pattern (or, for EC2, an id) but another student's tag.
    context = {**owned_by("s002"), **tagging("s001")}
    assert not allows(identity, tag, arn, **context)
    assert not effective(identity, boundary, tag, arn, **context)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}
    assert not effective(admin, boundary, tag, arn, **context), "the boundary alone must refuse it"


@pytest.mark.parametrize("service", sorted(set(TAGGING) - ID_SCOPED))
def test_own_resources_may_be_tagged_with_the_owners_values(service):
    identity, boundary = student_policies(service)
    tag, untag, arn = TAGGING[service]
    assert effective(identity, boundary, tag, arn, **owned_by("s001"), **tagging("s001", "team"))
    assert effective(identity, boundary, untag, arn, **owned_by("s001"), **{"aws:TagKeys": ["team"]})
    # At creation (no tags yet) only with the owner's own values.
    assert effective(identity, boundary, tag, arn, **tagging("s001"))
    assert not effective(identity, boundary, tag, arn, **tagging("s002"))


@pytest.mark.parametrize("service", sorted(TAGGING))
def test_labctl_tags_cannot_be_removed_or_rewritten_even_on_ones_own_resource(service):
    identity, boundary = student_policies(service)
    tag, untag, arn = TAGGING[service]
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}
    for policy in (identity, admin):
        assert not effective(policy, boundary, untag, arn, **owned_by("s001"), **{"aws:TagKeys": ["labctl:student"]})
        assert not effective(policy, boundary, tag, arn, **owned_by("s001"), **tagging("s002"))
        # A partial write (labctl:lab alone) is refused too: the owner's values must come with it.
        assert not effective(policy, boundary, tag, arn, **owned_by("s001"), **{"aws:TagKeys": ["labctl:lab"]})


def test_ec2_tags_only_at_the_owners_own_launch():
    identity, boundary = student_policies("ec2")
    volume = "arn:aws:ec2:us-east-1:123456789012:volume/vol-1"
    launch = {**tagging("s001"), "ec2:CreateAction": "RunInstances"}
    assert effective(identity, boundary, "ec2:CreateTags", volume, **launch)
    assert not effective(identity, boundary, "ec2:CreateTags", volume, **{**launch, **tagging("s002")})
    assert not effective(identity, boundary, "ec2:CreateTags", volume, **tagging("s001"))


def test_queues_and_topics_are_created_only_in_the_prefix_with_the_owners_tags():
    identity, boundary = student_policies()
    own, other = "arn:aws:sqs:us-east-1:1:c1-s001-jobs", "arn:aws:sqs:us-east-1:1:c1-s002-jobs"
    assert effective(identity, boundary, "sqs:CreateQueue", own, **tagging("s001"))
    assert not effective(identity, boundary, "sqs:CreateQueue", other, **tagging("s001"))
    assert not effective(identity, boundary, "sqs:CreateQueue", own, **tagging("s002"))


def test_every_tagging_api_the_policies_grant_is_under_the_labctl_denials():
    identity, boundary = student_policies()
    denied = {a for s in boundary["Statement"] if s["Effect"] == "Deny" and "Condition" in s for a in s["Action"]}
    for policy in (identity, boundary):
        granted = {a for a in actions(policy) if a.split(":")[1].lower().startswith(("tag", "untag", "createtags", "deletetags", "putbuckettagging"))}
        assert granted and granted <= denied
    # Both documents carry the same tag and role denials; the boundary adds its own on top.
    denials = lambda policy: {s["Sid"] for s in policy["Statement"] if s["Effect"] == "Deny"}  # noqa: E731
    assert denials(boundary) - denials(identity) == {"DenyOutsideOwnResources", "DenyIamSelfManagementAndAccount"}
    assert denials(identity) <= denials(boundary)


def test_ec2_without_an_instance_type_allow_list_launches_nothing():
    policy = student_identity_policy("c1-s001", ["ec2"], ["us-east-1"], OWNER)
    instance = "arn:aws:ec2:us-east-1:123456789012:instance/*"
    launch = {**tagging("s001"), "ec2:InstanceType": "t3.micro"}
    assert not allows(policy, "ec2:RunInstances", instance, **launch)
    assert allows(policy, "ec2:DescribeInstances", "*")
    assert not [a for a in actions(policy) if a in ("ec2:RunInstances", "ec2:StartInstances", "ec2:TerminateInstances")]


def test_log_groups_are_the_students_own_and_those_of_their_functions():
    identity, boundary = student_policies()
    arn = "arn:aws:logs:us-east-1:123456789012:log-group:{}"
    for group in ("/aws/lambda/c1-s001-fn", "c1-s001-app", "c1-s001-app:log-stream:x"):
        assert effective(identity, boundary, "logs:PutRetentionPolicy", arn.format(group))
    for group in ("/aws/lambda/c1-s002-fn", "c1-s0010-app", "/aws/lambda/other"):
        assert not effective(identity, boundary, "logs:PutRetentionPolicy", arn.format(group))
    assert effective(identity, boundary, "logs:DescribeLogGroups", "*")


# --- the services of the newer labs: every statement region-conditioned, no wildcard actions -------


@pytest.mark.parametrize(
    "services",
    [["lambda", "apigateway"], ["logs", "cloudwatch", "sns"], ["rds", "kms"], ["cloudformation", "s3"], ["ec2"], WITH_ROLES,
     WITHOUT_ROLES],
)
def test_new_services_have_no_wildcard_action_no_account_wide_iam_and_stay_in_the_region(services):
    identity = student_identity_policy("c1-s001", services, ["us-east-1"], OWNER, boundary=BOUNDARY)
    for action in actions(identity):
        assert "*" not in action
        assert not action.startswith(("sts:", "organizations:"))
    assert not {a for a in actions(identity) if a.startswith("iam:")} - {
        "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
        "iam:PutRolePermissionsBoundary", "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:DeleteRole",
        "iam:PassRole",
    }
    boundary = student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)
    for policy in (identity, boundary):
        for statement in (s for s in policy["Statement"] if s["Effect"] == "Allow" and not s["Sid"].startswith("Iam")):
            assert statement["Condition"]["StringEquals"]["aws:RequestedRegion"] == ["us-east-1"], statement["Sid"]
    for statement in (s for s in identity["Statement"] if s["Effect"] == "Allow" and "*" in s["Resource"]):
        if "aws:RequestTag/labctl:student" not in json.dumps(statement):
            assert all(a.split(":")[1].startswith(("List", "Describe")) for a in statement["Action"]), statement


def test_cloudformation_can_never_be_handed_a_role():
    identity = student_identity_policy("c1-s001", ALL_SERVICES, ["us-east-1"], OWNER, ["t3.micro"], BOUNDARY)
    passing = [s for s in identity["Statement"] if "iam:PassRole" in s["Action"] and s["Effect"] == "Allow"]
    assert passing and all(
        "cloudformation.amazonaws.com" not in json.dumps(s["Condition"]) for s in passing
    )


def mine(student: str = "s001") -> dict:
    return owned_by(student)


# --- EC2 networks ---------------------------------------------------------------------------------

EC2 = "arn:aws:ec2:us-east-1:123456789012:{}"


def test_networks_are_created_only_with_the_owners_tags():
    identity = student_identity_policy("c1-s001", ["ec2"], ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", ["ec2"], ["us-east-1"], OWNER)
    for action, kind in (("ec2:CreateVpc", "vpc"), ("ec2:CreateInternetGateway", "internet-gateway")):
        assert effective(identity, boundary, action, EC2.format(f"{kind}/*"), **tagging("s001"))
        assert not effective(identity, boundary, action, EC2.format(f"{kind}/*"), **tagging("s002"))
        assert not effective(identity, boundary, action, EC2.format(f"{kind}/*"))
        assert not effective(identity, boundary, action, EC2.format(f"{kind}/*"), "eu-west-1", **tagging("s001"))
    # A subnet goes only into the owner's VPC (each resource of the call is authorised on its own).
    subnet = {**tagging("s001")}
    assert effective(identity, boundary, "ec2:CreateSubnet", EC2.format("subnet/*"), **subnet)
    assert effective(identity, boundary, "ec2:CreateSubnet", EC2.format("vpc/vpc-1"), **subnet, **mine())
    assert not effective(identity, boundary, "ec2:CreateSubnet", EC2.format("vpc/vpc-2"), **subnet, **mine("s002"))
    assert not effective(identity, boundary, "ec2:CreateSubnet", EC2.format("vpc/vpc-default"), **subnet)
    # So does a security group: not in the default VPC, which nobody owns, nor in another student's.
    assert effective(identity, boundary, "ec2:CreateSecurityGroup", EC2.format("vpc/vpc-1"), **subnet, **mine())
    assert not effective(identity, boundary, "ec2:CreateSecurityGroup", EC2.format("vpc/vpc-default"), **subnet)
    assert not effective(identity, boundary, "ec2:CreateSecurityGroup", EC2.format("vpc/vpc-2"), **subnet, **mine("s002"))
    assert effective(identity, boundary, "ec2:CreateSecurityGroup", EC2.format("security-group/*"), **subnet)
    assert not effective(identity, boundary, "ec2:CreateSecurityGroup", EC2.format("security-group/*"), **tagging("s002"))


@pytest.mark.parametrize(
    ("action", "kind"),
    [
        ("ec2:AuthorizeSecurityGroupIngress", "security-group/sg-1"),
        ("ec2:RevokeSecurityGroupIngress", "security-group/sg-1"),
        ("ec2:UpdateSecurityGroupRuleDescriptionsIngress", "security-group/sg-1"),
        ("ec2:DeleteSecurityGroup", "security-group/sg-1"),
        ("ec2:CreateRoute", "route-table/rtb-1"),
        ("ec2:AssociateRouteTable", "subnet/subnet-1"),
        ("ec2:AttachInternetGateway", "internet-gateway/igw-1"),
        ("ec2:ModifySubnetAttribute", "subnet/subnet-1"),
        ("ec2:DeleteVpc", "vpc/vpc-1"),
    ],
)
def test_networks_are_changed_only_while_they_carry_the_owners_tags(action, kind):
    identity = student_identity_policy("c1-s001", ["ec2"], ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", ["ec2"], ["us-east-1"], OWNER)
    assert effective(identity, boundary, action, EC2.format(kind), **mine())
    assert not effective(identity, boundary, action, EC2.format(kind), **mine("s002"))
    assert not effective(identity, boundary, action, EC2.format(kind))  # untagged: the default VPC's, say


def test_network_tags_are_written_at_creation_or_on_own_networks_never_to_claim_one():
    identity, boundary = student_policies("ec2")
    vpc = EC2.format("vpc/vpc-1")
    assert effective(identity, boundary, "ec2:CreateTags", vpc, **tagging("s001"), **{"ec2:CreateAction": "CreateVpc"})
    assert not effective(identity, boundary, "ec2:CreateTags", vpc, **tagging("s002"), **{"ec2:CreateAction": "CreateVpc"})
    assert effective(identity, boundary, "ec2:CreateTags", vpc, **mine(), **{"aws:TagKeys": ["Name"]})
    assert not effective(identity, boundary, "ec2:CreateTags", vpc, **tagging("s001"))  # an untagged VPC is nobody's
    assert not effective(identity, boundary, "ec2:DeleteTags", vpc, **mine(), **{"aws:TagKeys": ["labctl:student"]})


# --- API Gateway ----------------------------------------------------------------------------------

APIGW = "arn:aws:apigateway:us-east-1::{}"


def test_apis_are_created_with_the_owners_tags_and_used_only_while_they_carry_them():
    identity = student_identity_policy("c1-s001", ["lambda", "apigateway"], ["us-east-1"], OWNER, boundary=BOUNDARY)
    boundary = student_boundary_policy("c1-s001", ["lambda", "apigateway"], ["us-east-1"], OWNER)
    assert effective(identity, boundary, "apigateway:POST", APIGW.format("/apis"), **tagging("s001"))
    assert not effective(identity, boundary, "apigateway:POST", APIGW.format("/apis"), **tagging("s002"))
    assert not effective(identity, boundary, "apigateway:POST", APIGW.format("/apis"))
    assert effective(identity, boundary, "apigateway:GET", APIGW.format("/apis"))
    for verb, path in (("POST", "/apis/a1/routes"), ("PATCH", "/apis/a1/integrations/i1"), ("DELETE", "/apis/a1"),
                       ("PUT", "/restapis/r1/resources/x/methods/GET")):
        assert effective(identity, boundary, f"apigateway:{verb}", APIGW.format(path), **mine())
        assert not effective(identity, boundary, f"apigateway:{verb}", APIGW.format(path), **mine("s002"))
        assert not effective(identity, boundary, f"apigateway:{verb}", APIGW.format(path))
        assert not effective(identity, boundary, f"apigateway:{verb}", APIGW.format(path).replace("us-east-1", "eu-west-1"),
                             "eu-west-1", **mine())
    # Account-wide settings (the CloudWatch role, domain names, API keys) are not the student's.
    for path in ("/account", "/domainnames", "/apikeys"):
        assert not effective(identity, boundary, "apigateway:PATCH", APIGW.format(path), **mine())


def test_apis_labctl_tags_cannot_be_removed_or_claimed():
    identity, boundary = student_policies()
    tags = APIGW.format("/tags/arn%3Aaws%3Aapigateway%3Aus-east-1%3A%3A%2Fapis%2Fa1")
    assert effective(identity, boundary, "apigateway:DELETE", tags, **mine(), **{"aws:TagKeys": ["team"]})
    assert not effective(identity, boundary, "apigateway:DELETE", tags, **mine(), **{"aws:TagKeys": ["labctl:cohort"]})
    assert not effective(identity, boundary, "apigateway:POST", tags, **tagging("s001"))  # an untagged API is nobody's


# --- CloudWatch alarms ----------------------------------------------------------------------------

ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:{}"
TOPIC = "arn:aws:sns:us-east-1:123456789012:{}"


def test_alarms_are_the_students_own_and_notify_only_their_own_topics():
    services = ["logs", "cloudwatch", "sns"]
    identity = student_identity_policy("c1-s001", services, ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)
    own, other = ALARM.format("c1-s001-errors"), ALARM.format("c1-s002-errors")
    notify_own = {"cloudwatch:AlarmActions": [TOPIC.format("c1-s001-alerts")]}
    assert effective(identity, boundary, "cloudwatch:PutMetricAlarm", own, **notify_own)
    assert effective(identity, boundary, "cloudwatch:PutMetricAlarm", own)  # no action at all
    assert not effective(identity, boundary, "cloudwatch:PutMetricAlarm", other, **notify_own)
    for foreign in (TOPIC.format("c1-s002-alerts"), "arn:aws:automate:us-east-1:ec2:terminate",
                    "arn:aws:ssm:us-east-1:123456789012:opsitem:3"):
        actions_ = {"cloudwatch:AlarmActions": [TOPIC.format("c1-s001-alerts"), foreign]}
        assert not effective(identity, boundary, "cloudwatch:PutMetricAlarm", own, **actions_)
    assert effective(identity, boundary, "cloudwatch:DeleteAlarms", own)
    assert not effective(identity, boundary, "cloudwatch:DeleteAlarms", other)
    assert not effective(identity, boundary, "cloudwatch:DisableAlarmActions", other)
    assert effective(identity, boundary, "cloudwatch:DescribeAlarms", "*")
    log_group = "arn:aws:logs:us-east-1:123456789012:log-group:{}"
    assert effective(identity, boundary, "logs:PutMetricFilter", log_group.format("c1-s001-app"))
    assert not effective(identity, boundary, "logs:PutMetricFilter", log_group.format("c1-s002-app"))


# --- RDS and KMS ----------------------------------------------------------------------------------

RDS = "arn:aws:rds:us-east-1:123456789012:{}"


def rds_policies(instance_types: tuple[str, ...] = ()) -> tuple[dict, dict]:
    identity = student_identity_policy("c1-s001", ["rds", "kms"], ["us-east-1"], OWNER, instance_types)
    return identity, student_boundary_policy("c1-s001", ["rds", "kms"], ["us-east-1"], OWNER)


def test_db_instances_are_the_students_own_small_and_bounded():
    identity, boundary = rds_policies()
    small = {"rds:DatabaseClass": "db.t4g.micro", "rds:StorageSize": "20"}
    for resource in (RDS.format("db:c1-s001-db"), RDS.format("pg:default.postgres16"), RDS.format("subgrp:default")):
        assert effective(identity, boundary, "rds:CreateDBInstance", resource, **small)
    assert not effective(identity, boundary, "rds:CreateDBInstance", RDS.format("db:c1-s002-db"), **small)
    assert not effective(identity, boundary, "rds:CreateDBInstance", RDS.format("db:c1-s001-db"),
                         **{**small, "rds:DatabaseClass": "db.r6g.16xlarge"})
    assert not effective(identity, boundary, "rds:CreateDBInstance", RDS.format("db:c1-s001-db"),
                         **{**small, "rds:StorageSize": "5000"})
    # Modifying what does not touch class or storage (turning public access off) is allowed.
    assert effective(identity, boundary, "rds:ModifyDBInstance", RDS.format("db:c1-s001-db"))
    assert not effective(identity, boundary, "rds:ModifyDBInstance", RDS.format("db:c1-s001-db"),
                         **{"rds:DatabaseClass": "db.m5.24xlarge"})
    assert not effective(identity, boundary, "rds:ModifyDBInstance", RDS.format("db:c1-s002-db"))
    assert effective(identity, boundary, "rds:DeleteDBInstance", RDS.format("db:c1-s001-db"))
    assert not effective(identity, boundary, "rds:DeleteDBInstance", RDS.format("db:c1-s002-db"))
    assert not effective(identity, boundary, "rds:ModifyDBParameterGroup", RDS.format("pg:default.postgres16"))
    # The lab's own `db.*` instance types replace the default classes.
    identity, _ = rds_policies(("t3.micro", "db.m5.large"))
    assert allows(identity, "rds:CreateDBInstance", RDS.format("db:c1-s001-db"), **{**small, "rds:DatabaseClass": "db.m5.large"})
    assert not allows(identity, "rds:CreateDBInstance", RDS.format("db:c1-s001-db"), **small)


KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def test_kms_only_through_the_labs_services_with_their_aws_managed_keys():
    identity, boundary = rds_policies()
    via_rds = {"kms:ViaService": "rds.us-east-1.amazonaws.com", "kms:ResourceAliases": ["alias/aws/rds"]}
    for action in ("kms:CreateGrant", "kms:DescribeKey", "kms:GenerateDataKey", "kms:Decrypt"):
        assert effective(identity, boundary, action, KEY, **via_rds)
        assert not effective(identity, boundary, action, KEY, **{"kms:ResourceAliases": ["alias/aws/rds"]})  # direct
        assert not effective(identity, boundary, action, KEY, **{**via_rds, "kms:ResourceAliases": ["alias/teacher"]})
        assert not effective(identity, boundary, action, KEY, **{**via_rds, "kms:ViaService": "s3.us-east-1.amazonaws.com"})
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}
    for action in ("kms:CreateKey", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateAlias", "kms:DisableKey"):
        assert not allows(identity, action, KEY, **via_rds)
        assert not effective(admin, boundary, action, KEY, **via_rds), "the boundary alone must refuse it"


# --- CloudFormation -------------------------------------------------------------------------------

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/{}/0a1b2c3d-1111-2222-3333-444455556666"


def test_stacks_are_the_students_own_run_with_their_rights_and_declare_only_the_labs_types():
    identity = student_identity_policy("c1-s001", ["cloudformation", "s3"], ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", ["cloudformation", "s3"], ["us-east-1"], OWNER)
    own, other = STACK.format("c1-s001-stack"), STACK.format("c1-s002-stack")
    bucket = {"cloudformation:ResourceTypes": ["AWS::S3::Bucket", "AWS::S3::BucketPolicy"]}
    for action in ("cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:CreateChangeSet"):
        assert effective(identity, boundary, action, own, **bucket)
        assert not effective(identity, boundary, action, other, **bucket)
        role = {**bucket, "cloudformation:RoleArn": "arn:aws:iam::123456789012:role/admin"}
        assert not effective(identity, boundary, action, own, **role)
        for escape in ("AWS::IAM::Role", "Custom::Anything", "AWS::CloudFormation::Stack", "AWS::Lambda::Function"):
            assert not effective(identity, boundary, action, own, **{"cloudformation:ResourceTypes": ["AWS::S3::Bucket", escape]})
    for action in ("cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack", "cloudformation:DescribeStacks",
                   "cloudformation:UpdateTerminationProtection"):
        assert effective(identity, boundary, action, own)
        assert not effective(identity, boundary, action, other)
    assert effective(identity, boundary, "cloudformation:ListStacks", "*")
    assert not [a for a in actions(identity) if a.startswith("iam:")]
    # What the template creates is authorised against the student's own rights: own bucket names only.
    assert effective(identity, boundary, "s3:CreateBucket", "arn:aws:s3:::c1-s001-artifacts")
    assert not effective(identity, boundary, "s3:CreateBucket", "arn:aws:s3:::c1-s002-artifacts")


# --- IAM's size limits ----------------------------------------------------------------------------

# The longest names labctl derives (DESIGN 7): a 24-character cohort slug and a 20-character student.
LONG_COHORT, LONG_STUDENT = "c" * 24, "s" * 20
LONG_PREFIX = f"{LONG_COHORT}-{LONG_STUDENT}"
LONG_OWNER = owner_tags(student_tags(LONG_COHORT, LONG_STUDENT, "lab"))


def aws_labs() -> list:
    return [lab.spec for lab in load_catalog() if lab.spec.environment and lab.spec.environment.aws]


def long_named_policies(services, regions, instance_types=()) -> tuple[dict, dict]:
    identity = student_identity_policy(
        LONG_PREFIX, services, regions, LONG_OWNER, instance_types, boundary_arn(LONG_COHORT, LONG_PREFIX)
    )
    return identity, student_boundary_policy(LONG_PREFIX, services, regions, LONG_OWNER)


# Every service of every catalog lab together, and every known service in two regions.
def catalog_union(with_roles: bool) -> list[str]:
    labs = [lab for lab in aws_labs() if bool({"lambda", "ecs"} & set(lab.environment.aws.services)) == with_roles]
    return sorted({s for lab in labs for s in lab.environment.aws.services})


# Every service of the catalog's labs together, and every known service in two regions (roles and
# EC2 never share a lab, so each comes with and without roles).
COMBINATIONS = {
    "catalog-union-with-roles": (catalog_union(True), ["us-east-1"]),
    "catalog-union-without-roles": (catalog_union(False), ["us-east-1"]),
    "all-known-without-roles": (sorted(KNOWN_SERVICES - {"lambda", "ecs"}), ["us-east-1", "eu-west-1"]),
}


def test_a_boundary_too_large_for_iam_is_refused_with_its_size():
    """Every known service with roles: the delegation's denials no longer fit one managed policy."""
    with pytest.raises(ValueError, match=r"the boundary for services .* is \d+ characters, more than the 6144"):
        long_named_policies(sorted(KNOWN_SERVICES - {"ec2"}), ["us-east-1", "eu-west-1"])


def test_policy_size_is_iams_count_whitespace_left_out():
    document = {"Version": "2012-10-17", "Statement": [{"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["*"]}]}
    assert policy_size(document) == len(policy_json(document)) == len(json.dumps(document, separators=(",", ":")))
    assert policy_size({"Sid": "a b"}) == len('{"Sid":"ab"}')


@pytest.mark.parametrize("lab", aws_labs(), ids=lambda lab: lab.id)
def test_every_catalog_labs_identity_documents_and_boundary_fit_iam(lab):
    aws = lab.environment.aws
    identity, boundary = long_named_policies(aws.services, aws.regions, aws.instance_types)
    documents = split_identity_policy(identity)
    assert 1 <= len(documents) <= IDENTITY_DOCUMENTS_MAX
    assert all(policy_size(d) <= MANAGED_POLICY_MAX_CHARS for d in documents)
    assert policy_size(boundary) <= MANAGED_POLICY_MAX_CHARS


@pytest.mark.parametrize("combination", sorted(COMBINATIONS))
def test_the_largest_combinations_fit_iam(combination):
    services, regions = COMBINATIONS[combination]
    identity, boundary = long_named_policies(services, regions, ["t3.micro"])
    assert policy_size(boundary) <= MANAGED_POLICY_MAX_CHARS
    documents = split_identity_policy(identity)
    assert len(documents) <= IDENTITY_DOCUMENTS_MAX
    assert all(policy_size(d) <= MANAGED_POLICY_MAX_CHARS for d in documents)


@pytest.mark.parametrize("lab", aws_labs(), ids=lambda lab: lab.id)
def test_the_split_keeps_every_statement_once_with_its_sid_in_as_few_documents_as_the_sizes_allow(lab):
    aws = lab.environment.aws
    identity, _ = long_named_policies(aws.services, aws.regions, aws.instance_types)
    documents = split_identity_policy(identity)
    statements = [s for d in documents for s in d["Statement"]]
    assert sorted(statements, key=lambda s: s["Sid"]) == sorted(identity["Statement"], key=lambda s: s["Sid"])
    assert all(d["Version"] == identity["Version"] for d in documents)
    # Inside each document the original order holds; documents follow their first statement.
    position = {s["Sid"]: i for i, s in enumerate(identity["Statement"])}
    firsts = [[position[s["Sid"]] for s in d["Statement"]] for d in documents]
    assert all(f == sorted(f) for f in firsts) and [f[0] for f in firsts] == sorted(f[0] for f in firsts)
    # The fewest possible: no fewer documents could hold the statements' sizes.
    empty = policy_size({"Version": identity["Version"], "Statement": []})
    needed = sum(policy_size(s) + 1 for s in identity["Statement"]) - 1
    assert len(documents) == -(-needed // (MANAGED_POLICY_MAX_CHARS - empty))
    assert split_identity_policy(json.loads(json.dumps(identity))) == documents  # deterministic


def test_split_refuses_more_documents_than_a_user_may_carry_and_a_statement_too_large():
    regions = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]
    identity = student_identity_policy(
        LONG_PREFIX, sorted(KNOWN_SERVICES), regions, LONG_OWNER, (), boundary_arn(LONG_COHORT, LONG_PREFIX)
    )
    with pytest.raises(ValueError, match=r"needs 1\d managed policies .* more than the 9 a user may have"):
        split_identity_policy(identity)
    huge = {"Version": "2012-10-17", "Statement": [statement("Huge", ["s3:GetObject"], ["arn:aws:s3:::x" * 500], {})]}
    with pytest.raises(ValueError, match="statement 'Huge' alone"):
        split_identity_policy(huge)
    twins = {"Version": "2012-10-17", "Statement": [statement("Same", ["s3:GetObject"], ["*"], {})] * 2}
    with pytest.raises(ValueError, match="its own Sid"):
        split_identity_policy(twins)


def test_small_documents_stay_whole():
    identity = student_identity_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    assert split_identity_policy(identity) == [identity]


def test_the_boundarys_short_iam_denials_cover_every_self_management_action_and_no_granted_role_action():
    granted = [*IAM_ROLE_WRITE_ACTIONS, *IAM_ROLE_OTHER_ACTIONS, "iam:PassRole"]
    covered = lambda action: any(fnmatchcase(action, p) for p in IAM_SELF_MANAGEMENT_PATTERNS)  # noqa: E731
    assert all(covered(a) for a in IAM_SELF_MANAGEMENT)
    assert not [a for a in granted if covered(a) and a not in IAM_SELF_MANAGEMENT]


def test_the_boundary_denies_labctl_tag_changes_on_every_tagging_api_it_lets_through():
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}
    role = ("iam:TagRole", "iam:UntagRole", "arn:aws:iam::123456789012:role/c1-s001-fn")
    for services in (["s3"], ["lambda"], ["ec2", "sqs"], WITH_ROLES, WITHOUT_ROLES):
        boundary = student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)
        cases = [TAGGING[s] for s in services if s in TAGGING] + ([role] if "lambda" in services else [])
        for tag, untag, arn in cases:
            for action in (tag, untag):
                # The boundary lets the API through on the student's own resource, but not for labctl:* keys.
                # (API Gateway's cap holds only while the API carries the owner's tags.)
                assert effective(admin, boundary, action, arn, **owned_by("s001"), **{"aws:TagKeys": ["team"]}), action
                assert not effective(admin, boundary, action, arn, **owned_by("s001"), **{"aws:TagKeys": ["labctl:student"]}), action


# --- escalation paths on real AWS semantics (tests/iam_eval.py; moto evaluates none of this) ------

OWN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/c1-s001-r1"
OWN_BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/labctl/c1/c1-s001-boundary"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
ADMIN = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]}


def role_lab(services=("lambda", "logs"), role_policies=()) -> tuple[dict, dict]:
    identity = student_identity_policy("c1-s001", services, ["us-east-1"], OWNER, (), BOUNDARY, role_policies)
    return identity, student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER, role_policies)


def test_a_role_can_never_shed_or_swap_the_boundary_even_with_administrator_access_attached():
    """The critical path: r1 (own boundary) with AdministratorAccess calls PutRolePermissionsBoundary on
    itself. The boundary's own Deny stops it, whatever r1's identity policies say."""
    identity, boundary = role_lab()
    assert decide("iam:CreateRole", OWN_ROLE, [identity], boundary, context={"iam:PermissionsBoundary": OWN_BOUNDARY})
    assert not decide("iam:CreateRole", OWN_ROLE, [identity], boundary)  # without a boundary
    for action in ("iam:PutRolePermissionsBoundary", "iam:CreateRole", "iam:PutRolePolicy"):
        for other in (ADMIN_POLICY, OWN_BOUNDARY.replace("c1-s001", "c1-s002")):
            request = {"iam:PermissionsBoundary": other}
            assert not decide(action, OWN_ROLE, [ADMIN], boundary, context=request), (action, other)
    assert not decide("iam:DeleteRolePermissionsBoundary", OWN_ROLE, [ADMIN], boundary)


def test_managed_policies_are_attached_to_roles_only_from_the_labs_list():
    request = {"iam:PermissionsBoundary": OWN_BOUNDARY, "iam:PolicyARN": ADMIN_POLICY}
    identity, boundary = role_lab()
    assert not decide("iam:AttachRolePolicy", OWN_ROLE, [ADMIN], boundary, context=request)
    basic = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    identity, boundary = role_lab(role_policies=[basic])
    assert decide("iam:AttachRolePolicy", OWN_ROLE, [identity], boundary, context={**request, "iam:PolicyARN": basic})
    assert not decide("iam:AttachRolePolicy", OWN_ROLE, [ADMIN], boundary, context=request)


def test_roles_are_passed_only_to_the_labs_services():
    identity, boundary = role_lab()
    for service in ("ec2.amazonaws.com", "cloudformation.amazonaws.com", "glue.amazonaws.com",
                    "codebuild.amazonaws.com", "datapipeline.amazonaws.com", "ecs-tasks.amazonaws.com"):
        assert not decide("iam:PassRole", OWN_ROLE, [ADMIN], boundary, context={"iam:PassedToService": service})
    assert decide("iam:PassRole", OWN_ROLE, [identity], boundary, context={"iam:PassedToService": "lambda.amazonaws.com"})


def test_a_role_under_a_path_is_refused_whatever_its_name():
    identity, boundary = role_lab()
    request = {"iam:PermissionsBoundary": OWN_BOUNDARY}
    for squatted in ("c1-s001-x/c1-s002-fn", "c1-s001-x/backdoor"):
        arn = f"arn:aws:iam::{ACCOUNT}:role/{squatted}"
        for policy in (identity, ADMIN):
            assert not decide("iam:CreateRole", arn, [policy], boundary, context=request), squatted
        assert not decide("iam:PassRole", arn, [identity], boundary, context={"iam:PassedToService": "lambda.amazonaws.com"})


def test_no_role_is_assumed_even_one_whose_trust_policy_names_the_student():
    _, boundary = role_lab()
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/student"}, "Action": "sts:AssumeRole"}]}
    assert not decide("sts:AssumeRole", OWN_ROLE, [], boundary, resource_policies=[trust])


PEER_BUCKET = "arn:aws:s3:::c1-s002-app"
PUBLIC_BUCKET_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": [PEER_BUCKET, f"{PEER_BUCKET}/*"]}]}
# SNS's default topic policy: every principal of the account, through AWS:SourceOwner.
DEFAULT_TOPIC_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["sns:Publish", "sns:Subscribe", "sns:SetTopicAttributes"],
     "Resource": "arn:aws:sns:us-east-1:123456789012:c1-s002-news",
     "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}}]}


@pytest.mark.parametrize(("services", "action", "resource", "policy"), [
    (["s3"], "s3:DeleteObject", f"{PEER_BUCKET}/index.html", PUBLIC_BUCKET_POLICY),
    (["s3"], "s3:PutBucketPolicy", PEER_BUCKET, PUBLIC_BUCKET_POLICY),
    (["sns", "sqs"], "sns:SetTopicAttributes", "arn:aws:sns:us-east-1:123456789012:c1-s002-news", DEFAULT_TOPIC_POLICY),
])
def test_no_peers_resource_policy_widens_a_student(services, action, resource, policy):
    identity = student_identity_policy("c1-s001", services, ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER)
    context = {"AWS:SourceOwner": ACCOUNT}
    assert decide(action, resource, [identity], None, [policy], context=context), "the grant exists without the boundary"
    assert not decide(action, resource, [identity], boundary, [policy], context=context)


def test_no_account_wide_read_shows_other_students_function_or_container_secrets():
    identity = student_identity_policy("c1-s001", ["lambda", "ecs", "logs"], ["us-east-1"], OWNER, boundary=BOUNDARY)
    assert not allows(identity, "lambda:ListFunctions", "*")
    assert not allows(identity, "ecs:DescribeTaskDefinition", "*")
    own = "arn:aws:ecs:us-east-1:123456789012:task-definition/c1-s001-web:3"
    assert allows(identity, "ecs:DescribeTaskDefinition", own)
    assert not allows(identity, "ecs:DescribeTaskDefinition", own.replace("c1-s001", "c1-s002"))


def test_ecs_tasks_register_into_own_families_and_run_in_own_clusters():
    identity, boundary = role_lab(("ecs", "logs"))
    own = "arn:aws:ecs:us-east-1:123456789012:task-definition/c1-s001-web:1"
    assert effective(identity, boundary, "ecs:RegisterTaskDefinition", own, **tagging("s001"))
    assert not effective(identity, boundary, "ecs:RegisterTaskDefinition", own.replace("c1-s001", "c1-s002"), **tagging("s001"))
    cluster = "arn:aws:ecs:us-east-1:123456789012:cluster/{}-main"
    assert effective(identity, boundary, "ecs:RunTask", own, **{"ecs:cluster": cluster.format("c1-s001")})
    assert not effective(identity, boundary, "ecs:RunTask", own, **{"ecs:cluster": cluster.format("c1-s002")})
    assert not effective(identity, boundary, "ecs:RunTask", own)


def test_a_stack_without_resource_types_is_not_vacuously_allowed():
    identity = student_identity_policy("c1-s001", ["cloudformation", "s3"], ["us-east-1"], OWNER)
    stack = "arn:aws:cloudformation:us-east-1:123456789012:stack/c1-s001-web/1"
    assert allows(identity, "cloudformation:CreateStack", stack, **{"cloudformation:ResourceTypes": ["AWS::S3::Bucket"]})
    assert not allows(identity, "cloudformation:CreateStack", stack)
    assert not allows(identity, "cloudformation:CreateStack", stack, **{"cloudformation:ResourceTypes": ["AWS::IAM::Role"]})


def test_bucket_tags_which_no_condition_can_guard_are_never_written():
    identity = student_identity_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", ["s3"], ["us-east-1"], OWNER)
    own = "arn:aws:s3:::c1-s001-site"
    assert not effective(identity, boundary, "s3:PutBucketTagging", own)
    assert not effective(ADMIN, boundary, "s3:PutBucketTagging", own)
    assert "s3:DeleteBucketTagging" not in json.dumps([identity, boundary])  # not an IAM action


def test_ec2_and_roles_never_share_a_shared_account_lab():
    with pytest.raises(ValueError, match=r"service 'ec2' cannot share a shared-account lab with lambda or ecs: the "
                       r"student's roles would get every EC2 action in the region \(give the lab its own account\)"):
        student_boundary_policy("c1-s001", ["ec2", "lambda"], ["us-east-1"], OWNER)


def test_apis_are_capped_by_their_owner_tags_so_a_role_cannot_change_a_peers_api():
    _, boundary = role_lab(("lambda", "apigateway"))
    api = APIGW.format("/apis/a1/routes")
    assert effective(ADMIN, boundary, "apigateway:PATCH", api, **mine())
    assert not effective(ADMIN, boundary, "apigateway:PATCH", api, **mine("s002"))
    assert not effective(ADMIN, boundary, "apigateway:PATCH", api)


def test_a_public_bucket_is_closed_to_students_whose_lab_has_no_s3():
    """A boundary without S3 is silent on it, and silence does not limit a resource policy naming `*`."""
    identity = student_identity_policy("c1-s001", ["sqs"], ["us-east-1"], OWNER)
    boundary = student_boundary_policy("c1-s001", ["sqs"], ["us-east-1"], OWNER)
    assert not decide("s3:GetObject", f"{PEER_BUCKET}/index.html", [identity], boundary, [PUBLIC_BUCKET_POLICY])
    assert decide("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:c1-s001-q", [identity], boundary,
                  context=owned_by("s001"))


@pytest.mark.parametrize(("services", "action", "resource"), [
    (["lambda", "logs"], "lambda:CreateFunction", "arn:aws:lambda:us-east-1:123456789012:function:c1-s001-fn"),
    (["dynamodb"], "dynamodb:CreateTable", "arn:aws:dynamodb:us-east-1:123456789012:table/c1-s001-t"),
    (["lambda", "logs"], "iam:CreateRole", OWN_ROLE),
])
def test_nothing_is_created_already_tagged_as_another_students(services, action, resource):
    """Creating with tags is a tagging path too: never with another student's labctl:student."""
    identity, boundary = role_lab(services) if "lambda" in services else (
        student_identity_policy("c1-s001", services, ["us-east-1"], OWNER),
        student_boundary_policy("c1-s001", services, ["us-east-1"], OWNER),
    )
    context = {"iam:PermissionsBoundary": OWN_BOUNDARY}
    assert decide(action, resource, [identity], boundary, context={**context, **tagging("s001")})
    assert decide(action, resource, [identity], boundary, context=context)  # untagged
    for policy in (identity, ADMIN):
        assert not decide(action, resource, [policy], boundary, context={**context, **tagging("s002")})
