"""The IAM inventory: every student-owned role of a cohort, with its trust and permission policies.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

MAX_POLICIES = 20
"""At most this many inline and this many attached policies are read per role."""


@dataclass(frozen=True)
class Role:
    name: str
    arn: str = ""
    detailed: bool = True
    """False when no check names this role, so only its existence was recorded."""
    trust: Mapping[str, Any] | None = None
    """The AssumeRolePolicyDocument."""
    inline: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Inline policy documents by policy name."""
    attached: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)
    """Attached managed policies: ARN → default version's document (None when it could not be read)."""
    truncated: bool = False
    """True when the role has more than MAX_POLICIES inline or attached policies (the rest unread)."""
    error: str | None = None

    def documents(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every readable permission policy as (where it comes from, document)."""
        found = [(f"inline policy {name}", doc) for name, doc in sorted(self.inline.items())]
        found += [(f"managed policy {arn}", doc) for arn, doc in sorted(self.attached.items()) if doc is not None]
        return found


@dataclass(frozen=True)
class IamInventory:
    """One student's roles."""

    roles: Mapping[str, Role] = field(default_factory=dict)

    def role(self, name: str) -> Role | None:
        return self.roles.get(name)


@dataclass(frozen=True)
class IamSnapshot:
    by_prefix: Mapping[str, IamInventory]

    def for_prefix(self, prefix: str) -> IamInventory:
        return self.by_prefix.get(prefix, IamInventory())
