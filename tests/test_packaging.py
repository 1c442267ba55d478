"""The wheel as users install it: one top-level package, `labctl`, carrying its data (the catalog, the
policy packs, the portal's templates and assets), and working from site-packages alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GENERIC = {"cli", "cli.py", "labs", "stacks", "policies", "validators", "components", "tests", "app", "cohorts"}
NOT_SOURCE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "mutants", "*.egg-info", "__pycache__", ".*cache", ".hypothesis")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from a copy of the tree, so the build leaves nothing in the checkout."""
    source = tmp_path_factory.mktemp("source") / "labctl"
    shutil.copytree(REPO, source, ignore=NOT_SOURCE)
    out = tmp_path_factory.mktemp("wheel")
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(source)],
        capture_output=True, text=True, timeout=600,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    return next(out.glob("labctl-*.whl"))


def test_the_wheel_claims_only_the_labctl_name(wheel: Path):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert top_level == {"labctl", wheel.name.split("-py3")[0] + ".dist-info"}
    assert not top_level & GENERIC


def test_the_wheel_carries_the_catalog_packs_and_portal_assets(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    labs = {name.split("/")[2] for name in names if name.startswith("labctl/labs/") and name.endswith("/lab.yaml")}
    assert labs == {p.parent.name for p in (REPO / "labs").glob("*/lab.yaml")}
    assert {
        "labctl/cli.py",
        "labctl/policies/isolation/PulumiPolicy.yaml",
        "labctl/policies/cost/__main__.py",
        "labctl/app/portal/templates/board.html",
        "labctl/app/portal/static/portal.css",
        "labctl/validators/report/templates/charts.html.j2",
        "labctl/stacks/prices.yaml",
    } <= names
    assert not any("/tests/" in name or name.startswith("labctl/tests") for name in names)


def test_the_installed_wheel_runs_from_site_packages_alone(wheel: Path, tmp_path: Path):
    """Unpacked into a target folder that comes first on sys.path: the catalog and the policy rules
    load from there, not from the checkout (the dependencies come from this environment)."""
    target = tmp_path / "site-packages"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from labctl.labs.catalog import load_catalog; from labctl.policies.rules import ALL_RULES; import labctl.cli;"
        "print(labctl.cli.__file__); print(len(load_catalog())); print(len(ALL_RULES))"
    )
    shown = subprocess.run(
        [sys.executable, "-P", "-c", probe, str(target)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    cli_file, lab_count, rule_count = shown.stdout.split()
    assert Path(cli_file).is_relative_to(target)
    assert int(lab_count) == len(list((REPO / "labs").glob("*/lab.yaml")))
    assert int(rule_count) > 0
