"""Broken variants are the reference plus one mistake: no variant copies its reference, a change to a
reference reaches its variants, and an override that does not fit is one line naming file:line.

The catalog's grading of every variant (each fails exactly its `fails:`) is in test_catalog_solutions.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from labctl.labs.catalog import CATALOG_DIR
from labctl.labs.errors import InputError
from labctl.labs.solutions import SOLVE_FILE, SPEC_FILE, apply, kubernetes_objects, solutions_for
from labctl.labs.variants import edited_script, patched_objects

VARIANTS = sorted(CATALOG_DIR.glob("*/solutions/broken-*"))
# Lines every Python module or solve.py has, whoever wrote it.
BOILERPLATE = ("import ", "from ", '"""', "if __name__", "def solve(", "run_by_hand", ")", "]", "}")


def code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if len(line.strip()) > 3 and not line.strip().startswith(BOILERPLATE)]


def copied_share(reference: str, variant: str) -> float:
    """The share of the reference's code lines that appear verbatim in the variant."""
    ours, theirs = code_lines(reference), set(code_lines(variant))
    return sum(line in theirs for line in ours) / len(ours)


@pytest.mark.parametrize("folder", VARIANTS, ids=lambda f: f"{f.parent.parent.name}/{f.name}")
def test_a_variant_holds_no_copy_of_its_reference(folder: Path) -> None:
    """sql and kubernetes variants hold only their solution.yaml; an aws variant's solve.py starts from
    `reference(__file__, ...)` and repeats under 30 % of the reference's lines (the near-copies this
    replaced repeated 42-95 %, and none started from the reference)."""
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert files in ([SPEC_FILE], [SPEC_FILE, SOLVE_FILE]), files
    if SOLVE_FILE in files:
        variant = (folder / SOLVE_FILE).read_text()
        assert "reference(__file__" in variant
        assert copied_share((folder.parent / "reference" / SOLVE_FILE).read_text(), variant) < 0.3


def test_copied_share_measures_a_near_copy() -> None:
    reference = (CATALOG_DIR / "s3-static-website/solutions/reference/solve.py").read_text()
    assert copied_share(reference, reference) == 1.0
    assert copied_share(reference, reference.replace('"s3:GetObject"', '"s3:*"')) > 0.9
    assert copied_share(reference, "from labctl.labs.solutions import reference\nsolve = reference(__file__).solve\n") == 0.0


def copy_lab(tmp_path: Path, lab: str) -> Path:
    return Path(shutil.copytree(CATALOG_DIR / lab, tmp_path / lab))


def by_name(lab: Path) -> dict:
    return {s.name: s for s in solutions_for(lab)}


def edit_file(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


@pytest.mark.emulator
def test_a_change_to_a_reference_step_reaches_an_aws_variant(tmp_path: Path, aws: boto3.Session, moto_endpoint: str) -> None:
    """broken-public-write overrides only the bucket policy: the tags it leaves are the reference's,
    before and after the reference's tagging step changes."""
    lab = copy_lab(tmp_path, "s3-static-website")
    s3 = aws.client("s3", endpoint_url=moto_endpoint)

    def tags_after_variant(prefix: str) -> list[dict]:
        apply(by_name(lab)["broken-public-write"], aws, moto_endpoint, prefix, "ada")
        return s3.get_bucket_tagging(Bucket=f"{prefix}-site")["TagSet"]

    assert tags_after_variant("c1-ada") == [{"Key": "lab", "Value": "s3-static-website"}]
    edit_file(lab / "solutions/reference/solve.py", '{"Key": "lab", "Value": "s3-static-website"}', '{"Key": "lab", "Value": "fixed"}')
    assert tags_after_variant("c2-ada") == [{"Key": "lab", "Value": "fixed"}]


def test_a_change_to_a_reference_script_reaches_a_sql_variant(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path, "sql-aggregation")
    before = by_name(lab)["broken-count-without-distinct"].script
    assert "COUNT(c.id)" in before and "ROUND(AVG(o.amount), 2)" in before
    edit_file(lab / "solutions/reference/solution.sql", "ROUND(AVG(o.amount), 2)", "ROUND(AVG(o.amount), 1)")
    after = by_name(lab)["broken-count-without-distinct"].script
    assert after == before.replace("ROUND(AVG(o.amount), 2)", "ROUND(AVG(o.amount), 1)")


def test_a_reference_change_under_a_variants_edit_is_loud(tmp_path: Path) -> None:
    """broken-no-having deletes the reference's HAVING clause: a reference without it leaves the
    variant nothing to break, which is an error naming the edit, not a variant that silently passes."""
    lab = copy_lab(tmp_path, "sql-aggregation")
    edit_file(lab / "solutions/reference/solution.sql", "HAVING COUNT(*) >= 2", "HAVING COUNT(*) > 1")
    with pytest.raises(InputError, match=r"broken-no-having/solution\.yaml:5:14: override\[0\]\.replace: occurs 0 times"):
        solutions_for(lab)


def test_a_change_to_reference_objects_reaches_a_kubernetes_variant(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path, "k8s-hpa")

    def hpa(solution: str) -> dict:
        objects = kubernetes_objects(by_name(lab)[solution], "c1-ada")
        return next(o for o in objects if o["kind"] == "HorizontalPodAutoscaler")

    assert hpa("broken-wrong-target")["spec"]["maxReplicas"] == hpa("reference")["spec"]["maxReplicas"] == 6
    edit_file(lab / "solutions/reference/objects.yaml", "maxReplicas: 6", "maxReplicas: 5")
    assert hpa("broken-wrong-target")["spec"]["maxReplicas"] == 5
    assert hpa("broken-wrong-target")["spec"]["scaleTargetRef"]["name"] == "api-server"


def write_variant(lab: Path, spec: str, solve: str | None = None) -> Path:
    folder = lab / "solutions" / "broken-x"
    folder.mkdir()
    (folder / SPEC_FILE).write_text(spec)
    if solve is not None:
        (folder / SOLVE_FILE).write_text(solve)
    return folder


SQL_FAILS = "fails: [sales-rows]\n"


K8S_FAILS = "fails: [hpa-target]\n"
SQL = ("sql-aggregation", SQL_FAILS)
K8S = ("k8s-hpa", K8S_FAILS)


@pytest.mark.parametrize(
    ("lab", "override", "message"),
    [
        (SQL, "override: {replace: a, with: b}\n", r"solution\.yaml:2:11: override: must be a list of edits"),
        (SQL, "override: []\n", r"solution\.yaml:2:11: override: must be a list of edits"),
        (SQL, "override:\n  - replace: COUNT(DISTINCT x)\n    with: y\n", r"solution\.yaml:3:14: override\[0\]\.replace: occurs 0 times"),
        (SQL, "override:\n  - replace: COUNT\n    with: y\n", r"solution\.yaml:3:14: override\[0\]\.replace: occurs 3 times"),
        (SQL, "override:\n  - replace: ''\n    with: y\n", r"solution\.yaml:3:14: override\[0\]\.replace: occurs 0 times"),
        (SQL, "override:\n  - replace: COUNT(*) >= 2\n", r"solution\.yaml:3:5: override\[0\]: an edit is"),
        (SQL, "override:\n  - drop: x\n", r"solution\.yaml:3:5: override\[0\]: an edit is"),
        (SQL, "override:\n  - append: [x]\n", r"solution\.yaml:3:13: override\[0\]\.append: must be a string"),
        (SQL, "override:\n  - x\n", r"solution\.yaml:3:5: override\[0\]: an edit is"),
        (K8S, "override: [x]\n", r"solution\.yaml:2:11: override: must map <kind>/<name>"),
        (K8S, "override:\n  Deployment: null\n", r"solution\.yaml:3:15: override: 'Deployment' must be <kind>/<name>"),
        (K8S, "override:\n  Deployment/web: null\n", r"solution\.yaml:3:19: override\.Deployment/web: the reference has no such object \(it has: Deployment/api, HorizontalPodAutoscaler/api\)"),
        (K8S, "override:\n  Deployment/api: 3\n", r"solution\.yaml:3:19: override\.Deployment/api: must be a JSON Patch"),
        (K8S, "override:\n  Deployment/api: [{op: replace, path: /spec/nope/x, value: 1}]\n", r"solution\.yaml:3:19: override\.Deployment/api: JSON Patch does not apply"),
        (K8S, "override:\n  Deployment/api: [{op: frobnicate, path: /spec}]\n", r"solution\.yaml:3:19: override\.Deployment/api: JSON Patch does not apply"),
        (K8S, "override:\n  Deployment/api: [{op: test, path: /spec/replicas, value: 99}]\n", r"solution\.yaml:3:19: override\.Deployment/api: JSON Patch does not apply"),
        (K8S, "override:\n  Deployment/api: [x]\n", r"solution\.yaml:3:19: override\.Deployment/api: JSON Patch does not apply"),
        (K8S, "override:\n  Deployment/api: {apiVersion: v1, kind: Deployment, metadata: {name: api}}\n", r"solution\.yaml:3:19: override\.Deployment/api: the reference has this object"),
        (K8S, "override:\n  Service/api: {apiVersion: v1, kind: Service, metadata: {name: web}}\n", r"solution\.yaml:3:16: override\.Service/api: a new object needs apiVersion, kind and metadata\.name matching"),
        (K8S, "override:\n  Service/api: {kind: Service, metadata: {name: api}}\n", r"solution\.yaml:3:16: override\.Service/api: a new object needs"),
    ],
)
def test_a_bad_override_names_its_line(tmp_path: Path, lab: tuple[str, str], override: str, message: str) -> None:
    folder = copy_lab(tmp_path, lab[0])
    write_variant(folder, lab[1] + override)
    with pytest.raises(InputError, match=message):
        solutions_for(folder)


def test_a_kubernetes_override_removes_patches_and_adds(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path, "k8s-hpa")
    write_variant(
        lab,
        K8S_FAILS
        + "override:\n"
        + "  HorizontalPodAutoscaler/api: null\n"
        + "  Deployment/api: [{op: replace, path: /spec/replicas, value: 7}]\n"
        + "  Service/api: {apiVersion: v1, kind: Service, metadata: {name: api}, spec: {type: ClusterIP}}\n",
    )
    objects = kubernetes_objects(by_name(lab)["broken-x"], "c1-ada")
    assert [(o["kind"], o["metadata"]["namespace"]) for o in objects] == [("Deployment", "c1-ada"), ("Service", "c1-ada")]
    assert objects[0]["spec"]["replicas"] == 7
    assert kubernetes_objects(by_name(lab)["reference"], "c1-ada")[0]["spec"]["replicas"] != 7


@pytest.mark.parametrize(
    ("lab", "spec", "solve", "message"),
    [
        ("sql-aggregation", SQL_FAILS, None, r"broken-x: a solution has solve\.py, or an `override:` of the reference"),
        ("sql-aggregation", "fails: []\noverride: [{append: x}]\n", "", r"solution\.yaml:2:11: override: an aws variant overrides the reference in its solve\.py"),
        ("s3-static-website", "fails: [tags]\noverride: [{append: x}]\n", None, r"solution\.yaml:2:11: override: needs a solutions/reference with solution\.sql or objects\.yaml"),
    ],
)
def test_a_variant_is_an_override_of_the_right_kind(tmp_path: Path, lab: str, spec: str, solve: str | None, message: str) -> None:
    folder = copy_lab(tmp_path, lab)
    write_variant(folder, spec, solve)
    with pytest.raises(InputError, match=message):
        solutions_for(folder)


def test_a_variant_with_a_script_of_its_own_is_refused(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path, "sql-aggregation")
    folder = write_variant(lab, SQL_FAILS)
    shutil.copy(lab / "solutions/reference/solution.sql", folder)
    with pytest.raises(InputError, match=r"broken-x: a variant holds no solution\.sql: it is the reference plus an `override:`"):
        solutions_for(lab)


def test_the_reference_overrides_nothing(tmp_path: Path) -> None:
    lab = copy_lab(tmp_path, "sql-aggregation")
    spec = lab / "solutions/reference/solution.yaml"
    spec.write_text(spec.read_text() + "override: [{append: x}]\n")
    with pytest.raises(InputError, match=r"reference/solution\.yaml:\d+:11: override: only a variant overrides the reference"):
        solutions_for(lab)


@pytest.mark.parametrize(
    ("solve", "message"),
    [
        ("from labctl.labs.solutions import reference\n\nsolve = reference(__file__, no_such_step=None).solve\n",
         r"broken-x/solve\.py:3: the reference's solve\.py has no step or constant 'no_such_step'"),
        ("from labctl.labs.solutions import edit, reference\n\nT = edit(reference(__file__).INDEX_HTML, '<blink>', '')\n",
         r"broken-x/solve\.py:3: '<blink>' occurs 0 times in the reference"),
    ],
)
def test_an_aws_override_that_does_not_fit_names_its_line(tmp_path: Path, solve: str, message: str) -> None:
    lab = copy_lab(tmp_path, "s3-static-website")
    write_variant(lab, "fails: [tags]\n", solve)
    with pytest.raises(InputError, match=message):
        apply(by_name(lab)["broken-x"], boto3.Session(region_name="us-east-1"), None, "c1-ada", "ada")


def yaml_like(leaves: st.SearchStrategy) -> st.SearchStrategy:
    """Values as ruamel's round-trip loader returns them (CommentedMap / CommentedSeq)."""
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4).map(CommentedSeq)
        | st.dictionaries(st.text(max_size=12) | st.sampled_from(["replace", "with", "append", "op", "path", "value"]), inner, max_size=4).map(CommentedMap),
        max_leaves=12,
    )


LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(["replace", "/spec/replicas", "add", "remove", "Deployment/api", "api"])


def raise_input_error(loc: tuple, message: str) -> InputError:
    return InputError(message, "solution.yaml")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_like(LEAVES))
def test_any_sql_override_is_a_script_or_an_input_error(override) -> None:
    try:
        script = edited_script("SELECT 1;\nSELECT 2;\n", override, raise_input_error)
    except InputError:
        return
    assert isinstance(script, str)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_like(LEAVES))
def test_any_kubernetes_override_is_objects_or_an_input_error(override) -> None:
    reference = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"}, "spec": {"replicas": 2}}]
    try:
        objects = patched_objects(reference, override, raise_input_error)
    except InputError:
        return
    assert all({"apiVersion", "kind", "metadata"} <= o.keys() for o in objects)
    assert reference[0]["spec"] == {"replicas": 2}, "the reference's objects are never changed in place"


@given(st.text(max_size=30), st.text(min_size=1, max_size=8), st.text(max_size=8))
def test_a_replace_edit_splices_exactly_where_the_text_occurs_once(script: str, old: str, new: str) -> None:
    override = CommentedSeq([CommentedMap([("replace", old), ("with", new)])])
    if script.count(old) != 1:
        with pytest.raises(InputError):
            edited_script(script, override, raise_input_error)
        return
    at = script.index(old)
    assert edited_script(script, override, raise_input_error) == script[:at] + new + script[at + len(old) :]

