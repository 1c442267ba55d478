"""The plan: the real program under the SDK's mock runtime, as data; reset between programs; parallel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from labctl.cohorts.cohort import Cohort, Target, synthetic_students
from labctl.labs.loader import parse_yaml, plain
from labctl.labs.spec import LabSpec
from labctl.stacks.plan import plan_cohort, plan_student, wire_value
from labctl.stacks.program import TargetSettings

REPO = Path(__file__).resolve().parents[2]
EMULATOR = Target("emulator", "http://127.0.0.1:4566", "us-east-1")
SETTINGS = TargetSettings.from_target(EMULATOR)


def lab_data() -> dict:
    return plain(parse_yaml(REPO / "labs" / "s3-static-website" / "lab.yaml"))


def s3_lab() -> LabSpec:
    """The catalog's lab validated by the spec model (check names belong to the loader's tests)."""
    return LabSpec.model_validate(lab_data())


def cohort_of(count: int) -> Cohort:
    return Cohort("c1", ("s3-static-website",), EMULATOR, synthetic_students("c1", count))


def test_plan_is_json_data():
    cohort = cohort_of(1)
    plan = plan_student(cohort, cohort.students[0], s3_lab(), SETTINGS)
    assert json.loads(json.dumps(plan)) == plan
    assert set(plan) == {"student", "prefix", "lab", "resources"}
    for resource in plan["resources"]:
        assert {"type", "name", "urn", "parent", "inputs"} <= set(resource)


def test_two_students_in_one_process_get_independent_plans():
    cohort = cohort_of(2)
    first = plan_student(cohort, cohort.students[0], s3_lab(), SETTINGS)
    second = plan_student(cohort, cohort.students[1], s3_lab(), SETTINGS)
    assert len(first["resources"]) == len(second["resources"]) == 9
    assert "s002" not in json.dumps(first)
    assert "s001" not in json.dumps(second)
    assert all(r["urn"].startswith("urn:pulumi:c1.s002::labctl::") for r in second["resources"])
    assert json.loads(json.dumps(first).replace("s001", "s002")) == second


def test_the_runtime_is_reset_after_a_failing_program():
    cohort = cohort_of(2)
    data = lab_data()
    data["environment"] = {"aws": {"services": ["iam"]}}
    with pytest.raises(ValueError, match="never granted"):
        plan_student(cohort, cohort.students[0], LabSpec.model_validate(data), SETTINGS)
    plan = plan_student(cohort, cohort.students[1], s3_lab(), SETTINGS)
    assert len(plan["resources"]) == 9
    assert "s001" not in json.dumps(plan)


def test_cohort_totals_and_progress():
    cohort = cohort_of(3)
    seen: list[int] = []
    plan = plan_cohort(cohort, [s3_lab()], SETTINGS, workers=1, progress=seen.append)
    assert plan["cohort"] == "c1"
    assert [p["student"] for p in plan["students"]] == ["s001", "s002", "s003"]
    assert sum(seen) == 3
    assert plan["totals"] == {
        "resources": 27,
        "by_type": {
            "aws:budgets/budget:Budget": 3,
            "aws:iam/accessKey:AccessKey": 3,
            "aws:iam/policy:Policy": 6,
            "aws:iam/user:User": 3,
            "aws:iam/userPolicyAttachment:UserPolicyAttachment": 3,
            "labctl:aws:AwsSandbox": 3,
            "labctl:lab:StudentLab": 3,
            "pulumi:providers:aws": 3,
        },
    }


def test_parallel_plan_equals_serial_plan():
    cohort = cohort_of(9)
    seen: list[int] = []
    serial = plan_cohort(cohort, [s3_lab()], SETTINGS, workers=1)
    parallel = plan_cohort(cohort, [s3_lab()], SETTINGS, workers=2, progress=seen.append)
    assert parallel == serial
    assert sum(seen) == 9


def test_spawned_workers_give_the_same_plan(monkeypatch: pytest.MonkeyPatch):
    """The default on platforms without fork: workers import everything themselves."""
    import labctl.stacks.plan

    cohort = cohort_of(2)
    serial = plan_cohort(cohort, [s3_lab()], SETTINGS, workers=1)
    monkeypatch.setattr(labctl.stacks.plan, "START_METHOD", "spawn")
    assert plan_cohort(cohort, [s3_lab()], SETTINGS, workers=2) == serial


def test_wire_values_redact_each_secret_leaf_and_mark_unknowns():
    secret = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"}
    struct = struct_pb2.Struct()
    struct.update({"tags": {"a": "1", "b": secret}, "list": ["x", secret], "id": rpc.UNKNOWN, "port": 5432})
    assert wire_value(json_format.MessageToDict(struct)) == {
        "id": "[unknown]",
        "list": ["x", "[secret]"],
        "port": 5432,
        "tags": {"a": "1", "b": "[secret]"},
    }


# --- the cost estimate and its rendering --------------------------------------------------------

from rich.console import Console  # noqa: E402

from labctl.stacks.cost import estimate_cost, load_prices  # noqa: E402
from labctl.stacks.render import plan_renderable  # noqa: E402


def lab_with(environment: dict, lab_id: str = "priced") -> LabSpec:
    data = lab_data()
    data["id"], data["environment"] = lab_id, environment
    return LabSpec.model_validate(data)


def test_plan_cost_totals_are_the_sum_of_the_students():
    cost = plan_cohort(cohort_of(3), [s3_lab()], SETTINGS, workers=1)["cost"]
    assert cost["by_student"] == {"s001": 0.11, "s002": 0.11, "s003": 0.11}
    assert cost["by_type"] == {"usage:s3": 0.33}
    assert cost["monthly_usd"] == pytest.approx(sum(cost["by_student"].values())) == 0.33
    assert any("budgets are caps, not costs" in a for a in cost["assumptions"])


def test_hourly_resources_are_priced_from_their_planned_inputs_and_the_rest_costs_nothing():
    prices = load_prices()
    plans = [
        {"student": "s001", "lab": "db", "resources": [
            {"type": "aws:rds/instance:Instance", "inputs": {"instanceClass": "db.t4g.micro", "allocatedStorage": 20}},
            {"type": "kubernetes:core/v1:Namespace", "inputs": {}},
            {"type": "postgresql:index/database:Database", "inputs": {}},
            {"type": "aws:budgets/budget:Budget", "inputs": {"limitAmount": "5.00"}},
        ]},
        {"student": "s002", "lab": "db", "resources": [{"type": "aws:ec2/natGateway:NatGateway", "inputs": {}}]},
    ]
    cost = estimate_cost(plans, [], prices)
    rds = round(0.016 * 730 + 20 * 0.115, 2)
    assert cost["by_student"] == {"s001": rds, "s002": round(0.045 * 730, 2)}
    assert cost["by_type"] == {"aws:ec2/natGateway:NatGateway": 32.85, "aws:rds/instance:Instance": rds}
    assert cost["monthly_usd"] == pytest.approx(rds + 32.85)


def test_lab_usage_is_priced_per_granted_service_and_ec2_at_the_dearest_allowed_type():
    lab = lab_with({"aws": {"services": ["s3", "dynamodb", "ec2"], "instance_types": ["t3.micro", "t3.small"]}})
    cost = estimate_cost([{"student": "s001", "lab": "priced", "resources": []}], [lab])
    assert cost["by_type"] == {"usage:dynamodb": 1.0, "usage:ec2": round(0.0208 * 730 + 8 * 0.08, 2), "usage:s3": 0.11}
    assert len(cost["assumptions"]) == 5


def test_an_unpriced_instance_class_is_an_error_not_a_free_resource():
    plans = [{"student": "s001", "lab": "x", "resources": [
        {"type": "aws:rds/instance:Instance", "inputs": {"instanceClass": "db.r6g.16xlarge"}}]}]
    with pytest.raises(ValueError, match="db.r6g.16xlarge"):
        estimate_cost(plans, [])


def rendered(result: dict) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(plan_renderable(result))
    return console.export_text()


def test_table_shows_trees_for_small_cohorts_a_summary_for_large_ones_and_always_the_cost():
    small = rendered(plan_cohort(cohort_of(2), [s3_lab()], SETTINGS, workers=1))
    assert "s001 (c1-s001) · s3-static-website · $0.11/month" in small
    assert "c1-s001-aws-boundary" in small and "monthly total" in small and "$0.22" in small
    large = rendered(plan_cohort(cohort_of(11), [s3_lab()], SETTINGS, workers=2))
    assert "c1-s001-aws-boundary" not in large
    assert "aws:iam/policy:Policy" in large and "99" in large and "$1.21" in large
