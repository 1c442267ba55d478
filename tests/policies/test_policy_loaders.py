"""Loaders: labctl plan, `pulumi preview --json`, `pulumi stack export` (v3); bad input is one InputError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_fixtures import BOUNDARY, PREFIX, STUDENT, plan, policy_doc, student_resources, tags

from labctl.labs.errors import InputError
from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan, from_preview, from_stack_export, load, load_file
from labctl.policies.report import to_junit, to_sarif

STACK = "c1.s1"
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
SECRET_ENVELOPE = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def u(qualified_type: str, name: str) -> str:
    return f"urn:pulumi:{STACK}::labctl::{qualified_type}::{name}"


ROOT = u("pulumi:pulumi:Stack", f"labctl-{STACK}")
PROVIDER = u("pulumi:providers:aws", f"{PREFIX}-aws-provider")
LAB = u("labctl:lab:StudentLab", PREFIX)
USER = u("labctl:lab:StudentLab$aws:iam/user:User", f"{PREFIX}-user")
POLICY = u("labctl:lab:StudentLab$aws:iam/userPolicy:UserPolicy", f"{PREFIX}-policy")
SITE = u("labctl:lab:StudentLab$aws:s3/bucketV2:BucketV2", f"{PREFIX}-site")


def state(urn: str, type_token: str, inputs: dict | None = None, parent: str | None = ROOT, provider: str | None = None, **extra):
    body = {"urn": urn, "custom": not type_token.startswith("labctl:"), "type": type_token, "inputs": inputs or {}, "parent": parent}
    if provider:
        body["provider"] = provider
    return {**body, **extra}


def preview_digest() -> dict:
    """The shape `pulumi preview --json` prints: config, steps with op/urn/newState, changeSummary."""
    provider_ref = f"{PROVIDER}::{UNKNOWN_STRING}"
    return {
        "config": {"aws:region": "us-east-1"},
        "steps": [
            {"op": "create", "urn": ROOT, "newState": state(ROOT, "pulumi:pulumi:Stack", parent=None)},
            {
                "op": "create",
                "urn": PROVIDER,
                "newState": state(PROVIDER, "pulumi:providers:aws", {"region": "us-east-1", "defaultTags": json.dumps({"tags": tags()})}),
            },
            {"op": "create", "urn": LAB, "newState": state(LAB, "labctl:lab:StudentLab")},
            {
                "op": "create",
                "urn": USER,
                "provider": provider_ref,
                "newState": state(USER, "aws:iam/user:User", {"name": PREFIX, "permissionsBoundary": UNKNOWN_STRING}, LAB, provider_ref),
            },
            {
                "op": "update",
                "urn": POLICY,
                "newState": state(
                    POLICY,
                    "aws:iam/userPolicy:UserPolicy",
                    {"user": PREFIX, "policy": policy_doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})},
                    LAB,
                    provider_ref,
                ),
            },
            {"op": "same", "urn": SITE, "newState": state(SITE, "aws:s3/bucketV2:BucketV2", {"bucket": f"{PREFIX}-site", "tags": tags()}, LAB)},
            {"op": "delete", "urn": u("aws:s3/bucketV2:BucketV2", "gone"), "oldState": state(u("aws:s3/bucketV2:BucketV2", "gone"), "aws:s3/bucketV2:BucketV2")},
            {
                "op": "read",
                "urn": u("aws:s3/bucketV2:BucketV2", "shared"),
                "newState": state(u("aws:s3/bucketV2:BucketV2", "shared"), "aws:s3/bucketV2:BucketV2", {}, external=True),
            },
        ],
        "duration": 1234,
        "changeSummary": {"create": 4, "update": 1, "same": 1, "delete": 1},
    }


def stack_export() -> dict:
    """The shape of `pulumi stack export`: version 3, deployment.manifest and deployment.resources."""
    provider_ref = f"{PROVIDER}::4f1c"
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": "2026-11-21T00:00:00Z", "magic": "x", "version": "v3.200.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:x"}},
            "resources": [
                state(ROOT, "pulumi:pulumi:Stack", parent=None, outputs={"aws_secret_access_key": SECRET_ENVELOPE}),
                state(PROVIDER, "pulumi:providers:aws", {"region": "us-east-1", "secretKey": SECRET_ENVELOPE}, id="4f1c"),
                state(LAB, "labctl:lab:StudentLab"),
                state(USER, "aws:iam/user:User", {"name": PREFIX, "tags": tags(), "permissionsBoundary": BOUNDARY}, LAB, provider_ref, id=PREFIX),
                state(
                    u("labctl:lab:StudentLab$aws:iam/accessKey:AccessKey", f"{PREFIX}-key"),
                    "aws:iam/accessKey:AccessKey",
                    {"user": PREFIX, "pgpKey": SECRET_ENVELOPE},
                    LAB,
                    provider_ref,
                ),
                state(SITE, "aws:s3/bucketV2:BucketV2", {"bucket": "other-site", "tags": tags()}, LAB, provider_ref),
                state(u("aws:s3/bucketV2:BucketV2", "old"), "aws:s3/bucketV2:BucketV2", {"bucket": "old"}, delete=True),
            ],
        },
    }


def test_plan_resources_carry_student_prefix_and_cost():
    loaded = from_plan(plan((STUDENT, student_resources()), cost={"monthly_usd": 12.5}), "plan.json")
    assert loaded.monthly_usd == 12.5
    assert len(loaded.resources) == len(student_resources())
    assert {(r.student, r.prefix) for r in loaded.resources} == {(STUDENT, PREFIX)}


def test_preview_keeps_surviving_resources_and_finds_owners_from_tags_and_parents():
    loaded = from_preview(preview_digest(), "preview.json")
    by_name = {r.name: r for r in loaded.resources}
    assert list(by_name) == [f"labctl-{STACK}", f"{PREFIX}-aws-provider", PREFIX, f"{PREFIX}-user", f"{PREFIX}-policy", f"{PREFIX}-site"]
    user = by_name[f"{PREFIX}-user"]
    assert user.type == "aws:iam/user:User" and user.urn == USER
    assert user.student == STUDENT and user.prefix == PREFIX  # from the provider's defaultTags
    assert user.props["permissionsBoundary"] == "[unknown]"
    assert by_name[f"{PREFIX}-policy"].student == STUDENT  # same provider, so the same default tags
    assert by_name[PREFIX].student is None  # a component: no tags, no provider


def test_preview_violations_are_exact():
    loaded = from_preview(preview_digest(), "preview.json")
    report = evaluate(loaded.resources, packs=("isolation",))
    assert [(v.policy, v.resource_name, v.student, v.urn, v.message) for v in report.violations] == [
        (
            "iam-no-wildcards",
            f"{PREFIX}-policy",
            STUDENT,
            POLICY,
            f"aws:iam/userPolicy:UserPolicy '{PREFIX}-policy' policy must not allow iam:*: iam actions are forbidden to students.",
        )
    ]


def test_stack_export_reads_inputs_blinds_secrets_and_skips_pending_deletes():
    loaded = from_stack_export(stack_export(), "stack.json")
    names = [r.name for r in loaded.resources]
    assert "old" not in names and len(names) == 6
    key = next(r for r in loaded.resources if r.type == "aws:iam/accessKey:AccessKey")
    assert key.props == {"user": PREFIX, "pgpKey": "[secret]"}
    assert key.student is None  # no tags of its own, no tagged parent, no provider defaultTags
    provider = next(r for r in loaded.resources if r.type == "pulumi:providers:aws")
    assert provider.props["secretKey"] == "[secret]"


def test_stack_export_violations_are_exact():
    loaded = from_stack_export(stack_export(), "stack.json")
    report = evaluate(loaded.resources)
    assert [(v.policy, v.resource_name, v.message) for v in report.violations] == [
        (
            "names-prefixed",
            f"{PREFIX}-site",
            f"aws:s3/bucketV2:BucketV2 '{PREFIX}-site' must have a bucket starting with '{PREFIX}' (it is 'other-site').",
        ),
        (
            "cost-budget-limit",
            f"{PREFIX}-user",
            f"student 's1' must have an aws:budgets/budget:Budget (found AWS resources, e.g. '{PREFIX}-user').",
        ),
    ]


def test_load_file_reads_each_kind(tmp_path: Path):
    for kind, data in [("plan", plan((STUDENT, student_resources()))), ("preview", preview_digest()), ("stack-export", stack_export())]:
        path = tmp_path / f"{kind}.json"
        path.write_text(json.dumps(data))
        assert load_file(path, kind).resources


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("plan", [], "plan.json: the plan must be a JSON object (labctl plan --format json)"),
        ("plan", {"cohort": "c1"}, "plan.json: students must be a list"),
        ("plan", {"students": [{"student": "s1", "prefix": "c1-s1", "resources": [{"type": 3}]}]}, "plan.json: students[0].resources[0].type must be a type token string"),
        ("plan", {"students": [{"student": "s1", "prefix": "c1-s1", "resources": [{"type": "t", "name": "n", "inputs": []}]}]}, "plan.json: students[0].resources[0].inputs must be an object"),
        ("plan", {"students": [], "cost": {"monthly_usd": "12"}}, "plan.json: cost.monthly_usd must be a number"),
        ("plan", {"students": [], "cost": {"monthly_usd": True}}, "plan.json: cost.monthly_usd must be a number"),
        ("preview", {"steps": {}}, "plan.json: steps must be a list"),
        ("preview", {"steps": [{"op": "create", "newState": {"urn": "bucket"}}]}, "plan.json: steps[0].newState.urn must be a Pulumi URN"),
        ("preview", {"steps": [{"op": "create", "newState": {"urn": ROOT, "parent": 5}}]}, "plan.json: steps[0].newState.parent must be a string"),
        ("stack-export", {"version": 2, "deployment": {}}, "plan.json: unsupported deployment version 2 (labctl reads version 3"),
        ("stack-export", {"version": 3}, "plan.json: deployment must be an object"),
        ("stack-export", {"version": 3, "deployment": {"resources": [1]}}, "plan.json: deployment.resources[0] must be an object"),
        ("terraform", {}, "plan.json: unknown input kind 'terraform'"),
    ],
)
def test_malformed_input_is_one_input_error(kind, data, message):
    with pytest.raises(InputError) as info:
        load(data, kind, "plan.json")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


FAILED_PREVIEW = {"diagnostics": [{"message": "error: unable to validate AWS credentials.\nMake sure...",
                                   "severity": "error"}], "duration": 2}


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("preview", {}, "no resources to check: the preview has no steps (an empty object)"),
        ("preview", FAILED_PREVIEW, "no resources to check: the preview has no steps, only 1 diagnostic, the first:"
                                    " error: unable to validate AWS credentials. (did pulumi preview fail?)"),
        ("preview", {"steps": [{"op": "delete", "newState": None}]}, "no resources to check: the preview's 1 step(s)"),
        ("preview", {"config": {}}, "no resources to check: the preview has no steps (keys: config)"),
        ("preview", plan((STUDENT, student_resources())), "this is a labctl plan, not a pulumi preview --json: give it"
                                                          " with --plan"),
        ("plan", stack_export(), "this is a pulumi stack export, not a labctl plan: give it with --stack-export"),
        ("stack-export", preview_digest(), "this is a pulumi preview --json, not a pulumi stack export"),
        ("plan", {"cohort": "c1", "students": []}, "no resources to check: the plan has no students"),
        ("stack-export", {"version": 3, "deployment": {"resources": []}}, "no resources to check: the stack export"),
        ("stack-export", {"version": 3, "deployment": {"resources": [
            {"urn": "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "type": "pulumi:pulumi:Stack"}]}},
         "no resources to check: the stack export has no resources"),
    ],
)
def test_input_with_nothing_to_check_is_one_input_error(kind, data, message):
    """A CI gate must not pass on nothing: an empty, failed or other-kind input is exit 2, not 'clean'."""
    with pytest.raises(InputError) as info:
        load(data, kind, "in.json")
    assert str(info.value).startswith(f"in.json: {message}")
    assert "\n" not in str(info.value)


def test_unreadable_files_are_input_errors(tmp_path: Path):
    with pytest.raises(InputError, match="missing.json: file not found"):
        load_file(tmp_path / "missing.json", "plan")
    bad = tmp_path / "bad.json"
    bad.write_text('{"students": [')
    with pytest.raises(InputError, match=r"bad.json: not valid JSON: Expecting value \(line 1, column 15\)"):
        load_file(bad, "plan")
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="binary.json: cannot read file"):
        load_file(binary, "preview")
    with pytest.raises(InputError, match="cannot read file"):
        load_file(tmp_path, "stack-export")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
TEXTISH = st.sampled_from(["s1", "c1-s1", "", "aws:iam/user:User", ROOT, USER, "[secret]", "*"]) | JSON
RESOURCE = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["aws:iam/userPolicy:UserPolicy", "aws:s3/bucketV2:BucketV2", "aws:budgets/budget:Budget"]) | JSON,
        "name": TEXTISH,
        "urn": TEXTISH,
        "parent": TEXTISH,
        "provider": TEXTISH,
        "inputs": st.dictionaries(st.sampled_from(["tags", "policy", "limitAmount", "bucket", "name", "acl"]), JSON) | JSON,
    },
)
STRUCTURED = st.one_of(
    st.fixed_dictionaries(
        {"students": st.lists(st.fixed_dictionaries({"student": TEXTISH, "prefix": TEXTISH, "resources": st.lists(RESOURCE, max_size=3) | JSON}), max_size=3) | JSON},
        optional={"cost": st.fixed_dictionaries({"monthly_usd": JSON}) | JSON},
    ),
    st.fixed_dictionaries({"steps": st.lists(st.fixed_dictionaries({"op": TEXTISH, "newState": RESOURCE | JSON}), max_size=3) | JSON}),
    st.fixed_dictionaries({"version": st.sampled_from([3]) | JSON, "deployment": st.fixed_dictionaries({"resources": st.lists(RESOURCE, max_size=3) | JSON}) | JSON}),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=JSON | STRUCTURED, kind=st.sampled_from(["plan", "preview", "stack-export"]))
def test_arbitrary_json_never_raises_anything_but_input_error(data, kind):
    try:
        loaded = load(data, kind, "input.json")
    except InputError as exc:
        assert "\n" not in str(exc)
        return
    report = evaluate(loaded.resources, monthly_usd=loaded.monthly_usd)
    to_sarif(report, "input.json")
    to_junit(report)


def test_kubernetes_labels_name_the_owner_and_unreadable_tags_do_not():
    ns_urn = u("kubernetes:core/v1:Namespace", f"{PREFIX}-ns")
    bucket_urn = u("aws:s3/bucketV2:BucketV2", "b")
    export = {
        "version": 3,
        "deployment": {
            "resources": [
                state(ns_urn, "kubernetes:core/v1:Namespace", {"metadata": {"name": PREFIX, "labels": {"labctl/student": STUDENT, "labctl/cohort": "c1"}}}),
                state(bucket_urn, "aws:s3/bucketV2:BucketV2", {"tags": {"labctl:student": "[secret]"}}),
            ]
        },
    }
    ns, bucket = from_stack_export(export, "stack.json").resources
    assert (ns.student, ns.prefix) == (STUDENT, PREFIX)
    assert (bucket.student, bucket.prefix) == (None, None)
