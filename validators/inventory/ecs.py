"""The ECS inventory: the latest ACTIVE revision of every student-owned task definition family.

Checks read these objects and never call the cloud (DESIGN decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class Container:
    name: str
    image: str = ""
    cpu: int = 0
    memory: int | None = None
    """The hard limit in MiB (`memory`); `memory_reservation` is the soft one."""
    memory_reservation: int | None = None
    user: str | None = None
    readonly_root: bool = False
    privileged: bool = False
    log_driver: str | None = None
    log_options: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskDefinition:
    family: str
    detailed: bool = True
    """False when no check names this family, so only its existence was recorded."""
    revision: int = 0
    cpu: int | None = None
    """Task-level CPU units (`cpu` is a string in the API: "256", or "1 vCPU")."""
    memory: int | None = None
    """Task-level memory in MiB."""
    containers: tuple[Container, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class EcsInventory:
    """One student's task definition families."""

    families: Mapping[str, TaskDefinition] = field(default_factory=dict)

    def family(self, name: str) -> TaskDefinition | None:
        return self.families.get(name)


@dataclass(frozen=True)
class EcsSnapshot:
    by_prefix: Mapping[str, EcsInventory]

    def for_prefix(self, prefix: str) -> EcsInventory:
        return self.by_prefix.get(prefix, EcsInventory())
