"""The real components, recorded by the plan's mock runtime, meet the rules that apply to them."""

from __future__ import annotations

from components.k8s_namespace import NamespaceArgs, StudentNamespace
from components.tags import student_tags
from policies.engine import evaluate
from policies.loaders import from_plan
from stacks.plan import run_recorded


def test_student_namespace_has_no_violation():
    def program() -> None:
        StudentNamespace(
            "c1-s1",
            NamespaceArgs(prefix="c1-s1", tags=student_tags("c1", "s1", "k8s-basics"), server="https://k8s:6443", ca_data="eA=="),
        )

    recorded = run_recorded(program, "c1.s1").plan_resources()
    loaded = from_plan({"students": [{"student": "s1", "prefix": "c1-s1", "resources": recorded}]}, "plan")
    report = evaluate(loaded.resources)
    assert {r.type for r in loaded.resources} >= {
        "kubernetes:core/v1:Namespace",
        "kubernetes:core/v1:ResourceQuota",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    }
    assert report.violations == ()
