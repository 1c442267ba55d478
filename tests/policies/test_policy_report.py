"""Renderers: JSON shape, SARIF 2.1.0 validity, JUnit XML, table rows — all from one PolicyReport.

SARIF is validated against the official OASIS SARIF 2.1.0 schema (errata01), vendored next to this
file as sarif-schema-2.1.0.json; SARIF_SCHEMA_ORIGIN.md says where it came from.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from policy_fixtures import PREFIX, STUDENT, plan, student_resources

from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.policies.model import PolicyReport
from labctl.policies.report import TABLE_COLUMNS, table_rows, to_json, to_junit, to_sarif
from labctl.policies.rules import ALL_RULES

SARIF_SCHEMA = json.loads((Path(__file__).with_name("sarif-schema-2.1.0.json")).read_text(encoding="utf-8"))
SARIF = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def test_the_vendored_schema_is_the_official_sarif_2_1_0_schema():
    jsonschema.Draft4Validator.check_schema(SARIF_SCHEMA)
    assert SARIF_SCHEMA["id"] == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    assert SARIF_SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def planted_report() -> PolicyReport:
    """Two violations: one mandatory (missing tags), one advisory (NAT gateway made advisory)."""
    resources = student_resources()
    resources[6]["inputs"].pop("tags")
    resources.append(
        {"type": "aws:ec2/natGateway:NatGateway", "name": f"{PREFIX}-nat", "urn": f"urn:pulumi:c1.s1::labctl::aws:ec2/natGateway:NatGateway::{PREFIX}-nat", "inputs": {"tags": resources[2]["inputs"]["tags"]}}
    )
    loaded = from_plan(plan((STUDENT, resources)), "plan.json")
    return evaluate(loaded.resources, {"cost-no-nat-gateway": "advisory"})


def test_json_has_violations_and_summary():
    report = planted_report()
    data = to_json(report)
    assert json.loads(json.dumps(data)) == data
    assert data["summary"] == {"mandatory": 1, "advisory": 1, "resources_checked": 10, "policies": len(ALL_RULES)}
    assert [(v["policy"], v["level"], v["student"]) for v in data["violations"]] == [
        ("tags-required", "mandatory", STUDENT),
        ("cost-no-nat-gateway", "advisory", STUDENT),
    ]
    assert set(data["violations"][0]) == {"policy", "pack", "level", "resource_type", "resource_name", "urn", "student", "message"}


def test_sarif_matches_the_2_1_0_structure_with_a_rule_per_policy_and_a_result_per_violation():
    report = planted_report()
    sarif = to_sarif(report, "labs/s3-static-website/lab.yaml")
    SARIF.validate(sarif)
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [p.name for p in report.policies]
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("tags-required", "error"), ("cost-no-nat-gateway", "warning")]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "labs/s3-static-website/lab.yaml"
    assert len({r["partialFingerprints"]["labctlViolation/v1"] for r in results}) == 2


def sarif_in_a_process(hash_seed: str) -> str:
    """The planted report's SARIF as JSON text, rendered by a fresh interpreter with `hash_seed`."""
    code = (
        "import json, sys; sys.path[:0] = sys.argv[1:]; from test_policy_report import planted_report; "
        "from labctl.policies.report import to_sarif; print(json.dumps(to_sarif(planted_report(), 'x')))"
    )
    here = Path(__file__).parent
    done = subprocess.run(
        [sys.executable, "-c", code, str(here), str(here.parents[1])],
        env={**os.environ, "PYTHONHASHSEED": hash_seed}, capture_output=True, text=True, check=True, timeout=120,
    )
    return done.stdout


def test_sarif_is_the_same_between_runs():
    """Code scanning matches alerts across runs by fingerprint: two interpreters with different
    hash seeds must render the same SARIF. Shown failing with fingerprint() built on hash()."""
    first = sarif_in_a_process("1")
    assert first == sarif_in_a_process("2")
    assert json.loads(first) == to_sarif(planted_report(), "x")


def test_the_schema_refuses_what_code_scanning_would():
    sarif = to_sarif(planted_report(), "plan.json")
    for broken in ({"level": "fatal"}, {"message": {}}, {"locations": [{"physicalLocation": {"region": {"startLine": 0}}}]}):
        bad = json.loads(json.dumps(sarif))
        bad["runs"][0]["results"][0].update(broken)
        with pytest.raises(jsonschema.ValidationError):
            SARIF.validate(bad)


def test_sarif_of_a_clean_run_has_rules_and_no_results():
    loaded = from_plan(plan((STUDENT, student_resources())), "plan.json")
    sarif = to_sarif(evaluate(loaded.resources), "plan.json")
    SARIF.validate(sarif)
    assert sarif["runs"][0]["results"] == []
    assert len(sarif["runs"][0]["tool"]["driver"]["rules"]) == len(ALL_RULES)


def test_junit_fails_only_policies_with_mandatory_violations():
    root = ET.fromstring(to_junit(planted_report()).split("?>", 1)[1])
    assert root.tag == "testsuites" and root.get("tests") == str(len(ALL_RULES)) and root.get("failures") == "1"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"isolation", "cost"}
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["tags-required"]
    nat = next(c for c in root.iter("testcase") if c.get("name") == "cost-no-nat-gateway")
    assert "must not exist" in nat.find("system-out").text


def test_table_rows_put_mandatory_first():
    rows = table_rows(planted_report())
    assert TABLE_COLUMNS == ("level", "policy", "student", "resource", "message")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("mandatory", "tags-required", STUDENT, f"{PREFIX}-site"),
        ("advisory", "cost-no-nat-gateway", STUDENT, f"{PREFIX}-nat"),
    ]


@pytest.mark.parametrize("render", [to_json, lambda r: to_sarif(r, "x"), to_junit, table_rows])
def test_renderers_do_not_change_the_report(render):
    report = planted_report()
    before = to_json(report)
    render(report)
    assert to_json(report) == before
