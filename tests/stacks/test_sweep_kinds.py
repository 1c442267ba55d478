"""The sweep kind by kind against the moto server: which resources of each kind are taken as a
student's, what is done before each deletion, in what order the kinds go, and what the report says
is left. Each test builds a few resources only, so a mutation run (docs/testing.md) stays in minutes."""

from __future__ import annotations

import json
from dataclasses import replace

import boto3
import pytest
import requests
from botocore.exceptions import ClientError, EndpointConnectionError, WaiterError

from labctl.labs.errors import LabctlError
from labctl.stacks import sweep as sweep_module
from labctl.stacks.sweep import (KINDS, Resource, Sweeper, error_code, pairs, referencing_only, role_key, run_sweep,
                                 sweep)
from test_sweep import ASSUME, make_cohort, named, zipped_handler

pytestmark = pytest.mark.emulator

SESSION = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
"""One session for the file: boto3 reads a service's model once per session, and a Sweeper makes 17 clients."""
OTHER_COHORT = {"labctl:cohort": "c9"}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


@pytest.fixture
def endpoint(moto_endpoint: str) -> str:
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    return moto_endpoint


def client(endpoint: str, service: str):
    return SESSION.client(service, endpoint_url=endpoint)


def sweeper(endpoint: str, students: tuple[str, ...] = ("ada", "bob"), cls: type[Sweeper] = Sweeper) -> Sweeper:
    cohort = make_cohort(endpoint)
    return cls(SESSION, endpoint, cohort, [cohort.student(s) for s in students])


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


# --- one resource of each kind, made by hand ---------------------------------------------------

def make_s3(endpoint: str, name: str, tags: dict[str, str]) -> None:
    """Versions, a delete marker and an unfinished upload: a bucket with any of them cannot go."""
    s3 = client(endpoint, "s3")
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=name, Key="index.html", Body=body)
    s3.delete_object(Bucket=name, Key="index.html")
    s3.create_multipart_upload(Bucket=name, Key="big.bin")
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list(tags)})


def make_dynamodb(endpoint: str, name: str, tags: dict[str, str]) -> None:
    client(endpoint, "dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], DeletionProtectionEnabled=True,
        **({"Tags": tag_list(tags)} if tags else {}))


def make_sqs(endpoint: str, name: str, tags: dict[str, str]) -> None:
    client(endpoint, "sqs").create_queue(QueueName=name, **({"tags": tags} if tags else {}))


def make_sns(endpoint: str, name: str, tags: dict[str, str]) -> None:
    client(endpoint, "sns").create_topic(Name=name, **({"Tags": tag_list(tags)} if tags else {}))


def make_logs(endpoint: str, name: str, tags: dict[str, str]) -> None:
    client(endpoint, "logs").create_log_group(logGroupName=name, **({"tags": tags} if tags else {}))


def make_iam(endpoint: str, name: str, tags: dict[str, str]) -> None:
    """A role with an inline policy, a managed one attached and an instance profile: none may remain."""
    iam = client(endpoint, "iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=ASSUME, **({"Tags": tag_list(tags)} if tags else {}))
    iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=POLICY)
    arn = iam.create_policy(PolicyName=f"shared-{name}", Path="/labctl/c1/", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    iam.create_instance_profile(InstanceProfileName=f"{name}-profile")
    iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-profile", RoleName=name)


def make_iam_policy(endpoint: str, name: str, tags: dict[str, str]) -> None:
    """Attached to a role, a user and a group, with an old version: none of that keeps it."""
    iam = client(endpoint, "iam")
    arn = iam.create_policy(PolicyName=name, PolicyDocument=POLICY, **({"Tags": tag_list(tags)} if tags else {}))
    arn = arn["Policy"]["Arn"]
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=POLICY, SetAsDefault=True)
    iam.create_role(RoleName=f"holder-{name}", AssumeRolePolicyDocument=ASSUME)
    iam.attach_role_policy(RoleName=f"holder-{name}", PolicyArn=arn)
    iam.create_user(UserName=f"holder-{name}")
    iam.attach_user_policy(UserName=f"holder-{name}", PolicyArn=arn)
    iam.create_group(GroupName=f"holder-{name}")
    iam.attach_group_policy(GroupName=f"holder-{name}", PolicyArn=arn)


def make_lambda(endpoint: str, name: str, tags: dict[str, str]) -> None:
    """A function fed by a queue: the mapping goes with it."""
    role = client(endpoint, "iam").create_role(RoleName=f"fn-{name}", Path="/labctl/c1/",
                                               AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
    lam = client(endpoint, "lambda")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="index.handler",
                        Code={"ZipFile": zipped_handler()}, **({"Tags": tags} if tags else {}))
    sqs = client(endpoint, "sqs")
    url = sqs.create_queue(QueueName=f"feed-{name}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam.create_event_source_mapping(EventSourceArn=arn, FunctionName=name)


def make_cloudwatch(endpoint: str, name: str, tags: dict[str, str]) -> None:
    client(endpoint, "cloudwatch").put_metric_alarm(
        AlarmName=name, Namespace="lab", MetricName="Errors", Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", Tags=tag_list(tags))


def make_rds(endpoint: str, name: str, tags: dict[str, str]) -> None:
    client(endpoint, "rds").create_db_instance(
        DBInstanceIdentifier=name, Engine="postgres", AllocatedStorage=20, DBInstanceClass="db.t4g.micro",
        MasterUsername="labadmin", MasterUserPassword="not-a-secret-1", DeletionProtection=True, Tags=tag_list(tags))


def make_ecs(endpoint: str, name: str, tags: dict[str, str]) -> None:
    """Three revisions of a family, the first already deregistered: every one is deleted."""
    ecs = client(endpoint, "ecs")
    arns = [ecs.register_task_definition(family=name, containerDefinitions=[{"name": "web", "image": f"nginx:1.{n}", "memory": 128}],
                                         tags=[{"key": k, "value": v} for k, v in tags.items()])["taskDefinition"]["taskDefinitionArn"]
            for n in (25, 26, 27)]
    ecs.deregister_task_definition(taskDefinition=arns[0])


def make_ecs_cluster(endpoint: str, name: str, tags: dict[str, str]) -> None:
    ecs = client(endpoint, "ecs")
    ecs.create_cluster(clusterName=name, tags=[{"key": k, "value": v} for k, v in tags.items()])
    ecs.register_task_definition(family=f"task-{name}", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}])
    ecs.create_service(cluster=name, serviceName="web", taskDefinition=f"task-{name}", desiredCount=1)


MAKERS = {
    "s3": make_s3, "dynamodb": make_dynamodb, "sqs": make_sqs, "sns": make_sns, "logs": make_logs, "iam": make_iam,
    "iam-policy": make_iam_policy, "lambda": make_lambda, "cloudwatch": make_cloudwatch, "rds": make_rds,
    "ecs": make_ecs, "ecs-cluster": make_ecs_cluster,
}


def remaining(endpoint: str, kind: str) -> set[str]:
    """What the account still lists of `kind`, with what such resources hold (`<holder> <what>`)."""
    c = lambda service: client(endpoint, service)  # noqa: E731
    if kind == "s3":
        return {b["Name"] for b in c("s3").list_buckets()["Buckets"]}
    if kind == "dynamodb":
        return set(c("dynamodb").list_tables()["TableNames"])
    if kind == "sqs":
        return {u.rsplit("/", 1)[-1] for u in c("sqs").list_queues().get("QueueUrls", [])} - {"feed"}
    if kind == "sns":
        return {t["TopicArn"].rsplit(":", 1)[-1] for t in c("sns").list_topics()["Topics"]}
    if kind == "logs":
        return {g["logGroupName"] for g in c("logs").describe_log_groups()["logGroups"]}
    if kind == "cloudwatch":
        return {a["AlarmName"] for a in c("cloudwatch").describe_alarms()["MetricAlarms"]}
    if kind == "rds":
        return {d["DBInstanceIdentifier"] for d in c("rds").describe_db_instances()["DBInstances"]}
    iam = c("iam")
    if kind == "iam":
        held = {f"{r['RoleName']} attached {p['PolicyName']}" for r in iam.list_roles()["Roles"]
                for p in iam.list_attached_role_policies(RoleName=r["RoleName"])["AttachedPolicies"]}
        held |= {f"{r['RoleName']} in {p['InstanceProfileName']}" for p in iam.list_instance_profiles()["InstanceProfiles"]
                 for r in p["Roles"]}
        return {r["RoleName"] for r in iam.list_roles()["Roles"] if r["Path"] == "/"} | held
    if kind == "iam-policy":
        policies = [p for p in iam.list_policies(Scope="Local")["Policies"]]
        held = {f"{p['PolicyName']} on {e['RoleName']}" for p in policies
                for e in iam.list_entities_for_policy(PolicyArn=p["Arn"])["PolicyRoles"]}
        return {p["PolicyName"] for p in policies} | held
    lam = c("lambda")
    if kind == "lambda":
        return ({f["FunctionName"] for f in lam.list_functions()["Functions"]}
                | {f"{m['FunctionArn'].rsplit(':', 1)[-1]} mapping" for m in lam.list_event_source_mappings()["EventSourceMappings"]})
    ecs = c("ecs")
    if kind == "ecs":
        return {a.rsplit("/", 1)[-1] for status in ("ACTIVE", "INACTIVE")
                for a in ecs.list_task_definitions(status=status)["taskDefinitionArns"]} - {"task:1"}
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    return {x["clusterName"] for x in clusters if x["status"] == "ACTIVE"}


OWNED = ("c1-ada_x", "c1-ada.x", "c1-bob")
LOOK_ALIKES = ("c1-adam-x", "c2-ada-x", "x-c1-ada")
ALLOWED = {"s3": ("c1-ada.x", "c1-ada-x", "c1-bob"), "sqs": ("c1-ada_x", "c1-ada-x", "c1-bob"),
           "sns": ("c1-ada_x", "c1-ada-x", "c1-bob"), "lambda": ("c1-ada_x", "c1-ada-x", "c1-bob"),
           "ecs": ("c1-ada_x", "c1-ada-x", "c1-bob"), "ecs-cluster": ("c1-ada_x", "c1-ada-x", "c1-bob"),
           "rds": ("c1-ada-x", "c1-ada-y", "c1-bob")}
"""Names each kind accepts (S3: no `_`; SQS, SNS, Lambda, ECS: no `.`; RDS: letters, digits and `-`)."""


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_each_kind_takes_the_students_names_reads_their_tags_and_deletes_what_they_hold(endpoint, kind):
    """`c1-ada_x`, `c1-ada.x` (as far as the kind allows) and `c1-bob` are the students', `c1-adam-x`,
    `c2-ada-x` and `x-c1-ada` nobody's; the first is tagged for another cohort, which its tags must say."""
    owned = ALLOWED.get(kind, OWNED)
    for name in (*owned, *LOOK_ALIKES):
        MAKERS[kind](endpoint, name, {**OTHER_COHORT, "team": "red"} if name == owned[0] else {})
    before = remaining(endpoint, kind)
    sweeper_ = sweeper(endpoint)
    resources = list(getattr(sweeper_, f"collect_{kind.replace('-', '_')}")())
    assert sorted((r.name, r.student) for r in resources) == sorted((n, n.split("-")[1][:3]) for n in owned)
    assert {r.name: sweeper_.tags(r) for r in resources} == {
        n: ({**OTHER_COHORT, "team": "red"} if n == owned[0] else {}) for n in owned}
    for resource in resources:
        sweeper_.delete(resource)
    assert remaining(endpoint, kind) == {x for x in before if not any(n in x for n in owned)}
    assert all(any(n in x for x in remaining(endpoint, kind)) for n in LOOK_ALIKES)


def test_an_rds_instance_and_subnet_group_are_found_by_their_lowercased_names(endpoint):
    ec2 = client(endpoint, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.7.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    rds = client(endpoint, "rds")
    for name in ("C1-Ada-Dbs", "c1-adam-dbs"):
        rds.create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription="db", SubnetIds=subnets,
                                   Tags=tag_list(OTHER_COHORT))
    make_rds(endpoint, "C1-Ada-Db", {})
    sweeper_ = sweeper(endpoint)
    (db,) = sweeper_.collect_rds()
    (group,) = sweeper_.collect_rds_subnet_group()
    assert (db.name, db.student, group.name, group.student) == ("c1-ada-db", "ada", "c1-ada-dbs", "ada")
    assert sweeper_.tags(group) == OTHER_COHORT
    for resource in (db, group):
        sweeper_.delete(resource)
    assert [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]] == ["c1-adam-dbs"]
    assert rds.describe_db_instances()["DBInstances"] == []


def test_a_queue_is_named_by_the_end_of_its_url(endpoint):
    make_sqs(endpoint, "c1-ada-q", {})
    url = client(endpoint, "sqs").get_queue_url(QueueName="c1-ada-q")["QueueUrl"]
    assert [(r.name, r.ref) for r in sweeper(endpoint).collect_sqs()] == [("c1-ada-q", url)]


def test_log_groups_are_owned_by_their_last_path_segment(endpoint):
    for name in ("/aws/lambda/c1-ada-fn", "c1-bob-logs", "/aws/lambda/c1-adam-fn", "c1-ada/elsewhere"):
        make_logs(endpoint, name, {})
    assert {(r.name, r.student, r.ref) for r in sweeper(endpoint).collect_logs()} == {
        ("/aws/lambda/c1-ada-fn", "ada", "/aws/lambda/c1-ada-fn"), ("c1-bob-logs", "bob", "c1-bob-logs")}


def test_a_metric_filter_on_someone_elses_group_is_taken_by_its_name_or_namespace(endpoint):
    logs = client(endpoint, "logs")
    for group in ("shared-app", "c1-bob-app"):
        logs.create_log_group(logGroupName=group)
    for group, name, namespace in (("c1-bob-app", "c1-ada-x", "c1-ada"), ("shared-app", "c1-ada-errors", "shared"),
                                   ("shared-app", "errors", "c1-bob-metrics"), ("shared-app", "c1-bob-x", "c1-ada-metrics"),
                                   ("shared-app", "c1-adam-errors", "c1-adam")):
        logs.put_metric_filter(logGroupName=group, filterName=name, filterPattern="ERROR", metricTransformations=[
            {"metricName": "Errors", "metricNamespace": namespace, "metricValue": "1"}])
    sweeper_ = sweeper(endpoint)
    filters = list(sweeper_.collect_logs_metric_filter())
    assert sorted((r.name, r.student, r.ref) for r in filters) == [
        ("c1-ada-errors", "ada", "shared-app"), ("c1-bob-x", "bob", "shared-app"), ("errors", "bob", "shared-app")]
    for resource in filters:
        assert sweeper_.tags(resource) == {}
        sweeper_.delete(resource)
    assert sorted(f["filterName"] for f in logs.describe_metric_filters()["metricFilters"]) == ["c1-ada-x", "c1-adam-errors"]


def api_arn(api_id: str) -> str:
    return f"arn:aws:execute-api:us-east-1:123456789012:{api_id}/*/GET/orders"


def test_a_permission_on_someone_elses_function_is_taken_by_its_id_or_the_api_it_lets_in(endpoint):
    role = client(endpoint, "iam").create_role(RoleName="shared", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
    lam = client(endpoint, "lambda")
    for fn in ("c1-bob-fn", "bare-fn", "shared-fn"):  # listed before the shared one: own, then no policy at all
        lam.create_function(FunctionName=fn, Runtime="python3.11", Role=role, Handler="index.handler",
                            Code={"ZipFile": zipped_handler()})
    mine = client(endpoint, "apigateway").create_rest_api(name="c1-ada-api")["id"]
    theirs = client(endpoint, "apigateway").create_rest_api(name="c2-ada-api")["id"]
    for fn, sid, source in (("shared-fn", "c1-bob-invoke", None), ("shared-fn", "via-mine", api_arn(mine)),
                            ("shared-fn", "via-theirs", api_arn(theirs)), ("shared-fn", "c1-adam-invoke", None),
                            ("shared-fn", "odd", f"arn:aws:sns:us-east-1:123456789012:{mine}"),
                            ("c1-bob-fn", "c1-ada-invoke", None)):
        lam.add_permission(FunctionName=fn, StatementId=sid, Action="lambda:InvokeFunction",
                           Principal="apigateway.amazonaws.com", **({"SourceArn": source} if source else {}))
    sweeper_ = sweeper(endpoint)
    list(sweeper_.collect_apigateway())
    permissions = list(sweeper_.collect_lambda_permission())
    assert sorted((r.name, r.student, r.ref) for r in permissions) == [
        ("c1-bob-invoke", "bob", "shared-fn"), ("via-mine", "ada", "shared-fn")]
    for resource in permissions:
        assert sweeper_.tags(resource) == {}
        sweeper_.delete(resource)
    left = json.loads(lam.get_policy(FunctionName="shared-fn")["Policy"])["Statement"]
    assert sorted(s["Sid"] for s in left) == ["c1-adam-invoke", "odd", "via-theirs"]


def test_api_owner_reads_the_api_id_of_an_execute_api_source_arn(endpoint):
    sweeper_ = sweeper(endpoint)
    ada = sweeper_.cohort.student("ada")
    sweeper_.api_owners = {"a1b2c3": ada}

    def statement(arn: object, key: str = "ArnLike") -> dict:
        return {"Condition": {"StringEquals": {"AWS:SourceAccount": "123456789012"}, key: {"AWS:SourceArn": arn}}}

    assert sweeper_.api_owner(statement("arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*/GET/x")) == ada
    assert sweeper_.api_owner(statement("arn:aws:execute-api:us-east-1:123456789012:a1b2c3")) == ada
    assert sweeper_.api_owner(statement("arn:aws:execute-api:us-east-1:123456789012:zzz/*")) is None
    assert sweeper_.api_owner(statement("arn:aws:lambda:us-east-1:123456789012:a1b2c3/x")) is None
    assert sweeper_.api_owner(statement("arn:aws:execute-api:us-east-1:a1b2c3")) is None
    assert sweeper_.api_owner({"Condition": {"ArnLike": "a1b2c3"}}) is None
    assert sweeper_.api_owner({"Condition": None}) is None
    assert sweeper_.api_owner({}) is None


def test_apis_are_taken_by_this_cohorts_student_tag_before_their_name(endpoint):
    rest = client(endpoint, "apigateway")
    http = client(endpoint, "apigatewayv2")
    owner_tags = {"labctl:cohort": "c1", "labctl:student": "ada"}
    rest.create_rest_api(name="c1-bob-orders", tags=owner_tags)  # the tag says ada's
    rest.create_rest_api(name="orders", tags={**owner_tags, "labctl:cohort": "c2"})
    rest.create_rest_api(name="orders", tags={**owner_tags, "labctl:student": "zed"})
    rest.create_rest_api(name="orders", tags={"labctl:cohort": "c1", "labctl:student": ""})
    rest.create_rest_api(name="c1-adam")
    http.create_api(Name="c1-bob", ProtocolType="HTTP", Tags={"labctl:cohort": "c1"})
    http.create_api(Name="orders", ProtocolType="HTTP", Tags=owner_tags)
    http.create_api(Name="c1-adam-http", ProtocolType="HTTP")
    sweeper_ = sweeper(endpoint)
    apis = [*sweeper_.collect_apigateway(), *sweeper_.collect_apigatewayv2()]
    assert sorted((r.service, r.name, r.student) for r in apis) == [
        ("apigateway", "c1-bob-orders", "ada"), ("apigatewayv2", "c1-bob", "bob"), ("apigatewayv2", "orders", "ada")]
    assert {r.name: sweeper_.tags(r) for r in apis} == {"c1-bob-orders": owner_tags, "c1-bob": {"labctl:cohort": "c1"},
                                                         "orders": owner_tags}
    assert {a.student for a in sweeper_.api_owners.values()} == {"ada", "bob"} and len(sweeper_.api_owners) == 3
    for resource in apis:
        sweeper_.delete(resource)
    assert sorted(a["name"] for a in rest.get_rest_apis()["items"]) == ["c1-adam", "orders", "orders", "orders"]
    assert [a["Name"] for a in http.get_apis()["Items"]] == ["c1-adam-http"]


def test_a_cloudformation_stack_is_taken_by_name_and_deleted_with_what_it_made(endpoint):
    cf = client(endpoint, "cloudformation")
    template = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: NAME-q\n"
    for name, tags in (("c1-ada-stack", OTHER_COHORT), ("c1-bob", {}), ("c1-adam-stack", {})):
        cf.create_stack(StackName=name, TemplateBody=template.replace("NAME", name), Tags=tag_list(tags))
    sweeper_ = sweeper(endpoint)
    stacks = list(sweeper_.collect_cloudformation())
    assert sorted((r.name, r.student, r.ref) for r in stacks) == [
        ("c1-ada-stack", "ada", "c1-ada-stack"), ("c1-bob", "bob", "c1-bob")]
    assert {r.name: sweeper_.tags(r) for r in stacks} == {"c1-ada-stack": OTHER_COHORT, "c1-bob": {}}
    for resource in stacks:
        sweeper_.delete(resource)
    assert sorted(u.rsplit("/", 1)[-1] for u in client(endpoint, "sqs").list_queues()["QueueUrls"]) == ["c1-adam-stack-q"]
    assert list(sweeper(endpoint).collect_cloudformation()) == []  # a deleted stack is not taken again


def test_a_stack_described_as_deleted_is_not_taken(endpoint):
    """DescribeStacks still describes a stack whose deletion completed (by its id, for 90 days)."""
    class Described(Sweeper):
        def pages(self, service, operation, key, **kwargs):
            if operation == "describe_stacks":
                return iter([{"StackName": "c1-ada-old", "StackStatus": "DELETE_COMPLETE"},
                             {"StackName": "c1-ada-new", "StackStatus": "CREATE_COMPLETE"}])
            return super().pages(service, operation, key, **kwargs)

    assert [r.name for r in sweeper(endpoint, cls=Described).collect_cloudformation()] == ["c1-ada-new"]


def test_roles_and_policies_under_the_stacks_own_path_are_never_taken(endpoint):
    iam = client(endpoint, "iam")
    for path, suffix in (("/labctl/c1/", "stack"), ("/", "hand"), ("/team/", "team")):
        iam.create_role(RoleName=f"c1-ada-{suffix}", Path=path, AssumeRolePolicyDocument=ASSUME)
        iam.create_policy(PolicyName=f"c1-ada-{suffix}-p", Path=path, PolicyDocument=POLICY)
    iam.create_role(RoleName="backdoor", Path="/c1-bob-x/", AssumeRolePolicyDocument=ASSUME)
    sweeper_ = sweeper(endpoint)
    assert sorted((r.name, r.student, r.ref) for r in sweeper_.collect_iam()) == [
        ("c1-ada-hand", "ada", "c1-ada-hand"), ("c1-bob-x/backdoor", "bob", "backdoor")]
    assert sorted((r.name, r.student) for r in sweeper_.collect_iam_policy()) == [("c1-ada-hand-p", "ada"), ("c1-ada-team-p", "ada")]


def test_role_key_is_the_path_and_name_after_role_slash():
    assert role_key({"Arn": "arn:aws:iam::123456789012:role/c1-ada-x/backdoor"}) == "c1-ada-x/backdoor"
    assert role_key({"Arn": "arn:aws:iam::123456789012:role/c1-ada-fn"}) == "c1-ada-fn"
    assert role_key({"Arn": "arn:aws:iam::123456789012:role/a/role/b"}) == "a/role/b"
    # A path may hold `:` (IAM allows `!` to `~`), so `:role/` may come again after the first.
    assert role_key({"Arn": "arn:aws:iam::123456789012:role/c1-ada-x:role/y/backdoor"}) == "c1-ada-x:role/y/backdoor"


def test_only_active_task_definition_families_and_clusters_are_taken(endpoint):
    ecs = client(endpoint, "ecs")
    for family in ("c1-ada-web", "c1-ada-web2", "c1-bob-old"):
        ecs.register_task_definition(family=family, containerDefinitions=[{"name": "w", "image": "nginx", "memory": 128}])
    ecs.deregister_task_definition(taskDefinition="c1-bob-old:1")
    ecs.deregister_task_definition(taskDefinition="c1-ada-web2:1")
    for name in ("c1-ada-cluster", "c1-bob-gone", "c1-adam-cluster"):
        ecs.create_cluster(clusterName=name)
    ecs.delete_cluster(cluster="c1-bob-gone")
    sweeper_ = sweeper(endpoint)
    assert [(r.name, r.ref) for r in sweeper_.collect_ecs()] == [("c1-ada-web", "c1-ada-web")]
    assert list(sweeper_.revisions("c1-ada-web", "ACTIVE")) == [
        ecs.describe_task_definition(taskDefinition="c1-ada-web:1")["taskDefinition"]["taskDefinitionArn"]]
    assert [(r.name, r.student) for r in sweeper_.collect_ecs_cluster()] == [("c1-ada-cluster", "ada")]


def test_a_sweep_lists_every_kind_in_dependency_order_and_its_networks_by_vpc(endpoint):
    make_sqs(endpoint, "c1-ada-q", {})
    make_network(endpoint, "c1-bob", "10.4", tag_parts=False)
    make_logs(endpoint, "c1-ada-logs", {})
    found = sweeper(endpoint).collect()
    assert [r.service for r in found] == sorted((r.service for r in found), key=KINDS.index)
    assert {(r.service, r.student) for r in found} == {
        ("sqs", "ada"), ("logs", "ada"), *((kind, "bob") for kind in KINDS if kind.startswith("ec2-"))}


def test_more_than_a_hundred_clusters_are_described_in_batches(endpoint):
    ecs = client(endpoint, "ecs")
    for i in range(102):
        ecs.create_cluster(clusterName=f"c1-ada-{i}")
    assert len(list(sweeper(endpoint).collect_ecs_cluster())) == 102


# --- EC2 networks ----------------------------------------------------------------------------------

def make_network(endpoint: str, name: str, cidr: str, vpc_tags: dict[str, str] | None = None,
                 tag_parts: bool = True) -> dict[str, str]:
    """A VPC with a subnet, a route table associated with it, an attached gateway and two groups that
    reference each other; the parts carry the Name tag only when `tag_parts`."""
    ec2 = client(endpoint, "ec2")
    part = lambda kind, suffix: named(kind, f"{name}-{suffix}") if tag_parts else []  # noqa: E731
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16", TagSpecifications=named("vpc", f"{name}-vpc", vpc_tags))["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway(TagSpecifications=part("internet-gateway", "igw"))["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.1.0/24", TagSpecifications=part("subnet", "a"))["Subnet"]["SubnetId"]
    table = ec2.create_route_table(VpcId=vpc, TagSpecifications=part("route-table", "rt"))["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    web = ec2.create_security_group(GroupName=f"{name}-web", Description="web", VpcId=vpc)["GroupId"]
    app = ec2.create_security_group(GroupName="app", Description="named by its VPC only", VpcId=vpc)["GroupId"]
    for group, source in ((web, app), (app, web)):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": source}]}])
    return {"vpc": vpc, "igw": igw, "subnet": subnet, "table": table, "web": web, "app": app}


def network_of(endpoint: str, vpc: str) -> dict[str, list[str]]:
    ec2 = client(endpoint, "ec2")
    in_vpc = [{"Name": "vpc-id", "Values": [vpc]}]
    return {
        "vpc": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] == vpc],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]],
        "tables": [t["RouteTableId"] for t in ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]
                   if not any(a.get("Main") for a in t.get("Associations", []))],
        "groups": sorted(g["GroupName"] for g in ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]),
        "gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]],
    }


EC2_KINDS = [k for k in KINDS if k.startswith("ec2-")]


def networks(sweeper_: Sweeper) -> list[Resource]:
    """The EC2 resources a sweep takes, in the order it would delete them."""
    sweeper_.vpc_owners = sweeper_.find_vpc_owners()
    return [r for kind in EC2_KINDS for r in getattr(sweeper_, f"collect_{kind.replace('-', '_')}")()]


def test_a_students_network_is_taken_by_tag_name_or_vpc_and_goes_inside_out(endpoint):
    ada = make_network(endpoint, "c1-ada", "10.1")
    bob = make_network(endpoint, "orders", "10.2", {"labctl:cohort": "c1", "labctl:student": "bob"}, tag_parts=False)
    adam = make_network(endpoint, "c1-adam", "10.3")
    (default,) = client(endpoint, "ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    sweeper_ = sweeper(endpoint)
    doomed = networks(sweeper_)
    assert sorted((r.service, r.name, r.student, r.ref) for r in doomed) == sorted([
        ("ec2-vpc", "c1-ada-vpc", "ada", ada["vpc"]), ("ec2-internet-gateway", "c1-ada-igw", "ada", ada["igw"]),
        ("ec2-subnet", "c1-ada-a", "ada", ada["subnet"]), ("ec2-route-table", "c1-ada-rt", "ada", ada["table"]),
        ("ec2-security-group", "c1-ada-web", "ada", ada["web"]), ("ec2-security-group", "app", "ada", ada["app"]),
        ("ec2-vpc", "orders-vpc", "bob", bob["vpc"]), ("ec2-internet-gateway", bob["igw"], "bob", bob["igw"]),
        ("ec2-subnet", bob["subnet"], "bob", bob["subnet"]), ("ec2-route-table", bob["table"], "bob", bob["table"]),
        ("ec2-security-group", "orders-web", "bob", bob["web"]), ("ec2-security-group", "app", "bob", bob["app"])])
    assert sweeper_.default_vpcs == {default["VpcId"]}
    assert sweeper_.tags(next(r for r in doomed if r.ref == bob["vpc"])) == {
        "Name": "orders-vpc", "labctl:cohort": "c1", "labctl:student": "bob"}
    tags = {r.ref: sweeper_.tags(r) for r in doomed}  # read from the listing, as another cohort's tag would be
    assert (tags[ada["subnet"]], tags[ada["web"]], tags[bob["subnet"]]) == ({"Name": "c1-ada-a"}, {}, {})
    for kind in EC2_KINDS:
        batch = [r for r in doomed if r.service == kind]
        sweeper_.before(kind, batch)
        for resource in batch:
            sweeper_.delete(resource)
    for vpc in (ada["vpc"], bob["vpc"]):
        assert network_of(endpoint, vpc) == {"vpc": [], "subnets": [], "tables": [], "groups": [], "gateways": []}
    assert network_of(endpoint, adam["vpc"]) == {"vpc": [adam["vpc"]], "subnets": [adam["subnet"]], "tables": [adam["table"]],
                                                  "groups": ["app", "c1-adam-web", "default"], "gateways": [adam["igw"]]}
    assert network_of(endpoint, default["VpcId"])["vpc"] == [default["VpcId"]]


def test_a_vpc_tagged_for_another_cohort_keeps_what_lives_in_it_out(endpoint):
    theirs = make_network(endpoint, "c1-ada", "10.1", {"labctl:cohort": "c2"}, tag_parts=False)
    sweeper_ = sweeper(endpoint)
    doomed = networks(sweeper_)
    assert sorted((r.service, r.ref) for r in doomed) == [("ec2-security-group", theirs["web"]), ("ec2-vpc", theirs["vpc"])]
    assert sweeper_.tags(next(r for r in doomed if r.service == "ec2-vpc")) == {"Name": "c1-ada-vpc", "labctl:cohort": "c2"}


def test_group_references_are_revoked_in_the_doomed_groups_and_default_groups_only(endpoint):
    """moto deletes a referenced group anyway (AWS refuses), so the revocation is checked on its own."""
    ec2 = client(endpoint, "ec2")
    ada = make_network(endpoint, "c1-ada", "10.1")
    other = make_network(endpoint, "c2-ada", "10.2")
    default = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [ada["vpc"]]},
                                                    {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_egress(GroupId=default["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": ada["web"]}]}])
    ec2.authorize_security_group_ingress(GroupId=ada["web"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
         "UserIdGroupPairs": [{"GroupId": ada["app"]}]}])
    sweeper_ = sweeper(endpoint)
    doomed = [r for r in networks(sweeper_) if r.service == "ec2-security-group"]
    sweeper_.before("ec2-security-group", doomed)

    def references(group_id: str) -> list:
        (group,) = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
        return [p for p in (*group["IpPermissions"], *group["IpPermissionsEgress"]) if p.get("UserIdGroupPairs")]

    assert [references(g) for g in (ada["web"], ada["app"], default["GroupId"])] == [[], [], []]
    assert references(other["web"]) and references(other["app"])
    (web,) = ec2.describe_security_groups(GroupIds=[ada["web"]])["SecurityGroups"]
    assert [(p["FromPort"], p["IpRanges"]) for p in web["IpPermissions"]] == [(22, [{"CidrIp": "10.0.0.0/8"}])]


def test_referencing_only_keeps_the_group_pairs_of_each_rule_and_its_ports():
    rules = [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433, "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
         "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "123456789012", "Description": "db"}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-2"}]},
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
    ]
    assert referencing_only(rules) == [
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433, "UserIdGroupPairs": [{"GroupId": "sg-1", "UserId": "123456789012"}]},
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-2"}]}]
    assert referencing_only([]) == []


def test_security_groups_preparation_with_nothing_doomed_touches_nothing(endpoint):
    other = make_network(endpoint, "c2-ada", "10.2")
    sweeper_ = sweeper(endpoint)
    networks(sweeper_)
    sweeper_.before("ec2-security-group", [])
    (web,) = client(endpoint, "ec2").describe_security_groups(GroupIds=[other["web"]])["SecurityGroups"]
    assert web["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == other["app"]


# --- tags and errors -------------------------------------------------------------------------------

def test_pairs_reads_aws_and_ecs_tag_lists():
    assert pairs([{"Key": "a", "Value": "1"}, {"key": "b", "value": "2"}, {"Key": "c"}, {"key": "d"}]) == {
        "a": "1", "b": "2", "c": "", "d": ""}
    assert pairs(None) == {} and pairs([]) == {}


def test_error_code_is_the_client_errors_code_or_nothing():
    assert error_code(ClientError({"Error": {"Code": "NoSuchBucket", "Message": "gone"}}, "DeleteBucket")) == "NoSuchBucket"
    assert error_code(ClientError({"Error": {"Message": "no code"}}, "DeleteBucket")) == ""
    assert error_code(ClientError({}, "DeleteBucket")) == ""
    assert error_code(ValueError("NoSuchBucket")) == ""


def test_a_bucket_without_tags_has_none_and_other_tag_errors_are_raised(endpoint):
    make_s3(endpoint, "c1-ada-x", {})
    sweeper_ = sweeper(endpoint)
    assert sweeper_.tags(Resource("s3", "c1-ada-x", "ada", "c1-ada-x")) == {}
    with pytest.raises(ClientError) as raised:
        sweeper_.tags(Resource("s3", "c1-ada-gone", "ada", "c1-ada-gone"))
    assert error_code(raised.value) == "NoSuchBucket"


def test_an_empty_bucket_goes_too(endpoint):
    """S3 leaves `Uploads` and `Versions` out of its answers when there are none."""
    client(endpoint, "s3").create_bucket(Bucket="c1-ada-empty")
    sweeper_ = sweeper(endpoint)
    (bucket,) = sweeper_.collect_s3()
    sweeper_.delete(bucket)
    assert client(endpoint, "s3").list_buckets()["Buckets"] == []


def test_the_tagging_apis_view_is_what_is_tagged_for_this_cohort_and_nothing_when_it_fails(endpoint):
    make_sqs(endpoint, "stray-q", {"labctl:cohort": "c1"})
    make_sqs(endpoint, "other-q", OTHER_COHORT)
    make_sns(endpoint, "stray-topic", {"labctl:cohort": "c1"})
    assert sorted(a.rsplit(":", 1)[-1] for a in sweeper(endpoint).tagged_for_this_cohort()) == ["stray-q", "stray-topic"]

    class Unreachable(Sweeper):
        def pages(self, service, operation, key, **kwargs):
            if service == "resourcegroupstaggingapi":
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetResources")
            return super().pages(service, operation, key, **kwargs)

    assert sweeper(endpoint, cls=Unreachable).tagged_for_this_cohort() == []


def test_what_is_already_gone_counts_as_deleted_and_other_errors_do_not(endpoint):
    sweeper_ = sweeper(endpoint)
    for kind, name in (("s3", "c1-ada-gone"), ("iam", "c1-ada-gone"), ("dynamodb", "c1-ada-gone"), ("logs", "c1-ada-gone")):
        sweeper_.delete(Resource(kind, name, "ada", name))
    client(endpoint, "s3").create_bucket(Bucket="c1-ada-x")
    client(endpoint, "s3").put_object(Bucket="c1-ada-x", Key="held", Body=b"x")

    class Stubborn(Sweeper):
        def delete_s3(self, r: Resource) -> None:
            self.clients["s3"].delete_bucket(Bucket=r.name)

    with pytest.raises(ClientError) as raised:
        sweeper(endpoint, cls=Stubborn).delete(Resource("s3", "c1-ada-x", "ada", "c1-ada-x"))
    assert error_code(raised.value) == "BucketNotEmpty"


def test_the_sweeper_names_the_target_it_lists(endpoint):
    cohort = make_cohort(endpoint)
    assert Sweeper(SESSION, endpoint, cohort, []).where == endpoint
    assert Sweeper(SESSION, None, cohort, [], region="eu-west-1").where == "eu-west-1"
    assert Sweeper(SESSION, None, cohort, []).where == endpoint
    assert Sweeper(SESSION, None, replace(cohort, target=replace(cohort.target, endpoint=None)), []).where == "us-east-1"
    assert {c.meta.region_name for c in Sweeper(SESSION, endpoint, cohort, [], region="eu-west-1").clients.values()} == {
        "eu-west-1"}


def test_sweep_sweeps_the_named_students_or_else_all_at_the_endpoint_given(endpoint, monkeypatch):
    cohort = make_cohort("http://127.0.0.1:4566")
    calls = []
    monkeypatch.setattr(sweep_module, "run_sweep", lambda s, dry_run, progress: calls.append(
        (s.cohort.name, [x.student for x in s.students], s.where, dry_run, progress)))
    sweep(cohort, SESSION, endpoint, ("bob",), dry_run=True, progress=print)
    sweep(cohort, SESSION, endpoint)
    assert calls == [("c1", ["bob"], endpoint, True, print), ("c1", ["ada", "bob"], endpoint, False, None)]


# --- the run: order, what is refused, what is left ---------------------------------------------------

def denied(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "AccessDenied", "Message": message}}, "Delete")


class Account:
    """`run_sweep`'s view of an account, in memory: what is listed, each resource's tags, and what a
    deletion does — takes it, is refused (`refusing`: name → error), or answers but leaves it listed
    (`keeping`); a kind's preparation may be refused too (`unprepared`)."""

    def __init__(self, *resources: Resource, tags: dict[str, dict[str, str]] | None = None,
                 refusing: dict[str, Exception] | None = None, keeping: tuple[str, ...] = (),
                 unprepared: tuple[str, ...] = (), tagged: tuple[str, ...] = ()):
        self.cohort = make_cohort("http://127.0.0.1:4566")
        self.students = list(self.cohort.students)
        self.where = "http://127.0.0.1:4566"
        self.listed = list(resources)
        self.tag_sets = tags or {}
        self.refusing, self.keeping, self.unprepared, self.tagged = refusing or {}, keeping, unprepared, list(tagged)
        self.prepared: list[tuple[str, list[str]]] = []
        self.deleted: list[str] = []

    def collect(self) -> list[Resource]:
        return list(self.listed)

    def tagged_for_this_cohort(self) -> list[str]:
        return self.tagged

    def tags(self, r: Resource) -> dict[str, str]:
        return self.tag_sets.get(r.name, {})

    def before(self, kind: str, doomed: list[Resource]) -> None:
        self.prepared.append((kind, [r.name for r in doomed]))
        if kind in self.unprepared:
            raise ClientError({"Error": {"Code": "UnauthorizedOperation", "Message": "may not revoke"}}, "RevokeSecurityGroupIngress")

    def delete(self, r: Resource) -> None:
        self.deleted.append(r.name)
        if r.name in self.refusing:
            raise self.refusing[r.name]
        if r.name not in self.keeping:
            self.listed.remove(r)


def res(kind: str, name: str, student: str = "ada") -> Resource:
    return Resource(kind, name, student, name)


def test_kinds_are_deleted_in_dependency_order_each_prepared_once_and_reported_as_it_goes():
    account = Account(res("iam", "c1-ada-role"), res("s3", "c1-ada-b1"), res("ec2-security-group", "c1-ada-sg"),
                      res("cloudformation", "c1-bob-stack", "bob"), res("s3", "c1-ada-b2"), res("lambda", "c1-ada-fn"))
    seen: list[Resource] = []
    report = run_sweep(account, progress=seen.append)
    assert account.deleted == ["c1-bob-stack", "c1-ada-fn", "c1-ada-b1", "c1-ada-b2", "c1-ada-sg", "c1-ada-role"]
    assert [r.name for r in seen] == account.deleted and report.deleted == seen
    assert account.prepared == [("cloudformation", ["c1-bob-stack"]), ("lambda", ["c1-ada-fn"]),
                                ("s3", ["c1-ada-b1", "c1-ada-b2"]), ("ec2-security-group", ["c1-ada-sg"]),
                                ("iam", ["c1-ada-role"])]
    assert report.left == [] and report.planned == [] and report.proof() == "0 resources left for c1"


def test_a_resource_tagged_for_another_cohort_is_left_and_this_cohorts_or_no_tag_is_taken():
    account = Account(res("sqs", "c1-ada-q"), res("sqs", "c1-ada-r"), res("sqs", "c1-ada-s"), res("sqs", "c1-ada-t"),
                      tags={"c1-ada-q": {"labctl:cohort": "c9"}, "c1-ada-r": {"labctl:cohort": "c1"},
                            "c1-ada-s": {"labctl:cohort": ""}})
    report = run_sweep(account)
    assert account.deleted == ["c1-ada-r", "c1-ada-s", "c1-ada-t"]
    assert [(x.resource.name, x.reason) for x in report.left] == [
        ("c1-ada-q", "tagged labctl:cohort=c9: another cohort's, not deleted")]
    assert report.proof() == "1 resources left for c1"


def test_what_is_still_listed_after_deletion_is_left_with_why():
    account = Account(res("sqs", "c1-ada-denied"), res("sqs", "c1-ada-kept"), res("sqs", "c1-ada-gone"),
                      res("s3", "c1-ada-timeout"), res("s3", "c1-ada-unreachable"),
                      res("ec2-security-group", "c1-ada-sg"), res("ec2-security-group", "c1-ada-sg2"),
                      refusing={"c1-ada-denied": denied("explicit deny"),
                                "c1-ada-timeout": WaiterError("bucket_not_exists", "Max attempts exceeded", {}),
                                "c1-ada-unreachable": EndpointConnectionError(endpoint_url="http://127.0.0.1:4566")},
                      keeping=("c1-ada-kept", "c1-ada-timeout", "c1-ada-sg"), unprepared=("ec2-security-group",))
    seen: list[Resource] = []
    report = run_sweep(account, progress=seen.append)
    assert [r.name for r in seen] == account.deleted == [
        "c1-ada-denied", "c1-ada-kept", "c1-ada-gone", "c1-ada-timeout", "c1-ada-unreachable", "c1-ada-sg", "c1-ada-sg2"]
    assert [r.name for r in report.deleted] == ["c1-ada-gone", "c1-ada-sg2"]
    assert {x.resource.name: x.reason for x in report.left} == {
        "c1-ada-denied": "delete failed: AccessDenied: explicit deny",
        "c1-ada-kept": "still listed after deletion",
        "c1-ada-timeout": "delete failed: Waiter bucket_not_exists failed: Max attempts exceeded",
        "c1-ada-unreachable": 'delete failed: Could not connect to the endpoint URL: "http://127.0.0.1:4566"',
        "c1-ada-sg": "preparing failed: UnauthorizedOperation: may not revoke",
    }
    assert report.proof() == "5 resources left for c1"


def test_a_dry_run_deletes_nothing_and_plans_in_dependency_order():
    account = Account(res("iam", "c1-ada-role"), res("sqs", "c1-bob-q", "bob"), res("s3", "c1-ada-b"), res("sqs", "c1-ada-q"),
                      tags={"c1-ada-q": {"labctl:cohort": "c9"}}, tagged=("arn:aws:sqs:us-east-1:123456789012:stray",))
    seen: list[Resource] = []
    report = run_sweep(account, dry_run=True, progress=seen.append)
    assert [r.name for r in report.planned] == ["c1-bob-q", "c1-ada-b", "c1-ada-role"]
    assert [(x.resource.name, x.reason) for x in report.left] == [
        ("c1-ada-q", "tagged labctl:cohort=c9: another cohort's, not deleted")]
    assert report.outside == ["arn:aws:sqs:us-east-1:123456789012:stray"]
    assert account.deleted == [] and account.prepared == [] and seen == [] and report.deleted == []
    assert report.proof() == "dry run: 3 resources would be deleted for c1"


def test_resources_tagged_for_the_cohort_but_under_no_prefix_are_reported_and_kept():
    account = Account(res("sqs", "c1-ada-q"), tagged=("arn:aws:sqs:us-east-1:123456789012:c1-ada-q",
                                                      "arn:aws:s3:::stray-bucket"))
    report = run_sweep(account)
    assert report.outside == ["arn:aws:s3:::stray-bucket"] and account.deleted == ["c1-ada-q"]


@pytest.mark.parametrize("error", [denied("not allowed to list"), EndpointConnectionError(endpoint_url="not allowed to list")])
def test_a_listing_that_fails_is_an_error_naming_the_cohort_and_the_target(error):
    class Blind(Account):
        def collect(self) -> list[Resource]:
            raise error

    with pytest.raises(LabctlError) as raised:
        run_sweep(Blind(res("sqs", "c1-ada-q")))
    assert str(raised.value).startswith("sweep of cohort c1 could not list resources at http://127.0.0.1:4566: ")
    assert "not allowed to list" in str(raised.value)
