"""`labctl sweep` for real against the moto server: students' hand-made resources of every covered kind
are gone afterwards, and look-alikes outside the cohort's prefixes survive."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from click.testing import CliRunner

from labctl.cli import cli
from labctl.cohorts.cohort import Cohort, Student, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.stacks.sweep import Resource, outside_prefixes, owner, sweep

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
    names |= {f"iam-policy {p['PolicyName']}" for p in c("iam").list_policies(Scope="Local")["Policies"]}
    return names


KINDS = ("s3", "dynamodb", "sqs", "sns", "logs", "iam", "lambda")
SURVIVORS = ("c2-ada-site", "c1-adam-site", "c1x-ada-site", "ada-c1-site")


def expected(name: str) -> set[str]:
    return {f"{kind} {name}" for kind in KINDS} | {f"logs /aws/lambda/{name}", f"iam-policy {name}-managed"}


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


@pytest.mark.parametrize(("name", "student"), [
    ("c1-ada", "ada"), ("c1-ada-site", "ada"), ("c1-ada_site", "ada"), ("c1-ada.site", "ada"),
    ("c1-ab-x-site", "ab-x"), ("c1-ab-site", "ab"),
    ("c1-adam", None), ("c1-ada+site", None), ("c1-adaXsite", None), ("c1-ad", None), ("c2-ada-site", None),
    ("xc1-ada-site", None),
])
def test_owner_is_the_longest_prefix_followed_by_a_separator(name, student):
    """`-`, `_` and `.` all end a prefix (names with `_` or `.` were left behind by a sweep whose
    owner() accepted only `-`); a longer name or another character is someone else's."""
    students = [Student(slug, slug, slug, "", f"c1-{slug}") for slug in ("ada", "ab", "ab-x")]
    found = owner(name, students)
    assert (found.student if found else None) == student


def test_outside_prefixes_reads_the_name_at_the_end_of_each_arn():
    """ARNs tagged for the cohort are reported only when none of the sweep found them and their name,
    the ARN's last `:` or `/` part, is under no student's prefix of the cohort (swept or not)."""
    cohort = make_cohort("http://127.0.0.1:4566")
    ada = cohort.student("ada")
    legacy = "arn:aws:iam::123456789012:policy/labctl/c1/legacy-policy"
    topic = "arn:aws:sns:us-east-1:123456789012:legacy-topic"
    found = [Resource("iam-policy", "legacy", "ada", legacy), Resource("sns", "legacy", "ada", topic)]
    arns = [
        "arn:aws:s3:::c1-ada-site",
        "arn:aws:sqs:us-east-1:123456789012:c1-ada-q",
        "arn:aws:iam::123456789012:role/labctl/c1/c1-ada-role",
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/c1-ada-fn",
        "arn:aws:sqs:us-east-1:123456789012:c1-bob-q",
        legacy,
        topic,
        "arn:aws:sns:us-east-1:123456789012:shared-alerts",
    ]
    assert outside_prefixes(arns, found, cohort, [ada]) == ["arn:aws:sns:us-east-1:123456789012:shared-alerts"]


def test_sweep_takes_names_with_underscores_and_dots_after_the_prefix(aws, moto_endpoint):
    dynamodb = aws.client("dynamodb", endpoint_url=moto_endpoint)
    for table in ("c1-ada_orders", "c1-bob.orders", "c1-adam_orders"):
        dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                              KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                              AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    aws.client("sqs", endpoint_url=moto_endpoint).create_queue(QueueName="c1-ada_jobs")
    report = sweep(make_cohort(moto_endpoint), aws, moto_endpoint)
    assert {r.label for r in report.deleted} == {"dynamodb c1-ada_orders", "dynamodb c1-bob.orders", "sqs c1-ada_jobs"}
    assert report.proof() == "0 resources left for c1"
    assert inventory(aws, moto_endpoint) == {"dynamodb c1-adam_orders"}


def test_sweep_finds_a_role_under_a_path_by_its_arn_whatever_its_name(aws, moto_endpoint):
    """`role/c1-ada-*` also matched `role/c1-ada-x/<any name>`: a role named `backdoor` under path
    `/c1-ada-x/` is ada's, one named like bob's is still ada's, and a look-alike path is nobody's."""
    iam = aws.client("iam", endpoint_url=moto_endpoint)
    for path, name in (("/c1-ada-x/", "backdoor"), ("/c1-ada-x/", "c1-bob-fn"), ("/c1-adam/", "c1-adam-r")):
        iam.create_role(Path=path, RoleName=name, AssumeRolePolicyDocument=ASSUME)
    report = sweep(make_cohort(moto_endpoint), aws, moto_endpoint)
    assert {(r.label, r.student) for r in report.deleted} == {("iam c1-ada-x/backdoor", "ada"), ("iam c1-ada-x/c1-bob-fn", "ada")}
    assert report.proof() == "0 resources left for c1"
    assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == {"c1-adam-r"}


def test_sweep_one_student_and_dry_run(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    make_everything(aws, moto_endpoint, "c1-ada-x")
    make_everything(aws, moto_endpoint, "c1-bob-x")
    planned = sweep(cohort, aws, moto_endpoint, students=("ada",), dry_run=True)
    assert {r.label for r in planned.planned} == expected("c1-ada-x")
    assert planned.proof() == "dry run: 9 resources would be deleted for c1"
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

    from labctl.stacks import engine as engine_mod

    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    with Registry() as reg:
        reg.create_cohort(make_cohort(moto_endpoint))
    make_everything(aws, moto_endpoint, "c1-ada-site")
    result = CliRunner().invoke(cli, ["destroy", "--cohort", "c1", "--sweep"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "destroy c1: 2 done, 0 failed" in lines
    assert lines[-1] == "sweep: 9 deleted; 0 resources left for c1"
    assert sorted(c.stack for c in fake.of("destroy")) == ["c1.ada", "c1.bob"]
    assert inventory(aws, moto_endpoint) == set()


# --- the catalog's other services: networks, databases, containers, stacks, APIs, alarms -------------

TEMPLATE = """\
Resources:
  Artifacts:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: NAME-artifacts
"""
OWNER_TAGS = {"labctl:cohort": "c1", "labctl:student": "ada"}


def named(resource_type: str, name: str, tags: dict[str, str] | None = None) -> list[dict]:
    every = {"Name": name, **(tags or {})}
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in every.items()]}]


def make_the_rest(aws, endpoint: str, name: str, cidr: str, tags: dict[str, str] | None = None) -> None:
    """What the catalog's other labs have students build, every piece named under `name`."""
    c = lambda service: aws.client(service, endpoint_url=endpoint)  # noqa: E731
    tag_list = [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
    ec2 = c("ec2")
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16", TagSpecifications=named("vpc", f"{name}-vpc", tags))["Vpc"]["VpcId"]
    igw = ec2.create_internet_gateway(TagSpecifications=named("internet-gateway", f"{name}-igw"))
    igw = igw["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.{i}.0/24", AvailabilityZone=f"us-east-1{zone}",
                          TagSpecifications=named("subnet", f"{name}-{zone}"))["Subnet"]["SubnetId"]
        for i, zone in ((1, "a"), (2, "b"))
    ]
    table = ec2.create_route_table(VpcId=vpc, TagSpecifications=named("route-table", f"{name}-rt"))
    table = table["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnets[0])
    web = ec2.create_security_group(GroupName=f"{name}-web", Description="web", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName=f"{name}-db", Description="db", VpcId=vpc)["GroupId"]
    app = ec2.create_security_group(GroupName="app", Description="named by its VPC only", VpcId=vpc)["GroupId"]
    for group, source in ((db, web), (web, db), (app, web)):  # groups that reference each other
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": source}]}])
    ec2.authorize_security_group_egress(GroupId=web, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": db}]}])

    rds = c("rds")
    rds.create_db_subnet_group(DBSubnetGroupName=f"{name}-dbs", DBSubnetGroupDescription="db", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier=f"{name}-db", Engine="postgres", AllocatedStorage=20, DBInstanceClass="db.t4g.micro",
        MasterUsername="labadmin", MasterUserPassword="not-a-secret-1", DBSubnetGroupName=f"{name}-dbs",
        VpcSecurityGroupIds=[db], Tags=tag_list,
    )

    ecs = c("ecs")
    for image in ("nginx:1.26", "nginx:1.27"):  # two revisions
        ecs.register_task_definition(family=f"{name}-web", containerDefinitions=[
            {"name": "web", "image": image, "memory": 128}], tags=[{"key": k, "value": v} for k, v in (tags or {}).items()])
    ecs.create_cluster(clusterName=f"{name}-cluster")
    ecs.create_service(cluster=f"{name}-cluster", serviceName="web", taskDefinition=f"{name}-web", desiredCount=0)

    cloudformation = c("cloudformation")
    cloudformation.create_stack(StackName=f"{name}-stack", TemplateBody=TEMPLATE.replace("NAME", name),
                                EnableTerminationProtection=True, Tags=tag_list)

    rest = c("apigateway").create_rest_api(name=f"{name}-api", **({"tags": tags} if tags else {}))["id"]
    http = c("apigatewayv2").create_api(Name=f"{name}-http", ProtocolType="HTTP", **({"Tags": tags} if tags else {}))
    c("apigatewayv2").create_stage(ApiId=http["ApiId"], StageName="$default", AutoDeploy=True)
    if tags and tags.get("labctl:student"):  # owned by its tags alone
        c("apigateway").create_rest_api(name="orders", tags=tags)

    c("cloudwatch").put_metric_alarm(
        AlarmName=f"{name}-errors", Namespace=name, MetricName="Errors", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold", Tags=tag_list,
    )
    logs = c("logs")
    logs.put_metric_filter(logGroupName="shared-app", filterName=f"{name}-errors", filterPattern="ERROR",
                           metricTransformations=[{"metricName": "Errors", "metricNamespace": "shared",
                                                   "metricValue": "1"}])
    lam = c("lambda")
    lam.add_permission(FunctionName="shared-fn", StatementId=f"{name}-invoke", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com")
    lam.add_permission(FunctionName="shared-fn", StatementId=f"via-{rest}", Action="lambda:InvokeFunction",
                       Principal="apigateway.amazonaws.com",
                       SourceArn=f"arn:aws:execute-api:us-east-1:123456789012:{rest}/*/GET/orders")


def make_shared(aws, endpoint: str) -> None:
    """What no student owns: a function and a log group that students hang permissions and filters on."""
    c = lambda service: aws.client(service, endpoint_url=endpoint)  # noqa: E731
    role = c("iam").create_role(RoleName="shared-role", AssumeRolePolicyDocument=ASSUME)["Role"]["Arn"]
    c("lambda").create_function(FunctionName="shared-fn", Runtime="python3.11", Role=role, Handler="index.handler",
                                Code={"ZipFile": zipped_handler()})
    c("logs").create_log_group(logGroupName="shared-app")


def the_rest(aws, endpoint: str) -> list[str]:
    """Every resource of the catalog's other kinds, by name (a multiset: `app` groups repeat)."""
    c = lambda service: aws.client(service, endpoint_url=endpoint)  # noqa: E731
    ec2 = c("ec2")

    def name_of(item: dict) -> str | None:
        return next((t["Value"] for t in item.get("Tags", []) if t["Key"] == "Name"), None)

    found = [f"vpc {n}" for v in ec2.describe_vpcs()["Vpcs"] if (n := name_of(v))]
    found += [f"igw {n}" for g in ec2.describe_internet_gateways()["InternetGateways"] if (n := name_of(g))]
    found += [f"subnet {n}" for s in ec2.describe_subnets()["Subnets"] if (n := name_of(s))]
    found += [f"route-table {n}" for t in ec2.describe_route_tables()["RouteTables"] if (n := name_of(t))]
    found += [f"sg {g['GroupName']}" for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"]
    found += [f"rds {d['DBInstanceIdentifier']}" for d in c("rds").describe_db_instances()["DBInstances"]]
    found += [f"rds-subnet-group {g['DBSubnetGroupName']}" for g in c("rds").describe_db_subnet_groups()["DBSubnetGroups"]]
    revisions = c("ecs").list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
    found += [f"task-definition {a.rsplit('/', 1)[-1]}" for a in revisions]
    clusters = c("ecs").list_clusters()["clusterArns"]  # deleted ones linger INACTIVE
    found += [f"ecs-cluster {x['clusterName']}" for x in c("ecs").describe_clusters(clusters=clusters)["clusters"]
              if x["status"] == "ACTIVE"] if clusters else []
    found += [f"stack {s['StackName']}" for s in c("cloudformation").describe_stacks()["Stacks"]
              if s["StackStatus"] != "DELETE_COMPLETE"]
    found += [f"bucket {b['Name']}" for b in c("s3").list_buckets()["Buckets"]]
    found += [f"rest-api {a['name']} {a.get('tags', {}).get('labctl:cohort', '')}".rstrip()
              for a in c("apigateway").get_rest_apis()["items"]]
    found += [f"http-api {a['Name']}" for a in c("apigatewayv2").get_apis()["Items"]]
    found += [f"alarm {a['AlarmName']}" for a in c("cloudwatch").describe_alarms()["MetricAlarms"]]
    filters = c("logs").describe_metric_filters(logGroupName="shared-app")["metricFilters"]
    found += [f"metric-filter {f['filterName']}" for f in filters]
    try:
        statements = json.loads(c("lambda").get_policy(FunctionName="shared-fn")["Policy"])["Statement"]
    except c("lambda").exceptions.ResourceNotFoundException:
        statements = []
    found += [f"permission {s['Sid'].split('-', 1)[0] if s['Sid'].startswith('via-') else s['Sid']}" for s in statements]
    return sorted(found)


def rest_of(name: str) -> list[str]:
    """What `make_the_rest(name)` leaves listed."""
    return sorted([
        f"vpc {name}-vpc", f"igw {name}-igw", f"subnet {name}-a", f"subnet {name}-b", f"route-table {name}-rt",
        f"sg {name}-web", f"sg {name}-db", "sg app", f"rds {name}-db", f"rds-subnet-group {name}-dbs",
        f"task-definition {name}-web:1", f"task-definition {name}-web:2", f"ecs-cluster {name}-cluster",
        f"stack {name}-stack", f"bucket {name}-artifacts", f"rest-api {name}-api",
        f"http-api {name}-http", f"alarm {name}-errors", f"metric-filter {name}-errors",
        f"permission {name}-invoke", "permission via",
    ])


REST_SURVIVORS = (("c2-ada-site", "10.2"), ("c1-adam-site", "10.3"), ("c1x-ada-site", "10.4"))


def test_sweep_takes_networks_databases_containers_stacks_apis_and_alarms_and_spares_look_alikes(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    make_shared(aws, moto_endpoint)
    before = the_rest(aws, moto_endpoint)
    make_the_rest(aws, moto_endpoint, "c1-ada-site", "10.1", OWNER_TAGS)
    make_the_rest(aws, moto_endpoint, "c1-bob", "10.9")
    for name, cidr in REST_SURVIVORS:
        make_the_rest(aws, moto_endpoint, name, cidr)
    # Another cohort's tag-owned API named like ada's, and one for a student of c1 who does not exist.
    rest = aws.client("apigateway", endpoint_url=moto_endpoint)
    rest.create_rest_api(name="orders", tags={**OWNER_TAGS, "labctl:cohort": "c2"})
    rest.create_rest_api(name="orders", tags={**OWNER_TAGS, "labctl:student": "zed"})

    planned = sweep(cohort, aws, moto_endpoint, dry_run=True)
    kinds = [r.service for r in planned.planned]
    assert kinds == sorted(kinds, key=["cloudformation", "apigateway", "apigatewayv2", "lambda-permission", "cloudwatch",
                                       "ecs-cluster", "ecs", "rds", "rds-subnet-group", "logs-metric-filter", "s3",
                                       "ec2-security-group", "ec2-route-table", "ec2-subnet", "ec2-internet-gateway",
                                       "ec2-vpc"].index)
    assert ("apigateway", "orders", "ada") in {(r.service, r.name, r.student) for r in planned.planned}
    assert ("ec2-security-group", "app", "bob") in {(r.service, r.name, r.student) for r in planned.planned}

    report = sweep(cohort, aws, moto_endpoint)
    assert report.proof() == "0 resources left for c1", report.left
    survivors = sorted([*before, *(x for name, _ in REST_SURVIVORS for x in rest_of(name)),
                        "rest-api orders c2", "rest-api orders c1"])
    assert the_rest(aws, moto_endpoint) == survivors
    assert {r.label for r in report.deleted} >= {"cloudformation c1-ada-site-stack", "ecs c1-bob-web", "rds c1-bob-db",
                                                  "rds-subnet-group c1-ada-site-dbs", "cloudwatch c1-bob-errors",
                                                  "ecs-cluster c1-ada-site-cluster", "s3 c1-ada-site-artifacts"}
    assert aws.client("ecs", endpoint_url=moto_endpoint).list_task_definitions(familyPrefix="c1-", status="INACTIVE")[
        "taskDefinitionArns"] == []


def test_sweep_keeps_a_vpc_tagged_for_another_cohort_and_what_lives_in_it(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)
    vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16", TagSpecifications=named("vpc", "c1-ada-vpc", {"labctl:cohort": "c2"}))
    vpc = vpc["Vpc"]["VpcId"]
    ec2.create_security_group(GroupName="app", Description="in the other cohort's VPC", VpcId=vpc)
    report = sweep(cohort, aws, moto_endpoint)
    assert [(x.resource.label, x.reason) for x in report.left] == [
        (f"ec2-vpc c1-ada-vpc ({vpc})", "tagged labctl:cohort=c2: another cohort's, not deleted")]
    assert [g["GroupName"] for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "SecurityGroups"]] == ["default", "app"]


def load_redteam_setup():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "labs" / "redteam-fix" / "setup.py"
    spec = importlib.util.spec_from_file_location("redteam_setup", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sweep_takes_the_redteam_labs_starting_state_to_zero(aws, moto_endpoint):
    cohort = make_cohort(moto_endpoint)
    setup = load_redteam_setup().setup
    iam = aws.client("iam", endpoint_url=moto_endpoint)
    for prefix, student in (("c1-ada", "ada"), ("c1-bob", "bob"), ("c2-ada", "ada")):
        setup(aws, moto_endpoint, prefix, student)
        # The stack's own boundary policy: `labctl destroy` removes it, the sweep never does.
        iam.create_policy(PolicyName=f"{prefix}-boundary", Path=f"/labctl/{prefix[:2]}/", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    report = sweep(cohort, aws, moto_endpoint)
    assert report.proof() == "0 resources left for c1"
    assert {r.label.split(" (")[0] for r in report.deleted} == {
        f"{kind} c1-{s}-{what}" for s in ("ada", "bob")
        for kind, what in (("s3", "app"), ("ec2-security-group", "app"), ("ec2-vpc", "app-vpc"))}
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)
    groups = ec2.describe_security_groups()["SecurityGroups"]
    assert [g["GroupName"] for g in groups if g["GroupName"] != "default"] == ["c2-ada-app"]
    assert [b["Name"] for b in aws.client("s3", endpoint_url=moto_endpoint).list_buckets()["Buckets"]] == ["c2-ada-app"]
    assert sorted(p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]) == [
        "c1-ada-boundary", "c1-bob-boundary", "c2-ada-boundary"]


def test_sweep_revokes_group_references_before_deleting_groups_and_keeps_address_rules(aws, moto_endpoint):
    """moto deletes a referenced group anyway (AWS refuses), so the revocation step is checked on its own."""
    from labctl.stacks.sweep import Sweeper

    cohort = make_cohort(moto_endpoint)
    make_shared(aws, moto_endpoint)
    make_the_rest(aws, moto_endpoint, "c1-ada", "10.1")
    make_the_rest(aws, moto_endpoint, "c2-ada", "10.2")
    ec2 = aws.client("ec2", endpoint_url=moto_endpoint)
    web = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["c1-ada-web"]}])["SecurityGroups"][0]
    ec2.authorize_security_group_ingress(GroupId=web["GroupId"], IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    sweeper = Sweeper(aws, moto_endpoint, cohort, list(cohort.students))
    groups = [r for r in sweeper.collect() if r.service == "ec2-security-group"]
    assert sorted(r.name for r in groups) == ["app", "c1-ada-db", "c1-ada-web"]
    sweeper.before("ec2-security-group", groups)

    def rules(vpc_name: str) -> dict[str, list]:
        vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [vpc_name]}])["Vpcs"][0]["VpcId"]
        return {g["GroupName"]: [p for p in (*g["IpPermissions"], *g["IpPermissionsEgress"]) if p.get("UserIdGroupPairs")]
                for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
                if g["GroupName"] != "default"}

    assert rules("c1-ada-vpc") == {"c1-ada-web": [], "c1-ada-db": [], "app": []}
    assert all(rules("c2-ada-vpc").values())  # another cohort's references untouched
    web = ec2.describe_security_groups(GroupIds=[web["GroupId"]])["SecurityGroups"][0]
    assert [p["FromPort"] for p in web["IpPermissions"]] == [443]
