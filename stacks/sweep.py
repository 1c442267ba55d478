"""`labctl sweep`: delete what students made by hand in the cohort's AWS target, then prove it is gone.

No Pulumi state knows about a bucket a student made with the AWS CLI, so sweep finds resources by
name: a resource belongs to a student when its name is the student's prefix or starts with the prefix
and a separator (`c1-ada`, `c1-ada-site`; never `c1-adam-site`); the longest prefix wins. EC2
networking and API Gateway APIs follow the collectors' rule (validators.collectors.ec2): a
`labctl:cohort` + `labctl:student` tag pair of this cohort decides first, then the name (`Name` tag or
group name), then — for what lives in a VPC — the VPC's owner. A prefixed resource tagged
`labctl:cohort` with another cohort is left alone and reported. Resources tagged for this cohort but
owned by none of its prefixes are reported, never deleted.

Deletion runs in dependency order (`KINDS`): CloudFormation stacks first (what a stack made goes with
it), APIs before the function permissions that name them and the functions they call, alarms before
the topics they notify, ECS clusters (services and tasks first) and task definitions (every revision
deregistered), RDS instances before their subnet groups, functions before the topics, queues, tables
and log groups they use, buckets emptied of every object version and delete marker, then the
network inside out — group-referencing security-group rules revoked before any group goes, route
tables (disassociated) and subnets, internet gateways detached, the VPC — and IAM last: roles
(policies detached and deleted first), then managed policies the students made. Then everything is
listed again: the report is that second inventory, not a promise. IAM users and whatever lives under
the `/labctl/` IAM path are the stack's own (`labctl destroy`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from labctl.cohorts.aws_errors import error_text
from labctl.cohorts.cohort import Cohort, Student
from labctl.labs.errors import LabctlError

COHORT_TAG = "labctl:cohort"
STUDENT_TAG = "labctl:student"
STACK_IAM_PATH = "/labctl/"
# Deletion order: what uses a resource goes before it. A kind is `<boto3 service>[-<what>]`.
KINDS = (
    "cloudformation",
    "apigateway",
    "apigatewayv2",
    "lambda-permission",
    "lambda",
    "cloudwatch",
    "ecs-cluster",
    "ecs",
    "rds",
    "rds-subnet-group",
    "sns",
    "sqs",
    "dynamodb",
    "logs-metric-filter",
    "logs",
    "s3",
    "ec2-security-group",
    "ec2-route-table",
    "ec2-subnet",
    "ec2-internet-gateway",
    "ec2-vpc",
    "iam",
    "iam-policy",
)
# Kinds whose name alone does not identify one resource: the label adds the id (or the holder).
SHOWS_REF = frozenset({
    "apigateway", "apigatewayv2", "lambda-permission", "logs-metric-filter",
    "ec2-security-group", "ec2-route-table", "ec2-subnet", "ec2-internet-gateway", "ec2-vpc",
})
GONE = frozenset({
    "NoSuchBucket", "NoSuchEntity", "NotFoundException", "ResourceNotFoundException",
    "DBInstanceNotFound", "DBInstanceNotFoundFault", "DBSubnetGroupNotFoundFault", "ClusterNotFoundException",
    "InvalidGroup.NotFound", "InvalidRouteTableID.NotFound", "InvalidSubnetID.NotFound",
    "InvalidInternetGatewayID.NotFound", "InvalidVpcID.NotFound", "AWS.SimpleQueueService.NonExistentQueue",
})
"""Error codes saying the resource is already gone — typically taken with its CloudFormation stack."""
STACK_DELETE_WAIT = {"Delay": 5, "MaxAttempts": 120}
RDS_DELETE_WAIT = {"Delay": 15, "MaxAttempts": 120}


def role_key(role: dict) -> str:
    """A role's path and name as its ARN spells them (`<path>/<name>`, no leading `/`): IAM matches a
    role ARN pattern `role/<prefix>-*` against both, so a role under a path `/<prefix>-x/` is that
    student's whatever its name, and is found here whatever its name."""
    return role["Arn"].split(":role/", 1)[1]


@dataclass(frozen=True)
class Resource:
    service: str
    """The kind (see KINDS): the boto3 service, then what of it (`ec2-subnet`)."""
    name: str
    student: str
    ref: str
    """What the delete call takes: queue URL, topic/table/function/policy ARN, an id, or the name itself;
    for a function permission the function, for a metric filter its log group."""

    @property
    def label(self) -> str:
        if self.service in SHOWS_REF and self.ref != self.name:
            return f"{self.service} {self.name} ({self.ref})"
        return f"{self.service} {self.name}"


@dataclass(frozen=True)
class Left:
    resource: Resource
    reason: str


@dataclass
class SweepReport:
    cohort: str
    dry_run: bool
    deleted: list[Resource] = field(default_factory=list)
    planned: list[Resource] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def proof(self) -> str:
        if self.dry_run:
            return f"dry run: {len(self.planned)} resources would be deleted for {self.cohort}"
        if not self.left:
            return f"0 resources left for {self.cohort}"
        return f"{len(self.left)} resources left for {self.cohort}"

    def to_dict(self) -> dict:
        def res(r: Resource) -> dict:
            return {"service": r.service, "name": r.name, "student": r.student, "ref": r.ref}

        return {
            "cohort": self.cohort, "dry_run": self.dry_run, "proof": self.proof(),
            "deleted": [res(r) for r in self.deleted], "would_delete": [res(r) for r in self.planned],
            "left": [{**res(x.resource), "reason": x.reason} for x in self.left],
            "tagged_outside_prefixes": self.outside,
        }


def owner(name: str, students: Iterable[Student]) -> Student | None:
    """The student whose prefix `name` is under: equal, or the prefix followed by a separator.

    Longest prefix first, as the collectors do: student `ab` never takes `c-ab-x-site` from `ab-x`.
    """
    for student in sorted(students, key=lambda s: len(s.prefix), reverse=True):
        prefix = student.prefix
        if name == prefix or (name.startswith(prefix) and name[len(prefix)] in "-_."):
            return student
    return None


def error_code(exc: Exception) -> str:
    return str(exc.response.get("Error", {}).get("Code", "")) if isinstance(exc, ClientError) else ""


def pairs(tags: list[dict] | None) -> dict[str, str]:
    """[{Key, Value}] (or ECS's [{key, value}]) → {key: value}."""
    return {t.get("Key", t.get("key")): t.get("Value", t.get("value", "")) for t in tags or []}


def referencing_only(permissions: list[dict]) -> list[dict]:
    """The group-referencing part of each rule: what blocks deleting the referenced group."""
    kept = []
    for rule in permissions:
        groups = [{k: v for k, v in pair.items() if k in ("GroupId", "UserId")}
                  for pair in rule.get("UserIdGroupPairs", [])]
        if groups:
            kept.append({**{k: rule[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in rule},
                         "UserIdGroupPairs": groups})
    return kept


class Sweeper:
    """One client per service; `collect_<kind>` lists the chosen students' resources, `delete_<kind>`
    removes one, `before_<kind>` (where present) runs once before a kind's deletions."""

    def __init__(self, session: boto3.Session, endpoint: str | None, cohort: Cohort, students: list[Student],
                 region: str | None = None):
        self.cohort = cohort
        self.students = students
        self.where = endpoint or region or cohort.target.endpoint or cohort.target.region
        services = {kind.split("-")[0] for kind in KINDS} | {"resourcegroupstaggingapi"}
        self.clients = {s: session.client(s, endpoint_url=endpoint, region_name=region) for s in services}
        self.known_tags: dict[tuple[str, str], dict[str, str]] = {}
        self.vpc_owners: dict[str, Student] = {}
        self.api_owners: dict[str, Student] = {}
        """The APIs this sweep owns by id, kept across inventories: permissions naming them are owned."""

    def pages(self, service: str, operation: str, key: str, **kwargs) -> Iterator[dict]:
        for page in self.clients[service].get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])

    def owner_of(self, name: str) -> Student | None:
        """The chosen student whose prefix `name` is under (see `owner`)."""
        return owner(name, self.students)

    def name_filters(self, key: str) -> list[dict[str, str]]:
        """Arguments of a listing API that filters by name prefix under `key`: one per chosen student."""
        return [{key: s.prefix} for s in self.students]

    def mine(self, service: str, name: str, ref: str) -> Iterator[Resource]:
        student = self.owner_of(name)
        if student is not None:
            yield Resource(service, name, student.student, ref)

    def claim(self, tags: dict[str, str], names: Iterable[str | None], vpc_id: str | None = None) -> Student | None:
        """The collectors' rule: this cohort's student tag first, then a name, then the owning VPC."""
        if tags.get(COHORT_TAG) == self.cohort.name and tags.get(STUDENT_TAG):
            return next((s for s in self.students if s.student == tags[STUDENT_TAG]), None)
        for name in names:
            if name and (student := self.owner_of(name)) is not None:
                return student
        return self.vpc_owners.get(vpc_id) if vpc_id else None

    def claimed(self, kind: str, name: str, ref: str, tags: dict[str, str],
                names: Iterable[str | None], vpc_id: str | None = None) -> Iterator[Resource]:
        student = self.claim(tags, names, vpc_id)
        if student is not None:
            self.known_tags[(kind, ref)] = tags
            yield Resource(kind, name, student.student, ref)

    # --- inventory ------------------------------------------------------------------------------

    def collect(self) -> list[Resource]:
        self.vpc_owners = self.find_vpc_owners()
        found: list[Resource] = []
        for kind in KINDS:
            found += list(getattr(self, f"collect_{kind.replace('-', '_')}")())
        return found

    def collect_cloudformation(self) -> Iterator[Resource]:
        for stack in self.pages("cloudformation", "describe_stacks", "Stacks"):
            if stack.get("StackStatus") != "DELETE_COMPLETE":
                student = self.owner_of(stack["StackName"])
                if student is not None:
                    self.known_tags[("cloudformation", stack["StackName"])] = pairs(stack.get("Tags"))
                    yield Resource("cloudformation", stack["StackName"], student.student, stack["StackName"])

    def collect_apigateway(self) -> Iterator[Resource]:
        for api in self.pages("apigateway", "get_rest_apis", "items"):
            yield from self.owned_api("apigateway", api.get("name", ""), api["id"], api.get("tags") or {})

    def collect_apigatewayv2(self) -> Iterator[Resource]:
        for api in self.pages("apigatewayv2", "get_apis", "Items"):
            yield from self.owned_api("apigatewayv2", api.get("Name", ""), api["ApiId"], api.get("Tags") or {})

    def owned_api(self, kind: str, name: str, api_id: str, tags: dict[str, str]) -> Iterator[Resource]:
        student = self.claim(tags, [name])
        if student is not None:
            self.api_owners[api_id] = student
            self.known_tags[(kind, api_id)] = tags
            yield Resource(kind, name, student.student, api_id)

    def collect_lambda_permission(self) -> Iterator[Resource]:
        """Statements the students added to functions they do not own (their own go with them): a
        statement id under their prefix, or a source ARN naming one of their APIs."""
        c = self.clients["lambda"]
        for fn in self.pages("lambda", "list_functions", "Functions"):
            name = fn["FunctionName"]
            if self.owner_of(name) is not None:
                continue
            try:
                policy = json.loads(c.get_policy(FunctionName=name)["Policy"])
            except ClientError as exc:
                if error_code(exc) == "ResourceNotFoundException":
                    continue
                raise
            for statement in policy.get("Statement", []):
                sid = str(statement.get("Sid", ""))
                student = self.owner_of(sid) or self.api_owner(statement)
                if student is not None:
                    yield Resource("lambda-permission", sid, student.student, name)

    def api_owner(self, statement: dict) -> Student | None:
        """The student whose API the statement's `AWS:SourceArn` (execute-api:…:<api id>/…) names."""
        for condition in (statement.get("Condition") or {}).values():
            arn = str(condition.get("AWS:SourceArn", "")) if isinstance(condition, dict) else ""
            parts = arn.split(":")
            if arn.startswith("arn:aws:execute-api:") and len(parts) > 5:
                return self.api_owners.get(parts[5].split("/", 1)[0])
        return None

    def collect_lambda(self) -> Iterator[Resource]:
        for fn in self.pages("lambda", "list_functions", "Functions"):
            yield from self.mine("lambda", fn["FunctionName"], fn["FunctionArn"])

    def collect_cloudwatch(self) -> Iterator[Resource]:
        # Composite alarms first: they name metric alarms, which cannot go while named.
        for named in self.name_filters("AlarmNamePrefix"):
            listed = list(self.clients["cloudwatch"].get_paginator("describe_alarms").paginate(
                **named, AlarmTypes=["CompositeAlarm", "MetricAlarm"]))
            for key in ("CompositeAlarms", "MetricAlarms"):
                for page in listed:
                    for alarm in page.get(key, []):
                        yield from self.mine("cloudwatch", alarm["AlarmName"], alarm["AlarmArn"])

    def collect_ecs_cluster(self) -> Iterator[Resource]:
        """ACTIVE clusters only: a deleted cluster stays INACTIVE (and may stay listed) for a while."""
        c = self.clients["ecs"]
        arns = [a for a in self.pages("ecs", "list_clusters", "clusterArns")
                if self.owner_of(a.rsplit("/", 1)[-1]) is not None]
        for start in range(0, len(arns), 100):
            for cluster in c.describe_clusters(clusters=arns[start:start + 100], include=["TAGS"])["clusters"]:
                if cluster.get("status") != "INACTIVE":
                    for r in self.mine("ecs-cluster", cluster["clusterName"], cluster["clusterArn"]):
                        self.known_tags[(r.service, r.ref)] = pairs(cluster.get("tags"))
                        yield r

    def collect_ecs(self) -> Iterator[Resource]:
        """Families with an ACTIVE revision (asked per family: a family listing may keep deregistered ones)."""
        for named in self.name_filters("familyPrefix"):
            for family in self.pages("ecs", "list_task_definition_families", "families", **named, status="ACTIVE"):
                if self.owner_of(family) is not None and next(self.revisions(family, "ACTIVE"), None):
                    yield from self.mine("ecs", family, family)

    def revisions(self, family: str, status: str) -> Iterator[str]:
        for arn in self.pages("ecs", "list_task_definitions", "taskDefinitionArns", familyPrefix=family, status=status):
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
                yield arn

    def collect_rds(self) -> Iterator[Resource]:
        for db in self.pages("rds", "describe_db_instances", "DBInstances"):
            yield from self.mine("rds", db["DBInstanceIdentifier"].lower(), db["DBInstanceArn"])

    def collect_rds_subnet_group(self) -> Iterator[Resource]:
        for group in self.pages("rds", "describe_db_subnet_groups", "DBSubnetGroups"):
            yield from self.mine("rds-subnet-group", group["DBSubnetGroupName"].lower(), group["DBSubnetGroupArn"])

    def collect_sns(self) -> Iterator[Resource]:
        for topic in self.pages("sns", "list_topics", "Topics"):
            arn = topic["TopicArn"]
            yield from self.mine("sns", arn.rsplit(":", 1)[-1], arn)

    def collect_sqs(self) -> Iterator[Resource]:
        for named in self.name_filters("QueueNamePrefix"):
            urls = self.clients["sqs"].list_queues(**named).get("QueueUrls", [])
            for url in urls:
                yield from self.mine("sqs", url.rstrip("/").rsplit("/", 1)[-1], url)

    def collect_dynamodb(self) -> Iterator[Resource]:
        client = self.clients["dynamodb"]
        for name in self.pages("dynamodb", "list_tables", "TableNames"):
            if self.owner_of(name):
                arn = client.describe_table(TableName=name)["Table"]["TableArn"]
                yield from self.mine("dynamodb", name, arn)

    def log_group_owner(self, name: str) -> Student | None:
        # Lambda's groups are `/aws/lambda/<function>`: the last path segment carries the prefix.
        return self.owner_of(name.rsplit("/", 1)[-1])

    def collect_logs_metric_filter(self) -> Iterator[Resource]:
        """Filters students put on log groups they do not own (their own groups' go with them):
        named under their prefix, or writing into a metric namespace under it."""
        for found in self.pages("logs", "describe_metric_filters", "metricFilters"):
            group = found["logGroupName"]
            if self.log_group_owner(group) is not None:
                continue
            namespaces = [t.get("metricNamespace", "") for t in found.get("metricTransformations", [])]
            student = next((s for n in (found["filterName"], *namespaces) if (s := self.owner_of(n))), None)
            if student is not None:
                yield Resource("logs-metric-filter", found["filterName"], student.student, group)

    def collect_logs(self) -> Iterator[Resource]:
        for group in self.pages("logs", "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            student = self.log_group_owner(name)
            if student is not None:
                yield Resource("logs", name, student.student, name)

    def collect_s3(self) -> Iterator[Resource]:
        for bucket in self.clients["s3"].list_buckets().get("Buckets", []):
            yield from self.mine("s3", bucket["Name"], bucket["Name"])

    def find_vpc_owners(self) -> dict[str, Student]:
        """The chosen students' VPCs (kept in `self.vpcs` for the VPC kind); what lives in one belongs to
        its owner — unless the VPC is tagged for another cohort, which keeps its contents out too.
        Default VPCs are kept in `self.default_vpcs` and never swept."""
        self.vpcs: dict[str, tuple[Student, dict[str, str]]] = {}
        self.default_vpcs: set[str] = set()
        owners = {}
        for vpc in self.pages("ec2", "describe_vpcs", "Vpcs"):
            if vpc.get("IsDefault"):  # the account's own, in every region: never a student's
                self.default_vpcs.add(vpc["VpcId"])
                continue
            tags = pairs(vpc.get("Tags"))
            student = self.claim(tags, [tags.get("Name")])
            if student is not None:
                self.vpcs[vpc["VpcId"]] = (student, tags)
                if tags.get(COHORT_TAG, self.cohort.name) == self.cohort.name:
                    owners[vpc["VpcId"]] = student
        return owners

    def collect_ec2_security_group(self) -> Iterator[Resource]:
        for group in self.pages("ec2", "describe_security_groups", "SecurityGroups"):
            if group.get("GroupName") == "default":
                continue  # every VPC's own; it goes with the VPC
            tags = pairs(group.get("Tags"))
            yield from self.claimed("ec2-security-group", group.get("GroupName", group["GroupId"]), group["GroupId"],
                                    tags, [group.get("GroupName"), tags.get("Name")], group.get("VpcId"))

    def collect_ec2_route_table(self) -> Iterator[Resource]:
        for table in self.pages("ec2", "describe_route_tables", "RouteTables"):
            if any(a.get("Main") for a in table.get("Associations", [])):
                continue  # the VPC's main table goes with the VPC
            tags = pairs(table.get("Tags"))
            yield from self.claimed("ec2-route-table", tags.get("Name") or table["RouteTableId"], table["RouteTableId"],
                                    tags, [tags.get("Name")], table.get("VpcId"))

    def collect_ec2_subnet(self) -> Iterator[Resource]:
        for subnet in self.pages("ec2", "describe_subnets", "Subnets"):
            tags = pairs(subnet.get("Tags"))
            yield from self.claimed("ec2-subnet", tags.get("Name") or subnet["SubnetId"], subnet["SubnetId"],
                                    tags, [tags.get("Name")], subnet.get("VpcId"))

    def collect_ec2_internet_gateway(self) -> Iterator[Resource]:
        for gateway in self.pages("ec2", "describe_internet_gateways", "InternetGateways"):
            tags = pairs(gateway.get("Tags"))
            attached = next((a["VpcId"] for a in gateway.get("Attachments", []) if a.get("VpcId")), None)
            gid = gateway["InternetGatewayId"]
            yield from self.claimed("ec2-internet-gateway", tags.get("Name") or gid, gid, tags,
                                    [tags.get("Name")], attached)

    def collect_ec2_vpc(self) -> Iterator[Resource]:
        for vpc_id, (student, tags) in self.vpcs.items():
            self.known_tags[("ec2-vpc", vpc_id)] = tags
            yield Resource("ec2-vpc", tags.get("Name") or vpc_id, student.student, vpc_id)

    def collect_iam(self) -> Iterator[Resource]:
        for role in self.pages("iam", "list_roles", "Roles"):
            if not role.get("Path", "/").startswith(STACK_IAM_PATH):
                yield from self.mine("iam", role_key(role), role["RoleName"])

    def collect_iam_policy(self) -> Iterator[Resource]:
        for policy in self.pages("iam", "list_policies", "Policies", Scope="Local"):
            if not policy.get("Path", "/").startswith(STACK_IAM_PATH):
                yield from self.mine("iam-policy", policy["PolicyName"], policy["Arn"])

    # --- tags -----------------------------------------------------------------------------------

    def tags(self, r: Resource) -> dict[str, str]:
        """The resource's tags, as one flat dict: from its listing, else by its service's own call."""
        if (r.service, r.ref) in self.known_tags:
            return self.known_tags[(r.service, r.ref)]
        c = self.clients[r.service.split("-")[0]]
        if r.service in ("lambda-permission", "logs-metric-filter"):
            return {}  # not taggable: the function or group they sit on is someone else's
        if r.service == "lambda":
            return c.list_tags(Resource=r.ref).get("Tags", {})
        if r.service == "sns":
            return pairs(c.list_tags_for_resource(ResourceArn=r.ref).get("Tags", []))
        if r.service == "cloudwatch":
            return pairs(c.list_tags_for_resource(ResourceARN=r.ref).get("Tags", []))
        if r.service == "sqs":
            return c.list_queue_tags(QueueUrl=r.ref).get("Tags", {})
        if r.service == "dynamodb":
            return pairs(c.list_tags_of_resource(ResourceArn=r.ref).get("Tags", []))
        if r.service == "logs":
            return c.list_tags_log_group(logGroupName=r.ref).get("tags", {})
        if r.service == "ecs-cluster":
            return pairs(c.list_tags_for_resource(resourceArn=r.ref).get("tags", []))
        if r.service == "ecs":
            return pairs(c.describe_task_definition(taskDefinition=r.ref, include=["TAGS"]).get("tags", []))
        if r.service in ("rds", "rds-subnet-group"):
            return pairs(c.list_tags_for_resource(ResourceName=r.ref).get("TagList", []))
        if r.service == "s3":
            try:
                return pairs(c.get_bucket_tagging(Bucket=r.ref).get("TagSet", []))
            except ClientError as exc:
                if error_code(exc) == "NoSuchTagSet":
                    return {}
                raise
        if r.service == "iam-policy":
            return pairs(c.list_policy_tags(PolicyArn=r.ref).get("Tags", []))
        return pairs(c.list_role_tags(RoleName=r.ref).get("Tags", []))

    def tagged_for_this_cohort(self) -> list[str]:
        """ARNs tagged `labctl:cohort=<cohort>` anywhere in the target (the tagging API's view)."""
        filters = [{"Key": COHORT_TAG, "Values": [self.cohort.name]}]
        try:
            return [m["ResourceARN"] for m in self.pages("resourcegroupstaggingapi", "get_resources",
                                                         "ResourceTagMappingList", TagFilters=filters)]
        except (ClientError, BotoCoreError):
            return []

    # --- deletion -------------------------------------------------------------------------------

    def delete(self, r: Resource) -> None:
        """Delete one resource; one that is already gone (taken with its stack) counts as deleted."""
        try:
            getattr(self, f"delete_{r.service.replace('-', '_')}")(r)
        except ClientError as exc:
            if error_code(exc) not in GONE:
                raise

    def before(self, kind: str, doomed: list[Resource]) -> None:
        hook = getattr(self, f"before_{kind.replace('-', '_')}", None)
        if hook is not None:
            hook(doomed)

    def delete_cloudformation(self, r: Resource) -> None:
        c = self.clients["cloudformation"]
        (stack,) = c.describe_stacks(StackName=r.ref)["Stacks"]
        try:
            c.delete_stack(StackName=stack["StackId"])
        except ClientError as exc:
            # Refused while termination protection is on (moto does not model it, nor the update call).
            if "TerminationProtection" not in error_text(exc):
                raise
            c.update_termination_protection(StackName=stack["StackId"], EnableTerminationProtection=False)
            c.delete_stack(StackName=stack["StackId"])
        try:
            c.get_waiter("stack_delete_complete").wait(StackName=stack["StackId"], WaiterConfig=STACK_DELETE_WAIT)
        except WaiterError as exc:
            reason = (exc.last_response.get("Stacks") or [{}])[0].get("StackStatusReason", "")
            raise ClientError({"Error": {"Code": "DELETE_FAILED", "Message": reason or str(exc)}},
                              "DeleteStack") from None

    def delete_apigateway(self, r: Resource) -> None:
        self.clients["apigateway"].delete_rest_api(restApiId=r.ref)

    def delete_apigatewayv2(self, r: Resource) -> None:
        self.clients["apigatewayv2"].delete_api(ApiId=r.ref)

    def delete_lambda_permission(self, r: Resource) -> None:
        self.clients["lambda"].remove_permission(FunctionName=r.ref, StatementId=r.name)

    def delete_lambda(self, r: Resource) -> None:
        c = self.clients["lambda"]
        for mapping in c.list_event_source_mappings(FunctionName=r.name).get("EventSourceMappings", []):
            c.delete_event_source_mapping(UUID=mapping["UUID"])
        c.delete_function(FunctionName=r.name)

    def delete_cloudwatch(self, r: Resource) -> None:
        self.clients["cloudwatch"].delete_alarms(AlarmNames=[r.name])

    def delete_ecs_cluster(self, r: Resource) -> None:
        """Services (scaled to zero, forced) and running tasks first: a cluster with either stays."""
        c = self.clients["ecs"]
        for service in list(self.pages("ecs", "list_services", "serviceArns", cluster=r.ref)):
            c.delete_service(cluster=r.ref, service=service, force=True)
        for task in list(self.pages("ecs", "list_tasks", "taskArns", cluster=r.ref)):
            c.stop_task(cluster=r.ref, task=task, reason="labctl sweep")
        c.delete_cluster(cluster=r.ref)

    def delete_ecs(self, r: Resource) -> None:
        """Every revision of the family: ACTIVE ones deregistered, then all of them deleted."""
        c = self.clients["ecs"]
        active = list(self.revisions(r.ref, "ACTIVE"))
        for arn in active:
            c.deregister_task_definition(taskDefinition=arn)
        revisions = [*active, *(a for a in self.revisions(r.ref, "INACTIVE") if a not in active)]
        for start in range(0, len(revisions), 10):
            c.delete_task_definitions(taskDefinitions=revisions[start:start + 10])

    def delete_rds(self, r: Resource) -> None:
        c = self.clients["rds"]
        (db,) = c.describe_db_instances(DBInstanceIdentifier=r.name)["DBInstances"]
        if db.get("DeletionProtection"):
            c.modify_db_instance(DBInstanceIdentifier=r.name, DeletionProtection=False, ApplyImmediately=True)
        c.delete_db_instance(DBInstanceIdentifier=r.name, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        # Its subnet group cannot go while the instance still exists.
        c.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=r.name, WaiterConfig=RDS_DELETE_WAIT)

    def delete_rds_subnet_group(self, r: Resource) -> None:
        self.clients["rds"].delete_db_subnet_group(DBSubnetGroupName=r.name)

    def delete_sns(self, r: Resource) -> None:
        self.clients["sns"].delete_topic(TopicArn=r.ref)

    def delete_sqs(self, r: Resource) -> None:
        self.clients["sqs"].delete_queue(QueueUrl=r.ref)

    def delete_dynamodb(self, r: Resource) -> None:
        c = self.clients["dynamodb"]
        if c.describe_table(TableName=r.name)["Table"].get("DeletionProtectionEnabled"):
            c.update_table(TableName=r.name, DeletionProtectionEnabled=False)
        c.delete_table(TableName=r.name)

    def delete_logs_metric_filter(self, r: Resource) -> None:
        self.clients["logs"].delete_metric_filter(logGroupName=r.ref, filterName=r.name)

    def delete_logs(self, r: Resource) -> None:
        self.clients["logs"].delete_log_group(logGroupName=r.name)

    def delete_s3(self, r: Resource) -> None:
        """Every object version and delete marker, unfinished uploads, then the bucket."""
        c = self.clients["s3"]
        for upload in self.pages("s3", "list_multipart_uploads", "Uploads", Bucket=r.name):
            c.abort_multipart_upload(Bucket=r.name, Key=upload["Key"], UploadId=upload["UploadId"])
        for page in c.get_paginator("list_object_versions").paginate(Bucket=r.name):
            doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                      for v in (*page.get("Versions", []), *page.get("DeleteMarkers", []))]
            for start in range(0, len(doomed), 1000):
                c.delete_objects(Bucket=r.name, Delete={"Objects": doomed[start:start + 1000], "Quiet": True})
        c.delete_bucket(Bucket=r.name)

    def before_ec2_security_group(self, doomed: list[Resource]) -> None:
        """Revoke the rules that reference other groups — in the doomed groups and in the default groups
        of doomed VPCs — so no group is kept alive by another one's reference to it."""
        c = self.clients["ec2"]
        ids = [r.ref for r in doomed]
        vpcs = list(self.vpc_owners)
        holders = list(self.pages("ec2", "describe_security_groups", "SecurityGroups",
                                  Filters=[{"Name": "group-id", "Values": ids}])) if ids else []
        if vpcs:
            holders += [g for g in self.pages("ec2", "describe_security_groups", "SecurityGroups",
                                              Filters=[{"Name": "vpc-id", "Values": vpcs}])
                        if g.get("GroupName") == "default"]
        for group in holders:
            if ingress := referencing_only(group.get("IpPermissions", [])):
                c.revoke_security_group_ingress(GroupId=group["GroupId"], IpPermissions=ingress)
            if egress := referencing_only(group.get("IpPermissionsEgress", [])):
                c.revoke_security_group_egress(GroupId=group["GroupId"], IpPermissions=egress)

    def delete_ec2_security_group(self, r: Resource) -> None:
        self.clients["ec2"].delete_security_group(GroupId=r.ref)

    def delete_ec2_route_table(self, r: Resource) -> None:
        c = self.clients["ec2"]
        for table in c.describe_route_tables(RouteTableIds=[r.ref])["RouteTables"]:
            for association in table.get("Associations", []):
                c.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        c.delete_route_table(RouteTableId=r.ref)

    def delete_ec2_subnet(self, r: Resource) -> None:
        self.clients["ec2"].delete_subnet(SubnetId=r.ref)

    def delete_ec2_internet_gateway(self, r: Resource) -> None:
        c = self.clients["ec2"]
        for gateway in c.describe_internet_gateways(InternetGatewayIds=[r.ref])["InternetGateways"]:
            for attachment in gateway.get("Attachments", []):
                c.detach_internet_gateway(InternetGatewayId=r.ref, VpcId=attachment["VpcId"])
        c.delete_internet_gateway(InternetGatewayId=r.ref)

    def delete_ec2_vpc(self, r: Resource) -> None:
        self.clients["ec2"].delete_vpc(VpcId=r.ref)

    def delete_iam(self, r: Resource) -> None:
        c = self.clients["iam"]
        for policy in self.pages("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=r.ref):
            c.detach_role_policy(RoleName=r.ref, PolicyArn=policy["PolicyArn"])
        for name in self.pages("iam", "list_role_policies", "PolicyNames", RoleName=r.ref):
            c.delete_role_policy(RoleName=r.ref, PolicyName=name)
        for profile in c.list_instance_profiles_for_role(RoleName=r.ref).get("InstanceProfiles", []):
            c.remove_role_from_instance_profile(RoleName=r.ref, InstanceProfileName=profile["InstanceProfileName"])
        c.delete_role(RoleName=r.ref)

    def delete_iam_policy(self, r: Resource) -> None:
        """Detached from every role, user and group, its old versions deleted, then the policy."""
        c = self.clients["iam"]
        entities = c.list_entities_for_policy(PolicyArn=r.ref)
        for role in entities.get("PolicyRoles", []):
            c.detach_role_policy(RoleName=role["RoleName"], PolicyArn=r.ref)
        for user in entities.get("PolicyUsers", []):
            c.detach_user_policy(UserName=user["UserName"], PolicyArn=r.ref)
        for group in entities.get("PolicyGroups", []):
            c.detach_group_policy(GroupName=group["GroupName"], PolicyArn=r.ref)
        for version in c.list_policy_versions(PolicyArn=r.ref).get("Versions", []):
            if not version.get("IsDefaultVersion"):
                c.delete_policy_version(PolicyArn=r.ref, VersionId=version["VersionId"])
        c.delete_policy(PolicyArn=r.ref)


def sweep(
    cohort: Cohort,
    session: boto3.Session,
    endpoint: str | None,
    students: tuple[str, ...] = (),
    dry_run: bool = False,
    progress: Callable[[Resource], None] | None = None,
) -> SweepReport:
    """Delete the chosen students' hand-made resources, then list again and report what is left."""
    chosen = [cohort.student(s) for s in students] or list(cohort.students)
    return run_sweep(Sweeper(session, endpoint, cohort, chosen), dry_run, progress)


def run_sweep(sweeper: Sweeper, dry_run: bool = False,
              progress: Callable[[Resource], None] | None = None) -> SweepReport:
    """Delete what `sweeper` finds, in dependency order, then list again: the report is that second
    inventory (a dry run deletes nothing and reports what it would)."""
    cohort, chosen = sweeper.cohort, sweeper.students
    report = SweepReport(cohort.name, dry_run)
    try:
        found = sweeper.collect()
        report.outside = outside_prefixes(sweeper.tagged_for_this_cohort(), found, cohort, chosen)
        refused: dict[Resource, str] = {}
        for resource in found:
            other = sweeper.tags(resource).get(COHORT_TAG)
            if other and other != cohort.name:
                refused[resource] = f"tagged {COHORT_TAG}={other}: another cohort's, not deleted"
        doomed = sorted((r for r in found if r not in refused), key=lambda r: KINDS.index(r.service))
        if dry_run:
            report.planned = doomed
            report.left = [Left(r, reason) for r, reason in refused.items()]
            return report
        failures: dict[Resource, str] = dict(refused)
        for kind in KINDS:
            batch = [r for r in doomed if r.service == kind]
            if not batch:
                continue
            try:
                sweeper.before(kind, batch)
            except (ClientError, BotoCoreError) as exc:
                failures.update({r: f"preparing failed: {error_text(exc)}" for r in batch})
            for resource in batch:
                try:
                    sweeper.delete(resource)
                    report.deleted.append(resource)
                except (ClientError, BotoCoreError, WaiterError) as exc:
                    failures[resource] = f"delete failed: {error_text(exc)}"
                if progress:
                    progress(resource)
        remaining = sweeper.collect()
    except (ClientError, BotoCoreError) as exc:
        raise LabctlError(f"sweep of cohort {cohort.name} could not list resources at {sweeper.where}:"
                          f" {error_text(exc)}") from None
    report.deleted = [r for r in report.deleted if r not in remaining]
    report.left = [Left(r, failures.get(r, "still listed after deletion")) for r in remaining]
    return report


def outside_prefixes(arns: list[str], found: list[Resource], cohort: Cohort, students: list[Student]) -> list[str]:
    """Tagged-for-this-cohort ARNs that are none of the found resources and whose name is under none
    of the cohort's prefixes."""
    known = {r.name for r in found} | {r.ref.rsplit(":", 1)[-1].rsplit("/", 1)[-1] for r in found}
    outside = []
    for arn in arns:
        tail = arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if tail not in known and owner(tail, students) is None and owner(tail, cohort.students) is None:
            outside.append(arn)
    return outside


def sweep_target(cohort: Cohort, students: tuple[str, ...] = (), dry_run: bool = False,
                 progress: Callable[[Resource], None] | None = None) -> SweepReport:
    """Sweep with the instructor's credentials for the cohort's target."""
    from labctl.cohorts.targets import instructor_session

    session = instructor_session(cohort.target)
    return sweep(cohort, session, cohort.target.endpoint, students, dry_run, progress)
