"""`labctl sweep`: delete what students made by hand in the cohort's AWS target, then prove it is gone.

No Pulumi state knows about a bucket a student made with the AWS CLI, so sweep finds resources by
name: a resource belongs to a student when its name is the student's prefix or starts with the prefix
and a separator (`c1-ada`, `c1-ada-site`; never `c1-adam-site`). A prefixed resource tagged
`labctl:cohort` with another cohort is left alone and reported. Resources tagged for this cohort but
named outside its prefixes are reported, never deleted: the prefixes are the only licence to delete.

Deletion runs in dependency order — event sources and functions before the topics, queues, tables
and log groups they use, buckets emptied of every object version and delete marker, IAM roles last
(policies detached and deleted first) — then everything is listed again: the report is that second
inventory, not a promise. IAM users and managed policies are the stack's own (`labctl destroy`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from labs.errors import LabctlError
from stacks.cohort import Cohort, Student

COHORT_TAG = "labctl:cohort"
# Deletion order: what uses a resource goes before it.
SERVICES = ("lambda", "sns", "sqs", "dynamodb", "logs", "s3", "iam")


@dataclass(frozen=True)
class Resource:
    service: str
    name: str
    student: str
    ref: str
    """What the delete call takes: queue URL, topic/table/function ARN, or the name itself."""

    @property
    def label(self) -> str:
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
            return {"service": r.service, "name": r.name, "student": r.student}

        return {
            "cohort": self.cohort, "dry_run": self.dry_run, "proof": self.proof(),
            "deleted": [res(r) for r in self.deleted], "would_delete": [res(r) for r in self.planned],
            "left": [{**res(x.resource), "reason": x.reason} for x in self.left],
            "tagged_outside_prefixes": self.outside,
        }


def owner(name: str, students: Iterable[Student]) -> Student | None:
    """The student whose prefix `name` is under: equal, or the prefix followed by a separator."""
    for student in students:
        prefix = student.prefix
        if name == prefix or (name.startswith(prefix) and name[len(prefix)] in "-_."):
            return student
    return None


def error_text(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'error')}: {err.get('Message', '')}".rstrip(": ")
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class Sweeper:
    """One service client each; `collect` lists prefixed resources, `delete` removes one."""

    def __init__(self, session: boto3.Session, endpoint: str | None, cohort: Cohort, students: list[Student]):
        self.cohort = cohort
        self.students = students
        self.clients = {s: session.client(s, endpoint_url=endpoint) for s in (*SERVICES, "resourcegroupstaggingapi")}

    def pages(self, service: str, operation: str, key: str, **kwargs) -> Iterator[dict]:
        for page in self.clients[service].get_paginator(operation).paginate(**kwargs):
            yield from page.get(key, [])

    def mine(self, service: str, name: str, ref: str) -> Iterator[Resource]:
        student = owner(name, self.students)
        if student is not None:
            yield Resource(service, name, student.student, ref)

    # --- inventory ------------------------------------------------------------------------------

    def collect(self) -> list[Resource]:
        found: list[Resource] = []
        for service in SERVICES:
            found += list(getattr(self, f"collect_{service}")())
        return found

    def collect_lambda(self) -> Iterator[Resource]:
        for fn in self.pages("lambda", "list_functions", "Functions"):
            yield from self.mine("lambda", fn["FunctionName"], fn["FunctionArn"])

    def collect_sns(self) -> Iterator[Resource]:
        for topic in self.pages("sns", "list_topics", "Topics"):
            arn = topic["TopicArn"]
            yield from self.mine("sns", arn.rsplit(":", 1)[-1], arn)

    def collect_sqs(self) -> Iterator[Resource]:
        for student in self.students:
            urls = self.clients["sqs"].list_queues(QueueNamePrefix=student.prefix).get("QueueUrls", [])
            for url in urls:
                yield from self.mine("sqs", url.rstrip("/").rsplit("/", 1)[-1], url)

    def collect_dynamodb(self) -> Iterator[Resource]:
        client = self.clients["dynamodb"]
        for name in self.pages("dynamodb", "list_tables", "TableNames"):
            if owner(name, self.students):
                arn = client.describe_table(TableName=name)["Table"]["TableArn"]
                yield from self.mine("dynamodb", name, arn)

    def collect_logs(self) -> Iterator[Resource]:
        # Lambda's groups are `/aws/lambda/<function>`: the last path segment carries the prefix.
        for group in self.pages("logs", "describe_log_groups", "logGroups"):
            name = group["logGroupName"]
            student = owner(name.rsplit("/", 1)[-1], self.students)
            if student is not None:
                yield Resource("logs", name, student.student, name)

    def collect_s3(self) -> Iterator[Resource]:
        for bucket in self.clients["s3"].list_buckets().get("Buckets", []):
            yield from self.mine("s3", bucket["Name"], bucket["Name"])

    def collect_iam(self) -> Iterator[Resource]:
        for role in self.pages("iam", "list_roles", "Roles"):
            yield from self.mine("iam", role["RoleName"], role["RoleName"])

    # --- tags -----------------------------------------------------------------------------------

    def tags(self, r: Resource) -> dict[str, str]:
        """The resource's tags, as one flat dict, by each service's own call."""
        c = self.clients[r.service]
        if r.service == "lambda":
            return c.list_tags(Resource=r.ref).get("Tags", {})
        if r.service == "sns":
            return pairs(c.list_tags_for_resource(ResourceArn=r.ref).get("Tags", []))
        if r.service == "sqs":
            return c.list_queue_tags(QueueUrl=r.ref).get("Tags", {})
        if r.service == "dynamodb":
            return pairs(c.list_tags_of_resource(ResourceArn=r.ref).get("Tags", []))
        if r.service == "logs":
            return c.list_tags_log_group(logGroupName=r.ref).get("tags", {})
        if r.service == "s3":
            try:
                return pairs(c.get_bucket_tagging(Bucket=r.ref).get("TagSet", []))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchTagSet":
                    return {}
                raise
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
        getattr(self, f"delete_{r.service}")(r)

    def delete_lambda(self, r: Resource) -> None:
        c = self.clients["lambda"]
        for mapping in c.list_event_source_mappings(FunctionName=r.name).get("EventSourceMappings", []):
            c.delete_event_source_mapping(UUID=mapping["UUID"])
        c.delete_function(FunctionName=r.name)

    def delete_sns(self, r: Resource) -> None:
        self.clients["sns"].delete_topic(TopicArn=r.ref)

    def delete_sqs(self, r: Resource) -> None:
        self.clients["sqs"].delete_queue(QueueUrl=r.ref)

    def delete_dynamodb(self, r: Resource) -> None:
        c = self.clients["dynamodb"]
        if c.describe_table(TableName=r.name)["Table"].get("DeletionProtectionEnabled"):
            c.update_table(TableName=r.name, DeletionProtectionEnabled=False)
        c.delete_table(TableName=r.name)

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

    def delete_iam(self, r: Resource) -> None:
        c = self.clients["iam"]
        for policy in self.pages("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=r.name):
            c.detach_role_policy(RoleName=r.name, PolicyArn=policy["PolicyArn"])
        for name in self.pages("iam", "list_role_policies", "PolicyNames", RoleName=r.name):
            c.delete_role_policy(RoleName=r.name, PolicyName=name)
        for profile in c.list_instance_profiles_for_role(RoleName=r.name).get("InstanceProfiles", []):
            c.remove_role_from_instance_profile(RoleName=r.name, InstanceProfileName=profile["InstanceProfileName"])
        c.delete_role(RoleName=r.name)


def pairs(tags: list[dict]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tags}


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
    sweeper = Sweeper(session, endpoint, cohort, chosen)
    report = SweepReport(cohort.name, dry_run)
    try:
        found = sweeper.collect()
        report.outside = outside_prefixes(sweeper.tagged_for_this_cohort(), found, cohort, chosen)
        refused: dict[Resource, str] = {}
        for resource in found:
            other = sweeper.tags(resource).get(COHORT_TAG)
            if other and other != cohort.name:
                refused[resource] = f"tagged {COHORT_TAG}={other}: another cohort's, not deleted"
        doomed = [r for r in found if r not in refused]
        if dry_run:
            report.planned = doomed
            report.left = [Left(r, reason) for r, reason in refused.items()]
            return report
        failures: dict[Resource, str] = dict(refused)
        for resource in sorted(doomed, key=lambda r: SERVICES.index(r.service)):
            try:
                sweeper.delete(resource)
                report.deleted.append(resource)
            except (ClientError, BotoCoreError) as exc:
                failures[resource] = f"delete failed: {error_text(exc)}"
            if progress:
                progress(resource)
        remaining = sweeper.collect()
    except (ClientError, BotoCoreError) as exc:
        where = cohort.target.endpoint or cohort.target.region
        raise LabctlError(f"sweep of cohort {cohort.name} could not list resources at {where}: {error_text(exc)}") from None
    report.deleted = [r for r in report.deleted if r not in remaining]
    report.left = [Left(r, failures.get(r, "still listed after deletion")) for r in remaining]
    return report


def outside_prefixes(arns: list[str], found: list[Resource], cohort: Cohort, students: list[Student]) -> list[str]:
    """Tagged-for-this-cohort ARNs whose resource name is under none of the chosen students' prefixes."""
    names = {r.name for r in found}
    outside = []
    for arn in arns:
        tail = arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
        if tail not in names and owner(tail, students) is None and owner(tail, cohort.students) is None:
            outside.append(arn)
    return outside


def sweep_target(cohort: Cohort, students: tuple[str, ...] = (), dry_run: bool = False,
                 progress: Callable[[Resource], None] | None = None) -> SweepReport:
    """Sweep with the instructor's credentials for the cohort's target."""
    from stacks.targets import instructor_session

    session = instructor_session(cohort.target)
    return sweep(cohort, session, cohort.target.endpoint, students, dry_run, progress)
