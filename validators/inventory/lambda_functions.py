"""The Lambda inventory: every student-owned function of a cohort, its configuration and resource policy.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class Function:
    name: str
    arn: str = ""
    detailed: bool = True
    """False when no check names this function, so only its listing was recorded."""
    runtime: str | None = None
    role: str | None = None
    """The execution role's ARN."""
    memory_mb: int | None = None
    timeout_s: int | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    policy: Mapping[str, Any] | None = None
    """The resource-based policy (who may invoke it); None when the function has none."""
    error: str | None = None


@dataclass(frozen=True)
class LambdaInventory:
    functions: Mapping[str, Function] = field(default_factory=dict)

    def function(self, name: str) -> Function | None:
        return self.functions.get(name)


@dataclass(frozen=True)
class LambdaSnapshot:
    by_prefix: Mapping[str, LambdaInventory]

    def for_prefix(self, prefix: str) -> LambdaInventory:
        return self.by_prefix.get(prefix, LambdaInventory())
