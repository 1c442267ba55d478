"""Load `lab.yaml` files with line numbers: every error names file:line:col and the field.

The checks a lab may `use:` are the validators' registry, which sits above labs: whoever has it hands
it in (`validators.checks.params_by_name()`); every command that puts a lab to use loads it through
`validators.checks.usable_lab`, and a lab loaded without the registry is not judged on them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from labctl.labs.errors import InputError
from labctl.labs.spec import LabSpec

Loc = tuple[str | int, ...]
CheckParams = Mapping[str, type[BaseModel]]
"""The known checks by the name a lab `use:`s, each with the model its `with:` must fit."""


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def field_name(loc: Loc) -> str:
    """('checks', 2, 'use') -> 'checks[2].use'."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def position(node: Any, loc: Loc, at_key: bool = False) -> tuple[int, int]:
    """1-based (line, column) of the deepest node of `loc` present in the parsed YAML.

    `at_key` points at the last mapping key itself (an unknown field) rather than its value.
    """
    line, col = 0, 0
    if isinstance(node, (CommentedMap, CommentedSeq)):
        line, col = node.lc.line, node.lc.col
    for depth, part in enumerate(loc, 1):
        if isinstance(node, CommentedMap) and part in node:
            line, col = node.lc.key(part) if at_key and depth == len(loc) else node.lc.value(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return line + 1, col + 1


def plain(node: Any) -> Any:
    """ruamel's round-trip types as plain Python values."""
    if isinstance(node, dict):
        return {str(k): plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    for kind in (int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return str(node)


def parse_yaml(path: Path) -> Any:
    where = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", where) from None
    try:
        return YAML(typ="rt", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f"{where}:{mark.line + 1}:{mark.column + 1}" if mark else where
        raise InputError(f"invalid YAML: {exc.problem or exc.context}", at) from None
    except YAMLError as exc:
        raise InputError(f"invalid YAML: {str(exc).splitlines()[0]}", where) from None


def describe(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "field required"
    return error["msg"].removeprefix("Value error, ")


def first_error(exc: ValidationError) -> dict[str, Any]:
    """The error to report: an unknown field first (usually a typo that also causes a 'missing')."""
    errors = exc.errors()
    return next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])


def fail(path: Path, doc: Any, loc: Loc, message: str) -> InputError:
    line, col = position(doc, loc, at_key=message == "unknown field")
    return InputError(f"{field_name(loc)}: {message}", f"{display_path(path)}:{line}:{col}")


def semantic_errors(spec: LabSpec, checks: CheckParams | None) -> Iterable[tuple[Loc, str]]:
    """Cross-field rules: unique ids and, given the known checks, checks that exist with params that fit."""
    seen: set[str] = set()
    for kind, items in (("checks", spec.checks), ("guards", spec.guards)):
        for index, item in enumerate(items):
            if item.id in seen:
                yield (kind, index, "id"), f"duplicate id {item.id!r}"
            seen.add(item.id)
            if checks is None:
                continue
            params = checks.get(item.use)
            if params is None:
                yield (kind, index, "use"), f"unknown check {item.use!r}"
                continue
            try:
                params.model_validate(item.with_)
            except ValidationError as exc:
                first = first_error(exc)
                yield (kind, index, "with", *first["loc"]), describe(first)


def missing_files(spec: LabSpec, folder: Path) -> Iterable[tuple[Loc, str]]:
    """The starting-state files the environment names (seed, setup) must be files inside the lab folder."""
    env = spec.environment
    named = [
        (("environment", "database", "seed"), env.database.seed if env.database else None),
        (("environment", "aws", "setup"), env.aws.setup if env.aws else None),
    ]
    root = folder.resolve()
    for loc, name in named:
        if name is None:
            continue
        file = (root / name).resolve()
        if root not in file.parents:
            yield loc, f"{name} must be inside the lab folder"
        elif not file.is_file():
            yield loc, f"file {name} does not exist in the lab folder"


def load_lab(path: Path, checks: CheckParams | None = None) -> LabSpec:
    """Parse and validate one lab file (with `checks`, its `use:` and `with:` too); raises InputError
    naming file:line:col and field."""
    path = Path(path)
    doc = parse_yaml(path)
    if not isinstance(doc, CommentedMap):
        raise InputError("a lab file must be a YAML mapping", f"{display_path(path)}:1:1")
    try:
        spec = LabSpec.model_validate(plain(doc))
    except ValidationError as exc:
        first = first_error(exc)
        raise fail(path, doc, tuple(first["loc"]), describe(first)) from None
    for loc, message in semantic_errors(spec, checks):
        raise fail(path, doc, loc, message)
    for loc, message in missing_files(spec, path.parent):
        raise fail(path, doc, loc, message)
    if spec.id != path.parent.name and path.name == "lab.yaml":
        raise fail(path, doc, ("id",), f"must match the lab's folder name {path.parent.name!r}")
    return spec
