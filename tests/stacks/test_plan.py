"""The plan: the real program under the SDK's mock runtime, as data; reset between programs; parallel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc

from labs.loader import parse_yaml, plain
from labs.spec import LabSpec
from stacks.cohort import Cohort, Target, synthetic_students
from stacks.plan import plan_cohort, plan_student, wire_value
from stacks.program import TargetSettings

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
    assert len(first["resources"]) == len(second["resources"]) == 6
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
    assert len(plan["resources"]) == 6
    assert "s001" not in json.dumps(plan)


def test_cohort_totals_and_progress():
    cohort = cohort_of(3)
    seen: list[int] = []
    plan = plan_cohort(cohort, [s3_lab()], SETTINGS, workers=1, progress=seen.append)
    assert plan["cohort"] == "c1"
    assert [p["student"] for p in plan["students"]] == ["s001", "s002", "s003"]
    assert sum(seen) == 3
    assert plan["totals"] == {
        "resources": 18,
        "by_type": {
            "aws:iam/accessKey:AccessKey": 3,
            "aws:iam/user:User": 3,
            "aws:iam/userPolicy:UserPolicy": 3,
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
    import stacks.plan

    cohort = cohort_of(2)
    serial = plan_cohort(cohort, [s3_lab()], SETTINGS, workers=1)
    monkeypatch.setattr(stacks.plan, "START_METHOD", "spawn")
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
