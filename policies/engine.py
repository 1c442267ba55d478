"""Run rules over resources offline: apply the policy config (with our defaults), collect violations.

The config has the shape of Pulumi's `--policy-pack-config` file, keyed by policy name:
`{"tags-required": "advisory", "cost-budget-limit": {"maxBudgetUsd": 20}, "all": "mandatory"}`.
Pulumi applies schema defaults itself when it runs a pack; offline, this module does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from pydantic import ValidationError

from labctl.labs.errors import InputError
from labctl.policies.model import (
    LEVELS,
    PACKS,
    Finding,
    Level,
    PolicyInfo,
    PolicyReport,
    PolicyResource,
    Rule,
    RuleConfig,
    Stack,
    Summary,
    Violation,
)
from labctl.policies.rules import ALL_RULES, RULES_BY_NAME

ALL_KEY = "all"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class PolicySettings:
    """One policy's settings after config: enforcement level and validated config (defaults filled)."""

    level: Level
    config: RuleConfig


def parse_level(value: Any, name: str, where: str) -> Level:
    # Our rules never remediate, so a "remediate" level blocks like Pulumi's fallback does.
    if value == "remediate":
        return "mandatory"
    if value not in LEVELS:
        raise InputError(
            f"{name}.enforcementLevel must be one of {', '.join(LEVELS)} (got {value!r})", where
        )
    return value


def first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"]) or "(config)"
    return f"{field}: {error['msg']}"


def resolve_config(
    config: Mapping[str, Any] | None, where: str = "--config", rules: Iterable[Rule] = ALL_RULES
) -> dict[str, PolicySettings]:
    """Validate a policy-pack config and return the settings of every rule (defaults applied)."""
    config = {} if config is None else config
    if not isinstance(config, Mapping):
        raise InputError("policy config must be a JSON object keyed by policy name", where)
    unknown = sorted(set(config) - set(RULES_BY_NAME) - {ALL_KEY})
    if unknown:
        raise InputError(
            f"unknown policy {unknown[0]!r} in policy config (known: {', '.join(sorted(RULES_BY_NAME))})",
            where,
        )
    default_level: Level | None = None
    if ALL_KEY in config:
        entry = config[ALL_KEY]
        raw = entry.get("enforcementLevel") if isinstance(entry, Mapping) else entry
        default_level = parse_level(raw, ALL_KEY, where)
    settings: dict[str, PolicySettings] = {}
    for rule in rules:
        entry = config.get(rule.name, {})
        level = default_level or rule.enforcement
        if isinstance(entry, str):
            level, entry = parse_level(entry, rule.name, where), {}
        elif not isinstance(entry, Mapping):
            raise InputError(f"{rule.name} must be an enforcement level or an object", where)
        entry = dict(entry)
        if "enforcementLevel" in entry:
            level = parse_level(entry.pop("enforcementLevel"), rule.name, where)
        try:
            settings[rule.name] = PolicySettings(level, rule.config.model_validate(entry))
        except ValidationError as exc:
            raise InputError(f"{rule.name}.{first_error(exc)}", where) from None
    return settings


def run_rule(rule: Rule, config: RuleConfig, resources: Sequence[PolicyResource], stack: Stack) -> list[Finding]:
    """The findings of one rule: over each resource it applies to, or over the whole stack."""
    if rule.stack_level:
        return list(rule.check(stack, config))
    return [
        Finding(message, resource)
        for resource in resources
        if rule.applies_to(resource.type)
        for message in rule.check(resource, config)
    ]


def to_violation(rule: Rule, level: Level, finding: Finding) -> Violation:
    resource = finding.resource
    return Violation(
        policy=rule.name,
        pack=rule.pack,
        level=level,
        resource_type=resource.type if resource else STACK_TYPE,
        resource_name=resource.name if resource else "",
        urn=resource.urn if resource else "",
        student=resource.student if resource else None,
        message=finding.message,
    )


def evaluate(
    resources: list[PolicyResource],
    config: Mapping[str, Any] | None = None,
    packs: Iterable[str] = PACKS,
    *,
    monthly_usd: float | None = None,
    config_where: str = "--config",
) -> PolicyReport:
    """Check `resources` against every enabled rule of `packs`; bad config raises InputError."""
    packs = tuple(packs)
    for pack in packs:
        if pack not in PACKS:
            raise InputError(f"unknown policy pack {pack!r} (known: {', '.join(PACKS)})", "--pack")
    settings = resolve_config(config, config_where)
    stack = Stack(tuple(resources), monthly_usd)
    violations: list[Violation] = []
    ran: list[PolicyInfo] = []
    for rule in ALL_RULES:
        setting = settings[rule.name]
        if rule.pack not in packs or setting.level == "disabled":
            continue
        ran.append(PolicyInfo(rule.name, rule.pack, rule.description, setting.level))
        violations.extend(
            to_violation(rule, setting.level, f) for f in run_rule(rule, setting.config, stack.resources, stack)
        )
    summary = Summary(
        mandatory=sum(v.level == "mandatory" for v in violations),
        advisory=sum(v.level == "advisory" for v in violations),
        resources_checked=len(resources),
        policies=len(ran),
    )
    return PolicyReport(tuple(violations), summary, tuple(ran))
