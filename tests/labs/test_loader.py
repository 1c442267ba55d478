"""The lab loader: every error names file:line:col and the field, as one InputError."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labctl.labs.catalog import CATALOG_DIR
from labctl.labs.errors import InputError
from labctl.labs.loader import load_lab, parse_yaml, plain, position
from labctl.validators.checks import params_by_name

GOOD = (CATALOG_DIR / "s3-static-website" / "lab.yaml").read_text()
CHECKS = params_by_name()


def write_lab(tmp_path: Path, text: str, folder: str = "s3-static-website") -> Path:
    path = tmp_path / folder / "lab.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_lab(path, CHECKS)
    return str(caught.value)


def assert_one_line_naming(exc: InputError, path: Path) -> None:
    """`<path>[:line:col]: <what>` on one line, the shape every loader error promises."""
    message = str(exc)
    assert "\n" not in message
    assert re.match(re.escape(str(path)) + r"(:\d+:\d+)?: \S", message), message


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_shipped_lab_loads_with_its_rubric():
    spec = load_lab(CATALOG_DIR / "s3-static-website" / "lab.yaml", CHECKS)
    assert [c.id for c in spec.checks] == [
        "bucket-exists", "website-config", "index-content", "public-read", "versioning", "tags"
    ]
    assert [c.points for c in spec.checks] == [15, 20, 20, 20, 15, 10]
    assert [(g.id, g.penalty) for g in spec.guards] == [("no-public-write", 30)]
    assert spec.max_points == 100 and spec.pass_percent == 75


def test_unknown_check_names_file_line_column_and_field(tmp_path):
    text = GOOD.replace("use: s3.website-config", "use: s3.websit")
    path = write_lab(tmp_path, text)
    line = line_of(text, "use: s3.websit")
    assert error_of(path).endswith(f"lab.yaml:{line}:10: checks[1].use: unknown check 's3.websit'")


def test_without_the_known_checks_a_lab_is_judged_on_everything_but_its_checks(tmp_path):
    """labs sits below validators: a caller without the check registry still gets the structure,
    the ids and the files checked, and no verdict on `use:` names it cannot know."""
    path = write_lab(tmp_path, GOOD.replace("use: s3.website-config", "use: s3.websit"))
    assert [c.use for c in load_lab(path).checks][1] == "s3.websit"
    duplicate = write_lab(tmp_path / "dup", GOOD.replace("- id: versioning", "- id: tags"))
    with pytest.raises(InputError, match=r"checks\[5\]\.id: duplicate id 'tags'"):
        load_lab(duplicate)


def test_wrong_type_points_at_the_value(tmp_path):
    text = GOOD.replace("minutes: 30", "minutes: half an hour")
    message = error_of(write_lab(tmp_path, text))
    assert f"lab.yaml:{line_of(text, 'minutes:')}:10: minutes: " in message
    assert "integer" in message


def test_bad_enum_value(tmp_path):
    text = GOOD.replace("track: cloud", "track: clouds")
    assert "track: Input should be 'cloud', 'kubernetes', 'data' or 'web'" in error_of(write_lab(tmp_path, text))


def test_missing_field_points_at_the_parent_mapping(tmp_path):
    text = GOOD.replace("    points: 15\n    hint: aws s3api create-bucket", "    hint: aws s3api create-bucket", 1)
    message = error_of(write_lab(tmp_path, text))
    assert f"lab.yaml:{line_of(text, '- id: bucket-exists') }:5: checks[0].points: field required" in message


def test_unknown_field_is_named(tmp_path):
    text = GOOD.replace("pass_percent: 75", "pass_percnt: 75")
    assert f":{line_of(text, 'pass_percnt')}:1: pass_percnt: unknown field" in error_of(write_lab(tmp_path, text))


def test_unknown_placeholder(tmp_path):
    text = GOOD.replace('with: {bucket: "{prefix}-site"}\n    points: 15', 'with: {bucket: "{prefx}-site"}\n    points: 15')
    message = error_of(write_lab(tmp_path, text))
    assert "checks[0].with: unknown placeholder {prefx}" in message


def test_params_that_do_not_fit_the_check(tmp_path):
    text = GOOD.replace("with: {bucket: \"{prefix}-site\", key: lab", "with: {bucket: \"{prefix}-site\", kee: lab")
    message = error_of(write_lab(tmp_path, text))
    assert f":{line_of(text, 'kee: lab')}:" in message and "checks[5].with.kee: unknown field" in message


def test_duplicate_ids(tmp_path):
    text = GOOD.replace("- id: versioning", "- id: tags")
    assert "checks[5].id: duplicate id 'tags'" in error_of(write_lab(tmp_path, text))


def test_invalid_yaml_names_the_line_and_column_of_the_problem(tmp_path):
    """Where the parser failed (the ':' of the next key inside an unclosed list), not where the list
    began: the problem's mark, not the context's."""
    text = GOOD.replace("level: beginner", "level: [beginner")
    line = line_of(text, "minutes:")
    assert error_of(write_lab(tmp_path, text)).endswith(
        f"lab.yaml:{line}:{len('minutes:')}: invalid YAML: expected ',' or ']', but got ':'")


def test_a_tab_in_the_indentation_is_named_where_it_is(tmp_path):
    text = GOOD.replace("minutes: 30", "\tminutes: 30")
    line = line_of(text, "\tminutes")
    assert error_of(write_lab(tmp_path, text)).endswith(
        f"lab.yaml:{line}:1: invalid YAML: found character '\\t' that cannot start any token")


def test_a_file_that_is_not_utf_8_is_one_line_naming_it(tmp_path):
    path = write_lab(tmp_path, "")
    path.write_bytes(GOOD.replace("Hello from", "Hall\xe5 from").encode("latin-1"))
    assert error_of(path).startswith(f"{path}: cannot read: 'utf-8' codec can't decode byte 0xe5")


def test_a_lab_file_is_read_as_utf_8_whatever_the_locale(tmp_path):
    """A classroom machine or a container often runs under the C locale, whose encoding is ASCII: a lab
    written in UTF-8 (an accented title) must still load there. Caught: `read_text()` without an
    encoding, which decodes with the locale's codec and fails on the first non-ASCII byte."""
    path = write_lab(tmp_path, GOOD.replace("title: ", "title: Café — ", 1))
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    program = (
        "import codecs, locale, sys; from pathlib import Path; from labctl.labs.loader import parse_yaml; "
        "print(codecs.lookup(locale.getpreferredencoding(False)).name, "
        "parse_yaml(Path(sys.argv[1]))['title'].startswith('Caf\\xe9'))"
    )
    run = subprocess.run([sys.executable, "-c", program, str(path)], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["ascii", "True"]


def test_a_control_character_is_one_line_naming_the_file(tmp_path):
    """ruamel's reader error carries no mark: the file alone is named, with the first line of it."""
    path = write_lab(tmp_path, GOOD.replace("Host a static", "Host a \x07static"))
    assert error_of(path) == (
        f"{path}: invalid YAML: unacceptable character #x0007: special characters are not allowed")


def test_position_points_at_the_value_unless_asked_for_the_key(tmp_path):
    doc = parse_yaml(write_lab(tmp_path, GOOD))
    line = line_of(GOOD, "title: Host")
    assert position(doc, ("title",)) == (line, len("title: ") + 1)
    assert position(doc, ("title",), at_key=True) == (line, 1)
    assert position("a document that is one scalar", ()) == (1, 1)  # labs/solutions.py names such a file at 1:1


def test_a_guard_is_checked_and_located_like_a_check(tmp_path):
    text = GOOD.replace("use: s3.public-read-only", "use: s3.nope")
    line = line_of(text, "use: s3.nope")
    column = text.splitlines()[line - 1].index("s3.nope") + 1
    assert error_of(write_lab(tmp_path, text)).endswith(f"lab.yaml:{line}:{column}: guards[0].use: unknown check 's3.nope'")


def test_id_must_match_folder(tmp_path):
    assert error_of(write_lab(tmp_path, GOOD, folder="other")).endswith(
        "lab.yaml:1:5: id: must match the lab's folder name 'other'")


def test_a_lab_under_the_working_directory_is_named_relative_to_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = GOOD.replace("use: s3.public-read-only", "use: s3.nope")
    assert error_of(write_lab(tmp_path, text)).startswith("s3-static-website/lab.yaml:")


def test_plain_keeps_yaml_scalars_as_their_python_types(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("a: true\nb: null\nc: 1\nd: 1.5\ne: x\nf: 2024-01-31\n")
    values = plain(parse_yaml(path))
    assert values == {"a": True, "b": None, "c": 1, "d": 1.5, "e": "x", "f": "2024-01-31"}
    assert [type(v) for v in values.values()] == [bool, type(None), int, float, str, str]


def test_not_a_mapping(tmp_path):
    assert error_of(write_lab(tmp_path, "- a\n- b\n")).endswith("lab.yaml:1:1: a lab file must be a YAML mapping")


def test_missing_file(tmp_path):
    assert error_of(tmp_path / "nope" / "lab.yaml").endswith("lab.yaml: file not found")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_is_an_input_error_or_a_lab(tmp_path_factory, text):
    path = write_lab(tmp_path_factory.mktemp("fuzz"), text)
    try:
        load_lab(path, CHECKS)
    except InputError as exc:
        assert_one_line_naming(exc, path)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=len(GOOD) - 1), st.sampled_from(["", ":", "- ", "{", "'", "\t", "x: [", "0"]))
def test_mutated_lab_is_an_input_error_or_a_lab(tmp_path_factory, at, junk):
    path = write_lab(tmp_path_factory.mktemp("mut"), GOOD[:at] + junk + GOOD[at + 1 :])
    try:
        load_lab(path, CHECKS)
    except InputError as exc:
        assert "\n" not in str(exc) and "lab.yaml" in str(exc)


# --- starting-state files (seed, setup) stay inside the lab folder ------------------------------

STARTING_STATE = [("redteam-fix", "environment.aws.setup", "setup"), ("sql-aggregation", "environment.database.seed", "seed")]


def lab_naming(tmp_path: Path, lab: str, key: str, name: str) -> Path:
    """A copy of catalog lab `lab` whose `key:` (setup or seed) names `name`."""
    folder = tmp_path / "labs" / lab
    shutil.copytree(CATALOG_DIR / lab, folder)
    text = (folder / "lab.yaml").read_text()
    (folder / "lab.yaml").write_text(re.sub(rf"(?m)^(\s+{key}:) .*$", rf"\1 {name}", text, count=1))
    return folder / "lab.yaml"


@pytest.mark.parametrize(("lab", "field", "key"), STARTING_STATE)
@pytest.mark.parametrize("outside", ["../{lab}-evil/x.py", "../x.py", "{tmp}/x.py", "link/x.py"])
def test_a_starting_state_file_outside_the_lab_folder_is_refused(tmp_path, lab, field, key, outside):
    """A sibling folder sharing the lab's name as a prefix (`../redteam-fix-evil/`) is outside too:
    containment is by path parents, not by string prefix (a surviving mutant until this test)."""
    name = outside.format(lab=lab, tmp=tmp_path)
    path = lab_naming(tmp_path, lab, key, name)
    for escape in (tmp_path / "labs" / f"{lab}-evil", tmp_path / "labs", tmp_path):
        escape.mkdir(exist_ok=True)
        (escape / "x.py").write_text("")
    (path.parent / "link").symlink_to(tmp_path / "labs" / f"{lab}-evil")
    line = line_of(path.read_text(), f"{key}: ")
    assert re.fullmatch(rf".*lab\.yaml:{line}:\d+: {re.escape(field)}: {re.escape(name)} must be inside the lab folder",
                        error_of(path))


@pytest.mark.parametrize(("lab", "field", "key"), STARTING_STATE)
def test_a_starting_state_file_inside_the_lab_folder_loads_and_a_missing_one_is_named(tmp_path, lab, field, key):
    path = lab_naming(tmp_path, lab, key, "sub/../start.txt")
    assert error_of(path).endswith(f"{field}: file sub/../start.txt does not exist in the lab folder")
    (path.parent / "start.txt").mkdir()
    assert error_of(path).endswith(f"{field}: file sub/../start.txt does not exist in the lab folder")
    (path.parent / "start.txt").rmdir()
    (path.parent / "start.txt").write_text("")
    assert load_lab(path, CHECKS).id == lab
