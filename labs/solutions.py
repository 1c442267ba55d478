"""Sample solutions of a lab: what a student would write, kept with the lab to prove its grading.

Layout: `labs/<lab>/solutions/<name>/` holds `solution.yaml` — `fails: [...]`, the check and guard
ids this variant must fail (empty for `reference`; a guard "fails" when it applies). The `reference`
holds exactly one of:
- `solve.py` (kind `aws`): defines `solve(session, endpoint_url, prefix, student) -> None`;
- `solution.sql` (kind `sql`): run in the student's database as the student's own role;
- `objects.yaml` (kind `kubernetes`): the API objects in the student's namespace as the API server
  returns them (with `status`), `{prefix}` standing for the namespace.
A `broken-*` variant is the reference plus one mistake (labs/variants.py): for `aws` a solve.py that
takes `reference(__file__, step=...)` and overrides one step or constant; for `sql` and `kubernetes`
an `override:` in its solution.yaml and no script or objects of its own.
Every lab ships `reference` and at least two `broken-*` variants.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import re
import sys
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import boto3
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from labctl.labs.errors import InputError
from labctl.labs.loader import display_path, parse_yaml, plain, position
from labctl.labs.spec import SLUG, render
from labctl.labs.variants import edited_script, patched_objects, replace_once

SOLUTIONS_DIR = "solutions"
REFERENCE = "reference"
SOLVE_FILE = "solve.py"
SQL_FILE = "solution.sql"
OBJECTS_FILE = "objects.yaml"
KINDS = {SOLVE_FILE: "aws", SQL_FILE: "sql", OBJECTS_FILE: "kubernetes"}
SPEC_FILE = "solution.yaml"
SPEC_FIELDS = frozenset({"fails", "summary", "override"})
_module_numbers = count(1)


@dataclass(frozen=True)
class Solution:
    lab: str
    name: str
    folder: Path
    fails: tuple[str, ...]
    kind: str
    script: str | None = None  # sql: what runs (a variant's: the reference's, edited)
    documents: tuple[dict[str, Any], ...] | None = None  # kubernetes: the objects, `{prefix}` unrendered

    @property
    def solve_path(self) -> Path:
        return self.folder / SOLVE_FILE


@dataclass(frozen=True)
class SpecFile:
    """A parsed solution.yaml: its `fails`, its `override` node, and errors that name its lines."""

    path: Path
    doc: CommentedMap
    fails: tuple[str, ...]

    @property
    def override(self) -> Any:
        return self.doc.get("override")

    def error(self, loc: tuple[Any, ...], message: str) -> InputError:
        line, col = position(self.doc, loc)
        return InputError(message, f"{display_path(self.path)}:{line}:{col}")


def solutions_for(lab_folder: Path) -> list[Solution]:
    """Every solution of the lab in `lab_folder`, sorted by name; none when it has no solutions/."""
    lab_folder = Path(lab_folder)
    root = lab_folder / SOLUTIONS_DIR
    if not root.is_dir():
        return []
    known_ids = lab_ids(lab_folder / "lab.yaml")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    for folder in folders:
        if not re.match(SLUG, folder.name):
            raise InputError(
                "a solution's folder name must be a lowercase slug (a-z, 0-9, '-')", display_path(folder)
            )
    reference = next((read_reference(lab_folder.name, f, known_ids) for f in folders if f.name == REFERENCE), None)
    return [
        reference if folder.name == REFERENCE else read_variant(lab_folder.name, folder, known_ids, reference)
        for folder in folders
    ]


def present_files(folder: Path) -> list[str]:
    return [file for file in KINDS if (folder / file).is_file()]


def read_reference(lab: str, folder: Path, known_ids: frozenset[str]) -> Solution:
    present = present_files(folder)
    if len(present) != 1:
        found = ", ".join(present) or "none"
        raise InputError(f"a solution has exactly one of {', '.join(KINDS)} (found: {found})", display_path(folder))
    spec = read_spec(folder / SPEC_FILE, known_ids)
    if spec.override is not None:
        raise spec.error(("override",), "override: only a variant overrides the reference")
    kind = KINDS[present[0]]
    if kind == "sql":
        return Solution(lab, folder.name, folder, spec.fails, kind, script=read_text(folder / SQL_FILE))
    if kind == "kubernetes":
        return Solution(lab, folder.name, folder, spec.fails, kind, documents=tuple(read_objects(folder / OBJECTS_FILE)))
    return Solution(lab, folder.name, folder, spec.fails, kind)


def read_variant(lab: str, folder: Path, known_ids: frozenset[str], reference: Solution | None) -> Solution:
    """A variant: a solve.py of its own (aws), or its solution.yaml's `override:` of the reference."""
    spec = read_spec(folder / SPEC_FILE, known_ids)
    present = present_files(folder)
    if present == [SOLVE_FILE]:
        if spec.override is not None:
            raise spec.error(("override",), "override: an aws variant overrides the reference in its solve.py")
        return Solution(lab, folder.name, folder, spec.fails, "aws")
    if present:
        raise InputError(
            f"a variant holds no {' or '.join(present)}: it is the reference plus an `override:` in {SPEC_FILE}"
            f" (or, for aws, a {SOLVE_FILE} overriding the reference's steps)",
            display_path(folder),
        )
    if spec.override is None:
        raise InputError(f"a solution has {SOLVE_FILE}, or an `override:` of the reference in {SPEC_FILE}", display_path(folder))
    if reference is None or reference.kind == "aws":
        raise spec.error(("override",), "override: needs a solutions/reference with solution.sql or objects.yaml")
    if reference.kind == "sql":
        script = edited_script(reference.script or "", spec.override, spec.error)
        return Solution(lab, folder.name, folder, spec.fails, "sql", script=script)
    documents = patched_objects(list(reference.documents or ()), spec.override, spec.error)
    return Solution(lab, folder.name, folder, spec.fails, "kubernetes", documents=tuple(documents))


def read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", display_path(path)) from None


def read_objects(path: Path) -> list[dict[str, Any]]:
    docs = YAML(typ="rt", pure=True).load_all(read_text(path))
    objects = [plain(doc) for doc in docs if doc is not None]
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
            raise InputError(f"document {index + 1} is not a Kubernetes API object", display_path(path))
    return objects


def load_module(path: Path, label: str) -> ModuleType:
    """`path` imported as a fresh module (its own globals, whatever was imported before)."""
    where = display_path(path)
    module_name = f"labs_solution_{label}_{next(_module_numbers)}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InputError("cannot be imported as a Python module", where)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except FileNotFoundError:
        raise InputError("file not found", where) from None
    except SyntaxError as exc:
        raise InputError(f"invalid Python: {exc.msg}", f"{where}:{exc.lineno}") from None
    finally:
        sys.modules.pop(module_name, None)
    return module


def reference(variant_file: str | Path, **overrides: Any) -> ModuleType:
    """A fresh copy of the lab's reference solve.py with `overrides` replacing its module-level steps
    or constants: what a variant's solve.py is made of. Each name must be one the reference has.

    Every call is a separate copy: a step that wraps the reference's own (`reference(__file__).step`)
    calls an untouched copy, which sees none of the overrides, so the wrapper makes its whole change."""
    variant = Path(variant_file).resolve()
    module = load_module(variant.parent.parent / REFERENCE / SOLVE_FILE, f"{variant.parent.name}_reference")
    for name, value in overrides.items():
        if not hasattr(module, name):
            raise InputError(f"the reference's {SOLVE_FILE} has no step or constant {name!r}", caller_line())
        setattr(module, name, value)
    return module


def edit(text: str, old: str, new: str) -> str:
    """A reference's constant `text` with `old`, which must occur in it exactly once, replaced by `new`."""
    try:
        return replace_once(text, old, new)
    except ValueError as exc:
        raise InputError(f"{old[:40]!r} {exc}", caller_line()) from None


def caller_line() -> str:
    """file:line of the variant's solve.py that called `reference` or `edit`."""
    frame = inspect.currentframe()
    caller = frame.f_back.f_back if frame and frame.f_back else None
    return f"{display_path(Path(caller.f_code.co_filename))}:{caller.f_lineno}" if caller else SOLVE_FILE


def run_by_hand(solve: Callable[[boto3.Session, str | None, str, str], None]) -> None:
    """`python solve.py`: run `solve` with the student's environment, as `labctl student env` prints it."""
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    solve(boto3.Session(), os.environ.get("AWS_ENDPOINT_URL"), os.environ["LABCTL_PREFIX"], os.environ["LABCTL_STUDENT"])


def apply(
    solution: Solution, session: boto3.Session, endpoint_url: str | None, prefix: str, student: str
) -> None:
    """Import the solution's solve.py by path (a fresh module each time) and run its `solve`."""
    module = load_module(solution.solve_path, f"{solution.lab}_{solution.name}")
    solve = getattr(module, "solve", None)
    if not callable(solve):
        raise InputError("must define solve(session, endpoint_url, prefix, student)", display_path(solution.solve_path))
    solve(session, endpoint_url, prefix, student)


def apply_sql(solution: Solution, conninfo: str) -> None:
    """Run the solution's SQL script in one transaction on `conninfo` (the student's own role)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute((solution.script or "").encode("utf-8"))


def kubernetes_objects(solution: Solution, namespace: str) -> list[dict[str, Any]]:
    """The solution's API objects, `{prefix}` rendered as the student's namespace."""
    objects = [render(obj, {"prefix": namespace}) for obj in solution.documents or ()]
    for obj in objects:
        obj["metadata"].setdefault("namespace", namespace)
    return objects


def lab_ids(lab_file: Path) -> frozenset[str]:
    """The check and guard ids of a lab file, read without validating the rest of it."""
    doc = parse_yaml(lab_file)
    ids: set[str] = set()
    if isinstance(doc, CommentedMap):
        for section in ("checks", "guards"):
            items = doc.get(section)
            if isinstance(items, CommentedSeq):
                ids.update(str(i["id"]) for i in items if isinstance(i, CommentedMap) and "id" in i)
    return frozenset(ids)


def read_spec(path: Path, known_ids: frozenset[str]) -> SpecFile:
    """A solution.yaml; any problem with its fields is an InputError naming file:line:col."""
    doc = parse_yaml(path)
    if doc is None:
        doc = CommentedMap()
    spec = SpecFile(path, doc if isinstance(doc, CommentedMap) else CommentedMap(), ())
    if not isinstance(doc, CommentedMap):
        raise InputError("a solution file must be a YAML mapping with a `fails` list", f"{display_path(path)}:1:1")
    for key in doc:
        if key not in SPEC_FIELDS:
            raise spec.error((key,), f"unknown field {key!r} (allowed: {', '.join(sorted(SPEC_FIELDS))})")
    if "summary" in doc and not isinstance(doc["summary"], str):
        raise spec.error(("summary",), "summary: must be a string")
    fails = doc.get("fails")
    if fails is None:
        raise spec.error((), "fails: field required (use `fails: []` for a solution that passes everything)")
    if not isinstance(fails, CommentedSeq):
        raise spec.error(("fails",), "fails: must be a list of check or guard ids")
    seen: list[str] = []
    for index, item in enumerate(fails):
        if not isinstance(item, str):
            raise spec.error(("fails", index), f"fails[{index}]: must be a check or guard id, not {item!r}")
        if item not in known_ids:
            raise spec.error(("fails", index), f"fails[{index}]: {item!r} is not a check or guard of this lab")
        if item in seen:
            raise spec.error(("fails", index), f"fails[{index}]: duplicate id {item!r}")
        seen.append(item)
    return SpecFile(path, doc, tuple(seen))
