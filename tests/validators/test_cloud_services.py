"""RDS, ECS and CloudFormation: pure checks on fixture inventories and the collectors' parsing helpers."""

from __future__ import annotations

import pytest

from labctl.validators.checks import cloudformation as cfn
from labctl.validators.checks import ecs, rds
from labctl.validators.collectors.cloudformation import parse_template
from labctl.validators.collectors.ecs import units
from labctl.validators.inventory.cloudformation import CloudFormationInventory, Stack, StackResource
from labctl.validators.inventory.ecs import Container, EcsInventory, TaskDefinition
from labctl.validators.inventory.rds import DbInstance, RdsInventory

DB = rds.InstanceParams(instance="c-ada-db")


def test_rds_checks_on_a_private_encrypted_and_a_public_instance() -> None:
    good = RdsInventory(
        {"c-ada-db": DbInstance("c-ada-db", "available", "postgres", "db.t4g.micro", False, True, 7)}
    )
    bad = RdsInventory(
        {"c-ada-db": DbInstance("c-ada-db", "available", "postgres", "db.m5.large", True, False, 0, True)}
    )
    allowed = rds.ClassParams(instance="c-ada-db", allowed=["db.t4g.micro"])
    backups = rds.BackupParams(instance="c-ada-db", min_days=1)
    for fn, params in (
        (rds.not_public, DB),
        (rds.encrypted, DB),
        (rds.instance_class, allowed),
        (rds.backups, backups),
        (rds.single_az, DB),
    ):
        assert fn(good, params).status == "passed"
        assert fn(bad, params).status == "failed"
        assert fn(RdsInventory(), params).status == "skipped"
    assert rds.backups(bad, backups).message == "c-ada-db keeps backups for 0 day(s), expected at least 1"
    # An emulator that does not report PubliclyAccessible is not treated as public.
    unknown = RdsInventory({"c-ada-db": DbInstance("c-ada-db", publicly_accessible=None)})
    assert rds.not_public(unknown, DB).status == "passed"


@pytest.mark.parametrize(
    ("value", "per_unit", "expected"),
    [
        ("256", 1024, 256),
        ("1 vCPU", 1024, 1024),
        ("0.5 vCPU", 1024, 512),
        ("2 GB", 1024, 2048),
        ("lots", 1024, None),
        (None, 1024, None),
    ],
)
def test_task_size_units(value, per_unit: int, expected) -> None:
    assert units(value, per_unit) == expected


WEB = ecs.FamilyParams(family="c-ada-web")


def task(**container) -> EcsInventory:
    base = dict(
        name="web",
        image="nginxinc/nginx-unprivileged:1.27-alpine",
        memory=512,
        user="101",
        readonly_root=True,
        log_driver="awslogs",
        log_options={"awslogs-group": "g", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"},
    )
    base.update(container)
    return EcsInventory(
        {
            "c-ada-web": TaskDefinition(
                "c-ada-web", revision=3, cpu=256, memory=512, containers=(Container(**base),)
            )
        }
    )


@pytest.mark.parametrize(
    ("container", "check", "message"),
    [
        (
            {"user": None},
            ecs.non_root,
            "c-ada-web:3: containers running as root (set user to a non-zero uid): web",
        ),
        ({"user": "root:wheel"}, ecs.non_root, None),
        ({"user": "0:101"}, ecs.non_root, None),
        ({"readonly_root": False}, ecs.read_only_root, None),
        ({"image": "nginx"}, ecs.image_pinned, None),
        ({"image": "registry:5000/nginx:latest"}, ecs.image_pinned, None),
        ({"log_driver": "json-file"}, ecs.awslogs, "c-ada-web:3: web uses log driver json-file"),
        (
            {"log_options": {"awslogs-group": "g"}},
            ecs.awslogs,
            "c-ada-web:3: web lacks awslogs-region, awslogs-stream-prefix",
        ),
        ({"memory": None, "memory_reservation": 256}, ecs.limits, None),
        ({"privileged": True}, ecs.not_privileged, None),
    ],
)
def test_ecs_checks_fail_on_each_mistake(container: dict, check, message: str | None) -> None:
    assert check(task(), WEB).status == "passed"
    result = check(task(**container), WEB)
    assert result.status == "failed"
    if message:
        assert result.message == message


def test_ecs_pinned_by_digest_and_registry_port() -> None:
    assert ecs.image_pinned(task(image="registry:5000/nginx@sha256:abc"), WEB).status == "passed"
    assert ecs.image_pinned(task(image="registry:5000/nginx:1.27"), WEB).status == "passed"


def test_ecs_size_guard() -> None:
    big = EcsInventory(
        {
            "c-ada-web": TaskDefinition(
                "c-ada-web", revision=1, cpu=4096, memory=8192, containers=(Container("web"),)
            )
        }
    )
    result = ecs.size_within(big, ecs.SizeParams(family="c-ada-web", max_cpu=1024, max_memory=2048))
    assert result.message == "c-ada-web:1 is oversized: cpu 4096 > 1024, memory 8192 MiB > 2048 MiB"


YAML_TEMPLATE = """\
Resources:
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: c-ada-artifacts
      VersioningConfiguration: {Status: Enabled}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - {Effect: Allow, Principal: {AWS: "*"}, Action: s3:GetObject, Resource: !Sub "${Bucket.Arn}/*"}
Outputs:
  BucketName:
    Value: !Ref Bucket
"""


def test_parse_template_reads_yaml_with_short_form_tags() -> None:
    template, error = parse_template(YAML_TEMPLATE)
    assert error is None
    assert template["Resources"]["Bucket"]["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}
    assert parse_template({"Resources": {}}) == ({"Resources": {}}, None)
    assert parse_template("[1, 2]") == (None, "the template is not a mapping")
    assert parse_template("a: [")[1].startswith("the template is neither JSON nor YAML")


def stack(**changes) -> CloudFormationInventory:
    template, _ = parse_template(YAML_TEMPLATE)
    fields = dict(
        name="c-ada-stack",
        status="CREATE_COMPLETE",
        outputs={"BucketName": "c-ada-artifacts"},
        termination_protection=True,
        resources=(StackResource("Bucket", "AWS::S3::Bucket", "c-ada-artifacts", "CREATE_COMPLETE"),),
        template=template,
    )
    fields.update(changes)
    return CloudFormationInventory({"c-ada-stack": Stack(**fields)})


BUCKET = dict(stack="c-ada-stack", type="AWS::S3::Bucket", physical_id="c-ada-artifacts")


def test_cloudformation_checks() -> None:
    versioning = cfn.PropertyParams(**BUCKET, path="VersioningConfiguration.Status", value="Enabled")
    assert cfn.stack_status(stack(), cfn.StatusParams(stack="c-ada-stack")).status == "passed"
    assert cfn.resource(stack(), cfn.ResourceParams(**BUCKET)).status == "passed"
    assert cfn.resource_property(stack(), versioning).status == "passed"
    assert (
        cfn.output(
            stack(), cfn.OutputParams(stack="c-ada-stack", key="BucketName", value="c-ada-artifacts")
        ).status
        == "passed"
    )
    assert cfn.no_public_bucket_policy(stack(), cfn.StackParams(stack="c-ada-stack")).message == (
        "Policy allows s3:GetObject to principal *"
    )

    rolled_back = stack(status="ROLLBACK_COMPLETE", status_reason="Bucket already exists")
    assert cfn.stack_status(rolled_back, cfn.StatusParams(stack="c-ada-stack")).message == (
        "stack c-ada-stack is ROLLBACK_COMPLETE: Bucket already exists"
    )
    unmanaged = stack(resources=())
    assert cfn.resource(unmanaged, cfn.ResourceParams(**BUCKET)).message == (
        "stack c-ada-stack does not manage c-ada-artifacts (it manages nothing)"
    )
    assert cfn.resource_property(unmanaged, versioning).status == "skipped"
    suspended = cfn.PropertyParams(**BUCKET, path="VersioningConfiguration.Status", value="Suspended")
    assert cfn.resource_property(stack(), suspended).message == (
        "Bucket sets VersioningConfiguration.Status to 'Enabled', expected 'Suspended'"
    )
    assert (
        cfn.termination_protection(
            stack(termination_protection=False), cfn.StackParams(stack="c-ada-stack")
        ).status
        == "failed"
    )
    assert (
        cfn.output(
            CloudFormationInventory(), cfn.OutputParams(stack="c-ada-stack", key="K", value="v")
        ).status
        == "skipped"
    )
