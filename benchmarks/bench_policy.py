"""Time the policy rules alone over a planned cohort (the plan is made first and not timed).

    .venv/bin/python benchmarks/bench_policy.py --students 200 [--lab s3-static-website] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from labctl.cohorts.cohort import synthetic_cohort
from labctl.labs.catalog import get_lab
from labctl.policies.engine import evaluate
from labctl.policies.loaders import from_plan
from labctl.stacks.plan import plan_cohort
from labctl.stacks.program import TargetSettings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--lab", default="s3-static-website")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    cohort = synthetic_cohort(args.lab, args.students)
    planned = plan_cohort(cohort, [get_lab(args.lab).spec], TargetSettings.from_target(cohort.target))
    source = from_plan(planned, "bench plan")
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = evaluate(source.resources, monthly_usd=source.monthly_usd)
        timings.append(time.perf_counter() - started)
    print(
        f"students={args.students} resources={report.summary.resources_checked} policies={report.summary.policies} "
        f"violations={len(report.violations)} median_seconds={statistics.median(timings):.4f} "
        f"max_seconds={max(timings):.4f}"
    )


if __name__ == "__main__":
    main()
