"""`labctl sweep` for real against the moto server: students' hand-made resources of every covered kind
are gone afterwards, and look-alikes outside the cohort's prefixes survive."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from click.testing import CliRunner

from cli import cli
from stacks.cohort import Cohort, make_target, parse_roster
from stacks.registry import Registry
from stacks.sweep import sweep

pytestmark = pytest.mark.emulator

ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def make_cohort(endpoint: str, name: str = "c1") -> Cohort:
    students = parse_roster("id\nada\nbob\n", name, "r.csv")
    return Cohort(name, ("s3-static-website",), make_target("localstack", endpoint, "us-east-1", None), students)


def zipped_handler() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def make_everything(aws, endpoint: str, name: str, tags: dict[str, str] | None = None) -> None:
    """One resource of every covered kind named `name`, the way a student makes them by hand."""
    c = lambda service: aws.client(service, endpoint_url=endpoint)  # noqa: E731
    tag_list = [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
    s3 = c("s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=name, Key="index.html", Body=body)
    s3.delete_object(Bucket=name, Key="index.html")  # leaves a delete marker over two versions
    s3.put_object(Bucket=name, Key="error.html", Body=b"x")
    if tag_list:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list})
    c("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], **({"Tags": tag_list} if tag_list else {}),
    )
    queue = c("sqs").create_queue(QueueName=name, **({"tags": tags} if tags else {}))["QueueUrl"]
    topic = c("sns").create_topic(Name=name, **({"Tags": tag_list} if tag_list else {}))["TopicArn"]
    queue_arn = c("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    c("sns").subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    c("logs").create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))
    iam = c("iam")
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=ASSUME, **({"Tags": tag_list} if tag_list else {}))
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    managed = iam.create_policy(PolicyName=f"{name}-managed", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}))
    iam.attach_role_policy(RoleName=name, PolicyArn=managed["Policy"]["Arn"])
    c("lambda").create_function(
        FunctionName=name, Runtime="python3.11", Role=role["Role"]["Arn"], Handler="index.handler",
        Code={"ZipFile": zipped_handler()}, **({"Tags": tags} if tags else {}),
    )
    c("logs").create_log_group(logGroupName=f"/aws/lambda/{name}")


def inventory(aws, endpoint: str) -> set[str]:
    c = lambda service: aws.client(service, endpoint_url=endpoint)  # noqa: E731
    names = {f"s3 {b['Name']}" for b in c("s3").list_buckets()["Buckets"]}
    names |= {f"dynamodb {t}" for t in c("dynamodb").list_tables()["TableNames"]}
    names |= {f"sqs {u.rsplit('/', 1)[-1]}" for u in c("sqs").list_queues().get("QueueUrls", [])}
    names |= {f"sns {t['TopicArn'].rsplit(':', 1)[-1]}" for t in c("sns").list_topics()["Topics"]}
    names |= {f"logs {g['logGroupName']}" for g in c("logs").describe_log_groups()["logGroups"]}
    names |= {f"iam {r['RoleName']}" for r in c("iam").list_roles()["Roles"]}
    names |= {f"lambda {f['FunctionName']}" for f in c("lambda").list_functions()["Functions"]}
    return names


KINDS = ("s3", "dynamodb", "sqs", "sns", "logs", "iam", "lambda")
SURVIVORS = ("c2-ada-site", "c1-adam-site", "c1x-ada-site", "ada-c1-site")


def expected(name: str) -> set[str]:
    return {f"{kind} {name}" for kind in KINDS} | {f"logs /aws/lambda/{name}"}


def test_sweep_deletes_every_kind_and_spares_look_alikes(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    make_everything(aws, moto_endpoint, "c1-ada-site", {"labctl:cohort": "c1", "labctl:student": "ada"})
    make_everything(aws, moto_endpoint, "c1-bob")  # untagged, named exactly the prefix
    for name in SURVIVORS:  # another cohort's, a near-miss student, a near-miss cohort, a reordered name
        make_everything(aws, moto_endpoint, name)
    report = sweep(cohort, aws, moto_endpoint)
    assert report.proof() == "0 resources left for c1"
    assert {r.label for r in report.deleted} == expected("c1-ada-site") | expected("c1-bob")
    survivors = set().union(*(expected(name) for name in SURVIVORS))
    assert inventory(aws, moto_endpoint) == survivors
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    assert len(s3.list_object_versions(Bucket="c2-ada-site").get("Versions", [])) == 3


def test_sweep_one_student_and_dry_run(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    make_everything(aws, moto_endpoint, "c1-ada-x")
    make_everything(aws, moto_endpoint, "c1-bob-x")
    planned = sweep(cohort, aws, moto_endpoint, students=("ada",), dry_run=True)
    assert {r.label for r in planned.planned} == expected("c1-ada-x")
    assert planned.proof() == "dry run: 8 resources would be deleted for c1"
    assert inventory(aws, moto_endpoint) == expected("c1-ada-x") | expected("c1-bob-x")
    report = sweep(cohort, aws, moto_endpoint, students=("ada",))
    assert report.proof() == "0 resources left for c1"
    assert inventory(aws, moto_endpoint) == expected("c1-bob-x")


def test_sweep_leaves_a_prefixed_resource_tagged_for_another_cohort_and_says_why(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    aws.client("sqs", endpoint_url=moto_endpoint).create_queue(QueueName="c1-ada-q", tags={"labctl:cohort": "c9"})
    report = sweep(cohort, aws, moto_endpoint)
    assert report.proof() == "1 resources left for c1"
    (left,) = report.left
    assert left.resource.label == "sqs c1-ada-q" and left.reason == "tagged labctl:cohort=c9: another cohort's, not deleted"


def test_sweep_cli_prints_proof(aws, moto_endpoint):
    with Registry() as reg:
        reg.create_cohort(make_cohort(moto_endpoint))
    make_everything(aws, moto_endpoint, "c1-bob-site")
    result = CliRunner().invoke(cli, ["sweep", "--cohort", "c1", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete s3 c1-bob-site" in result.output
    result = CliRunner().invoke(cli, ["sweep", "--cohort", "c1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "0 resources left for c1"
    assert inventory(aws, moto_endpoint) == set()


def test_sweep_reports_resources_tagged_for_the_cohort_outside_its_prefixes_and_keeps_them(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket="stray-bucket")
    s3.put_bucket_tagging(Bucket="stray-bucket", Tagging={"TagSet": [{"Key": "labctl:cohort", "Value": "c1"}]})
    report = sweep(cohort, aws, moto_endpoint)
    assert report.outside == ["arn:aws:s3:::stray-bucket"]
    assert report.proof() == "0 resources left for c1"
    assert inventory(aws, moto_endpoint) == {"s3 stray-bucket"}



def test_fake_engine_destroy_with_sweep_ends_in_proof(aws, moto_endpoint, monkeypatch):
    from fake_pulumi import FakePulumi

    from stacks import engine as engine_mod

    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    with Registry() as reg:
        reg.create_cohort(make_cohort(moto_endpoint))
    make_everything(aws, moto_endpoint, "c1-ada-site")
    result = CliRunner().invoke(cli, ["destroy", "--cohort", "c1", "--sweep"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "destroy c1: 2 done, 0 failed" in lines
    assert lines[-1] == "sweep: 8 deleted; 0 resources left for c1"
    assert sorted(c.stack for c in fake.of("destroy")) == ["c1.ada", "c1.bob"]
    assert inventory(aws, moto_endpoint) == set()
