"""Time `plan_cohort` for N synthetic students of one lab: students, resources, seconds, resources/s.

    .venv/bin/python benchmarks/bench_plan.py --students 200 [--lab s3-static-website] [--workers N]
"""

from __future__ import annotations

import argparse
import time

from labctl.cohorts.cohort import Cohort, Target, synthetic_students
from labctl.labs.catalog import CATALOG_DIR
from labctl.labs.loader import parse_yaml, plain
from labctl.labs.spec import LabSpec
from labctl.stacks.plan import plan_cohort
from labctl.stacks.program import TargetSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--lab", default="s3-static-website")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: CPU count)")
    args = parser.parse_args()

    # The spec model alone: a plan does not need the check registry that full loading validates against.
    lab = LabSpec.model_validate(plain(parse_yaml(CATALOG_DIR / args.lab / "lab.yaml")))
    target = Target("emulator", "http://127.0.0.1:4566", "us-east-1")
    cohort = Cohort("bench", (lab.id,), target, synthetic_students("bench", args.students))
    started = time.perf_counter()
    plan = plan_cohort(cohort, [lab], TargetSettings.from_target(target), workers=args.workers)
    seconds = time.perf_counter() - started
    resources = plan["totals"]["resources"]
    print(f"students={len(plan['students'])} resources={resources} seconds={seconds:.2f} "
          f"resources/s={resources / seconds:.0f}")


if __name__ == "__main__":
    main()
