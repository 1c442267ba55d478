"""Fuzzed input through the real CLI: flag values of `cohort create`, roster CSV, lab YAML, policy
config, preview JSON, plan and stack export. Whatever arrives: no traceback, a bad input is exit 2
with one `Error:` line naming what and where, and nothing is written to the registry or the home.

FUZZ_EXAMPLES per property (override with LABCTL_FUZZ_EXAMPLES); `pytest --hypothesis-show-statistics`
prints the examples run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from labctl.cli import cli
from labctl.cohorts.registry import Registry

FUZZ_EXAMPLES = int(os.environ.get("LABCTL_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True,
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REPO = Path(__file__).resolve().parents[2]
VALID_LAB = (REPO / "labs/s3-static-website/lab.yaml").read_text(encoding="utf-8")

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=80)
nasty = st.sampled_from(["", " ", "-", "--", "../../etc/passwd", "a" * 300, "\x00", "é", "\u202e", "$(id)", "`id`",
                         "'; DROP TABLE cohorts;--", "%s%n", "{prefix}", "{{7*7}}", "\n", "1e309", "nan", "-1",
                         "http://169.254.169.254/", "postgresql://u:p@h/db", "*", "?"])
value = st.one_of(nasty, text)
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)


def snapshot(home: Path) -> tuple:
    """The home's files with their sizes, and the registry's rows."""
    files = tuple(sorted((str(p.relative_to(home)), p.stat().st_size) for p in home.rglob("*")
                         if p.is_file() and not p.name.endswith(("-wal", "-shm"))))
    with Registry() as reg:
        rows = tuple(tuple(r) for table in ("cohorts", "students", "grades", "stack_status")
                     for r in reg.db.execute(f"SELECT * FROM {table}"))
    return files, rows


@pytest.fixture
def home(labctl_home: Path) -> Path:
    Registry().db.close()  # the registry exists before the first example, as on a used machine
    return labctl_home


def run_and_check(home: Path, args: list[str], where: tuple[str, ...], ok_codes: tuple[int, ...] = (0,)):
    before = snapshot(home)
    result = CliRunner().invoke(cli, args, catch_exceptions=True)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception} for {args!r}")
    assert "Traceback" not in result.output
    assert result.exit_code in (2, *ok_codes), (result.exit_code, result.output)
    if result.exit_code == 2:
        # One line as a terminal shows it: Unicode separators (U+0085, U+2028) echoed from the input are
        # not line breaks there, so only \n and \r count.
        lines = result.stderr.rstrip("\n").split("\n")
        assert len(lines) == 1 and "\r" not in lines[0] and lines[0].startswith("Error: "), result.stderr
        assert any(w in lines[0] for w in where), (where, lines[0])
        assert snapshot(home) == before, f"bad input wrote to the home: {args!r}"
    return result


def roster_file(tmp: Path, content: str = "id,name,email\nada,Ada,ada@example.com\nbob,Bob,bob@example.com\n") -> Path:
    path = tmp / "roster.csv"
    path.write_text(content, encoding="utf-8")
    return path


FLAGS = {
    "NAME": lambda v: [v],
    "--region": lambda v: ["fz", "--region", v],
    "--endpoint": lambda v: ["fz", "--endpoint", v],
    "--target": lambda v: ["fz", "--target", v],
    "--budget-usd": lambda v: ["fz", "--budget-usd", v],
    "--instructor-email": lambda v: ["fz", "--instructor-email", v],
    "--postgres-dsn": lambda v: ["fz", "--postgres-dsn", v],
    "--lab": lambda v: ["fz"],
}


@FUZZ
@given(flag=st.sampled_from(sorted(FLAGS)), raw=value)
def test_fuzz_cohort_create_flags(home, tmp_path, flag, raw):
    roster = roster_file(tmp_path)
    args = ["cohort", "create", *FLAGS[flag](raw), "--lab", raw if flag == "--lab" else "s3-static-website",
            "--roster", str(roster)]
    result = run_and_check(home, args, where=(flag, "NAME", "--lab", "--roster", "--help", "--endpoint"))
    if result.exit_code == 0:
        with Registry() as reg:  # a valid value was recorded; drop it so the next example starts clean
            reg.db.execute("DELETE FROM cohorts")


@FUZZ
@given(content=st.one_of(text, st.lists(st.lists(value, max_size=4).map(",".join), max_size=6).map("\n".join)))
def test_fuzz_roster_csv(home, tmp_path, content):
    roster = roster_file(tmp_path, content)
    result = run_and_check(home, ["cohort", "create", "fz", "--lab", "s3-static-website", "--roster", str(roster)],
                           where=(str(roster), roster.name, "--roster"))
    if result.exit_code == 0:
        with Registry() as reg:
            reg.db.execute("DELETE FROM cohorts")


def mutated_lab(data: st.DataObject) -> str:
    spec = yaml.safe_load(VALID_LAB)
    key = data.draw(st.sampled_from(sorted(spec)))
    choice = data.draw(st.integers(0, 2))
    if choice == 0:
        spec[key] = data.draw(json_value)
    elif choice == 1:
        del spec[key]
    else:
        spec[data.draw(text)] = data.draw(json_value)
    return yaml.safe_dump(spec, allow_unicode=True)


@FUZZ
@given(data=st.data())
def test_fuzz_lab_yaml(home, tmp_path, data):
    folder = tmp_path / "lab"
    folder.mkdir(exist_ok=True)
    (folder / "README.md").write_text("# A lab\n", encoding="utf-8")
    content = data.draw(st.one_of(text, st.builds(mutated_lab, st.just(data))))
    (folder / "lab.yaml").write_text(content, encoding="utf-8")
    run_and_check(home, ["labs", "validate", str(folder)], where=(str(folder),))


POLICY_FILES = {"--config": "--stack-export", "--preview-json": None, "--stack-export": None, "--plan": None}


@FUZZ
@given(flag=st.sampled_from(sorted(POLICY_FILES)), content=st.one_of(text, json_value.map(json.dumps)))
def test_fuzz_policy_check_inputs(home, tmp_path, flag, content):
    path = tmp_path / "input.json"
    path.write_text(content, encoding="utf-8")
    args = ["policy", "check", flag, str(path)]
    if flag == "--config":
        export = tmp_path / "export.json"
        bucket = {"urn": "urn:pulumi:s::p::aws:s3/bucketV2:BucketV2::b", "type": "aws:s3/bucketV2:BucketV2"}
        export.write_text(json.dumps({"version": 3, "deployment": {"resources": [bucket]}}), encoding="utf-8")
        args += ["--stack-export", str(export)]
    # A well-formed input may carry mandatory violations (exit 1); that is a verdict, not a crash.
    run_and_check(home, [*args, "--format", "json"], where=(str(path), flag), ok_codes=(0, 1))
