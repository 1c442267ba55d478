"""The Pulumi program entry point for `pulumi up` run by hand in this project (Pulumi.yaml main: stacks/).

labctl itself runs the same program inline through the Automation API (stacks/engine.py); this file
lets an engineer inspect one student's stack with the plain CLI. The stack is named
`<cohort>.<student>`, as labctl names it, and holds the student's current lab (from the registry).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pulumi  # noqa: E402

from cohorts.registry import Registry  # noqa: E402
from stacks.engine import student_program  # noqa: E402

cohort_name, _, student_slug = pulumi.get_stack().partition(".")
with Registry() as registry:
    cohort = registry.cohort(cohort_name)
    lab = registry.current_lab(cohort_name, student_slug)
student_program(cohort, cohort.student(student_slug), lab)()
