"""Every rule: a compliant fixture passes, a planted violation fails with exactly the expected messages."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from policy_fixtures import BOUNDARY, COHORT, PREFIX, STUDENT, plan, policy_doc, resource, student_resources, tags

from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.policies.model import PolicyResource, Stack
from labctl.policies.rules import ALL_RULES
from labctl.policies.rules.kubernetes import k8s_workload_hardened, k8s_workload_isolated

T = tags()


def violations(resources: list[dict[str, Any]], config: dict | None = None, cost: dict | None = None):
    """(policy, resource_name, message) of every violation when the student owns `resources`."""
    loaded = from_plan(plan((STUDENT, resources), cost=cost), "plan.json")
    report = evaluate(loaded.resources, config, monthly_usd=loaded.monthly_usd)
    return [(v.policy, v.resource_name, v.message) for v in report.violations]


def with_extra(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return student_resources() + list(extra)


def replaced(logical_name: str, /, **inputs: Any) -> list[dict[str, Any]]:
    """The compliant resources with `logical_name`'s inputs updated (None removes an input)."""
    resources = copy.deepcopy(student_resources())
    for r in resources:
        if r["name"] == logical_name:
            r["inputs"].update(inputs)
            r["inputs"] = {k: v for k, v in r["inputs"].items() if v is not None}
    return resources


def test_the_compliant_student_has_no_violation_under_any_rule():
    assert violations(student_resources()) == []


def test_every_rule_is_kebab_case_with_a_checks_whether_description():
    names = [rule.name for rule in ALL_RULES]
    assert len(names) == len(set(names))
    assert all(rule.description.startswith("Checks whether") for rule in ALL_RULES)
    assert {rule.pack for rule in ALL_RULES} == {"isolation", "cost"}


# tags-required


def test_tags_required_names_each_missing_tag():
    resources = replaced(f"{PREFIX}-site", tags={"labctl:cohort": COHORT})
    assert violations(resources) == [
        (
            "tags-required",
            f"{PREFIX}-site",
            f"aws:s3/bucketV2:BucketV2 '{PREFIX}-site' must carry the tags labctl:student, labctl:lab.",
        )
    ]


def test_tags_required_flags_an_untagged_resource_and_another_students_tag():
    resources = replaced(f"{PREFIX}-site", tags=None) + [
        resource("aws:sqs/queue:Queue", f"{PREFIX}-q", name=f"{PREFIX}-q", tags=tags(student="s2"))
    ]
    assert violations(resources) == [
        (
            "tags-required",
            f"{PREFIX}-site",
            f"aws:s3/bucketV2:BucketV2 '{PREFIX}-site' must carry the tags labctl:cohort, labctl:student, labctl:lab.",
        ),
        (
            "tags-required",
            f"{PREFIX}-q",
            f"aws:sqs/queue:Queue '{PREFIX}-q' must carry labctl:student=s1 (it says 's2').",
        ),
    ]


def test_tags_required_ignores_untaggable_types_and_accepts_provider_default_tags():
    provider = resource("pulumi:providers:aws", f"{PREFIX}-tagged-aws", defaultTags='{"tags": %s}' % __import__("json").dumps(T))
    bucket = resource("aws:s3/bucketV2:BucketV2", f"{PREFIX}-logs", bucket=f"{PREFIX}-logs")
    bucket["provider"] = provider["urn"]
    assert violations(with_extra(provider, bucket)) == []


def test_tags_required_cannot_read_tags_unknown_at_plan_time():
    assert violations(replaced(f"{PREFIX}-site", tags="[unknown]")) == []


# names-prefixed


def test_names_prefixed_flags_logical_and_physical_names_outside_the_prefix():
    rogue = resource("aws:s3/bucketV2:BucketV2", "c1-s10-site", bucket="shared-site", tags=T)
    assert violations(with_extra(rogue)) == [
        ("names-prefixed", "c1-s10-site", "aws:s3/bucketV2:BucketV2 'c1-s10-site' must be named starting with 'c1-s1'."),
        (
            "names-prefixed",
            "c1-s10-site",
            "aws:s3/bucketV2:BucketV2 'c1-s10-site' must have a bucket starting with 'c1-s1' (it is 'shared-site').",
        ),
    ]


def test_names_prefixed_skips_secret_and_unknown_names():
    assert violations(replaced(f"{PREFIX}-site", bucket="[unknown]")) == []
    assert violations(replaced(f"{PREFIX}-user", name="[secret]")) == []


# iam-no-wildcards

POLICY = f"{PREFIX}-policy"
UP = "aws:iam/userPolicy:UserPolicy"


def test_iam_no_wildcards_forbids_action_star():
    resources = replaced(POLICY, policy=policy_doc({"Effect": "Allow", "Action": "*", "Resource": f"arn:aws:s3:::{PREFIX}-x"}))
    assert violations(resources) == [("iam-no-wildcards", POLICY, f"{UP} '{POLICY}' policy must not allow Action '*'.")]


def test_iam_no_wildcards_forbids_iam_organizations_account_and_sts_actions():
    doc = policy_doc(
        {"Sid": "Esc", "Effect": "Allow", "Action": ["iam:PassRole", "Organizations:ListAccounts"], "Resource": "arn:aws:iam::1:role/x"},
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::1:role/x"},
    )
    assert violations(replaced(POLICY, policy=doc)) == [
        (
            "iam-no-wildcards",
            POLICY,
            f"{UP} '{POLICY}' policy must not allow iam:PassRole (statement 'Esc'): role actions are allowed only on "
            f"roles arn:aws:iam::*:role/{PREFIX}-*.",
        ),
        (
            "iam-no-wildcards",
            POLICY,
            f"{UP} '{POLICY}' policy must not allow Organizations:ListAccounts (statement 'Esc'): organizations actions are forbidden to students.",
        ),
        ("iam-no-wildcards", POLICY, f"{UP} '{POLICY}' policy must not allow sts:AssumeRole: sts actions are forbidden to students."),
    ]


def test_iam_no_wildcards_forbids_mutating_actions_on_every_resource():
    doc = policy_doc({"Effect": "Allow", "Action": ["s3:PutObject", "s3:List*", "ec2:DescribeInstances"], "Resource": ["arn:aws:s3:::*"]})
    assert violations(replaced(POLICY, policy=doc)) == [
        (
            "iam-no-wildcards",
            POLICY,
            f"{UP} '{POLICY}' policy must not allow s3:PutObject on every resource: only List*/Describe* actions, "
            "or statements conditioned on the owner's labctl:student tag, may use Resource '*'.",
        )
    ]


def test_iam_no_wildcards_allows_star_resource_scoped_to_the_owner_tag_only_for_that_owner():
    def scoped(student: str) -> str:
        return policy_doc(
            {
                "Effect": "Allow",
                "Action": ["sqs:DeleteQueue"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceTag/labctl:student": student}},
            }
        )

    assert violations(replaced(POLICY, policy=scoped(STUDENT))) == []
    assert [v[0] for v in violations(replaced(POLICY, policy=scoped("s2")))] == ["iam-no-wildcards"]


def test_iam_no_wildcards_ignores_deny_statements_and_reads_role_inline_policies():
    deny = policy_doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
    role = resource(
        "aws:iam/role:Role",
        f"{PREFIX}-role",
        name=f"{PREFIX}-role",
        tags=T,
        permissionsBoundary=BOUNDARY,
        inlinePolicies=[{"name": "inline", "policy": policy_doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})}],
    )
    assert violations(replaced(POLICY, policy=deny) + [role]) == [
        (
            "iam-no-wildcards",
            f"{PREFIX}-role",
            f"aws:iam/role:Role '{PREFIX}-role' inline policy 'inline' must not allow NotAction: it grants every action not listed.",
        )
    ]


def test_iam_no_wildcards_flags_a_document_that_is_not_json_and_skips_secrets():
    assert violations(replaced(POLICY, policy="{not json")) == [
        ("iam-no-wildcards", POLICY, f"{UP} '{POLICY}' must have a JSON policy document as its policy.")
    ]
    assert violations(replaced(POLICY, policy="[secret]")) == []
    assert violations(replaced(POLICY, policy="[unknown]")) == []


# iam-permissions-boundary


def test_iam_permissions_boundary_required_on_users_and_roles():
    role = resource("aws:iam/role:Role", f"{PREFIX}-role", name=f"{PREFIX}-role", tags=T)
    assert violations(replaced(f"{PREFIX}-user", permissionsBoundary=None) + [role]) == [
        ("iam-permissions-boundary", f"{PREFIX}-user", f"aws:iam/user:User '{PREFIX}-user' must have a permissionsBoundary."),
        ("iam-permissions-boundary", f"{PREFIX}-role", f"aws:iam/role:Role '{PREFIX}-role' must have a permissionsBoundary."),
    ]


def test_iam_permissions_boundary_can_require_a_specific_boundary():
    config = {"iam-permissions-boundary": {"boundaryArnContains": "policy/other"}}
    assert violations(student_resources(), config) == [
        (
            "iam-permissions-boundary",
            f"{PREFIX}-user",
            f"aws:iam/user:User '{PREFIX}-user' must have a permissionsBoundary containing 'policy/other' (it is '{BOUNDARY}').",
        )
    ]


# s3-no-public-acl / s3-no-public-write

PAB = f"{PREFIX}-site-pab"
BP = f"{PREFIX}-site-policy"


def test_s3_no_public_acl_flags_public_acls_and_an_open_access_block():
    resources = replaced(f"{PREFIX}-site", acl="public-read-write") + [
        resource("aws:s3/bucketAclV2:BucketAclV2", f"{PREFIX}-site-acl", bucket=f"{PREFIX}-site", acl="private")
    ]
    resources = [r if r["name"] != PAB else {**r, "inputs": {**r["inputs"], "ignorePublicAcls": False}} for r in resources]
    assert violations(resources) == [
        (
            "s3-no-public-acl",
            f"{PREFIX}-site",
            f"aws:s3/bucketV2:BucketV2 '{PREFIX}-site' must not use the public ACL 'public-read-write'.",
        ),
        (
            "s3-no-public-acl",
            PAB,
            f"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock '{PAB}' must set ignorePublicAcls to true.",
        ),
    ]


def test_s3_no_public_write_allows_public_read_but_not_public_write():
    doc = policy_doc(
        {"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "*"},
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*", "Resource": "*"},
    )
    assert violations(replaced(BP, policy=doc)) == [
        ("s3-no-public-write", BP, f"aws:s3/bucketPolicy:BucketPolicy '{BP}' must not allow s3:PutObject to principal '*'.")
    ]


# rds-private-encrypted / cost-rds-limits

DB = f"{PREFIX}-db"
RDS = "aws:rds/instance:Instance"


def database(**inputs: Any) -> dict[str, Any]:
    base = {"identifier": DB, "instanceClass": "db.t3.micro", "allocatedStorage": 20, "storageEncrypted": True, "tags": T}
    return resource(RDS, DB, **{**base, **inputs})


def test_rds_passes_when_private_encrypted_and_small():
    assert violations(with_extra(database())) == []


def test_rds_private_encrypted_flags_public_and_unencrypted():
    assert violations(with_extra(database(publiclyAccessible=True, storageEncrypted=False))) == [
        ("rds-private-encrypted", DB, f"{RDS} '{DB}' must not be publicly accessible."),
        ("rds-private-encrypted", DB, f"{RDS} '{DB}' must set storageEncrypted to true."),
    ]


def test_cost_rds_limits_flags_class_storage_and_multi_az():
    db = database(instanceClass="db.r5.4xlarge", allocatedStorage=500, multiAz=True)
    assert violations(with_extra(db)) == [
        ("cost-rds-limits", DB, f"{RDS} '{DB}' must use one of db.t3.micro, db.t4g.micro, db.t3.small, db.t4g.small (it uses 'db.r5.4xlarge')."),
        ("cost-rds-limits", DB, f"{RDS} '{DB}' must have allocatedStorage of at most 20 GB (it has 500)."),
        ("cost-rds-limits", DB, f"{RDS} '{DB}' must not be multi-AZ."),
    ]


# cost-budget-limit


BUDGET = f"{PREFIX}-budget"


def test_cost_budget_limit_flags_a_budget_over_the_limit_and_a_foreign_currency():
    assert violations(replaced(BUDGET, limitAmount="500.0", limitUnit="EUR")) == [
        ("cost-budget-limit", BUDGET, f"aws:budgets/budget:Budget '{BUDGET}' must have limitAmount of at most 25 USD (it has 500)."),
        ("cost-budget-limit", BUDGET, f"aws:budgets/budget:Budget '{BUDGET}' must have limitUnit 'USD' (it has 'EUR')."),
    ]


def test_cost_budget_limit_requires_a_budget_for_a_student_with_aws_resources():
    resources = [r for r in student_resources() if r["name"] != BUDGET]
    assert violations(resources) == [
        (
            "cost-budget-limit",
            f"{PREFIX}-user",
            "student 's1' must have an aws:budgets/budget:Budget (found AWS resources, e.g. 'c1-s1-user').",
        )
    ]


def test_cost_budget_limit_max_is_configurable():
    assert violations(student_resources(), {"cost-budget-limit": {"maxBudgetUsd": 5}}) == [
        ("cost-budget-limit", BUDGET, f"aws:budgets/budget:Budget '{BUDGET}' must have limitAmount of at most 5 USD (it has 10).")
    ]


# cost-ec2-instance-types / cost-no-nat-gateway

VM = f"{PREFIX}-vm"


@pytest.mark.parametrize("kind", ["t3.micro", "t4g.small"])
def test_cost_ec2_instance_types_allows_small_instances(kind: str):
    assert violations(with_extra(resource("aws:ec2/instance:Instance", VM, instanceType=kind, tags=T))) == []


def test_cost_ec2_instance_types_flags_big_instances_and_launch_templates():
    vm = resource("aws:ec2/instance:Instance", VM, instanceType="p4d.24xlarge", tags=T)
    lt = resource("aws:ec2/launchTemplate:LaunchTemplate", f"{PREFIX}-lt", name=f"{PREFIX}-lt", instanceType="m5.large", tags=T)
    allowed = "t2.nano, t2.micro, t3.nano, t3.micro, t3.small, t4g.nano, t4g.micro, t4g.small"
    assert violations(with_extra(vm, lt)) == [
        ("cost-ec2-instance-types", VM, f"aws:ec2/instance:Instance '{VM}' must use one of {allowed} (it uses 'p4d.24xlarge')."),
        (
            "cost-ec2-instance-types",
            f"{PREFIX}-lt",
            f"aws:ec2/launchTemplate:LaunchTemplate '{PREFIX}-lt' must use one of {allowed} (it uses 'm5.large').",
        ),
    ]


def test_cost_no_nat_gateway_unless_allowed():
    nat = resource("aws:ec2/natGateway:NatGateway", f"{PREFIX}-nat", subnetId="[unknown]", tags=T)
    assert violations(with_extra(nat)) == [
        (
            "cost-no-nat-gateway",
            f"{PREFIX}-nat",
            f"aws:ec2/natGateway:NatGateway '{PREFIX}-nat' must not exist: NAT gateways are not allowed in labs.",
        )
    ]
    assert violations(with_extra(nat), {"cost-no-nat-gateway": {"allowNatGateway": True}}) == []


# cost-max-students / cost-cohort-monthly-limit (stack level)


def many_students(count: int):
    return [(f"s{i}", student_resources(f"s{i}")) for i in range(count)]


def test_cost_max_students_counts_distinct_students():
    config = {"cost-max-students": {"maxStudents": 2}}
    ok = from_plan(plan(*many_students(2)), "plan.json")
    too_many = from_plan(plan(*many_students(3)), "plan.json")
    assert evaluate(ok.resources, config).violations == ()
    report = evaluate(too_many.resources, config)
    assert [(v.policy, v.resource_type, v.message) for v in report.violations] == [
        ("cost-max-students", "pulumi:pulumi:Stack", "the cohort must have at most 2 students (it has 3).")
    ]


def test_cost_cohort_monthly_limit_reads_the_plan_cost():
    assert violations(student_resources(), cost={"monthly_usd": 999.5}) == []
    assert violations(student_resources(), cost={"monthly_usd": 1200}) == [
        ("cost-cohort-monthly-limit", "", "the cohort must cost at most 1000 USD a month (estimated 1200).")
    ]
    assert violations(student_resources(), {"cost-cohort-monthly-limit": {"maxCohortMonthlyUsd": 50}}, {"monthly_usd": 60}) == [
        ("cost-cohort-monthly-limit", "", "the cohort must cost at most 50 USD a month (estimated 60).")
    ]


# Kubernetes: k8s-namespace-restricted / k8s-namespace-guarded / k8s-rbac-scoped / k8s-role-scoped /
# cost-k8s-quota

NS = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
RB = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CRB = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
K8S_LABELS = {"labctl/cohort": COHORT, "labctl/student": STUDENT, "labctl/lab": "k8s-lab"}


def meta(name: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": PREFIX, "labels": K8S_LABELS, **extra}


def namespace_resources(**overrides: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A fenced student namespace as StudentNamespace registers it (camelCase wire inputs)."""
    deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"], "ingress": [], "egress": []}
    dns = {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}
    pieces = {
        "ns": (NS, {"metadata": {"name": PREFIX, "labels": {**K8S_LABELS, "pod-security.kubernetes.io/enforce": "restricted"}}}),
        "quota": (QUOTA, {"metadata": meta(f"{PREFIX}-quota"), "spec": {"hard": {"requests.cpu": "2", "limits.cpu": "2", "limits.memory": "4Gi", "pods": "20"}}}),
        "limits": ("kubernetes:core/v1:LimitRange", {"metadata": meta(f"{PREFIX}-limits"), "spec": {"limits": [{"type": "Container"}]}}),
        "default-deny": ("kubernetes:networking.k8s.io/v1:NetworkPolicy", {"metadata": meta(f"{PREFIX}-default-deny"), "spec": deny}),
        "allow-dns": ("kubernetes:networking.k8s.io/v1:NetworkPolicy", {"metadata": meta(f"{PREFIX}-allow-dns"), "spec": dns}),
        "binding": (
            RB,
            {
                "metadata": meta(f"{PREFIX}-edit"),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": f"{PREFIX}-edit"},
                "subjects": [{"kind": "ServiceAccount", "name": f"{PREFIX}-student", "namespace": PREFIX}],
            },
        ),
    }
    resources = []
    for suffix, (type_token, inputs) in pieces.items():
        inputs = overrides.get(suffix, inputs)
        if inputs is not None:
            resources.append(resource(type_token, f"{PREFIX}-{suffix}", None, **inputs))
    return resources


def test_the_fenced_namespace_passes():
    assert violations(namespace_resources()) == []


def test_k8s_namespace_restricted_requires_the_psa_label():
    ns = {"metadata": {"name": PREFIX, "labels": {**K8S_LABELS, "pod-security.kubernetes.io/enforce": "baseline"}}}
    assert violations(namespace_resources(ns=ns)) == [
        ("k8s-namespace-restricted", f"{PREFIX}-ns", f"{NS} '{PREFIX}-ns' must have the label pod-security.kubernetes.io/enforce=restricted.")
    ]


def test_k8s_namespace_guarded_names_each_missing_guard():
    allow_all = {"metadata": meta(f"{PREFIX}-default-deny"), "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{}]}}
    resources = namespace_resources(quota=None, limits=None, **{"default-deny": allow_all})
    assert violations(resources) == [
        (
            "k8s-namespace-guarded",
            f"{PREFIX}-ns",
            f"{NS} '{PREFIX}-ns' ({PREFIX}) must have a ResourceQuota, a LimitRange, a default-deny NetworkPolicy.",
        )
    ]


def test_k8s_rbac_scoped_flags_foreign_subjects_and_cluster_bindings_naming_the_student():
    binding = {
        "metadata": meta(f"{PREFIX}-edit"),
        "roleRef": {"kind": "Role", "name": "edit"},
        "subjects": [
            {"kind": "ServiceAccount", "name": "default", "namespace": "kube-system"},
            {"kind": "User", "name": "alice"},
        ],
    }
    cluster = resource(CRB, f"{PREFIX}-admin", None, metadata={"name": f"{PREFIX}-admin"}, roleRef={"kind": "ClusterRole", "name": "admin"}, subjects=[{"kind": "ServiceAccount", "name": f"{PREFIX}-student", "namespace": PREFIX}])
    assert violations(namespace_resources(binding=binding) + [cluster]) == [
        (
            "k8s-rbac-scoped",
            f"{PREFIX}-binding",
            f"{RB} '{PREFIX}-binding' must bind only ServiceAccounts of namespace '{PREFIX}' (it binds one of 'kube-system').",
        ),
        ("k8s-rbac-scoped", f"{PREFIX}-binding", f"{RB} '{PREFIX}-binding' must bind only ServiceAccounts (it binds User 'alice')."),
        ("k8s-rbac-scoped", f"{PREFIX}-admin", f"{CRB} '{PREFIX}-admin' must not name the student's ServiceAccount '{PREFIX}-student'."),
    ]


ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
WRITES = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


def student_role(manages: str | None, *rules: tuple[str, str, list[str]]) -> dict[str, Any]:
    """The student's Role `<prefix>-edit` with `rules` as (group, resource, verbs), opting into `manages`."""
    annotations = {"annotations": {"labctl/student-manages": manages}} if manages is not None else {}
    return resource(
        ROLE,
        f"{PREFIX}-role",
        None,
        metadata=meta(f"{PREFIX}-edit", **annotations),
        rules=[{"apiGroups": [g], "resources": [r], "verbs": v} for g, r, v in rules],
    )


OPTED_IN = (
    ("", "pods", WRITES),
    ("networking.k8s.io", "networkpolicies", WRITES),
    ("rbac.authorization.k8s.io", "roles", WRITES),
    ("rbac.authorization.k8s.io", "rolebindings", WRITES),
    ("", "serviceaccounts", WRITES),
)


def test_k8s_role_scoped_allows_exactly_the_writes_the_lab_opts_into():
    assert violations([*namespace_resources(), student_role(None, ("", "pods", WRITES))]) == []
    assert violations([*namespace_resources(), student_role("networkpolicies,rbac", *OPTED_IN)]) == []
    who = f"{ROLE} '{PREFIX}-role'"
    assert violations([*namespace_resources(), student_role("networkpolicies", *OPTED_IN)]) == [
        ("k8s-role-scoped", f"{PREFIX}-role", f"{who} must not grant {verb} on {res}.rbac.authorization.k8s.io.")
        for res in ("rolebindings", "roles")
        for verb in sorted(WRITES[3:])
    ]
    assert violations([*namespace_resources(), student_role(None, ("networking.k8s.io", "networkpolicies", ["patch"]))]) == [
        ("k8s-role-scoped", f"{PREFIX}-role", f"{who} must not grant patch on networkpolicies.networking.k8s.io.")
    ]


def test_k8s_role_scoped_never_allows_escalation_wildcards_quota_or_cluster_scope():
    who = f"{ROLE} '{PREFIX}-role'"
    role = student_role(
        "networkpolicies,rbac,nodes",
        ("rbac.authorization.k8s.io", "roles", ["bind", "escalate"]),
        ("rbac.authorization.k8s.io", "clusterroles", ["create"]),
        ("rbac.authorization.k8s.io", "clusterrolebindings", ["create"]),
        ("rbac.authorization.k8s.io", "*", ["create"]),
        ("", "serviceaccounts", ["*"]),
        ("", "users", ["impersonate"]),
        ("", "resourcequotas", ["patch"]),
        ("networking.k8s.io", "networkpolicies", ["*"]),
    )
    cluster_role = resource(
        CLUSTER_ROLE, f"{PREFIX}-viewer", None, metadata={"name": f"{PREFIX}-viewer", "labels": K8S_LABELS}, rules=[]
    )
    found = [m for policy, _, m in violations([*namespace_resources(), role, cluster_role]) if policy == "k8s-role-scoped"]
    assert found == [
        f"{who} must declare only networkpolicies, rbac in labctl/student-manages (it declares nodes).",
        f"{who} must not grant patch on resourcequotas.",
        f"{who} must not grant * on serviceaccounts.",
        f"{who} must not grant impersonate on users.",
        f"{who} must not grant * on networkpolicies.networking.k8s.io.",
        f"{who} must not grant create on *.rbac.authorization.k8s.io.",
        f"{who} must not grant create on clusterrolebindings.rbac.authorization.k8s.io.",
        f"{who} must not grant create on clusterroles.rbac.authorization.k8s.io.",
        f"{who} must not grant bind on roles.rbac.authorization.k8s.io.",
        f"{who} must not grant escalate on roles.rbac.authorization.k8s.io.",
        f"{CLUSTER_ROLE} '{PREFIX}-viewer' must not belong to a student: their rights stay in their namespace.",
    ]


def test_cost_k8s_quota_caps_cpu_and_memory():
    big = {"metadata": meta(f"{PREFIX}-quota"), "spec": {"hard": {"limits.cpu": "8000m", "limits.memory": "16Gi"}}}
    assert violations(namespace_resources(quota=big)) == [
        ("cost-k8s-quota", f"{PREFIX}-quota", f"{QUOTA} '{PREFIX}-quota' must have limits.cpu of at most 4 (it has 8000m)."),
        ("cost-k8s-quota", f"{PREFIX}-quota", f"{QUOTA} '{PREFIX}-quota' must have limits.memory of at most 8Gi (it has 16Gi)."),
    ]
    assert violations(namespace_resources(quota=big), {"cost-k8s-quota": {"maxCpu": "8", "maxMemory": "16Gi"}}) == []


def test_cost_k8s_quota_requires_cpu_and_memory_caps():
    bare = {"metadata": meta(f"{PREFIX}-quota"), "spec": {"hard": {"pods": "10"}}}
    assert violations(namespace_resources(quota=bare)) == [
        ("cost-k8s-quota", f"{PREFIX}-quota", f"{QUOTA} '{PREFIX}-quota' must set a cpu limit in spec.hard."),
        ("cost-k8s-quota", f"{PREFIX}-quota", f"{QUOTA} '{PREFIX}-quota' must set a memory limit in spec.hard."),
    ]


# workspace-hardened

CONTAINER = "docker:index/container:Container"
WS = f"{PREFIX}-workspace"


def workspace(**inputs: Any) -> dict[str, Any]:
    base = {
        "name": WS,
        "image": "codercom/code-server:4",
        "user": "1000:1000",
        "readOnly": True,
        "capabilities": {"drops": ["ALL"]},
        "memory": 1024,
        "cpus": "1.0",
        "networkMode": f"{PREFIX}-net",
        "volumes": [{"volumeName": f"{PREFIX}-home", "containerPath": "/home/coder"}],
    }
    return resource(CONTAINER, WS, None, **{k: v for k, v in {**base, **inputs}.items() if v is not None})


def test_workspace_hardened_passes_a_locked_down_container():
    assert violations(with_extra(workspace())) == []


def test_workspace_hardened_names_every_weakness():
    loose = workspace(
        user="root",
        readOnly=None,
        capabilities={"adds": ["SYS_ADMIN"]},
        privileged=True,
        networkMode="host",
        pidMode="host",
        mounts=[{"type": "bind", "source": "/var/run/docker.sock", "target": "/var/run/docker.sock"}],
        volumes=[{"hostPath": "/etc", "containerPath": "/host-etc"}],
        memory=None,
        cpus=None,
        cpuShares=512,
    )
    w = f"{CONTAINER} '{WS}'"
    assert [v[2] for v in violations(with_extra(loose))] == [
        f"{w} must run as a non-root user (set user).",
        f"{w} must have a read-only root filesystem (readOnly: true).",
        f"{w} must drop all capabilities (capabilities.drops: [ALL]).",
        f"{w} must not add capabilities (it adds SYS_ADMIN).",
        f"{w} must not be privileged.",
        f"{w} must not share the host network (networkMode: host).",
        f"{w} must not share the host PID namespace (pidMode: host).",
        f"{w} must not mount the host path '/etc'.",
        f"{w} must not mount the Docker socket.",
        f"{w} must have a memory limit (memory).",
        f"{w} must have a CPU limit (cpus, cpuQuota or cpuSet).",
    ]


# postgres-role-limited / postgres-database-private

PG_ROLE = "postgresql:index/role:Role"
PG_DB = "postgresql:index/database:Database"
DBNAME = PREFIX.replace("-", "_")


def postgres_resources(role: dict | None = None, database: dict | None = None, revoke: bool = True) -> list[dict[str, Any]]:
    resources = [
        resource(PG_ROLE, f"{PREFIX}-role", None, **(role or {"name": DBNAME, "login": True, "connectionLimit": 5})),
        resource(PG_DB, f"{PREFIX}-db", None, **(database or {"name": DBNAME, "owner": DBNAME, "connectionLimit": 5})),
    ]
    if revoke:
        resources.append(
            resource(
                "postgresql:index/grant:Grant", f"{PREFIX}-revoke-public", None,
                database=DBNAME, role="public", objectType="database", privileges=[],
            )
        )
    return resources


def test_postgres_passes_a_private_limited_database():
    assert violations(postgres_resources()) == []


def test_postgres_role_limited_flags_escalating_attributes_and_no_limit():
    role = {"name": DBNAME, "login": True, "superuser": True, "createRole": True}
    assert violations(postgres_resources(role=role)) == [
        ("postgres-role-limited", f"{PREFIX}-role", f"{PG_ROLE} '{PREFIX}-role' must not have superuser, createRole."),
        ("postgres-role-limited", f"{PREFIX}-role", f"{PG_ROLE} '{PREFIX}-role' must have a connectionLimit between 1 and 10 (it has unlimited)."),
    ]


def test_postgres_role_limited_needs_no_limit_on_a_role_that_cannot_log_in():
    group = {"name": f"{DBNAME}_analyst", "login": False}
    assert violations(postgres_resources(role=group)) == []
    escalating = {"name": f"{DBNAME}_analyst", "login": False, "superuser": True}
    assert violations(postgres_resources(role=escalating)) == [
        ("postgres-role-limited", f"{PREFIX}-role", f"{PG_ROLE} '{PREFIX}-role' must not have superuser."),
    ]


def test_postgres_database_private_requires_the_public_revoke_and_a_limit():
    database = {"name": DBNAME, "owner": DBNAME, "connectionLimit": -1}
    assert violations(postgres_resources(database=database, revoke=False)) == [
        (
            "postgres-database-private",
            f"{PREFIX}-db",
            f"{PG_DB} '{PREFIX}-db' must revoke CONNECT from PUBLIC (a postgresql:index/grant:Grant to role public on '{DBNAME}' with privileges []).",
        ),
        ("postgres-database-private", f"{PREFIX}-db", f"{PG_DB} '{PREFIX}-db' must have a connectionLimit between 1 and 10 (it has unlimited)."),
    ]


# names-prefixed: shared artefacts


def test_names_prefixed_reads_no_name_property_of_a_shared_image_but_still_the_logical_name():
    image = "docker:index/remoteImage:RemoteImage"
    own = resource(image, f"{PREFIX}-workspace-image", name="codercom/code-server:4.96.4", keepLocally=True)
    rogue = resource(image, "c1-s10-image", name="codercom/code-server:4.96.4")
    assert violations(with_extra(own)) == []
    assert violations(with_extra(rogue)) == [
        ("names-prefixed", "c1-s10-image", f"{image} 'c1-s10-image' must be named starting with '{PREFIX}'.")
    ]


# iam-no-wildcards: the student's own roles, and tag writes on '*'

OWN_ROLES = f"arn:aws:iam::*:role/{PREFIX}-*"
OWN_BOUNDARY = f"arn:aws:iam::*:policy/labctl/{COHORT}/{PREFIX}-boundary"


def role_statements(roles: str = OWN_ROLES, boundary: str | None = OWN_BOUNDARY, passed_to: Any = "lambda.amazonaws.com"):
    writes = {"Sid": "Write", "Effect": "Allow", "Action": ["iam:CreateRole", "iam:PutRolePolicy"], "Resource": [roles]}
    if boundary is not None:
        writes["Condition"] = {"StringLike": {"iam:PermissionsBoundary": boundary}}
    passing = {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": roles}
    if passed_to is not None:
        passing["Condition"] = {"StringEquals": {"iam:PassedToService": passed_to}}
    reads = {"Sid": "Read", "Effect": "Allow", "Action": ["iam:GetRole", "iam:TagRole"], "Resource": [roles]}
    return [writes, passing, reads]


def test_iam_no_wildcards_allows_exactly_the_students_own_role_statements():
    assert violations(replaced(POLICY, policy=policy_doc(*role_statements()))) == []


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (role_statements(roles="arn:aws:iam::*:role/c1-s10-*"), "iam:CreateRole (statement 'Write'): role actions are allowed only on roles"),
        (role_statements(roles="arn:aws:iam::*:role/*"), "iam:CreateRole (statement 'Write'): role actions are allowed only on roles"),
        (role_statements(boundary=None), "iam:CreateRole (statement 'Write'): role writes need an iam:PermissionsBoundary"),
        (role_statements(boundary="arn:aws:iam::*:policy/*"), "iam:CreateRole (statement 'Write'): role writes need an iam:PermissionsBoundary"),
        (role_statements(boundary="arn:aws:iam::*:policy/labctl/c1/c1-s10-boundary"), "iam:CreateRole (statement 'Write'): role writes need"),
        (role_statements(passed_to=None), "iam:PassRole (statement 'Pass'): iam:PassRole needs an iam:PassedToService"),
        (role_statements(passed_to="*"), "iam:PassRole (statement 'Pass'): iam:PassRole needs an iam:PassedToService"),
        ([{"Sid": "User", "Effect": "Allow", "Action": "iam:CreateUser", "Resource": OWN_ROLES}], "iam:CreateUser (statement 'User'): iam actions are forbidden"),
        ([{"Sid": "Any", "Effect": "Allow", "Action": "iam:*", "Resource": OWN_ROLES}], "iam:* (statement 'Any'): iam actions are forbidden"),
    ],
)
def test_iam_no_wildcards_refuses_role_statements_that_reach_beyond_the_students_roles(statements, problem):
    found = violations(replaced(POLICY, policy=policy_doc(*statements)))
    assert found and all(v[0] == "iam-no-wildcards" for v in found)
    assert any(f"must not allow {problem}" in v[2] for v in found), found


def test_iam_no_wildcards_refuses_tag_writes_on_star_conditioned_only_on_the_request_tags():
    request = {"aws:RequestTag/labctl:student": STUDENT}

    def tagging(**condition: Any) -> str:
        return policy_doc({"Sid": "Tag", "Effect": "Allow", "Action": ["sqs:CreateQueue", "sqs:TagQueue"], "Resource": "*", "Condition": condition})

    assert violations(replaced(POLICY, policy=tagging(StringEquals=request))) == [
        (
            "iam-no-wildcards",
            POLICY,
            f"{UP} '{POLICY}' policy must not allow sqs:TagQueue on every resource (statement 'Tag') conditioned only on the "
            "request's tags: a student could re-tag another student's resource as their own (also condition on "
            "aws:ResourceTag/labctl:student, a Null resource tag or a CreateAction).",
        )
    ]
    untagged = tagging(StringEquals=request, Null={"aws:ResourceTag/labctl:student": "true"})
    on_create = tagging(StringEquals={**request, "ec2:CreateAction": "RunInstances"})
    own = tagging(StringEquals={"aws:ResourceTag/labctl:student": STUDENT})
    for document in (untagged, on_create, own):
        assert violations(replaced(POLICY, policy=document)) == []


@pytest.mark.parametrize("action", ["rds:AddTagsToResource", "rds:RemoveTagsFromResource"])
def test_iam_no_wildcards_counts_add_and_remove_tags_apis_as_tag_writes(action):
    request = {"aws:RequestTag/labctl:student": STUDENT}
    document = policy_doc({"Sid": "Tag", "Effect": "Allow", "Action": [action], "Resource": "*", "Condition": {"StringEquals": request}})
    found = violations(replaced(POLICY, policy=document))
    assert [v[0] for v in found] == ["iam-no-wildcards"]
    assert f"must not allow {action} on every resource (statement 'Tag') conditioned only on the request's tags" in found[0][2]


# A permissions boundary grants nothing: iam-boundary-denies-escalation checks it instead.

MP = "aws:iam/policy:Policy"
BOUNDARY_NAME = f"{PREFIX}-boundary"
REQUIRED_DENIES = [
    "iam:CreateUser", "iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:PutUserPolicy", "iam:AttachUserPolicy",
    "iam:AddUserToGroup", "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion",
    "iam:DeletePolicy",
]
CAP = {"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}
# What iam-boundary-blocks-escalation needs besides: the rest of the escalation catalog's actions, and
# S3 (a service with resource policies) denied outside the student's names.
ESCALATION_DENIES = ["iam:UpdateLoginProfile", "iam:AttachGroupPolicy", "iam:PutGroupPolicy", "sts:AssumeRole"]
SELF_MANAGEMENT = {"Effect": "Deny", "Action": REQUIRED_DENIES + ESCALATION_DENIES, "Resource": "*"}
OWN_ONLY = {"Effect": "Deny", "Action": ["dynamodb:*", "lambda:*", "s3:*", "sns:*", "sqs:*"], "NotResource": [f"arn:aws:s3:::{PREFIX}-*"]}
BUCKET_TAGGING = {"Effect": "Deny", "Action": ["s3:PutBucketTagging"], "Resource": "*"}
LABCTL_TAGS = {
    "Effect": "Deny",
    "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
    "Resource": "*",
    "Condition": {"ForAnyValue:StringLike": {"aws:TagKeys": ["labctl:*"]}},
}


def boundary(*statements: dict[str, Any], path: str = f"/labctl/{COHORT}/", name: str = BOUNDARY_NAME) -> dict[str, Any]:
    return resource(MP, f"{PREFIX}-boundary", None, name=name, path=path, tags=T, policy=policy_doc(*statements))


def test_a_boundary_by_convention_is_no_grant_and_passes_when_it_denies_escalation():
    assert violations(with_extra(boundary(CAP, OWN_ONLY, BUCKET_TAGGING, SELF_MANAGEMENT, LABCTL_TAGS))) == []


def test_a_boundary_referenced_by_a_user_is_no_grant_whatever_its_name():
    elsewhere = boundary(CAP, OWN_ONLY, BUCKET_TAGGING, SELF_MANAGEMENT, LABCTL_TAGS, path="/", name=f"{PREFIX}-cap")
    resources = replaced(f"{PREFIX}-user", permissionsBoundary=f"arn:aws:iam::123456789012:policy/{PREFIX}-cap") + [elsewhere]
    assert violations(resources) == []
    # Neither referenced nor named by the convention: a grant, checked as one.
    assert [v[0] for v in violations(with_extra(elsewhere))] == ["iam-no-wildcards"]


def test_a_boundary_also_attached_as_a_grant_is_checked_as_a_grant():
    attached = resource(
        "aws:iam/userPolicyAttachment:UserPolicyAttachment", f"{PREFIX}-attach", None,
        user=f"{PREFIX}-user", policyArn=f"arn:aws:iam::123456789012:policy/labctl/{COHORT}/{BOUNDARY_NAME}",
    )
    found = violations(with_extra(boundary(CAP, OWN_ONLY, BUCKET_TAGGING, SELF_MANAGEMENT, LABCTL_TAGS), attached))
    assert [v[0] for v in found] == ["iam-no-wildcards"]


def sandbox_identity(number: int, *statements: dict[str, Any], policy_arn: str = "[unknown]") -> list[dict[str, Any]]:
    """AwsSandbox's identity policy `<prefix>-identity-<n>` and its attachment to the student's user
    (the policy's ARN is unknown in a plan, known in a stack export)."""
    return [
        resource(MP, f"{PREFIX}-aws-identity-{number}", None, name=f"{PREFIX}-identity-{number}",
                 path=f"/labctl/{COHORT}/", tags=T, policy=policy_doc(*statements)),
        resource("aws:iam/userPolicyAttachment:UserPolicyAttachment", f"{PREFIX}-aws-identity-{number}-attach", None,
                 user=f"{PREFIX}-user", policyArn=policy_arn),
    ]


@pytest.mark.parametrize("policy_arn", ["[unknown]", f"arn:aws:iam::123456789012:policy/labctl/{COHORT}/{PREFIX}-identity-2"])
def test_the_sandboxs_managed_identity_policies_are_checked_as_grants(policy_arn):
    wild = {"Sid": "Wild", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}
    # The student's own role statements pass: the owner's prefix comes from the policy's tags.
    first = sandbox_identity(1, *role_statements(), policy_arn=policy_arn.replace("identity-2", "identity-1"))
    assert violations(with_extra(*first)) == []
    found = violations(with_extra(*first, *sandbox_identity(2, wild, policy_arn=policy_arn)))
    assert found == [
        (
            "iam-no-wildcards",
            f"{PREFIX}-aws-identity-2",
            f"{MP} '{PREFIX}-aws-identity-2' policy must not allow s3:PutObject on every resource (statement 'Wild'): "
            "only List*/Describe* actions, or statements conditioned on the owner's labctl:student tag, may use "
            "Resource '*'.",
        )
    ]


def test_iam_boundary_denies_escalation_names_the_missing_denials():
    conditional = dict(SELF_MANAGEMENT, Condition={"StringEquals": {"aws:RequestedRegion": "us-east-1"}})
    who = f"{MP} '{PREFIX}-boundary' (a permissions boundary)"
    found = violations(with_extra(boundary(CAP, OWN_ONLY, BUCKET_TAGGING, conditional, LABCTL_TAGS)))
    assert [v for v in found if v[0] == "iam-boundary-denies-escalation"] == [
        (
            "iam-boundary-denies-escalation",
            f"{PREFIX}-boundary",
            f"{who} must deny {', '.join(REQUIRED_DENIES)} on every resource, unconditionally.",
        )
    ]
    partial = dict(LABCTL_TAGS, Action=["ec2:CreateTags", "s3:PutBucketTagging"])
    assert violations(with_extra(boundary(CAP, OWN_ONLY, SELF_MANAGEMENT, partial))) == [
        (
            "iam-boundary-denies-escalation",
            f"{PREFIX}-boundary",
            f"{who} must deny ec2:DeleteTags when aws:TagKeys has a labctl:* key "
            "(ForAnyValue:StringLike), so the student cannot disown or take over a resource.",
        ),
        (
            "iam-boundary-denies-escalation",
            f"{PREFIX}-boundary",
            f"{who} must deny s3:PutBucketTagging on every resource, unconditionally: its requests carry no "
            "tag keys a condition could check.",
        ),
    ]


def test_iam_boundary_denies_escalation_covers_api_gateway_and_cloudwatch_tagging():
    cap = {"Effect": "Allow", "Action": ["apigateway:*", "cloudwatch:*"], "Resource": "*"}
    who = f"{MP} '{PREFIX}-boundary' (a permissions boundary)"
    assert violations(with_extra(boundary(cap, OWN_ONLY, SELF_MANAGEMENT, LABCTL_TAGS))) == [
        (
            "iam-boundary-denies-escalation",
            f"{PREFIX}-boundary",
            f"{who} must deny apigateway:POST, apigateway:PUT, apigateway:DELETE, cloudwatch:TagResource, "
            "cloudwatch:UntagResource when aws:TagKeys has a labctl:* key (ForAnyValue:StringLike), so the student "
            "cannot disown or take over a resource.",
        )
    ]
    covered = dict(LABCTL_TAGS, Action=["apigateway:POST", "apigateway:PUT", "apigateway:DELETE", "cloudwatch:*Resource"])
    assert violations(with_extra(boundary(cap, OWN_ONLY, SELF_MANAGEMENT, covered))) == []


def test_iam_boundary_denies_escalation_accepts_wildcard_denials_and_skips_unreadable_documents():
    broad = {"Effect": "Deny", "Action": ["iam:*"], "Resource": ["*"]}
    assert violations(with_extra(boundary(CAP, OWN_ONLY, BUCKET_TAGGING, broad, {**broad, "Action": ["sts:*"]}, LABCTL_TAGS))) == []
    unknown = resource(MP, f"{PREFIX}-boundary", None, name=BOUNDARY_NAME, path=f"/labctl/{COHORT}/", tags=T, policy="[unknown]")
    assert violations(with_extra(unknown)) == []


# Kubernetes workloads in student namespaces: k8s-workload-isolated / k8s-workload-hardened

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
HARDENED = {
    "name": "web",
    "image": "nginx:1.27",
    "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
    "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
}


def deployment(container: dict[str, Any] = HARDENED, **pod: Any) -> dict[str, Any]:
    spec = {"securityContext": {"runAsNonRoot": True}, "containers": [container], **pod}
    return resource(DEPLOYMENT, f"{PREFIX}-web", None, metadata={"name": "web", "namespace": PREFIX}, spec={"template": {"spec": spec}})


def test_a_hardened_workload_in_the_student_namespace_passes():
    assert violations(namespace_resources() + [deployment()]) == []


def test_k8s_workload_isolated_flags_what_reaches_the_node():
    container = dict(HARDENED, securityContext={**HARDENED["securityContext"], "privileged": True})
    workload = deployment(container, hostNetwork=True, hostPID=True, volumes=[{"name": "root", "hostPath": {"path": "/"}}])
    who = f"{DEPLOYMENT} '{PREFIX}-web'"
    report = evaluate(from_plan(plan((STUDENT, namespace_resources() + [workload])), "plan.json").resources)
    assert [(v.policy, v.level, v.message) for v in report.violations] == [
        ("k8s-workload-isolated", "mandatory", f"{who} must not use the node's namespace (hostNetwork: true)."),
        ("k8s-workload-isolated", "mandatory", f"{who} must not use the node's namespace (hostPID: true)."),
        ("k8s-workload-isolated", "mandatory", f"{who} must not mount a hostPath volume ('root')."),
        ("k8s-workload-isolated", "mandatory", f"{who} container 'web' must not be privileged."),
    ]


def test_k8s_workload_hardened_is_advisory_and_names_each_weakness():
    bare = resource(
        "kubernetes:batch/v1:CronJob", f"{PREFIX}-nightly", None,
        metadata={"name": "nightly", "namespace": PREFIX},
        spec={"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job", "image": "busybox"}]}}}}},
    )
    who = f"kubernetes:batch/v1:CronJob '{PREFIX}-nightly' container 'job'"
    report = evaluate(from_plan(plan((STUDENT, namespace_resources() + [bare])), "plan.json").resources)
    assert [(v.policy, v.level, v.message) for v in report.violations] == [
        ("k8s-workload-hardened", "advisory", f"{who} must run as non-root (runAsNonRoot: true or a non-zero runAsUser)."),
        ("k8s-workload-hardened", "advisory", f"{who} must set allowPrivilegeEscalation: false."),
        ("k8s-workload-hardened", "advisory", f"{who} must drop all capabilities (capabilities.drop: [ALL])."),
        ("k8s-workload-hardened", "advisory", f"{who} must have cpu and memory limits (resources.limits)."),
    ]
    root = dict(HARDENED, securityContext={**HARDENED["securityContext"], "runAsUser": 0})
    assert [v[2] for v in violations(namespace_resources() + [deployment(root)])] == [
        f"{DEPLOYMENT} '{PREFIX}-web' container 'web' must run as non-root (runAsNonRoot: true or a non-zero runAsUser)."
    ]


def test_workload_rules_skip_workloads_outside_student_namespaces():
    """An unowned pod in kube-system (a stack export of the platform's own stack) is not a student's."""
    system = {"metadata": {"name": "dns", "namespace": "kube-system"}, "spec": {"hostNetwork": True, "containers": [{"name": "dns"}]}}
    stack = Stack((PolicyResource("kubernetes:core/v1:Pod", "dns", "urn:dns", system),))
    assert list(k8s_workload_isolated.check(stack, None)) == list(k8s_workload_hardened.check(stack, None)) == []


# A student's role is assumable only by AWS services: iam-role-trusts-services-only

IAM_ROLE = "aws:iam/role:Role"


def trusting(principal: Any) -> dict[str, Any]:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]}
    return resource(IAM_ROLE, f"{PREFIX}-fn-role", None, name=f"{PREFIX}-fn-role", tags=T, permissionsBoundary=BOUNDARY,
                    assumeRolePolicy=json.dumps(trust))


@pytest.mark.parametrize("principal", [{"Service": "lambda.amazonaws.com"}, {"Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}])
def test_a_role_trusting_aws_services_only_passes(principal):
    assert [v for v in violations(with_extra(trusting(principal))) if v[0] == "iam-role-trusts-services-only"] == []


@pytest.mark.parametrize(("principal", "named"), [
    ({"AWS": "arn:aws:iam::999999999999:root"}, "AWS principal arn:aws:iam::999999999999:root"),
    ({"Service": "lambda.amazonaws.com", "AWS": "*"}, "AWS principal *"),
    ("*", "principal '*'"),
    ({"Federated": "accounts.google.com"}, "Federated principal accounts.google.com"),
])
def test_a_role_trusting_anything_but_services_is_a_mandatory_violation(principal, named):
    found = [v for v in violations(with_extra(trusting(principal))) if v[0] == "iam-role-trusts-services-only"]
    assert found == [(
        "iam-role-trusts-services-only", f"{PREFIX}-fn-role",
        f"{IAM_ROLE} '{PREFIX}-fn-role' must be assumable only by AWS services, not by {named}: a trust policy naming "
        "an account or user is a way into the student's sandbox from outside it.",
    )]
