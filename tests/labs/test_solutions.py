"""Lab solutions: discovery, solution.yaml errors, and each s3-static-website variant applied to moto.

The bucket state is read back with plain boto3 and judged by the README's acceptance criteria
(`unmet`), independently of the grading engine, then compared with the variant's `fails` list.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from labctl.labs.catalog import CATALOG_DIR
from labctl.labs.errors import InputError
from labctl.labs.solutions import Solution, apply, solutions_for

LAB = CATALOG_DIR / "s3-static-website"
PREFIX = "spring-ada"
STUDENT = "ada"
BUCKET = f"{PREFIX}-site"


def error_code(call, **kwargs) -> str | None:
    try:
        call(**kwargs)
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    return None


def public_statements(s3, bucket: str) -> list[dict]:
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        return []
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    return [
        s
        for s in statements
        if s.get("Effect") == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})
    ]


def as_list(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def unmet(s3, bucket: str, student: str) -> set[str]:
    """Ids of the lab's checks that fail and guards that apply, judged from boto3 reads."""
    if error_code(s3.head_bucket, Bucket=bucket) is not None:
        return {"bucket-exists"}
    failed: set[str] = set()
    try:
        website = s3.get_bucket_website(Bucket=bucket)
        index_doc = website.get("IndexDocument", {}).get("Suffix")
        if (index_doc, website.get("ErrorDocument", {}).get("Key")) != ("index.html", "error.html"):
            failed.add("website-config")
    except ClientError:
        failed.add("website-config")
    try:
        index = s3.get_object(Bucket=bucket, Key="index.html")
        body = index["Body"].read().decode()
        if not index["ContentType"].startswith("text/html") or f"Hello from {student}" not in body:
            failed.add("index-content")
    except ClientError:
        failed.add("index-content")
    public = public_statements(s3, bucket)
    if not any(
        {"s3:GetObject", "s3:*", "*"} & set(as_list(s.get("Action")))
        and f"arn:aws:s3:::{bucket}/*" in as_list(s.get("Resource"))
        for s in public
    ):
        failed.add("public-read")
    if any(set(as_list(s.get("Action"))) - {"s3:GetObject"} for s in public):
        failed.add("no-public-write")
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        failed.add("versioning")
    try:
        tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]}
    except ClientError:
        tags = {}
    if tags.get("lab") != "s3-static-website":
        failed.add("tags")
    return failed


def by_name() -> dict[str, Solution]:
    return {s.name: s for s in solutions_for(LAB)}


def test_the_lab_ships_three_solutions_with_their_promises() -> None:
    solutions = solutions_for(LAB)
    assert [s.name for s in solutions] == ["broken-partial", "broken-public-write", "reference"]
    assert {s.name: s.fails for s in solutions} == {
        "reference": (),
        "broken-partial": ("public-read", "versioning", "tags"),
        "broken-public-write": ("no-public-write",),
    }
    assert all(s.lab == "s3-static-website" and s.folder == LAB / "solutions" / s.name for s in solutions)


@pytest.mark.emulator
@pytest.mark.parametrize("name", ["reference", "broken-partial", "broken-public-write"])
def test_each_solution_leaves_the_state_it_promises(name: str, aws: boto3.Session, moto_endpoint: str) -> None:
    solution = by_name()[name]
    apply(solution, aws, moto_endpoint, PREFIX, STUDENT)
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    assert unmet(s3, BUCKET, STUDENT) == set(solution.fails)


@pytest.mark.emulator
def test_reference_details(aws: boto3.Session, moto_endpoint: str) -> None:
    apply(by_name()["reference"], aws, moto_endpoint, PREFIX, STUDENT)
    s3 = aws.client("s3", endpoint_url=moto_endpoint)
    assert s3.get_object(Bucket=BUCKET, Key="error.html")["ContentType"].startswith("text/html")
    assert public_statements(s3, BUCKET) == [
        {
            "Sid": "PublicReadOfTheSite",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ]
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }


@pytest.mark.emulator
@pytest.mark.parametrize("name", ["reference", "broken-partial"])
def test_a_student_can_run_solve_py_by_hand(name: str, aws: boto3.Session, moto_endpoint: str) -> None:
    """As the docstrings say: `python solve.py` with the student's environment, a variant as well
    as the reference (a variant imports the reference through labs.solutions, from any folder)."""
    env = dict(
        os.environ,
        AWS_ENDPOINT_URL=moto_endpoint,
        AWS_ACCESS_KEY_ID="test",
        AWS_SECRET_ACCESS_KEY="test",
        AWS_DEFAULT_REGION="us-east-1",
        LABCTL_PREFIX=PREFIX,
        LABCTL_STUDENT=STUDENT,
    )
    script = LAB / "solutions" / name / "solve.py"
    run = functools.partial(subprocess.run, [sys.executable, str(script)], cwd=script.parent, capture_output=True, text=True, timeout=60)
    done = run(env=env)
    assert done.returncode == 0, done.stderr
    assert unmet(aws.client("s3", endpoint_url=moto_endpoint), BUCKET, STUDENT) == set(by_name()[name].fails)

    env.pop("LABCTL_STUDENT")
    done = run(env=env)
    assert done.returncode == 1
    assert "set LABCTL_STUDENT first" in done.stderr


NOOP_SOLVE = "def solve(session, endpoint_url, prefix, student):\n    pass\n"


def make_lab(tmp_path: Path, spec: str | None, solve: str = NOOP_SOLVE) -> Path:
    lab = tmp_path / "s3-static-website"
    folder = lab / "solutions" / "variant"
    folder.mkdir(parents=True)
    (lab / "lab.yaml").write_text((LAB / "lab.yaml").read_text())
    (folder / "solve.py").write_text(solve)
    if spec is not None:
        (folder / "solution.yaml").write_text(spec)
    return lab


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (None, r"solution\.yaml: file not found"),
        ("fails: [versioning\n", r"solution\.yaml:\d+:\d+: invalid YAML"),
        ("- versioning\n", r"solution\.yaml:1:1: a solution file must be a YAML mapping"),
        ("summary: x\n", r"solution\.yaml:1:1: fails: field required"),
        ("fails: versioning\n", r"solution\.yaml:1:8: fails: must be a list"),
        ("fails: [versioning, website]\n", r"solution\.yaml:1:21: fails\[1\]: 'website' is not a check or guard"),
        ("fails: [tags, tags]\n", r"solution\.yaml:1:15: fails\[1\]: duplicate id 'tags'"),
        ("fails: []\npoints: 3\n", r"solution\.yaml:2:9: unknown field 'points'"),
    ],
)
def test_a_bad_solution_yaml_is_an_input_error_naming_the_file(tmp_path: Path, spec: str | None, message: str) -> None:
    with pytest.raises(InputError, match=message):
        solutions_for(make_lab(tmp_path, spec))


def test_a_lab_without_solutions_has_none(tmp_path: Path) -> None:
    assert solutions_for(tmp_path) == []


def test_apply_names_a_solve_py_without_solve(tmp_path: Path) -> None:
    lab = make_lab(tmp_path, "fails: []\n", solve="def main():\n    pass\n")
    (solution,) = solutions_for(lab)
    with pytest.raises(InputError, match=r"solve\.py: must define solve\(session, endpoint_url, prefix, student\)"):
        apply(solution, boto3.Session(region_name="us-east-1"), None, PREFIX, STUDENT)


def test_apply_imports_a_fresh_module_each_time(tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    solve = (
        "COUNT = []\n"
        "def solve(session, endpoint_url, prefix, student):\n"
        "    COUNT.append(1)\n"
        f"    open({str(calls)!r}, 'a').write(f'{{prefix}} {{student}} {{len(COUNT)}}\\n')\n"
    )
    (solution,) = solutions_for(make_lab(tmp_path, "fails: []\n", solve=solve))
    for _ in range(2):
        apply(solution, boto3.Session(region_name="us-east-1"), None, PREFIX, STUDENT)
    assert calls.read_text() == f"{PREFIX} {STUDENT} 1\n{PREFIX} {STUDENT} 1\n"
