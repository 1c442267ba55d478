"""Turn the three inputs of `labctl policy check` into PolicyResources.

- a labctl plan (`labctl plan --format json`): students with their resources and inputs;
- `pulumi preview --json`: a digest whose `steps[].newState` is each resource's future state;
- `pulumi stack export`: `{"version": 3, "deployment": {"resources": [...]}}`.

Preview and export carry no student: it comes from the `labctl:*` tags (own or the AWS provider's
`defaultTags`), else from the nearest parent that has them. Anything malformed raises InputError
naming the file and what is wrong, on one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Mapping

from labctl.labs.errors import InputError
from labctl.policies.model import TAG_COHORT, TAG_STUDENT, UNEVALUABLE, PolicyResource, plain_props

Kind = Literal["plan", "preview", "stack-export"]
KINDS: tuple[Kind, ...] = ("plan", "preview", "stack-export")
# Preview steps that leave no resource behind, and reads of resources the program does not own.
SKIPPED_OPS = frozenset({"delete", "delete-replaced", "discard", "read", "read-replacement", "read-discard"})
SUPPORTED_DEPLOYMENT_VERSIONS = (3,)
# Kubernetes spells the ownership tags as labels (':' is not allowed in label keys).
K8S_STUDENT_LABEL, K8S_COHORT_LABEL = "labctl/student", "labctl/cohort"


@dataclass(frozen=True)
class PolicyInput:
    """What the engine needs from an input file: the resources, and the plan's cost estimate if any."""

    resources: list[PolicyResource]
    monthly_usd: float | None = None


def need(value: Any, kind: type | tuple[type, ...], path: str, where: str, what: str) -> Any:
    """`value` if it is a `kind` (never a bool: JSON true is no number), else InputError at `path`."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InputError(f"{path} must be {what}", where)
    return value


def if_none(value: Any, default: Any) -> Any:
    return default if value is None else value


def split_urn(urn: Any, path: str, where: str) -> tuple[str, str]:
    """(type token, name) of `urn:pulumi:<stack>::<project>::<parent$...$type>::<name>`."""
    parts = urn.split("::", 3) if isinstance(urn, str) else []
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:") or not parts[2]:
        raise InputError(f"{path} must be a Pulumi URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)", where)
    return parts[2].rsplit("$", 1)[-1], parts[3]


def known(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and value not in UNEVALUABLE


def tag_owner(tags: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(student, prefix) from labctl tags; prefix = <cohort>-<student> (DESIGN decision 7)."""
    student, cohort = tags.get(TAG_STUDENT), tags.get(TAG_COHORT)
    if not known(student):
        return None, None
    return student, f"{cohort}-{student}" if known(cohort) else None


def owner_of(props: Mapping[str, Any], default_tags: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The owner from AWS tags (own over the provider's defaults), else from Kubernetes labels."""
    own = props.get("tags")
    student, prefix = tag_owner({**default_tags, **(own if isinstance(own, dict) else {})})
    if student:
        return student, prefix
    metadata = props.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    if not isinstance(labels, dict):
        return None, None
    return tag_owner({TAG_STUDENT: labels.get(K8S_STUDENT_LABEL), TAG_COHORT: labels.get(K8S_COHORT_LABEL)})


def provider_default_tags(inputs: Mapping[str, Any]) -> dict[str, str]:
    """The `defaultTags.tags` of an AWS provider; provider inputs may hold it as a JSON string."""
    default = inputs.get("defaultTags")
    if isinstance(default, str):
        try:
            default = json.loads(default)
        except ValueError:
            return {}
    tags = default.get("tags") if isinstance(default, dict) else None
    if not isinstance(tags, dict):
        return {}
    return {k: v for k, v in tags.items() if isinstance(v, str)}


@dataclass
class RawResource:
    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str | None
    provider: str | None
    student: str | None = None
    prefix: str | None = None


def optional_str(value: Any, path: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    return need(value, str, path, where, "a string")


def raw_from_state(state: Any, path: str, where: str) -> RawResource:
    """A resource from a Pulumi state object (preview newState or stack export resource)."""
    need(state, dict, path, where, "an object")
    urn = state.get("urn")
    type_token, name = split_urn(urn, f"{path}.urn", where)
    declared = state.get("type", type_token)
    need(declared, str, f"{path}.type", where, "a type token string")
    inputs = need(if_none(state.get("inputs"), {}), dict, f"{path}.inputs", where, "an object")
    return RawResource(
        type=declared,
        name=name,
        urn=urn,
        inputs=plain_props(inputs),
        parent=optional_str(state.get("parent"), f"{path}.parent", where),
        provider=optional_str(state.get("provider"), f"{path}.provider", where),
    )


def resolve(raws: list[RawResource]) -> list[PolicyResource]:
    """Attach owners (own tags, else the nearest tagged parent) and provider default tags."""
    by_urn = {r.urn: r for r in raws}

    def provider_of(raw: RawResource) -> RawResource | None:
        if raw.provider is None:
            return None
        # A provider reference is `<urn>::<id>`; plans may give the bare URN.
        return by_urn.get(raw.provider) or by_urn.get(raw.provider.rsplit("::", 1)[0])

    defaults: dict[str, dict[str, str]] = {}
    for raw in raws:
        provider = provider_of(raw)
        defaults[raw.urn] = provider_default_tags(provider.inputs) if provider else {}
        if raw.student is None:
            raw.student, raw.prefix = owner_of(raw.inputs, defaults[raw.urn])

    def owner(raw: RawResource) -> tuple[str | None, str | None]:
        seen: set[str] = set()
        node: RawResource | None = raw
        while node is not None and node.urn not in seen:
            if node.student:
                return node.student, node.prefix
            seen.add(node.urn)
            node = by_urn.get(node.parent) if node.parent else None
        return None, None

    resources = []
    for raw in raws:
        student, prefix = owner(raw)
        resources.append(
            PolicyResource(raw.type, raw.name, raw.urn, raw.inputs, student, prefix, defaults[raw.urn])
        )
    return resources


def from_plan(data: Any, where: str) -> PolicyInput:
    """Resources of a labctl plan: `{"cohort", "students": [{"student", "prefix", "resources"}], ...}`."""
    need(data, dict, "the plan", where, "a JSON object (labctl plan --format json)")
    students = need(data.get("students"), list, "students", where, "a list")
    raws: list[RawResource] = []
    for i, entry in enumerate(students):
        path = f"students[{i}]"
        need(entry, dict, path, where, "an object")
        student = need(entry.get("student"), str, f"{path}.student", where, "a string")
        prefix = need(entry.get("prefix"), str, f"{path}.prefix", where, "a string")
        raws += plan_resources(entry.get("resources"), f"{path}.resources", where, student, prefix)
    if "organization" in data:  # isolation mode `account`: the cohort's OU and SCPs, nobody's own
        organization = need(data["organization"], dict, "organization", where, "an object")
        raws += plan_resources(organization.get("resources"), "organization.resources", where, None, None)
    return PolicyInput(resolve(raws), plan_monthly_usd(data, where))


def plan_resources(items: Any, path: str, where: str, student: str | None, prefix: str | None) -> list[RawResource]:
    raws = []
    for j, item in enumerate(need(items, list, path, where, "a list")):
        rpath = f"{path}[{j}]"
        need(item, dict, rpath, where, "an object")
        type_token = need(item.get("type"), str, f"{rpath}.type", where, "a type token string")
        name = need(item.get("name"), str, f"{rpath}.name", where, "a string")
        urn = need(item.get("urn", ""), str, f"{rpath}.urn", where, "a string")
        inputs = need(if_none(item.get("inputs"), {}), dict, f"{rpath}.inputs", where, "an object")
        raws.append(
            RawResource(
                type=type_token,
                name=name,
                urn=urn or f"{rpath}",
                inputs=plain_props(inputs),
                parent=optional_str(item.get("parent"), f"{rpath}.parent", where),
                provider=optional_str(item.get("provider"), f"{rpath}.provider", where),
                student=student,
                prefix=prefix,
            )
        )
    return raws


def plan_monthly_usd(data: dict[str, Any], where: str) -> float | None:
    cost = data.get("cost")
    if cost is None:
        return None
    need(cost, dict, "cost", where, "an object")
    monthly = cost.get("monthly_usd")
    if monthly is None:
        return None
    need(monthly, (int, float), "cost.monthly_usd", where, "a number")
    return float(monthly)


def from_preview(data: Any, where: str) -> PolicyInput:
    """Resources of `pulumi preview --json`: the newState of every step that keeps a resource."""
    need(data, dict, "the preview", where, "a JSON object (pulumi preview --json)")
    steps = need(data.get("steps", []), list, "steps", where, "a list")
    raws = []
    for i, step in enumerate(steps):
        need(step, dict, f"steps[{i}]", where, "an object")
        state = step.get("newState")
        op = step.get("op")
        if (isinstance(op, str) and op in SKIPPED_OPS) or state is None:
            continue
        raw = raw_from_state(state, f"steps[{i}].newState", where)
        if not state.get("external"):
            raws.append(raw)
    return PolicyInput(resolve(raws))


def from_stack_export(data: Any, where: str) -> PolicyInput:
    """Resources of `pulumi stack export` (deployment version 3), except those pending deletion."""
    need(data, dict, "the stack export", where, "a JSON object (pulumi stack export)")
    version = data.get("version")
    if version not in SUPPORTED_DEPLOYMENT_VERSIONS or isinstance(version, bool):
        raise InputError(
            f"unsupported deployment version {version!r} (labctl reads version 3 of pulumi stack export)",
            where,
        )
    deployment = need(data.get("deployment"), dict, "deployment", where, "an object")
    items = need(if_none(deployment.get("resources"), []), list, "deployment.resources", where, "a list")
    raws = []
    for i, item in enumerate(items):
        raw = raw_from_state(item, f"deployment.resources[{i}]", where)
        if not item.get("delete") and not item.get("external"):
            raws.append(raw)
    return PolicyInput(resolve(raws))


PARSERS = {"plan": from_plan, "preview": from_preview, "stack-export": from_stack_export}


def read_json(path: Path | str) -> Any:
    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", where) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", where) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})", where) from None
    except (ValueError, RecursionError) as exc:
        raise InputError(f"not valid JSON: {exc}", where) from None


DESCRIBED: dict[Kind, tuple[str, str]] = {
    "plan": ("a labctl plan", "--plan"),
    "preview": ("a pulumi preview --json", "--preview-json"),
    "stack-export": ("a pulumi stack export", "--stack-export"),
}


def kind_of(data: Any) -> Kind | None:
    """Which input `data` looks like, by the keys only that kind has."""
    if isinstance(data, dict):
        if "students" in data:
            return "plan"
        if "deployment" in data:
            return "stack-export"
        if "steps" in data or "diagnostics" in data:
            return "preview"
    return None


def first_diagnostic(data: dict) -> str:
    diagnostics = data.get("diagnostics")
    messages = [d.get("message") for d in diagnostics if isinstance(d, dict)] if isinstance(diagnostics, list) else []
    text = next((m.strip().splitlines()[0] for m in messages if isinstance(m, str) and m.strip()), "")
    count = len(diagnostics) if isinstance(diagnostics, list) else 0
    return f"{count} diagnostic{'' if count == 1 else 's'}" + (f", the first: {text[:200]}" if text else "")


def nothing_found(data: Any, kind: Kind) -> str:
    """What an input that holds no resource to check holds instead, in a phrase."""
    if kind == "preview":
        steps = data.get("steps") or []
        if steps:
            return f"the preview's {len(steps)} step(s) leave no resource (deletes, reads and external resources only)"
        if data.get("diagnostics"):
            return f"the preview has no steps, only {first_diagnostic(data)} (did pulumi preview fail?)"
        return "the preview has no steps" + (f" (keys: {', '.join(map(str, data))})" if data else " (an empty object)")
    if kind == "plan":
        return "the plan has no students" if not data["students"] else "the plan's students have no resources"
    return "the stack export has no resources (pending deletion and external ones are not checked)"


def load(data: Any, kind: Kind, where: str) -> PolicyInput:
    """Parse already-read JSON `data` of input `kind`. Input of another kind, or input with no
    resource for the policies to check (a gate must not pass on nothing), is an InputError."""
    if kind not in PARSERS:
        raise InputError(f"unknown input kind {kind!r} (known: {', '.join(KINDS)})", where)
    found = kind_of(data)
    if found is not None and found != kind:
        (found_what, flag), (wanted, _) = DESCRIBED[found], DESCRIBED[kind]
        raise InputError(f"this is {found_what}, not {wanted}: give it with {flag}", where)
    try:
        loaded = PARSERS[kind](data, where)
    except RecursionError:
        raise InputError("input is nested too deeply", where) from None
    if not any(not r.type.startswith("pulumi:") for r in loaded.resources):
        raise InputError(f"no resources to check: {nothing_found(data, kind)}", where)
    return loaded


def load_file(path: Path | str, kind: Kind) -> PolicyInput:
    """Read and parse a plan, preview or stack export file."""
    return load(read_json(path), kind, str(path))
