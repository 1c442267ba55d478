"""The policy model: rules, the resources they read and the violations they report.

A rule is a pure function plus metadata (DESIGN decision 1). Resource rules see one resource at a
time; stack rules see every resource of a plan, preview or stack export at once. Both return
`Finding`s; the engine turns findings into `Violation`s with the configured enforcement level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Literal, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

Pack = Literal["isolation", "cost"]
Level = Literal["mandatory", "advisory", "disabled"]
PACKS: tuple[Pack, ...] = ("isolation", "cost")
LEVELS: tuple[Level, ...] = ("mandatory", "advisory", "disabled")
TAG_COHORT, TAG_STUDENT, TAG_LAB = "labctl:cohort", "labctl:student", "labctl:lab"
LABCTL_TAGS = (TAG_COHORT, TAG_STUDENT, TAG_LAB)
STUDENT_ACCOUNT_TYPE = "labctl:aws:StudentAccount"

KEBAB = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)+$")


class RuleConfig(BaseModel):
    """Base of every rule's config: camelCase keys as in `--policy-pack-config`, defaults built in.
    Strict: a value of the wrong JSON type ("20" for a number, "false" for a flag) is refused, not
    converted."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


class NoConfig(RuleConfig):
    """A rule with nothing to configure but its enforcement level."""


@dataclass(frozen=True)
class PolicyResource:
    """One resource as a policy sees it: its type token, logical name, URN and input properties.

    `student` and `prefix` say who owns it, when known (from the plan, or from its labctl tags);
    `default_tags` are the tags its AWS provider adds to every taggable resource.
    """

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    student: str | None = None
    prefix: str | None = None
    default_tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, Any]:
        """Effective tags: provider default tags overlaid with the resource's own `tags`."""
        own = self.props.get("tags")
        return {**self.default_tags, **(own if isinstance(own, Mapping) else {})}

    @property
    def in_student_account(self) -> bool:
        """Whether labctl put it into a student's own account (isolation mode `account`): a child of the
        StudentAccount component, as its URN's qualified type says. The shared-account rules (names by
        prefix, identity policies and trust by student) do not judge it: there the SCPs and the
        in-account boundary isolate, and `policies.rules.scp` checks those."""
        parts = self.urn.split("::")
        return len(parts) > 2 and STUDENT_ACCOUNT_TYPE in parts[2].split("$")


@dataclass(frozen=True)
class Stack:
    """Everything a stack rule sees: all resources, plus the plan's cost estimate when it has one."""

    resources: Sequence[PolicyResource]
    monthly_usd: float | None = None

    @property
    def students(self) -> list[str]:
        return sorted({r.student for r in self.resources if r.student})


@dataclass(frozen=True)
class Finding:
    """What a rule function reports: a "must" sentence, and the resource it is about (None = the stack)."""

    message: str
    resource: PolicyResource | None = None


ResourceCheck = Callable[[PolicyResource, Any], Iterable[str]]
StackCheck = Callable[[Stack, Any], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One policy: metadata plus a pure function. `types` is None for a stack-level rule."""

    name: str
    pack: Pack
    description: str
    enforcement: Level
    types: frozenset[str] | None
    config: type[RuleConfig]
    check: ResourceCheck | StackCheck

    def __post_init__(self) -> None:
        if not KEBAB.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be kebab-case")
        if not self.description.startswith("Checks whether"):
            raise ValueError(f"rule {self.name}: description must start 'Checks whether'")

    @property
    def stack_level(self) -> bool:
        return self.types is None

    def applies_to(self, type_token: str) -> bool:
        """`*` in `types` means every cloud resource (not providers, not the stack)."""
        if self.types is None:
            return False
        return type_token in self.types or ("*" in self.types and not type_token.startswith("pulumi:"))


def resource_rule(
    name: str,
    *,
    pack: Pack,
    description: str,
    types: Iterable[str],
    enforcement: Level = "mandatory",
    config: type[RuleConfig] = NoConfig,
) -> Callable[[ResourceCheck], Rule]:
    """Make `fn(resource, config) -> messages` into a resource Rule."""

    def wrap(fn: ResourceCheck) -> Rule:
        return Rule(name, pack, description, enforcement, frozenset(types), config, fn)

    return wrap


def stack_rule(
    name: str,
    *,
    pack: Pack,
    description: str,
    enforcement: Level = "mandatory",
    config: type[RuleConfig] = NoConfig,
) -> Callable[[StackCheck], Rule]:
    """Make `fn(stack, config) -> findings` into a stack-level Rule."""

    def wrap(fn: StackCheck) -> Rule:
        return Rule(name, pack, description, enforcement, None, config, fn)

    return wrap


@dataclass(frozen=True)
class Violation:
    policy: str
    pack: Pack
    level: Level
    resource_type: str
    resource_name: str
    urn: str
    student: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "pack": self.pack,
            "level": self.level,
            "resource_type": self.resource_type,
            "resource_name": self.resource_name,
            "urn": self.urn,
            "student": self.student,
            "message": self.message,
        }


@dataclass(frozen=True)
class PolicyInfo:
    """A policy as it ran: name, pack, description and the enforcement level in effect."""

    name: str
    pack: Pack
    description: str
    level: Level


@dataclass(frozen=True)
class Summary:
    mandatory: int
    advisory: int
    resources_checked: int
    policies: int


@dataclass(frozen=True)
class PolicyReport:
    """The one result of a policy run; every renderer is a function of this object."""

    violations: tuple[Violation, ...]
    summary: Summary
    policies: tuple[PolicyInfo, ...]

    @property
    def passed(self) -> bool:
        """True when no mandatory violation: the exit code is 0."""
        return self.summary.mandatory == 0


SECRET = "[secret]"
UNKNOWN = "[unknown]"
UNEVALUABLE = (SECRET, UNKNOWN)
# How Pulumi's state marks a secret: {SECRET_SIG_KEY: SECRET_SIG, "ciphertext"|"plaintext": ...}.
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
# Pulumi's wire sentinels for values not known until the update runs (bool, number, string, array,
# asset, archive, object).
UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)


def plain_props(value: Any) -> Any:
    """Normalise property values for rules: secrets → "[secret]", unknowns → "[unknown]".

    Rules treat both as "cannot be read": never a violation by themselves.
    """
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return SECRET
        return {k: plain_props(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_props(v) for v in value]
    if isinstance(value, str) and value in UNKNOWN_SENTINELS:
        return UNKNOWN
    return value
