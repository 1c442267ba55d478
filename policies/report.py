"""Renderers of a PolicyReport: JSON, SARIF 2.1.0, JUnit XML and table rows. None re-computes anything."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from typing import Any

from labctl.policies.model import PolicyReport, Violation

TOOL_NAME = "labctl"
TOOL_URI = "https://github.com/labctl/labctl"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"mandatory": "error", "advisory": "warning"}
TABLE_COLUMNS = ("level", "policy", "student", "resource", "message")


def to_json(report: PolicyReport) -> dict[str, Any]:
    """`{"violations": [...], "summary": {mandatory, advisory, resources_checked, policies}}`."""
    s = report.summary
    return {
        "violations": [v.as_dict() for v in report.violations],
        "summary": {
            "mandatory": s.mandatory,
            "advisory": s.advisory,
            "resources_checked": s.resources_checked,
            "policies": s.policies,
        },
    }


def fingerprint(v: Violation) -> str:
    """Stable across runs for the same finding, so code scanning tracks it instead of re-opening it."""
    return hashlib.sha256(f"{v.policy}\0{v.urn}\0{v.message}".encode()).hexdigest()


def to_sarif(report: PolicyReport, location_uri: str, tool_version: str = "0.1.0") -> dict[str, Any]:
    """SARIF 2.1.0 for GitHub code scanning: a rule per policy that ran, a result per violation.

    `location_uri` is the file the findings belong to (the lab.yaml, Pulumi.yaml or input file),
    relative to the repository root so code scanning can show it.
    """
    index = {p.name: i for i, p in enumerate(report.policies)}
    rules = [
        {
            "id": p.name,
            "name": p.name,
            "shortDescription": {"text": p.description},
            "fullDescription": {"text": p.description},
            "defaultConfiguration": {"level": SARIF_LEVELS.get(p.level, "note")},
            "properties": {"pack": p.pack, "tags": [p.pack, "labctl-policy"]},
        }
        for p in report.policies
    ]
    results = []
    for v in report.violations:
        result: dict[str, Any] = {
            "ruleId": v.policy,
            "level": SARIF_LEVELS.get(v.level, "note"),
            "message": {"text": v.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": location_uri},
                        "region": {"startLine": 1},
                    },
                    "logicalLocations": [
                        {
                            "name": v.resource_name or "stack",
                            "fullyQualifiedName": v.urn or v.resource_type,
                            "kind": "resource",
                        }
                    ],
                }
            ],
            "partialFingerprints": {"labctlViolation/v1": fingerprint(v)},
            "properties": {
                "pack": v.pack,
                "resourceType": v.resource_type,
                "student": v.student,
            },
        }
        if v.policy in index:
            result["ruleIndex"] = index[v.policy]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "informationUri": TOOL_URI,
                        "version": tool_version,
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }


def violation_line(v: Violation) -> str:
    owner = f" [{v.student}]" if v.student else ""
    return f"{v.level}{owner} {v.urn or v.resource_type}: {v.message}"


def to_junit(report: PolicyReport) -> str:
    """JUnit XML: a suite per pack, a test case per policy; mandatory violations fail the case,
    advisory ones are listed in its system-out."""
    root = ET.Element("testsuites", name="labctl policy check")
    total_tests = total_failures = 0
    for pack in sorted({p.pack for p in report.policies}):
        policies = [p for p in report.policies if p.pack == pack]
        suite = ET.SubElement(root, "testsuite", name=pack)
        failures = 0
        for policy in policies:
            case = ET.SubElement(suite, "testcase", classname=f"labctl.policies.{pack}", name=policy.name)
            found = [v for v in report.violations if v.policy == policy.name]
            blocking = [v for v in found if v.level == "mandatory"]
            other = [v for v in found if v.level != "mandatory"]
            if blocking:
                failures += 1
                failure = ET.SubElement(
                    case, "failure", message=f"{len(blocking)} mandatory violation(s)", type="mandatory"
                )
                failure.text = "\n".join(violation_line(v) for v in blocking)
            if other:
                ET.SubElement(case, "system-out").text = "\n".join(violation_line(v) for v in other)
        suite.set("tests", str(len(policies)))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        total_tests += len(policies)
        total_failures += failures
    root.set("tests", str(total_tests))
    root.set("failures", str(total_failures))
    root.set("errors", "0")
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def table_rows(report: PolicyReport) -> list[tuple[str, str, str, str, str]]:
    """Rows under TABLE_COLUMNS, mandatory first; the CLI renders them with rich."""
    ordered = sorted(report.violations, key=lambda v: v.level != "mandatory")
    return [
        (v.level, v.policy, v.student or "-", v.resource_name or v.resource_type, v.message) for v in ordered
    ]
