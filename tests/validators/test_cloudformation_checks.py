"""CloudFormation checks on fixture inventories (no emulator), each outcome stated from the lab's rule:
the stack is in one of the accepted statuses; it manages a resource of the named type and physical id
that is complete and not being deleted; it outputs the key with exactly the value; its deployed template
sets the property path to the value; it has termination protection; no bucket policy in its template
allows anything to principal `*`."""

from __future__ import annotations

import pytest

from labctl.validators.checks import cloudformation as cfn
from labctl.validators.inventory.cloudformation import CloudFormationInventory, Stack, StackResource

NAME = "c-ada-stack"
BUCKET = StackResource("Bucket", "AWS::S3::Bucket", "c-ada-artifacts", "CREATE_COMPLETE")
TEMPLATE = {
    "Resources": {
        "Bucket": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": "c-ada-artifacts", "VersioningConfiguration": {"Status": "Enabled"}, "Days": 7},
        }
    }
}
BUCKET_PARAMS = dict(stack=NAME, type="AWS::S3::Bucket", physical_id="c-ada-artifacts")
STACK = cfn.StackParams(stack=NAME)


def stack(**fields) -> CloudFormationInventory:
    base = dict(status="CREATE_COMPLETE", resources=(BUCKET,), template=TEMPLATE)
    return CloudFormationInventory({NAME: Stack(NAME, **{**base, **fields})})


def status(inv: CloudFormationInventory, statuses: list[str] | None = None):
    params = cfn.StatusParams(stack=NAME) if statuses is None else cfn.StatusParams(stack=NAME, statuses=statuses)
    return cfn.stack_status(inv, params)


@pytest.mark.parametrize(("state", "outcome"), [("CREATE_COMPLETE", "passed"), ("UPDATE_COMPLETE", "passed"), ("ROLLBACK_COMPLETE", "failed"), ("CREATE_IN_PROGRESS", "failed"), ("UPDATE_ROLLBACK_COMPLETE", "failed")])
def test_a_stack_is_complete_by_default(state: str, outcome: str) -> None:
    assert status(stack(status=state)).status == outcome


def test_accepted_statuses_can_be_named_and_a_failure_gives_the_reason_if_any() -> None:
    assert status(stack(status="UPDATE_ROLLBACK_COMPLETE"), ["UPDATE_ROLLBACK_COMPLETE"]).status == "passed"
    assert status(stack(status="CREATE_COMPLETE"), ["UPDATE_COMPLETE"]).status == "failed"
    assert status(stack(status="CREATE_FAILED")).message == f"stack {NAME} is CREATE_FAILED"
    missing = status(CloudFormationInventory())
    assert missing.status == "failed" and missing.hint and NAME in missing.message


def resource(inv: CloudFormationInventory, **changes):
    return cfn.resource(inv, cfn.ResourceParams(**{**BUCKET_PARAMS, **changes}))


@pytest.mark.parametrize(("state", "outcome"), [("CREATE_COMPLETE", "passed"), ("UPDATE_COMPLETE", "passed"), ("CREATE_IN_PROGRESS", "failed"), ("DELETE_COMPLETE", "failed"), ("DELETE_FAILED", "failed"), (None, "failed")])
def test_a_managed_resource_must_be_complete_and_not_deleted(state, outcome: str) -> None:
    result = resource(stack(resources=(StackResource("Bucket", "AWS::S3::Bucket", "c-ada-artifacts", state),)))
    assert result.status == outcome
    if outcome == "failed":
        assert result.message == f"Bucket in {NAME} is {state}"


def test_the_resource_is_found_by_physical_id_and_type() -> None:
    other = StackResource("Queue", "AWS::SQS::Queue", "c-ada-q", "CREATE_COMPLETE")
    assert resource(stack(resources=(other, BUCKET))).status == "passed"
    absent = resource(stack(resources=(other,)))
    assert absent.message == f"stack {NAME} does not manage c-ada-artifacts (it manages Queue (AWS::SQS::Queue))"
    read = StackResource("Bucket", "".join(["AWS::S3::", "Bucket"]), "c-ada-artifacts", "CREATE_COMPLETE")
    assert resource(stack(resources=(read,))).status == "passed"
    wrong = resource(stack(), type="AWS::S3::AccessPoint")
    assert wrong.message == f"c-ada-artifacts in {NAME} is a AWS::S3::Bucket, expected AWS::S3::AccessPoint"


@pytest.mark.parametrize(
    "check", [cfn.resource, cfn.output, cfn.resource_property, cfn.termination_protection, cfn.no_public_bucket_policy]
)
def test_a_missing_or_unread_stack(check) -> None:
    params = {
        cfn.resource: cfn.ResourceParams(**BUCKET_PARAMS),
        cfn.output: cfn.OutputParams(stack=NAME, key="K", value="v"),
        cfn.resource_property: cfn.PropertyParams(**BUCKET_PARAMS, path="BucketName", value="c-ada-artifacts"),
    }.get(check, STACK)
    assert check(CloudFormationInventory(), params).status == "skipped"
    unread = check(stack(error="AccessDenied"), params)
    assert unread.status == "error" and "AccessDenied" in unread.message
    assert check(stack(detailed=False), params).status == "error"


def output(inv: CloudFormationInventory, key: str = "BucketName", value: str = "c-ada-artifacts"):
    return cfn.output(inv, cfn.OutputParams(stack=NAME, key=key, value=value))


def test_an_output_with_exactly_the_value() -> None:
    assert output(stack(outputs={"BucketName": "c-ada-artifacts"})).status == "passed"
    wrong = output(stack(outputs={"BucketName": "c-ada-artifacts-2"}))
    assert wrong.message == "output BucketName is 'c-ada-artifacts-2', expected 'c-ada-artifacts'"
    assert output(stack(outputs={"BucketName": "c-ada-a"})).status == "failed"
    # A value read off the wire is a new string object, never the literal the lab names.
    assert output(stack(outputs={"BucketName": "".join(["c-ada-", "artifacts"])})).status == "passed"
    absent = output(stack(outputs={"Url": "u", "Arn": "a"}))
    assert absent.message == f"stack {NAME} has no output BucketName (outputs: Arn, Url)"
    assert output(stack()).message.endswith("(outputs: none)")


def prop(inv: CloudFormationInventory, path: str, value: str, **changes):
    return cfn.resource_property(inv, cfn.PropertyParams(**{**BUCKET_PARAMS, **changes}, path=path, value=value))


def test_a_property_is_read_by_its_dotted_path_in_the_template() -> None:
    assert prop(stack(), "VersioningConfiguration.Status", "Enabled").status == "passed"
    assert prop(stack(), "BucketName", "c-ada-artifacts").status == "passed"
    # Values are compared as text: the template's 7 is "7".
    assert prop(stack(), "Days", "7").status == "passed"
    assert prop(stack(), "VersioningConfiguration.Status", "Disabled").status == "failed"
    wrong = prop(stack(), "VersioningConfiguration.Status", "Suspended")
    assert wrong.message == "Bucket sets VersioningConfiguration.Status to 'Enabled', expected 'Suspended'"


@pytest.mark.parametrize("path", ["VersioningConfiguration.Mode", "Missing.Status", "BucketName.Status", "Versioning"])
def test_a_path_the_template_does_not_set_fails(path: str) -> None:
    result = prop(stack(), path, "Enabled")
    assert (result.status, result.message) == ("failed", f"Bucket does not set {path}")


def test_a_property_needs_a_readable_template_that_declares_the_resource() -> None:
    assert prop(stack(template_error="not YAML"), "BucketName", "x").status == "error"
    undeclared = prop(stack(template={"Resources": {}}), "BucketName", "x")
    assert undeclared.status == "error" and "Bucket" in undeclared.message
    no_properties = prop(stack(template={"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}), "BucketName", "x")
    assert no_properties.message == "Bucket does not set BucketName"
    # An unmanaged or mistyped resource is graded by cloudformation.resource: skipped here.
    assert prop(stack(resources=()), "BucketName", "x").status == "skipped"
    assert prop(stack(), "BucketName", "x", type="AWS::SQS::Queue").status == "skipped"


def test_termination_protection_must_be_on() -> None:
    assert cfn.termination_protection(stack(termination_protection=True), STACK).status == "passed"
    assert cfn.termination_protection(stack(termination_protection=False), STACK).status == "failed"


def policy(*statements: dict, logical_id: str = "Policy", kind: str = "AWS::S3::BucketPolicy") -> dict:
    return {logical_id: {"Type": kind, "Properties": {"PolicyDocument": {"Statement": list(statements)}}}}


def public(inv: CloudFormationInventory):
    return cfn.no_public_bucket_policy(inv, STACK)


PUBLIC_READ = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}


def test_a_bucket_policy_allowing_the_public_fails_naming_each_statement() -> None:
    template = {"Resources": {**policy(PUBLIC_READ), **policy({**PUBLIC_READ, "Action": ["s3:PutObject", "s3:DeleteObject"]}, logical_id="Other")}}
    assert public(stack(template=template)).message == (
        "Policy allows s3:GetObject to principal *; Other allows s3:PutObject, s3:DeleteObject to principal *"
    )
    not_action = {"Effect": "Allow", "Principal": {"AWS": "*"}, "NotAction": "s3:DeleteObject", "Resource": "*"}
    assert public(stack(template={"Resources": policy(not_action)})).message == "Policy allows NotAction to principal *"


@pytest.mark.parametrize(
    "resources",
    [
        policy({**PUBLIC_READ, "Effect": "Deny"}),
        policy({**PUBLIC_READ, "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}),
        policy(PUBLIC_READ, kind="AWS::SQS::QueuePolicy"),
        policy(PUBLIC_READ, kind="AWS::S3::AccessPointPolicy"),
        {"Policy": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": "not a document"}}},
        {"Policy": "not a resource"},
        {},
    ],
)
def test_denies_named_principals_other_resources_and_odd_shapes_pass(resources: dict) -> None:
    assert public(stack(template={"Resources": resources})).status == "passed"


def test_no_template_resources_or_an_unreadable_template() -> None:
    assert public(stack(template=None)).status == "passed"
    assert public(stack(template={"Resources": ["not", "a", "mapping"]})).status == "passed"
    assert public(stack(template_error="not YAML")).status == "error"


def test_every_bucket_policy_is_looked_at_whatever_comes_before_it() -> None:
    template = {
        "Resources": {
            "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}},
            "Odd": {"Type": "AWS::S3::BucketPolicy", "Properties": {"PolicyDocument": "not a document"}},
            **policy(PUBLIC_READ),
        }
    }
    assert public(stack(template=template)).message == "Policy allows s3:GetObject to principal *"
