"""Translate our Rules into pulumi_policy policies (DESIGN decision 1: a thin adapter).

Building the policy list is side-effect free, so tests can inspect it; only a pack's `__main__.py`
constructs the `PolicyPack` (which starts a gRPC server and blocks).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from labctl.policies.loaders import owner_of, provider_default_tags
from labctl.policies.model import PolicyResource, Rule, RuleConfig, Stack, plain_props
from labctl.policies.rules import rules_for

LEVELS = {
    "mandatory": EnforcementLevel.MANDATORY,
    "advisory": EnforcementLevel.ADVISORY,
    "disabled": EnforcementLevel.DISABLED,
}


def unwrap(value: Any) -> Any:
    """Plain dicts/lists from pulumi_policy's unknown-checking proxies (unknowns stay sentinels)."""
    if isinstance(value, (str, bytes)) or value is None:
        return value
    if isinstance(value, Mapping):
        inner = value if isinstance(value, dict) else value["__target"]
        return {k: unwrap(v) for k, v in inner.items()}
    if isinstance(value, Sequence):
        inner = value if isinstance(value, list) else value["__target"]
        return [unwrap(v) for v in inner]
    return value


def config_schema(model: type[RuleConfig]) -> PolicyConfigSchema | None:
    """Pulumi's config schema (JSON schema per property, with defaults) from a rule's pydantic model."""
    properties = model.model_json_schema(by_alias=True).get("properties", {})
    cleaned = {name: {k: v for k, v in schema.items() if k != "title"} for name, schema in properties.items()}
    return PolicyConfigSchema(properties=cleaned) if cleaned else None


def rule_config(rule: Rule, raw: Mapping[str, Any] | None) -> RuleConfig:
    """Pulumi fills schema defaults; validating through our model fills them again if it did not."""
    settings = {k: v for k, v in unwrap(raw or {}).items() if k != "enforcementLevel"}
    return rule.config.model_validate(settings)


def as_resource(type_token: str, name: str, urn: str, props: Any, provider_props: Any = None) -> PolicyResource:
    props = plain_props(unwrap(props))
    defaults = provider_default_tags(plain_props(unwrap(provider_props))) if provider_props is not None else {}
    student, prefix = owner_of(props, defaults)
    return PolicyResource(type_token, name, urn, props, student, prefix, defaults)


def resource_validator(rule: Rule):
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if not rule.applies_to(args.resource_type):
            return
        provider = args.provider.props if args.provider is not None else None
        resource = as_resource(args.resource_type, args.name, args.urn, args.props, provider)
        for message in rule.check(resource, rule_config(rule, args.get_config())):
            report_violation(message, args.urn)

    return validate


def stack_validator(rule: Rule):
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [as_resource(r.resource_type, r.name, r.urn, r.props) for r in args.resources]
        for finding in rule.check(Stack(resources), rule_config(rule, args.get_config())):
            report_violation(finding.message, finding.resource.urn if finding.resource else None)

    return validate


def to_pulumi_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    common = dict(
        name=rule.name,
        description=rule.description,
        enforcement_level=LEVELS[rule.enforcement],
        config_schema=config_schema(rule.config),
    )
    if rule.stack_level:
        return StackValidationPolicy(validate=stack_validator(rule), **common)
    return ResourceValidationPolicy(validate=resource_validator(rule), **common)


def pack_policies(pack: str) -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The pulumi_policy policies of pack `isolation` or `cost`, ready for `PolicyPack(policies=...)`."""
    return [to_pulumi_policy(rule) for rule in rules_for(pack)]
