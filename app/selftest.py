"""`labctl selftest isolation`: prove student isolation in the IAM-enforcing emulator.

N students get IAM users with exactly the documents `components.aws_policies` generates for a lab
on S3, SQS and Lambda (the identity policy split into managed policies attached to the user, the
boundary attached as permissions boundary, as `AwsSandbox` does), their own bucket, object, queue,
function role and function. Then for every ordered pair (A, B) A's keys try B's bucket and queue
(must be denied), A's own (must be allowed) and the escalations (must be denied): IAM
self-management, roles under a path or another student's prefix, the student's own role's boundary
replaced or removed, and listing every function (whose environments hold other students' secrets).
moto authorises Lambda calls on `*`, not on the function's ARN, so no per-function cell is tried:
the function only gives the role and ListFunctions something to reach.

moto evaluates the Action and Resource of identity policies for S3, IAM, SQS and STS, but ignores
every Condition and every permissions boundary. The SQS statements are scoped only by
`aws:ResourceTag` conditions on `Resource: *`, so moto cannot deny A on B's queue. Such a cell is
reported `unverifiable` — never `pass` — when the only statements that match the call are
conditioned; an allowed cross cell that an unconditioned statement matches is a `FAIL`.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Callable, Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from labctl.components.aws_policies import (
    boundary_arn,
    policy_json,
    split_identity_policy,
    student_boundary_policy,
    student_identity_policy,
)
from labctl.cohorts import emulator_client
from labctl.components.tags import COHORT_TAG, STUDENT_TAG
from labctl.labs.errors import InputError
from labctl.validators.iam import covers_action, covers_resource, effect, statements

COHORT = "selftest"
SERVICES = ("s3", "sqs", "lambda")
ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
OBJECT_KEY = "selftest.txt"
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation"})
MAX_STUDENTS = 26
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=30)

BUCKET_ACTIONS = ("ListBucket", "GetObject", "PutObject", "DeleteObject", "PutBucketPolicy")
QUEUE_ACTIONS = ("SendMessage", "ReceiveMessage", "PurgeQueue")
ESCALATIONS = (
    "CreateUser", "PutUserPolicy(self)", "AttachUserPolicy(self)", "DeleteUserPermissionsBoundary(self)",
    "CreateAccessKey(other)", "CreateRole(under a path)", "CreateRole(other's prefix)",
    "PutRolePermissionsBoundary(own role)", "DeleteRolePermissionsBoundary(own role)", "ListFunctions",
)
LAMBDA_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@dataclass(frozen=True)
class Sandbox:
    """One student's user and resources, and a session with their own keys."""

    slug: str
    prefix: str
    policy: dict
    session: boto3.Session

    @property
    def bucket(self) -> str:
        return f"{self.prefix}-data"

    @property
    def queue(self) -> str:
        return f"{self.prefix}-queue"

    @property
    def function(self) -> str:
        return f"{self.prefix}-fn"

    @property
    def role(self) -> str:
        return f"{self.prefix}-fn-role"

    @property
    def boundary(self) -> str:
        return f"arn:aws:iam::{ACCOUNT}:policy/labctl/{COHORT}/{self.prefix}-boundary"

    @property
    def tags(self) -> dict[str, str]:
        return {COHORT_TAG: COHORT, STUDENT_TAG: self.slug}


@dataclass(frozen=True)
class Cell:
    """One attempted call: who, on whose resource (None for escalations), what, expected and seen."""

    actor: str
    owner: str | None
    action: str
    expected: str  # allowed | denied
    observed: str  # allowed | denied | error
    detail: str = ""
    verdict: str = "pass"  # pass | FAIL | unverifiable


@dataclass
class IsolationReport:
    students: list[str]
    cells: list[Cell] = field(default_factory=list)
    setup_by_admin: list[str] = field(default_factory=list)

    def count(self, kind: str) -> int:
        own = [c for c in self.cells if c.owner is not None and c.owner == c.actor]
        cross = [c for c in self.cells if c.owner is not None and c.owner != c.actor]
        escalations = [c for c in self.cells if c.owner is None]
        counts = {
            "allowed-own": sum(c.verdict == "pass" for c in own),
            "denied-cross": sum(c.verdict == "pass" for c in cross),
            "escalations-denied": sum(c.verdict == "pass" for c in escalations),
            "unverifiable": sum(c.verdict == "unverifiable" for c in self.cells),
            "failed": sum(c.verdict == "FAIL" for c in self.cells),
            "total": len(self.cells),
        }
        return counts[kind]

    @property
    def ok(self) -> bool:
        return self.count("failed") == 0

    def to_dict(self) -> dict:
        return {
            "students": self.students,
            "counts": {k: self.count(k) for k in
                       ("allowed-own", "denied-cross", "escalations-denied", "unverifiable", "failed", "total")},
            "setup_by_admin": self.setup_by_admin,
            "cells": [c.__dict__ for c in self.cells],
        }


def matching_statements(policy: dict, action: str, resource: str, wanted: str = "Allow") -> list[dict]:
    """Statements of effect `wanted` whose Action and Resource match (conditions not evaluated)."""
    return [
        st for st in statements(policy)
        if effect(st) == wanted and covers_action(st, action) and covers_resource(st, resource)
    ]


def error_code(exc: ClientError) -> str:
    """The error code; moto's SQS answers a denial with an XML body botocore's JSON parser leaves in the
    message (code `403`), so the code is read from there."""
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    if code == "403" and "<Code>" in error.get("Message", ""):
        return error["Message"].split("<Code>", 1)[1].split("</Code>", 1)[0]
    return code


def attempt(call: Callable[[], object]) -> tuple[str, str]:
    """(allowed | denied | error, detail). moto authorises before it acts, so any error other than a
    denial (a purge already in progress, a missing key) means the call was authorised."""
    try:
        call()
    except ClientError as exc:
        code = error_code(exc)
        if code in DENIED_CODES:
            return "denied", code
        if code in ("InvalidClientTokenId", "SignatureDoesNotMatch", "InvalidAccessKeyId"):
            return "error", code
        return "allowed", f"authorised, then {code}"
    return "allowed", ""


def judge(cell: Cell, actor: Sandbox, service_action: str, resource: str) -> Cell:
    """`pass` as expected, else `unverifiable` when the difference comes from conditions (moto ignores
    every Condition: a conditioned Allow allows, a conditioned Deny denies), else `FAIL`. A denial as
    expected is `unverifiable` too when only conditioned Deny statements explain it while an Allow
    matches: the emulator denied it for a condition it never read."""
    if cell.observed == cell.expected == "denied":
        denials = matching_statements(actor.policy, service_action, resource, "Deny")
        if matching_statements(actor.policy, service_action, resource) and denials and all(st.get("Condition") for st in denials):
            return unverifiable(cell, denials)
        return cell
    if cell.observed == cell.expected:
        return cell
    if cell.expected == "denied" and cell.observed == "allowed":
        # Unverifiable only if no unconditioned statement grants the call.
        matching = matching_statements(actor.policy, service_action, resource)
        blamed = matching if matching and all(st.get("Condition") for st in matching) else []
    elif cell.expected == "allowed" and cell.observed == "denied":
        blamed = [st for st in matching_statements(actor.policy, service_action, resource, "Deny")
                  if st.get("Condition")]
        if any(not st.get("Condition") for st in matching_statements(actor.policy, service_action, resource, "Deny")):
            blamed = []
    else:
        blamed = []
    if not blamed:
        return Cell(**{**cell.__dict__, "verdict": "FAIL"})
    return unverifiable(cell, blamed)


def unverifiable(cell: Cell, blamed: list[dict]) -> Cell:
    sids = ", ".join(st.get("Sid", "?") for st in blamed)
    keys = sorted({k for st in blamed for op in st["Condition"].values() for k in op})
    why = f"{cell.observed} by {sids} whose conditions ({', '.join(keys)}) the emulator ignores"
    return Cell(**{**cell.__dict__, "verdict": "unverifiable", "detail": why})


def run_isolation(students: int = 3, progress: Callable[[str], None] | None = None) -> IsolationReport:
    """Start an enforcing emulator in a temporary home, build the sandboxes, try every cell, stop."""
    if not 2 <= students <= MAX_STUDENTS:
        raise InputError(f"students must be between 2 and {MAX_STUDENTS}, not {students}", "--students")
    from labctl.app import emulator

    saved = os.environ.get("LABCTL_HOME")
    with tempfile.TemporaryDirectory(prefix="labctl-selftest-") as home:
        os.environ["LABCTL_HOME"] = home
        try:
            status = emulator.start(port=emulator.free_port(), enforce_iam=True)
            try:
                return exercise(status.endpoint, emulator_client.credentials(), students, progress or (lambda _: None))
            finally:
                emulator.stop()
        finally:
            if saved is None:
                os.environ.pop("LABCTL_HOME", None)
            else:
                os.environ["LABCTL_HOME"] = saved


def exercise(endpoint: str, admin_env: dict[str, str], students: int,
             progress: Callable[[str], None]) -> IsolationReport:
    admin = emulator_client.session(admin_env["AWS_ACCESS_KEY_ID"], admin_env["AWS_SECRET_ACCESS_KEY"], REGION)

    def client(session: boto3.Session, service: str):
        return session.client(service, endpoint_url=endpoint, config=CLIENT_CONFIG)

    slugs = [f"s{chr(ord('a') + i)}" for i in range(students)]
    report = IsolationReport(slugs)
    boxes = {slug: create_sandbox(client, admin, slug) for slug in slugs}
    progress(f"{students} sandboxes created")
    queue_urls = {slug: create_resources(client, admin, box, report) for slug, box in boxes.items()}
    progress("buckets, objects, queues, roles and functions created")

    for actor_slug, actor in boxes.items():
        s3, sqs, lam = client(actor.session, "s3"), client(actor.session, "sqs"), client(actor.session, "lambda")
        # Own cells first: a cross cell the emulator cannot deny (a purge) must not spoil them.
        owners = [actor_slug] + [s for s in slugs if s != actor_slug]
        for owner_slug in owners:
            owner = boxes[owner_slug]
            expected = "allowed" if owner_slug == actor_slug else "denied"
            for action, call, arn in bucket_calls(s3, owner, actor):
                observed, detail = attempt(call)
                cell = Cell(actor_slug, owner_slug, f"s3:{action}", expected, observed, detail)
                report.cells.append(judge(cell, actor, f"s3:{action}", arn))
            queue_arn = f"arn:aws:sqs:{REGION}:123456789012:{owner.queue}"
            for action, call in queue_calls(sqs, queue_urls[owner_slug]):
                observed, detail = attempt(call)
                cell = Cell(actor_slug, owner_slug, f"sqs:{action}", expected, observed, detail)
                report.cells.append(judge(cell, actor, f"sqs:{action}", queue_arn))
        other = boxes[slugs[(slugs.index(actor_slug) + 1) % len(slugs)]]
        for action, iam_action, resource, call in escalation_calls(client(actor.session, "iam"), lam, actor, other):
            observed, detail = attempt(call)
            report.cells.append(judge(Cell(actor_slug, None, action, "denied", observed, detail), actor,
                                      iam_action, resource))
        progress(f"{actor_slug}: done")
    return report


def create_sandbox(client, admin: boto3.Session, slug: str) -> Sandbox:
    """The user, boundary, identity policies and key that `AwsSandbox` registers, made with the admin's keys."""
    prefix = f"{COHORT}-{slug}"
    owner = {COHORT_TAG: COHORT, STUDENT_TAG: slug}
    policy = student_identity_policy(prefix, SERVICES, (REGION,), owner, (), boundary_arn(COHORT, prefix))
    iam = client(admin, "iam")
    path = f"/labctl/{COHORT}/"
    boundary = iam.create_policy(PolicyName=f"{prefix}-boundary", Path=path,
                                 PolicyDocument=policy_json(student_boundary_policy(prefix, SERVICES, (REGION,), owner)))["Policy"]["Arn"]
    iam.create_user(UserName=prefix, Path=path, PermissionsBoundary=boundary,
                    Tags=[{"Key": k, "Value": v} for k, v in owner.items()])
    for number, part in enumerate(split_identity_policy(policy), start=1):
        arn = iam.create_policy(PolicyName=f"{prefix}-identity-{number}", Path=path,
                                PolicyDocument=policy_json(part))["Policy"]["Arn"]
        iam.attach_user_policy(UserName=prefix, PolicyArn=arn)
    key = iam.create_access_key(UserName=prefix)["AccessKey"]
    return Sandbox(slug, prefix, policy, emulator_client.session(key["AccessKeyId"], key["SecretAccessKey"], REGION))


def create_resources(client, admin: boto3.Session, box: Sandbox, report: IsolationReport) -> str:
    """The student's bucket, its tags, object and tagged queue: each step with the student's own keys
    where the emulator allows it, else by the admin (recorded in the report). Returns the queue URL."""
    tag_set = [{"Key": k, "Value": v} for k, v in box.tags.items()]
    steps: list[tuple[str, Callable[[boto3.Session], object]]] = [
        ("s3:CreateBucket", lambda s: client(s, "s3").create_bucket(Bucket=box.bucket)),
        ("s3:PutBucketTagging", lambda s: client(s, "s3").put_bucket_tagging(
            Bucket=box.bucket, Tagging={"TagSet": tag_set})),
        ("s3:PutObject", lambda s: client(s, "s3").put_object(Bucket=box.bucket, Key=OBJECT_KEY, Body=b"selftest")),
        ("sqs:CreateQueue", lambda s: client(s, "sqs").create_queue(QueueName=box.queue, tags=box.tags)),
        ("iam:CreateRole", lambda s: client(s, "iam").create_role(
            RoleName=box.role, AssumeRolePolicyDocument=LAMBDA_TRUST, PermissionsBoundary=box.boundary)),
        ("lambda:CreateFunction", lambda s: client(s, "lambda").create_function(
            FunctionName=box.function, Runtime="python3.12", Handler="app.handler", Tags=box.tags,
            Role=f"arn:aws:iam::{ACCOUNT}:role/{box.role}", Code={"ZipFile": function_zip()})),
    ]
    for name, step in steps:
        try:
            step(box.session)
        except ClientError as exc:
            if error_code(exc) not in DENIED_CODES:
                raise
            report.setup_by_admin.append(f"{box.slug} {name}")
            step(admin)
    return client(admin, "sqs").get_queue_url(QueueName=box.queue)["QueueUrl"]


def bucket_calls(s3, owner: Sandbox, actor: Sandbox) -> Iterator[tuple[str, Callable[[], object], str]]:
    bucket, obj = f"arn:aws:s3:::{owner.bucket}", f"arn:aws:s3:::{owner.bucket}/{OBJECT_KEY}"
    probe = f"{OBJECT_KEY}.{actor.slug}"
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteBucket", "Resource": bucket}]})
    yield "ListBucket", lambda: s3.list_objects_v2(Bucket=owner.bucket), bucket
    yield "GetObject", lambda: s3.get_object(Bucket=owner.bucket, Key=OBJECT_KEY)["Body"].read(), obj
    yield "PutObject", lambda: s3.put_object(Bucket=owner.bucket, Key=probe, Body=b"x"), f"{bucket}/{probe}"
    yield "DeleteObject", lambda: s3.delete_object(Bucket=owner.bucket, Key=probe), f"{bucket}/{probe}"
    yield "PutBucketPolicy", lambda: s3.put_bucket_policy(Bucket=owner.bucket, Policy=policy), bucket


def function_zip() -> bytes:
    """A function's code: the emulator stores it, nothing runs it here."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def queue_calls(sqs, url: str) -> Iterator[tuple[str, Callable[[], object]]]:
    yield "SendMessage", lambda: sqs.send_message(QueueUrl=url, MessageBody="selftest")
    yield "ReceiveMessage", lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    yield "PurgeQueue", lambda: sqs.purge_queue(QueueUrl=url)


Escalation = tuple[str, str, str, Callable[[], object]]
ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def escalation_calls(iam, lam, actor: Sandbox, other: Sandbox) -> Iterator[Escalation]:
    """(cell name, the IAM action, the resource it is authorised on, the call)."""
    admin_policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                                                                       "Resource": "*"}]})
    user, other_user = (f"arn:aws:iam::{ACCOUNT}:user/labctl/{COHORT}/{box.prefix}" for box in (actor, other))
    own_role = f"arn:aws:iam::{ACCOUNT}:role/{actor.role}"
    yield "CreateUser", "iam:CreateUser", "*", lambda: iam.create_user(UserName=f"{actor.prefix}-escalated")
    yield "PutUserPolicy(self)", "iam:PutUserPolicy", user, lambda: iam.put_user_policy(
        UserName=actor.prefix, PolicyName="escalate", PolicyDocument=admin_policy)
    yield "AttachUserPolicy(self)", "iam:AttachUserPolicy", user, lambda: iam.attach_user_policy(
        UserName=actor.prefix, PolicyArn=ADMINISTRATOR_ACCESS)
    yield "DeleteUserPermissionsBoundary(self)", "iam:DeleteUserPermissionsBoundary", user, (
        lambda: iam.delete_user_permissions_boundary(UserName=actor.prefix))
    yield "CreateAccessKey(other)", "iam:CreateAccessKey", other_user, lambda: iam.create_access_key(UserName=other.prefix)
    # `role/<prefix>-*` matches `role/<prefix>-x/<any name>`: the path is what must be refused.
    yield "CreateRole(under a path)", "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{actor.prefix}-x/{other.role}", (
        lambda: iam.create_role(Path=f"/{actor.prefix}-x/", RoleName=other.role, AssumeRolePolicyDocument=LAMBDA_TRUST,
                                PermissionsBoundary=actor.boundary))
    yield "CreateRole(other's prefix)", "iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/{other.prefix}-r", (
        lambda: iam.create_role(RoleName=f"{other.prefix}-r", AssumeRolePolicyDocument=LAMBDA_TRUST,
                                PermissionsBoundary=actor.boundary))
    yield "PutRolePermissionsBoundary(own role)", "iam:PutRolePermissionsBoundary", own_role, (
        lambda: iam.put_role_permissions_boundary(RoleName=actor.role, PermissionsBoundary=ADMINISTRATOR_ACCESS))
    yield "DeleteRolePermissionsBoundary(own role)", "iam:DeleteRolePermissionsBoundary", own_role, (
        lambda: iam.delete_role_permissions_boundary(RoleName=actor.role))
    yield "ListFunctions", "lambda:ListFunctions", "*", lambda: lam.list_functions()


def matrix_rows(report: IsolationReport) -> tuple[list[str], list[list[str]]]:
    """Rows actor × owner, one cell per action: what the emulator did (`allow`/`deny`), then `✓` as
    expected, `?` unverifiable in the emulator, `✗` a failure."""
    marks = {"pass": "✓", "unverifiable": "?", "FAIL": "✗"}
    actions = [*(f"s3:{a}" for a in BUCKET_ACTIONS), *(f"sqs:{a}" for a in QUEUE_ACTIONS)]
    short = {"ListBucket": "List", "GetObject": "Get", "PutObject": "Put", "DeleteObject": "Delete",
             "PutBucketPolicy": "Policy", "SendMessage": "Send", "ReceiveMessage": "Recv", "PurgeQueue": "Purge"}
    columns = ["actor", "on", *(f"{a.split(':')[0]} {short[a.split(':')[1]]}" for a in actions)]
    rows = []
    for actor in report.students:
        for owner in report.students:
            cells = {c.action: c for c in report.cells if c.actor == actor and c.owner == owner}
            rows.append([actor, "own" if owner == actor else owner,
                         *(f"{cells[a].observed} {marks[cells[a].verdict]}" for a in actions)])
    return columns, rows
