"""Ownership: every student resource says whose it is, by its tags and by its name."""

from __future__ import annotations

from typing import Iterator

from pydantic import Field

from labctl.policies.model import LABCTL_TAGS, TAG_STUDENT, UNEVALUABLE, PolicyResource, RuleConfig, resource_rule

# AWS type tokens (pulumi-aws v6/v7) whose resources accept `tags`. Resources without tags
# (access keys, inline policies, attachments, bucket policies) are owned through their parent.
TAGGABLE_AWS_TYPES = frozenset(
    {
        "aws:iam/user:User",
        "aws:iam/role:Role",
        "aws:iam/policy:Policy",
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketV2:BucketV2",
        "aws:ec2/instance:Instance",
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/natGateway:NatGateway",
        "aws:ec2/eip:Eip",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/keyPair:KeyPair",
        "aws:rds/instance:Instance",
        "aws:rds/cluster:Cluster",
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:lambda/function:Function",
        "aws:dynamodb/table:Table",
        "aws:apigateway/restApi:RestApi",
        "aws:apigatewayv2/api:Api",
        "aws:ecs/cluster:Cluster",
        "aws:ecs/service:Service",
        "aws:ecs/taskDefinition:TaskDefinition",
        "aws:ecr/repository:Repository",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:cloudwatch/metricAlarm:MetricAlarm",
        "aws:sns/topic:Topic",
        "aws:sqs/queue:Queue",
        "aws:kms/key:Key",
        "aws:secretsmanager/secret:Secret",
        "aws:budgets/budget:Budget",
        "aws:cloudformation/stack:Stack",
    }
)

# Input properties that hold a resource's physical name, per AWS naming convention.
PHYSICAL_NAME_PROPS = ("name", "namePrefix", "bucket", "bucketPrefix", "identifier", "functionName")

# Types whose name properties name a shared artefact the student uses, not something the student
# owns: the resource itself (its logical name) is still the student's and still checked.
SHARED_ARTEFACT_NAMES = {
    "docker:index/remoteImage:RemoteImage": "`name` is an image reference pulled from a registry "
    "(e.g. codercom/code-server:4.96.4), shared by every student",
    "docker:index/registryImage:RegistryImage": "`name` is an image reference in a registry, shared by every student",
}


class TagsConfig(RuleConfig):
    required_tags: list[str] = Field(default=list(LABCTL_TAGS), alias="requiredTags")


@resource_rule(
    "tags-required",
    pack="isolation",
    description="Checks whether every taggable AWS resource carries the labctl:cohort, labctl:student "
    "and labctl:lab tags.",
    types=TAGGABLE_AWS_TYPES,
    config=TagsConfig,
)
def tags_required(resource: PolicyResource, config: TagsConfig) -> Iterator[str]:
    if resource.props.get("tags") in UNEVALUABLE:
        return
    tags = resource.tags
    missing = [t for t in config.required_tags if not (isinstance(tags.get(t), str) and tags.get(t))]
    if missing:
        yield f"{resource.type} {resource.name!r} must carry the tags {', '.join(missing)}."
    owner = tags.get(TAG_STUDENT)
    if resource.student and isinstance(owner, str) and owner and owner != resource.student:
        yield (
            f"{resource.type} {resource.name!r} must carry {TAG_STUDENT}={resource.student} "
            f"(it says {owner!r})."
        )


class PrefixConfig(RuleConfig):
    name_props: list[str] = Field(default=list(PHYSICAL_NAME_PROPS), alias="nameProperties")


def has_prefix(name: str, prefix: str) -> bool:
    """`c1-s1-site` has prefix `c1-s1`; `c1-s10-site` does not (another student's)."""
    return name == prefix or (name.startswith(prefix) and name[len(prefix)] in "-_.")


def owned_name(name: str, prefix: str) -> bool:
    """The prefix as is, or as PostgreSQL names spell it (`-` → `_`, DESIGN decision 7)."""
    return has_prefix(name, prefix) or has_prefix(name, prefix.replace("-", "_"))


@resource_rule(
    "names-prefixed",
    pack="isolation",
    description="Checks whether every student-owned resource is named with the student's prefix "
    "<cohort>-<student> (name properties of shared artefacts such as image references excepted).",
    types=("*",),
    config=PrefixConfig,
)
def names_prefixed(resource: PolicyResource, config: PrefixConfig) -> Iterator[str]:
    prefix = resource.prefix
    if not prefix:
        return
    if not owned_name(resource.name, prefix):
        yield f"{resource.type} {resource.name!r} must be named starting with {prefix!r}."
    # In the student's own account labctl's roles and policies have fixed names (`labctl-student`, …).
    if resource.type in SHARED_ARTEFACT_NAMES or resource.in_student_account:
        return
    for prop in config.name_props:
        value = resource.props.get(prop)
        if isinstance(value, str) and value not in UNEVALUABLE and not owned_name(value, prefix):
            yield (
                f"{resource.type} {resource.name!r} must have a {prop} starting with {prefix!r} "
                f"(it is {value!r})."
            )


RULES = (tags_required, names_prefixed)
