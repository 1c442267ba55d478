"""Grade a synthetic cohort on a moto server started here; print wall time and AWS API calls.

    .venv/bin/python benchmarks/bench_grade.py --students 50 200

Half the students deploy the complete s3-static-website solution (score 100), half a partial one
(bucket, versioning and tags: score 40). Building the states is not timed or counted.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import boto3
import requests
from moto.server import ThreadedMotoServer

from labctl.cohorts.cohort import Cohort, Target, synthetic_students
from labctl.labs.catalog import get_lab
from labctl.validators.runner import grade_cohort

LAB = "s3-static-website"
COHORT = "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")


def deploy(s3, prefix: str, student: str, complete: bool) -> None:
    bucket = f"{prefix}-site"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "lab", "Value": LAB}]})
    if not complete:
        return
    s3.put_bucket_website(
        Bucket=bucket,
        WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "error.html"}},
    )
    s3.put_object(Bucket=bucket, Key="index.html", Body=f"<h1>Hello from {student}</h1>".encode(), ContentType="text/html")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def run(endpoint: str, count: int, concurrency: int) -> dict:
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    students = synthetic_students(COHORT, count)
    s3 = session().client("s3", endpoint_url=endpoint)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda ix: deploy(s3, ix[1].prefix, ix[1].student, ix[0] % 2 == 0), enumerate(students)))

    cohort = Cohort(COHORT, (LAB,), Target("emulator", endpoint, "us-east-1"), students)
    grading = session()
    calls: Counter[str] = Counter()
    grading.events.register("before-call", lambda model, **_: calls.update([model.name]))
    started = time.perf_counter()
    report = grade_cohort(cohort, [get_lab(LAB).spec], grading, endpoint, concurrency=concurrency)
    seconds = time.perf_counter() - started

    scores = Counter(r.score for r in report.results)
    expected = Counter({100: (count + 1) // 2, 40: count // 2})
    if scores != expected:
        raise SystemExit(f"unexpected scores {dict(scores)}, expected {dict(expected)}")
    return {"students": count, "seconds": round(seconds, 2), "api_calls": sum(calls.values()), "by_operation": dict(calls)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[200], help="cohort sizes to grade")
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's server logs every request
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        for count in args.students:
            result = run(f"http://127.0.0.1:{port}", count, args.concurrency)
            print(
                f"students={result['students']:4d}  wall={result['seconds']:6.2f}s  "
                f"api_calls={result['api_calls']:5d}  ({result['api_calls'] / count:.2f}/student)  "
                f"by_operation={json.dumps(result['by_operation'], sort_keys=True)}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
