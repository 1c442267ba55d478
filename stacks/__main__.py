"""The Pulumi program entry point for `pulumi up` run by hand in this project (Pulumi.yaml main: stacks/).

labctl itself runs the same program inline through the Automation API; this file lets an engineer
inspect one student's stack with the plain CLI. The stack is named `<cohort>.<student>`, and config
`labctl:lab` picks the lab when the cohort takes several.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402

from labs.catalog import get_lab  # noqa: E402
from stacks.program import TargetSettings, student_program  # noqa: E402
from stacks.registry import Registry  # noqa: E402

cohort_name, _, student_slug = pulumi.get_stack().partition(".")
with Registry() as registry:
    cohort = registry.cohort(cohort_name)
lab_id = pulumi.Config("labctl").get("lab") or cohort.labs[0]
student_program(cohort, cohort.student(student_slug), get_lab(lab_id).spec, TargetSettings.from_target(cohort.target))()
