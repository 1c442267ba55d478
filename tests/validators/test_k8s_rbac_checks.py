"""RBAC checks on one namespace's objects as the API server returns them (decoded from JSON, so every
string is a new object, never the literal a lab names). Isolation rests on them: a Role reads only
(get, list, watch, no wildcard), grants what the lab asks and nothing on what it excludes (a rule
limited by resourceNames still exposes those objects), a RoleBinding gives the Role to the
ServiceAccount of the student's own namespace, and no RBAC object grants writes, a ClusterRole other
than the allowed ones, or anything cluster-wide."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from labctl.validators.checks.kubernetes import rbac
from tests.validators.k8s_objects import NAMESPACE, from_api, metadata

RBAC_API = "rbac.authorization.k8s.io"
READ = ["get", "list", "watch"]


def rule(groups: list[str], resources: list[str], verbs: list[str], **extra: Any) -> dict[str, Any]:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs, **extra}


def role(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{RBAC_API}/v1", "kind": "Role", "metadata": metadata(name), "rules": list(rules)}


def account(name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}


def binding(name: str, ref_kind: str, ref_name: str, *subjects: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_API}/v1",
        "kind": "RoleBinding",
        "metadata": metadata(name),
        "roleRef": {"apiGroup": RBAC_API, "kind": ref_kind, "name": ref_name},
        "subjects": list(subjects),
    }


def cluster_binding(name: str, cluster_role: str, *subjects: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{RBAC_API}/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": cluster_role},
        "subjects": list(subjects),
    }


def service_account(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": metadata(name)}


VIEWER = role(
    "viewer",
    rule([""], ["pods", "pods/log", "services"], READ),
    rule(["apps"], ["deployments"], READ),
)
COVERS = rbac.RoleGrantsParams(role="viewer", resources=["pods", "pods/log", "services", "deployments.apps"])
NO_SECRETS = rbac.RoleResourcesParams(role="viewer", resources=["secrets"])
BINDING = rbac.RoleBindingParams(role="viewer", service_account="viewer")
GUARD = rbac.RbacGuardParams(allowed_cluster_roles=["view"])


def test_the_service_account_exists_or_the_hint_creates_it_in_the_namespace():
    params = rbac.ServiceAccountParams(service_account="viewer")
    assert rbac.service_account(from_api(service_account("viewer")), params).status == "passed"
    missing = rbac.service_account(from_api(service_account("default")), params)
    assert (missing.status, missing.message) == ("failed", "serviceaccount viewer does not exist in namespace c1-ada")
    assert missing.hint == "kubectl -n c1-ada create serviceaccount viewer"


def test_a_role_of_get_list_and_watch_only_reads():
    assert rbac.role_read_only(from_api(VIEWER), rbac.RoleParams(role="viewer")).status == "passed"


def test_a_missing_or_empty_role_fails_the_read_only_check():
    missing = rbac.role_read_only(from_api(role("other")), rbac.RoleParams(role="viewer"))
    assert (missing.status, missing.message) == ("failed", "role viewer does not exist in namespace c1-ada")
    assert missing.hint.startswith("kubectl -n c1-ada create role viewer --verb=get,list,watch")
    empty = rbac.role_read_only(from_api(role("viewer")), rbac.RoleParams(role="viewer"))
    assert (empty.status, empty.message) == ("failed", "role viewer has no rules")


def test_write_verbs_and_wildcards_are_named_by_rule_number():
    writer = role(
        "viewer",
        rule([""], ["pods"], READ),
        rule([""], ["pods", "pods/exec"], ["get", "create", "delete"]),
        rule(["*"], ["*"], ["*"]),
    )
    result = rbac.role_read_only(from_api(writer), rbac.RoleParams(role="viewer"))
    assert (result.status, result.message) == (
        "failed",
        "role viewer: rule 2 grants verbs create, delete; "
        "rule 3 grants verbs * and every resource (*) and every API group (*)",
    )
    assert result.hint == "verbs: [get, list, watch] only"


def test_a_lab_names_at_least_one_resource_and_one_verb():
    """An empty list would make role-grants and role-excludes pass whatever the Role says."""
    with pytest.raises(ValidationError):
        rbac.RoleResourcesParams(role="viewer", resources=[])
    with pytest.raises(ValidationError):
        rbac.RoleGrantsParams(role="viewer", resources=["pods"], verbs=[])


def test_a_role_that_covers_every_resource_with_the_default_read_verbs():
    assert COVERS.verbs == READ
    assert rbac.role_grants(from_api(VIEWER), COVERS).status == "passed"


@pytest.mark.parametrize(
    "rules",
    [
        [rule(["*"], ["*"], ["*"])],
        [rule(["", "apps"], ["*"], READ)],
        [rule(["*"], ["pods", "pods/log", "services", "deployments"], ["*"])],
    ],
    ids=["everything", "every resource of both groups", "every group and verb"],
)
def test_wildcards_grant_what_they_cover(rules):
    assert rbac.role_grants(from_api(role("viewer", *rules)), COVERS).status == "passed"


def test_missing_verbs_are_listed_per_resource_and_the_group_must_match():
    """`deployments` granted in the core group is not `deployments.apps`; pods/log is a resource of its own."""
    partial = role("viewer", rule([""], ["pods", "services", "deployments"], ["get", "list"]))
    result = rbac.role_grants(from_api(partial), COVERS)
    assert (result.status, result.message) == (
        "failed",
        "role viewer: pods lacks watch; pods/log lacks get, list, watch; services lacks watch; "
        "deployments.apps lacks get, list, watch",
    )


def test_a_rule_limited_by_resource_names_does_not_grant_the_whole_resource():
    named = role("viewer", rule([""], ["pods"], READ, resourceNames=["web-0"]))
    params = rbac.RoleGrantsParams(role="viewer", resources=["pods"], verbs=["get"])
    assert rbac.role_grants(from_api(named), params).message == "role viewer: pods lacks get"


def test_granting_a_missing_role_is_skipped():
    for result in (rbac.role_grants(from_api(), COVERS), rbac.role_excludes(from_api(), NO_SECRETS)):
        assert (result.status, result.message) == ("skipped", "role viewer does not exist in namespace c1-ada")


def test_a_role_without_secrets_excludes_them():
    assert rbac.role_excludes(from_api(VIEWER), NO_SECRETS).status == "passed"


def test_every_rule_that_reaches_an_excluded_resource_is_named_with_its_verbs():
    reader = role(
        "viewer",
        rule([""], ["pods"], READ),
        rule([""], ["secrets"], ["get"], resourceNames=["dashboard-config"]),
        rule([""], ["*"], ["list", "watch"]),
        rule(["apps"], ["secrets"], ["get"]),
    )
    params = rbac.RoleResourcesParams(role="viewer", resources=["pods", "secrets"])
    result = rbac.role_excludes(from_api(reader), params)
    assert (result.status, result.message) == (
        "failed",
        "role viewer: rule 1 grants get, list, watch on pods; rule 3 grants list, watch on pods; "
        "rule 2 grants get on secrets; rule 3 grants list, watch on secrets",
    )


def test_a_binding_of_the_role_to_the_namespaces_service_account_passes():
    objects = [VIEWER, binding("viewer", "Role", "viewer", account("viewer"))]
    assert rbac.role_binding(from_api(*objects), BINDING).status == "passed"


def test_the_binding_counts_among_several_subjects_and_bindings():
    objects = [
        binding("a-viewer", "Role", "viewer", account("dashboard")),
        binding("b-viewer", "Role", "viewer", {"kind": "User", "name": "ada"}, account("viewer")),
    ]
    assert rbac.role_binding(from_api(*objects), BINDING).status == "passed"


@pytest.mark.parametrize(
    ("subject", "shown"),
    [
        (account("viewer", "c1-bob"), "ServiceAccount viewer of namespace c1-bob"),
        (account("viewer", "c1-aaron"), "ServiceAccount viewer of namespace c1-aaron"),
        ({"kind": "User", "apiGroup": RBAC_API, "name": "viewer"}, "User viewer"),
        # The API server ignores a User's or a Group's namespace rather than refusing it.
        ({"kind": "User", "apiGroup": RBAC_API, "name": "viewer", "namespace": NAMESPACE}, "User viewer of namespace c1-ada"),
        ({"kind": "Group", "apiGroup": RBAC_API, "name": "viewer", "namespace": NAMESPACE}, "Group viewer of namespace c1-ada"),
        (account("dashboard"), "ServiceAccount dashboard of namespace c1-ada"),
        (account("viewer-sa"), "ServiceAccount viewer-sa of namespace c1-ada"),
    ],
)
def test_a_binding_to_another_subject_names_what_it_binds(subject, shown):
    result = rbac.role_binding(from_api(binding("viewer", "Role", "viewer", subject)), BINDING)
    assert (result.status, result.message) == (
        "failed",
        f"rolebinding viewer binds role viewer to {shown}, not to ServiceAccount viewer of namespace c1-ada",
    )


def test_a_binding_without_subjects_and_the_first_binding_by_name():
    objects = [binding("z-viewer", "Role", "viewer"), binding("m-viewer", "Role", "viewer", account("ops"))]
    result = rbac.role_binding(from_api(*objects), BINDING)
    assert result.message == (
        "rolebinding m-viewer binds role viewer to ServiceAccount ops of namespace c1-ada, "
        "not to ServiceAccount viewer of namespace c1-ada"
    )
    alone = rbac.role_binding(from_api(binding("viewer", "Role", "viewer")), BINDING)
    assert alone.message.startswith("rolebinding viewer binds role viewer to no subject, ")


@pytest.mark.parametrize(
    "other",
    [
        binding("viewer", "ClusterRole", "viewer", account("viewer")),
        binding("viewer", "Role", "view", account("viewer")),
        binding("viewer", "Role", "writer", account("viewer")),
    ],
    ids=["a ClusterRole of the same name", "another Role", "another Role sorting after it"],
)
def test_only_a_binding_of_the_role_itself_counts(other):
    result = rbac.role_binding(from_api(other), BINDING)
    assert (result.status, result.message) == ("failed", "no RoleBinding in namespace c1-ada binds role viewer")
    assert result.hint == (
        "kubectl -n c1-ada create rolebinding viewer --role=viewer --serviceaccount=c1-ada:viewer"
    )


def test_a_cluster_role_binding_is_named_as_cluster_wide_not_a_role_binding():
    objects = [
        cluster_binding("c1-ada-viewer", "view", account("viewer")),
        cluster_binding("b-view", "view", account("viewer")),
    ]
    result = rbac.role_binding(from_api(*objects), BINDING)
    assert result.message == (
        "no RoleBinding in namespace c1-ada binds role viewer "
        "(clusterrolebinding b-view, c1-ada-viewer is cluster-wide, not a RoleBinding)"
    )


def test_the_guard_passes_read_only_roles_and_bindings_to_roles_and_allowed_cluster_roles():
    objects = [
        VIEWER,
        binding("viewer", "Role", "viewer", account("viewer")),
        binding("viewer-view", "ClusterRole", "view", account("viewer")),
    ]
    assert rbac.rbac_read_only(from_api(*objects), GUARD).status == "passed"


def test_the_guard_allows_only_the_view_cluster_role_by_default():
    assert rbac.RbacGuardParams().allowed_cluster_roles == ["view"]
    edit = rbac.rbac_read_only(from_api(binding("viewer-edit", "ClusterRole", "edit")), rbac.RbacGuardParams())
    assert edit.message == "rolebinding viewer-edit grants clusterrole edit"


def test_the_guard_names_every_write_rule_cluster_role_and_cluster_role_binding_in_order():
    objects = [
        role("writer", rule([""], ["pods"], ["get", "patch"]), rule([""], ["configmaps"], READ), rule(["*"], ["pods"], READ)),
        role("all", rule([""], ["*"], READ)),
        binding("to-admin", "ClusterRole", "admin", account("viewer")),
        binding("to-edit", "ClusterRole", "edit", account("viewer")),
        binding("to-admin-role", "Role", "admin", account("viewer")),
        cluster_binding("c1-ada-viewer", "view", account("viewer")),
    ]
    result = rbac.rbac_read_only(from_api(*objects), GUARD)
    assert (result.status, result.message) == (
        "failed",
        "role all rule 1 grants every resource (*); "
        "role writer rule 1 grants verbs patch; role writer rule 3 grants every API group (*); "
        "rolebinding to-admin grants clusterrole admin; rolebinding to-edit grants clusterrole edit; "
        "clusterrolebinding c1-ada-viewer grants clusterrole view to a ServiceAccount of c1-ada in every namespace",
    )
