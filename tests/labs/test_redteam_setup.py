"""The red-team lab's starting state is the student's: its VPC and security group carry the owner's
labctl tags from their creation, so the student's tag-scoped EC2 rights reach them."""

from __future__ import annotations

import importlib.util

import pytest

from labctl.components.aws_policies import student_identity_policy
from labctl.components.tags import owner_tags, student_tags
from labctl.labs.catalog import get_lab

LAB = get_lab("redteam-fix")


def load_setup():
    spec = importlib.util.spec_from_file_location("redteam_setup", LAB.folder / "setup.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tags_of(resource: dict) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}


def test_the_vpc_and_group_are_tagged_for_the_student_at_creation_and_on_a_rerun(aws, moto_endpoint):
    setup = load_setup()
    setup.setup(aws, moto_endpoint, "spring-26-ada-l", "ada-l")
    setup.setup(aws, moto_endpoint, "spring-26-ada-l", "ada-l")  # converges: one VPC, one group
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)
    owner = student_tags("spring-26", "ada-l", "redteam-fix")
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["spring-26-ada-l-app-vpc"]}])["Vpcs"]
    [group] = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["spring-26-ada-l-app"]}])[
        "SecurityGroups"
    ]
    assert tags_of(vpc) == {"Name": "spring-26-ada-l-app-vpc", **owner}
    assert tags_of(group) == owner


def test_the_students_policy_lets_them_fix_the_setups_group():
    """The group's tags are exactly what the identity policy's own-network statements require."""
    tags = tags_of({"Tags": load_setup().owner_tags("c1-s001", "s001")})
    policy = student_identity_policy("c1-s001", ["s3", "ec2"], ["us-east-1"], owner_tags(tags))
    [rules] = [s for s in policy["Statement"] if s["Sid"] == "Ec2OwnSecurityGroupRules"]
    required = {k.removeprefix("aws:ResourceTag/"): v for k, v in rules["Condition"]["StringEquals"].items()
                if k.startswith("aws:ResourceTag/")}
    assert required.items() <= tags.items() and "ec2:RevokeSecurityGroupIngress" in rules["Action"]


def test_the_cohort_is_the_prefix_without_the_student():
    setup = load_setup()
    assert tags_of({"Tags": setup.owner_tags("c1-team-a-s-1", "s-1")})["labctl:cohort"] == "c1-team-a"
    with pytest.raises(ValueError, match="does not end with the student"):
        setup.owner_tags("c1-s001", "s002")


def test_a_vpc_another_student_named_like_the_app_vpc_is_never_claimed(aws, moto_endpoint):
    """A Name tag is free text: bob's VPC named `<ada's prefix>-app-vpc` stays bob's, untouched."""
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)
    bob = [{"Key": "Name", "Value": "spring-26-ada-q-app-vpc"},
           *({"Key": k, "Value": v} for k, v in student_tags("spring-26", "bob", "redteam-fix").items())]
    bobs = ec2.create_vpc(CidrBlock="10.9.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": bob}])["Vpc"]["VpcId"]
    load_setup().setup(aws, moto_endpoint, "spring-26-ada-q", "ada-q")
    [vpc] = ec2.describe_vpcs(VpcIds=[bobs])["Vpcs"]
    assert tags_of(vpc)["labctl:student"] == "bob"
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["spring-26-ada-q-app"]}])["SecurityGroups"]
    assert [g["VpcId"] for g in groups] != [bobs] and len(groups) == 1
