"""Sample solutions of a lab: what a student would write, kept with the lab to prove its grading.

Layout: `labs/<lab>/solutions/<name>/` holds `solution.yaml` — `fails: [...]`, the check and guard
ids this variant must fail (empty for `reference`; a guard "fails" when it applies) — and exactly
one of:
- `solve.py` (kind `aws`): defines `solve(session, endpoint_url, prefix, student) -> None`;
- `solution.sql` (kind `sql`): run in the student's database as the student's own role;
- `objects.yaml` (kind `kubernetes`): the API objects in the student's namespace as the API server
  returns them (with `status`), `{prefix}` standing for the namespace.
Every lab ships `reference` and at least two `broken-*` variants.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import boto3
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from labs.errors import InputError
from labs.loader import display_path, parse_yaml, position
from labs.spec import SLUG

SOLUTIONS_DIR = "solutions"
SOLVE_FILE = "solve.py"
SQL_FILE = "solution.sql"
OBJECTS_FILE = "objects.yaml"
KINDS = {SOLVE_FILE: "aws", SQL_FILE: "sql", OBJECTS_FILE: "kubernetes"}
SPEC_FILE = "solution.yaml"
SPEC_FIELDS = frozenset({"fails", "summary"})
_module_numbers = count(1)


@dataclass(frozen=True)
class Solution:
    lab: str
    name: str
    folder: Path
    fails: tuple[str, ...]

    @property
    def solve_path(self) -> Path:
        return self.folder / SOLVE_FILE

    @property
    def kind(self) -> str:
        return next(kind for file, kind in KINDS.items() if (self.folder / file).is_file())


def solutions_for(lab_folder: Path) -> list[Solution]:
    """Every solution of the lab in `lab_folder`, sorted by name; none when it has no solutions/."""
    lab_folder = Path(lab_folder)
    root = lab_folder / SOLUTIONS_DIR
    if not root.is_dir():
        return []
    known_ids = lab_ids(lab_folder / "lab.yaml")
    solutions = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        if not re.match(SLUG, folder.name):
            raise InputError(
                "a solution's folder name must be a lowercase slug (a-z, 0-9, '-')", display_path(folder)
            )
        present = [file for file in KINDS if (folder / file).is_file()]
        if len(present) != 1:
            found = ", ".join(present) or "none"
            raise InputError(f"a solution has exactly one of {', '.join(KINDS)} (found: {found})", display_path(folder))
        fails = read_fails(folder / SPEC_FILE, known_ids)
        solutions.append(Solution(lab=lab_folder.name, name=folder.name, folder=folder, fails=fails))
    return solutions


def apply(
    solution: Solution, session: boto3.Session, endpoint_url: str | None, prefix: str, student: str
) -> None:
    """Import the solution's solve.py by path (a fresh module each time) and run its `solve`."""
    path = solution.solve_path
    where = display_path(path)
    module_name = f"labs_solution_{solution.lab}_{solution.name}_{next(_module_numbers)}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InputError("cannot be imported as a Python module", where)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        try:
            spec.loader.exec_module(module)
        except FileNotFoundError:
            raise InputError("file not found", where) from None
        except SyntaxError as exc:
            raise InputError(f"invalid Python: {exc.msg}", f"{where}:{exc.lineno}") from None
        solve = getattr(module, "solve", None)
        if not callable(solve):
            raise InputError("must define solve(session, endpoint_url, prefix, student)", where)
        solve(session, endpoint_url, prefix, student)
    finally:
        sys.modules.pop(module_name, None)


def apply_sql(solution: Solution, conninfo: str) -> None:
    """Run the solution's SQL script in one transaction on `conninfo` (the student's own role)."""
    import psycopg

    script = (solution.folder / SQL_FILE).read_text(encoding="utf-8")
    with psycopg.connect(conninfo, autocommit=False) as conn:
        conn.execute(script.encode("utf-8"))


def kubernetes_objects(solution: Solution, namespace: str) -> list[dict[str, Any]]:
    """The solution's API objects, `{prefix}` rendered as the student's namespace."""
    from ruamel.yaml import YAML

    from labs.loader import plain
    from labs.spec import render

    path = solution.folder / OBJECTS_FILE
    docs = YAML(typ="rt", pure=True).load_all(path.read_text(encoding="utf-8"))
    objects = [render(plain(doc), {"prefix": namespace}) for doc in docs if doc is not None]
    for index, obj in enumerate(objects):
        if not isinstance(obj, dict) or not {"apiVersion", "kind", "metadata"} <= obj.keys():
            raise InputError(f"document {index + 1} is not a Kubernetes API object", display_path(path))
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


def read_fails(path: Path, known_ids: frozenset[str]) -> tuple[str, ...]:
    """The `fails` list of a solution.yaml; any problem is an InputError naming file:line:col."""
    doc = parse_yaml(path)

    def bad(loc: tuple[Any, ...], message: str) -> InputError:
        line, col = position(doc, loc)
        return InputError(message, f"{display_path(path)}:{line}:{col}")

    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise bad((), "a solution file must be a YAML mapping with a `fails` list")
    for key in doc:
        if key not in SPEC_FIELDS:
            raise bad((key,), f"unknown field {key!r} (allowed: {', '.join(sorted(SPEC_FIELDS))})")
    if "summary" in doc and not isinstance(doc["summary"], str):
        raise bad(("summary",), "summary: must be a string")
    fails = doc.get("fails")
    if fails is None:
        raise bad((), "fails: field required (use `fails: []` for a solution that passes everything)")
    if not isinstance(fails, CommentedSeq):
        raise bad(("fails",), "fails: must be a list of check or guard ids")
    seen: list[str] = []
    for index, item in enumerate(fails):
        if not isinstance(item, str):
            raise bad(("fails", index), f"fails[{index}]: must be a check or guard id, not {item!r}")
        if item not in known_ids:
            raise bad(("fails", index), f"fails[{index}]: {item!r} is not a check or guard of this lab")
        if item in seen:
            raise bad(("fails", index), f"fails[{index}]: duplicate id {item!r}")
        seen.append(item)
    return tuple(seen)
