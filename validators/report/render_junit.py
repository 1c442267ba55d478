"""JUnit XML of a GradeReport, as GitHub Classroom and CI dashboards read it.

A testsuite per student and lab, a testcase per check and per guard. A failed check, or a guard that
applies, is a `<failure>` whose message is the check's message followed by its hint; an error is an
`<error>` (could not evaluate, not a fail); a skipped check is `<skipped>`. A student who could not be
graded at all is a testsuite with one `<error>` testcase carrying the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from labctl.validators.report.model import GradeReport, StudentResult


def failure_message(message: str, hint: str | None) -> str:
    return f"{message} (hint: {hint})" if hint else message


def add_outcome(case: ET.Element, status: str, message: str, hint: str | None) -> None:
    if status == "failed":
        node = ET.SubElement(case, "failure", message=failure_message(message, hint), type="failed")
        node.text = "\n".join(filter(None, (message, f"hint: {hint}" if hint else None)))
    elif status == "error":
        ET.SubElement(case, "error", message=message, type="error").text = message
    elif status == "skipped":
        ET.SubElement(case, "skipped", message=failure_message(message, hint))


def suite_for(parent: ET.Element, cohort: str, graded_at: str, result: StudentResult) -> dict[str, int]:
    suite = ET.SubElement(
        parent, "testsuite", name=f"{result.student} · {result.lab}", timestamp=graded_at,
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("student", result.student),
        ("lab", result.lab),
        ("score", f"{result.score}/{result.max_score}"),
        ("percent", f"{result.percent:.1f}"),
        ("passed", "true" if result.passed else "false"),
    ):
        ET.SubElement(properties, "property", name=name, value=value)
    classname = f"{cohort}.{result.student}.{result.lab}"
    for check in result.checks:
        case = ET.SubElement(suite, "testcase", classname=classname, name=f"{check.id}: {check.title}")
        add_outcome(case, check.status, check.message, check.hint)
    for guard in result.guards:
        case = ET.SubElement(
            suite, "testcase", classname=f"{classname}.guards", name=f"{guard.id} (penalty {guard.penalty})"
        )
        add_outcome(case, guard.status, guard.message, guard.hint)
    statuses = [c.status for c in result.checks] + [g.status for g in result.guards]
    counts = {
        "tests": len(statuses),
        "failures": statuses.count("failed"),
        "errors": statuses.count("error"),
        "skipped": statuses.count("skipped"),
    }
    for key, value in counts.items():
        suite.set(key, str(value))
    return counts


def to_junit(report: GradeReport) -> str:
    root = ET.Element("testsuites", name=f"labctl grade {report.cohort} · {report.lab}")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in report.results:
        for key, value in suite_for(root, report.cohort, report.graded_at, result).items():
            totals[key] += value
    for item in report.ungraded:
        suite = ET.SubElement(root, "testsuite", name=f"{item.student} · {item.lab}", timestamp=report.graded_at,
                              tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname=f"{report.cohort}.{item.student}.{item.lab}",
                             name="could not grade")
        ET.SubElement(case, "error", message=item.reason, type="error").text = item.reason
        totals["tests"] += 1
        totals["errors"] += 1
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
