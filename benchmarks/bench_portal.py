"""The portal under a class: every student of a synthetic s3-static-website cohort calls
`POST /api/v1/check` once, through concurrent clients, against a moto server started here.

    .venv/bin/python benchmarks/bench_portal.py --students 200 --clients 20

The portal runs as `labctl serve` in its own process (its RSS is read from /proc); half the
students deployed the complete solution (100), half a partial one (40). Building their buckets is
not timed. Prints p50/p95/max latency, failures (any answer but 200, or a wrong score) and RSS.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from moto.server import ThreadedMotoServer

from bench_grade import LAB, deploy, free_port, session
from labctl.app.portal.tokens import issue_student_tokens
from labctl.cohorts.cohort import build_cohort, make_target
from labctl.cohorts.registry import Registry

COHORT = "bench"


def rss_kib(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0])
    return fields


def start_portal(port: int) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "labctl.cli", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return server
        except requests.ConnectionError:
            if server.poll() is not None:
                raise SystemExit("labctl serve exited")
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--clients", type=int, default=20)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ["LABCTL_HOME"] = tempfile.mkdtemp(prefix="labctl-bench-portal-")
    moto_port, portal_port = free_port(), free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{moto_port}"
    roster = Path(os.environ["LABCTL_HOME"]) / "roster.csv"
    roster.write_text("id\n" + "".join(f"s{i:04d}\n" for i in range(args.students)))
    cohort = build_cohort(COHORT, (LAB,), roster, make_target("localstack", endpoint, "us-east-1", None))
    with Registry() as registry:
        registry.create_cohort(cohort)
        issued = issue_student_tokens(registry, cohort, None, f"http://127.0.0.1:{portal_port}")
    s3 = session().client("s3", endpoint_url=endpoint)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda ix: deploy(s3, ix[1].prefix, ix[1].student, ix[0] % 2 == 0), enumerate(cohort.students)))
    expected = {s.student: 100 if i % 2 == 0 else 40 for i, s in enumerate(cohort.students)}

    portal = start_portal(portal_port)
    idle = rss_kib(portal.pid)

    def check(entry: dict) -> tuple[float, bool]:
        started = time.perf_counter()
        response = requests.post(f"http://127.0.0.1:{portal_port}/api/v1/check",
                                 headers={"Authorization": f"Bearer {entry['token']}"}, timeout=600)
        ok = response.status_code == 200 and response.json()["score"] == expected[entry["student"]]
        return time.perf_counter() - started, ok

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.clients) as pool:
            results = list(pool.map(check, issued))
        wall = time.perf_counter() - started
        after = rss_kib(portal.pid)
    finally:
        portal.terminate()
        portal.wait()
        moto.stop()
    latencies = sorted(seconds for seconds, _ in results)
    failures = sum(not ok for _, ok in results)
    p95 = latencies[min(len(latencies) - 1, round(0.95 * len(latencies)) - 1)]
    print(f"students={args.students} clients={args.clients} wall={wall:.1f}s "
          f"p50={statistics.median(latencies):.2f}s p95={p95:.2f}s max={latencies[-1]:.2f}s failures={failures} "
          f"rss_idle={idle['VmRSS'] / 1024:.0f}MiB rss_after={after['VmRSS'] / 1024:.0f}MiB peak={after['VmHWM'] / 1024:.0f}MiB")


if __name__ == "__main__":
    main()
