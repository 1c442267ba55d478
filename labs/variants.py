"""A broken variant is its lab's reference plus one mistake, never a copy of it: fixing a reference
fixes its variants, and an override that no longer fits the reference is an InputError naming the
line of the variant's solution.yaml that says it.

Kind `aws`: the variant's solve.py takes a fresh copy of the reference's module and overrides one of
its steps or constants (`labs.solutions.reference`). Kinds `sql` and `kubernetes`: the variant has
no script or objects of its own, only an `override:` in its solution.yaml.

sql — edits of the reference's script, applied in order:
    override:
      - replace: "COUNT(DISTINCT c.id)"   # text that occurs exactly once in the script
        with: "COUNT(c.id)"               # "" deletes it
      - append: "GRANT ...;"              # a statement after the reference's

kubernetes — the reference's objects, changed per `<kind>/<metadata.name>`:
    override:
      Deployment/api:                     # a JSON Patch (RFC 6902) of that object
        - {op: replace, path: /spec/replicas, value: 3}
      Secret/api-credentials: null        # the object left out
      NetworkPolicy/allow-all:            # an object the reference does not have, added
        {apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: allow-all}, ...}
"""

from __future__ import annotations

from typing import Any, Callable

import jsonpatch
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from labctl.labs.errors import InputError
from labctl.labs.loader import plain

Bad = Callable[[tuple[Any, ...], str], InputError]
SQL_EDITS = ({"replace", "with"}, {"append"})


def edited_script(script: str, override: Any, bad: Bad) -> str:
    """The reference's SQL `script` with the variant's edits applied in order."""
    if not isinstance(override, CommentedSeq) or not override:
        raise bad(("override",), "override: must be a list of edits ({replace: ..., with: ...} or {append: ...})")
    for index, edit in enumerate(override):
        loc = ("override", index)
        if not isinstance(edit, CommentedMap) or set(edit) not in SQL_EDITS:
            raise bad(loc, f"override[{index}]: an edit is {{replace: <text>, with: <text>}} or {{append: <text>}}")
        for key, text in edit.items():
            if not isinstance(text, str):
                raise bad((*loc, key), f"override[{index}].{key}: must be a string")
        if "append" in edit:
            script = f"{script.rstrip()}\n\n{edit['append'].strip()}\n"
            continue
        try:
            script = replace_once(script, edit["replace"], edit["with"])
        except ValueError as exc:
            raise bad((*loc, "replace"), f"override[{index}].replace: {exc}") from None
    return script


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new`; ValueError unless `old` occurs in it exactly once."""
    found = text.count(old) if old else 0
    if found != 1:
        raise ValueError(f"occurs {found} times in the reference (must be once)")
    return text.replace(old, new)


def object_key(obj: dict[str, Any]) -> str:
    return f"{obj['kind']}/{obj['metadata'].get('name')}"


def patched_objects(objects: list[dict[str, Any]], override: Any, bad: Bad) -> list[dict[str, Any]]:
    """The reference's Kubernetes `objects` with the variant's per-object patches, removals and additions."""
    if not isinstance(override, CommentedMap) or not override:
        raise bad(("override",), "override: must map <kind>/<name> of an object to a JSON Patch, null or a new object")
    by_key = {object_key(obj): obj for obj in objects}
    removed: set[str] = set()
    added: list[dict[str, Any]] = []
    for key, change in override.items():
        loc = ("override", key)
        if not isinstance(key, str) or key.count("/") != 1:
            raise bad(loc, f"override: {key!r} must be <kind>/<name>")
        if isinstance(change, CommentedMap):
            new = plain(change)
            if key in by_key:
                raise bad(loc, f"override.{key}: the reference has this object; patch it with a list of operations")
            if not {"apiVersion", "kind", "metadata"} <= new.keys() or object_key(new) != key:
                raise bad(loc, f"override.{key}: a new object needs apiVersion, kind and metadata.name matching {key!r}")
            added.append(new)
            continue
        if key not in by_key:
            raise bad(loc, f"override.{key}: the reference has no such object (it has: {', '.join(by_key)})")
        if change is None:
            removed.add(key)
        elif isinstance(change, CommentedSeq):
            by_key[key] = patch_object(by_key[key], plain(change), lambda message: bad(loc, f"override.{key}: {message}"))
        else:
            raise bad(loc, f"override.{key}: must be a JSON Patch (a list of operations), null or a new object")
    return [by_key[object_key(obj)] for obj in objects if object_key(obj) not in removed] + added


def patch_object(obj: dict[str, Any], operations: list[Any], bad: Callable[[str], InputError]) -> dict[str, Any]:
    try:
        return jsonpatch.JsonPatch(operations).apply(obj)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
        raise bad(f"JSON Patch does not apply: {exc}") from None
