"""Registry operations on SQLite and on PostgreSQL for one big cohort; then the operator path's wall time
for N stacks, on paper.

    .venv/bin/python benchmarks/bench_registry.py --students 1000
    .venv/bin/python benchmarks/bench_registry.py --students 1000 --postgres postgresql://postgres@127.0.0.1:5432/postgres

Each operation runs as labctl runs it: a grading run records every student in a transaction of its own
(an interrupted run keeps what it graded), `cohort show` reads the cohort and its roster, tokens are
issued in one transaction and each looked up once, accounts are leased while the cohort is created.
PostgreSQL runs in a throwaway database created and dropped here.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from typing import Callable

from labctl.app.portal.tokens import digest, issue_student_tokens
from labctl.cohorts.accounts import PoolEntry, add_accounts
from labctl.cohorts.cohort import Cohort, Target, synthetic_students
from labctl.cohorts.registry import Registry

LAB = "s3-static-website"


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    """The median wall time of `action` over `repeat` runs, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def result(student: str, n: int) -> dict:
    return {"student": student, "lab": LAB, "graded_at": "2026-12-02T10:00:00+00:00", "score": n % 101,
            "max_score": 100, "percent": float(n % 101), "passed": n % 101 >= 70,
            "checks": [{"id": f"check-{i}", "points": 10, "passed": True, "message": "ok"} for i in range(8)]}


def operations(students: int) -> dict[str, float]:
    cohort = Cohort("bench", (LAB,), Target("localstack", "http://127.0.0.1:4566", "us-east-1"),
                    synthetic_students("bench", students))
    pooled = Cohort("pooled", cohort.labs, Target("aws", None, "us-east-1"), synthetic_students("pooled", students))
    accounts = tuple(PoolEntry(f"{100000000000 + i}", f"acct{i}@example.edu", i + 2) for i in range(students))
    figures: dict[str, float] = {}
    with Registry() as reg:
        figures["create the cohort"] = timed(lambda: reg.create_cohort(cohort))
        slugs = [s.student for s in cohort.students]
        figures[f"record a grading run ({students} students)"] = timed(
            lambda: [reg.record_grade("run-1", "bench", result(s, n)) for n, s in enumerate(slugs)])
        figures["cohort show (cohort and roster)"] = timed(lambda: reg.cohort("bench"), repeat=20)
        figures["grades export (the last run)"] = timed(lambda: reg.grade_run("bench"), repeat=5)
        issued: list[dict] = []
        figures[f"issue {students} portal tokens"] = timed(
            lambda: issued.extend(issue_student_tokens(reg, cohort, None, "http://portal.example.edu")))
        figures[f"look up {students} tokens"] = timed(lambda: [reg.portal_student(digest(i["token"])) for i in issued])
        add_accounts(reg, "bench-pool", accounts, "bench")
        figures[f"lease {students} accounts (cohort create --pool)"] = timed(
            lambda: reg.create_cohort(pooled, pool="bench-pool"))
        figures["take and release the grading lock"] = timed(
            lambda: (reg.acquire_grading_lock("bench", "run-2"), reg.release_grading_lock("bench", "run-2")),
            repeat=50)
    return figures


def on_sqlite(students: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as home:
        os.environ["LABCTL_HOME"] = home
        os.environ.pop("LABCTL_DATABASE_URL", None)
        return operations(students)


def on_postgres(students: int, admin: str) -> dict[str, float]:
    import psycopg

    name = f"labctl_bench_{os.getpid()}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with tempfile.TemporaryDirectory() as home:
            os.environ["LABCTL_HOME"] = home
            os.environ["LABCTL_DATABASE_URL"] = admin.rsplit("/", 1)[0] + f"/{name}"
            return operations(students)
    finally:
        os.environ.pop("LABCTL_DATABASE_URL", None)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


def operator_paper(stacks: list[int], stack_s: float, setup_s: float, local: int, clusters: list[tuple[int, int]],
                   per_worker: int) -> list[list[str]]:
    """Wall time of N stacks: this machine runs `local` at a time; a cluster of `workers` nodes with the
    operator's `reconciles` runs min(workers × per_worker, reconciles) at a time, each stack also paying
    its workspace's setup."""
    rows = [["N stacks", f"this machine (--concurrency {local})",
             *[f"operator: {w} workers × {per_worker}, {r} reconciles" for w, r in clusters]]]
    for n in stacks:
        here = math.ceil(n / local) * stack_s
        there = [math.ceil(n / min(w * per_worker, r)) * (stack_s + setup_s) for w, r in clusters]
        rows.append([str(n), minutes(here), *map(minutes, there)])
    return rows


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--postgres", default=os.environ.get("LABCTL_BENCH_POSTGRES",
                                                             "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--stack-seconds", type=float, default=60.0, help="One stack's up (assumed).")
    parser.add_argument("--setup-seconds", type=float, default=90.0,
                        help="A workspace pod's start, clone and `pulumi install` (assumed).")
    parser.add_argument("--per-worker", type=int, default=8, help="Stacks in parallel on one worker node.")
    parser.add_argument("--reconciles", type=int, default=25,
                        help="The operator's MAX_CONCURRENT_RECONCILES (its default: 25).")
    args = parser.parse_args()
    figures = {"sqlite": on_sqlite(args.students), "postgresql": on_postgres(args.students, args.postgres)}
    print(f"| operation | SQLite (s) | PostgreSQL (s) |\n|---|---|---|")
    for operation in figures["sqlite"]:
        print(f"| {operation} | {figures['sqlite'][operation]:.4f} | {figures['postgresql'][operation]:.4f} |")
    print()
    clusters = [(1, args.reconciles), (4, args.reconciles), (16, args.reconciles), (16, 128)]
    rows = operator_paper([100, 1000], args.stack_seconds, args.setup_seconds, 4, clusters, args.per_worker)
    print("| " + " | ".join(rows[0]) + " |\n|" + "---|" * len(rows[0]))
    for row in rows[1:]:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
