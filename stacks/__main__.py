"""The Pulumi program entry point for the project at the repository's root (Pulumi.yaml main: stacks/).

labctl itself runs the same program inline through the Automation API (stacks/engine.py). This file
runs it where labctl does not: an engineer's `pulumi up` on one student's stack (named
`<cohort>.<student>`, as labctl names it, holding the student's current lab from the registry), and
the Pulumi Kubernetes Operator's workspace pods, whose stacks carry the cohort in their config
(`labctl:cohort`, `labctl:student`, `labctl:lab`; see stacks/operator.py) and need no registry.
"""

from __future__ import annotations

import pulumi

from labctl.cohorts.registry import Registry
from labctl.stacks.engine import student_program
from labctl.stacks.operator import cohort_from_config

config = pulumi.Config("labctl")
exported = config.get_object("cohort")
if exported:
    cohort = cohort_from_config(exported, config.require_object("student"))
    student_slug, lab = cohort.students[0].student, config.require("lab")
else:
    cohort_name, _, student_slug = pulumi.get_stack().partition(".")
    with Registry() as registry:
        cohort = registry.cohort(cohort_name)
        lab = registry.current_lab(cohort_name, student_slug)
student_program(cohort, cohort.student(student_slug), lab)()
