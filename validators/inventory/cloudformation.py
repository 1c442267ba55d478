"""The CloudFormation inventory: every student-owned stack, with its outputs, resources and template.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    physical_id: str | None
    status: str | None


@dataclass(frozen=True)
class Stack:
    name: str
    status: str | None = None
    detailed: bool = True
    """False when no check names this stack, so only its summary was recorded."""
    status_reason: str | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)
    termination_protection: bool = False
    resources: tuple[StackResource, ...] = ()
    template: Mapping[str, Any] | None = None
    """The deployed template as a mapping (JSON or YAML; short-form tags kept as plain values)."""
    template_error: str | None = None
    error: str | None = None

    def resource_by_physical_id(self, physical_id: str) -> StackResource | None:
        return next((r for r in self.resources if r.physical_id == physical_id), None)

    def template_resource(self, logical_id: str) -> Mapping[str, Any] | None:
        resources = (self.template or {}).get("Resources") or {}
        found = resources.get(logical_id) if isinstance(resources, Mapping) else None
        return found if isinstance(found, Mapping) else None


@dataclass(frozen=True)
class CloudFormationInventory:
    stacks: Mapping[str, Stack] = field(default_factory=dict)

    def stack(self, name: str) -> Stack | None:
        return self.stacks.get(name)


@dataclass(frozen=True)
class CloudFormationSnapshot:
    by_prefix: Mapping[str, CloudFormationInventory]

    def for_prefix(self, prefix: str) -> CloudFormationInventory:
        return self.by_prefix.get(prefix, CloudFormationInventory())
