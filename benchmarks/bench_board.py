"""The instructor's board of a big cohort: its first view plans every student's stack (policy status
and cost columns), later views reuse that plan.

    .venv/bin/python benchmarks/bench_board.py --students 200 --views 5

A synthetic s3-static-website cohort on LocalStack's default endpoint (the board reads the registry
and plans under the mock runtime; nothing is called over the network). Prints the first view's time
and the median of the later ones, through the portal's HTTP layer (in-process ASGI client).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from labctl.app.portal.service import Portal
from labctl.app.portal.web import create_app
from labctl.cohorts.cohort import build_cohort, make_target
from labctl.cohorts.registry import Registry

COHORT = "bench"
LAB = "s3-static-website"
TOKEN = "bench-instructor-token-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--views", type=int, default=5)
    args = parser.parse_args()
    os.environ["LABCTL_HOME"] = tempfile.mkdtemp(prefix="labctl-bench-board-")
    roster = Path(os.environ["LABCTL_HOME"]) / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{i:04d}\n" for i in range(args.students)))
    with Registry() as registry:
        registry.create_cohort(build_cohort(COHORT, (LAB,), roster, make_target("localstack", None, "us-east-1", None)))
    portal = Portal(TOKEN)
    client = TestClient(create_app(portal))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    times = []
    try:
        for _ in range(1 + args.views):
            started = time.perf_counter()
            response = client.get(f"/cohorts/{COHORT}", headers=headers)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200 and response.text.count("✓ clean") == args.students
    finally:
        portal.close()
    print(f"students={args.students} first_view={times[0]:.2f}s later_views_median={statistics.median(times[1:]) * 1000:.0f}ms")


if __name__ == "__main__":
    main()
