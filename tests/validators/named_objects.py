"""What every check on one named object promises before it looks at the object's details."""

from __future__ import annotations

from typing import Any, Callable


def assert_missing_unread_and_undetailed(
    check: Callable, params: Any, *, kind: str, name: str, empty: Any, inventory: Callable[..., Any], error: str
) -> None:
    """`check` skips when the object is missing, and is an error when its details could not be read or
    were not collected (`inventory(**fields)` holds the object with `fields` changed)."""
    missing = check(empty, params)
    assert (missing.status, missing.message) == ("skipped", f"{kind} {name} does not exist")
    unread = check(inventory(error=error), params)
    assert (unread.status, unread.message) == ("error", f"could not read {kind} {name}: {error}")
    listed = check(inventory(detailed=False), params)
    assert (listed.status, listed.message) == ("error", f"{kind} {name} was not collected in detail")
