"""Sweeping a student's own account (isolation mode `account`) on the real moto server: everything the
student made goes, whatever its name, in every allowed region; what belongs to the account stays."""

from __future__ import annotations

import json

import pytest

from labctl.cohorts.accounts import assumed_session
from labctl.cohorts.cohort import Cohort, make_target, synthetic_students
from labctl.stacks.account_sweep import sweep_account

pytestmark = pytest.mark.emulator

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}]})
REGIONS = ("us-east-1", "us-west-2")


@pytest.fixture
def account(aws, moto_endpoint):
    """(cohort, student, session in account 111111111111, session in account 222222222222)."""
    target = make_target("localstack", moto_endpoint, "us-east-1", None)
    cohort = Cohort("c1", ("s3-static-website",), target, synthetic_students("c1", 1))
    return cohort, cohort.students[0], assumed_session(target, "111111111111"), assumed_session(target, "222222222222")


def client(session, service, endpoint, region="us-east-1"):
    return session.client(service, endpoint_url=endpoint, region_name=region)


def test_everything_the_student_made_goes_and_the_account_keeps_its_own(account, moto_endpoint):
    cohort, student, mine, other = account
    s3, iam = client(mine, "s3", moto_endpoint), client(mine, "iam", moto_endpoint)
    s3.create_bucket(Bucket="any-name-at-all")
    s3.put_object(Bucket="any-name-at-all", Key="k", Body=b"x")
    for name, path in (("OrganizationAccountAccessRole", "/"), ("labctl-grader", "/labctl/"), ("my-lambda-role", "/")):
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=TRUST)
    client(mine, "sqs", moto_endpoint, "us-west-2").create_queue(QueueName="west-queue")
    ec2 = client(mine, "ec2", moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")
    client(other, "s3", moto_endpoint).create_bucket(Bucket="someone-elses")
    defaults = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault")]

    planned = sweep_account(mine, cohort, student, "111111111111", REGIONS, dry_run=True)
    assert planned.proof() == (
        "account 111111111111 (s001), regions us-east-1, us-west-2: dry run: 5 resources would be deleted")
    assert sorted((r.service, r.name) for r in planned.planned if not r.service.startswith("ec2")) == [
        ("iam", "my-lambda-role"), ("s3", "any-name-at-all"), ("sqs", "west-queue")]
    assert [r.ref for r in planned.planned if r.service == "ec2-vpc"] == [vpc]

    swept = sweep_account(mine, cohort, student, "111111111111", REGIONS)
    assert swept.proof() == "account 111111111111 (s001), regions us-east-1, us-west-2: 0 resources left"
    assert sorted(r.service for r in swept.deleted) == ["ec2-subnet", "ec2-vpc", "iam", "s3", "sqs"]
    assert s3.list_buckets()["Buckets"] == []
    assert client(mine, "sqs", moto_endpoint, "us-west-2").list_queues().get("QueueUrls", []) == []
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == ["OrganizationAccountAccessRole", "labctl-grader"]
    assert [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]] == defaults
    assert [b["Name"] for b in client(other, "s3", moto_endpoint).list_buckets()["Buckets"]] == ["someone-elses"]


def test_a_region_outside_the_allowed_ones_is_not_swept(account, moto_endpoint):
    cohort, student, mine, _ = account
    client(mine, "sqs", moto_endpoint, "eu-west-1").create_queue(QueueName="far-away")
    swept = sweep_account(mine, cohort, student, "111111111111", ("us-east-1",))
    assert swept.deleted == [] and swept.left == []
    assert len(client(mine, "sqs", moto_endpoint, "eu-west-1").list_queues()["QueueUrls"]) == 1


def test_another_cohorts_tagged_resource_is_refused_and_reported(account, moto_endpoint):
    cohort, student, mine, _ = account
    s3 = client(mine, "s3", moto_endpoint)
    s3.create_bucket(Bucket="tagged-elsewhere")
    s3.put_bucket_tagging(Bucket="tagged-elsewhere", Tagging={"TagSet": [{"Key": "labctl:cohort", "Value": "c2"}]})
    swept = sweep_account(mine, cohort, student, "111111111111", ("us-east-1",))
    assert [(x.resource.name, x.reason) for x in swept.left] == [
        ("tagged-elsewhere", "tagged labctl:cohort=c2: another cohort's, not deleted")]
    assert swept.proof().endswith(": 1 resources left")
