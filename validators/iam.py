"""Pure helpers for reading IAM policy documents: wildcard matching and statement fields.

Action names match case-insensitively, resources case-sensitively; both use IAM's `*` (any run of
characters) and `?` (one character). Nothing else is special, unlike fnmatch's `[...]`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Mapping


@lru_cache(maxsize=4096)
def _regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Does IAM wildcard `pattern` match the literal string `value`?"""
    return _regex(pattern, ignore_case).fullmatch(value) is not None


def glob_covers(pattern: str, wanted: str, *, ignore_case: bool = False) -> bool:
    """Does `pattern` match every string that the wildcard `wanted` matches?

    Sound (True means covered); a `*` in `wanted` can only be covered by a `*` in `pattern`.
    """
    fold = str.casefold if ignore_case else (lambda s: s)
    memo: dict[tuple[int, int], bool] = {}

    def covers(i: int, j: int) -> bool:
        if (i, j) in memo:
            return memo[i, j]
        if i == len(pattern):
            result = j == len(wanted)
        elif pattern[i] == "*":
            result = covers(i + 1, j) or (j < len(wanted) and covers(i, j + 1))
        elif j == len(wanted) or wanted[j] == "*":
            result = False
        elif pattern[i] == "?":
            result = covers(i + 1, j + 1)
        else:
            result = wanted[j] != "?" and fold(pattern[i]) == fold(wanted[j]) and covers(i + 1, j + 1)
        memo[i, j] = result
        return result

    return covers(0, 0)


def as_list(value: Any) -> list[Any]:
    """IAM lets most fields be one value or a list of them."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def statements(policy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in as_list(policy.get("Statement")) if isinstance(s, Mapping)]


def is_public(statement: Mapping[str, Any]) -> bool:
    """Principal `*` or `{"AWS": "*"}` (also inside a list); NotPrincipal counts as public too."""
    if "NotPrincipal" in statement:
        return True
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if isinstance(principal, Mapping):
        return "*" in as_list(principal.get("AWS"))
    return False


def effect(statement: Mapping[str, Any]) -> str:
    return str(statement.get("Effect", "")).capitalize()


def covers_action(statement: Mapping[str, Any], action: str) -> bool:
    """Does the statement apply to every action matched by `action`?"""
    if "NotAction" in statement:
        return not any(
            glob_match(str(p), action, ignore_case=True) or glob_covers(action, str(p), ignore_case=True)
            for p in as_list(statement["NotAction"])
        )
    return any(glob_covers(str(p), action, ignore_case=True) for p in as_list(statement.get("Action")))


def covers_resource(statement: Mapping[str, Any], resource: str) -> bool:
    """Does the statement apply to every resource matched by `resource`?"""
    if "NotResource" in statement:
        return not any(glob_match(str(p), resource) for p in as_list(statement["NotResource"]))
    return any(glob_covers(str(p), resource) for p in as_list(statement.get("Resource")))


def actions_beyond(statement: Mapping[str, Any], allowed: Iterable[str]) -> list[str]:
    """The statement's action patterns that grant something no `allowed` pattern covers."""
    allowed = list(allowed)
    if "NotAction" in statement:
        excluded = ", ".join(map(str, as_list(statement["NotAction"])))
        return [f"every action except {excluded}"]
    return [
        str(p)
        for p in as_list(statement.get("Action"))
        if not any(glob_covers(a, str(p), ignore_case=True) for a in allowed)
    ]
