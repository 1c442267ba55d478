"""NetworkPolicy checks: who may reach a deployment's or a tier's pods, on which ports, and no allow-all."""

from __future__ import annotations

from typing import Any, Literal, Mapping

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import (
    NAMESPACE_NAME_LABEL,
    READS,
    DeploymentParams,
    NamespaceParams,
    containers,
    deployment_or_result,
    dig,
    pod_template,
    template_labels,
)
from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result, check


class NetworkPolicyParams(DeploymentParams):
    from_labels: dict[str, str] = Field(min_length=1)


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a pod's labels; {} selects all."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def selector_requires(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """True when every pod the selector matches carries all of `labels`."""
    selector = selector or {}
    match = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    for key, value in labels.items():
        pinned = match.get(key) == value or any(
            e.get("key") == key and e.get("operator") == "In" and (e.get("values") or []) == [value]
            for e in expressions
        )
        if not pinned:
            return False
    return True


def pinned_to(selector: Mapping[str, Any] | None, namespace: str) -> bool:
    """True when a namespaceSelector can only match `namespace` (by its immutable name label)."""
    return selector_requires(selector, {NAMESPACE_NAME_LABEL: namespace})


def peer_problem(peer: Mapping[str, Any], labels: Mapping[str, str], namespace: str) -> str | None:
    """Why an ingress peer admits more than this namespace's pods carrying `labels`; None if it does not."""
    wanted = ",".join(f"{k}={v}" for k, v in labels.items())
    if "ipBlock" in peer:
        return f"allows the IP block {dig(peer, 'ipBlock', 'cidr')}"
    if "namespaceSelector" in peer and not pinned_to(peer.get("namespaceSelector"), namespace):
        return "allows pods of other namespaces (namespaceSelector)"
    if not selector_requires(peer.get("podSelector"), labels):
        return f"allows pods that are not labelled {wanted}"
    return None


def ingress_policies(inv: KubernetesInventory, pod_labels: Mapping[str, str]) -> list[KubeObject]:
    """The NetworkPolicies that restrict ingress to pods with `pod_labels`, sorted by name."""
    return [
        policy
        for _, policy in sorted(inv.network_policies.items())
        if selector_matches(dig(policy, "spec", "podSelector"), pod_labels)
        and "Ingress" in (dig(policy, "spec", "policyTypes") or ["Ingress"])
    ]


@check(
    "k8s.netpol-ingress-from",
    title="A NetworkPolicy lets only {from_labels} pods reach {deployment}",
    reads=READS,
    params=NetworkPolicyParams,
)
def netpol_ingress_from(inv: KubernetesInventory, p: NetworkPolicyParams) -> Result:
    """Ingress policies are additive: every policy selecting the pods must allow only `from_labels`."""
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    labels = template_labels(deployment)
    selecting = ingress_policies(inv, labels)
    if not selecting:
        return Result.failed(
            f"no NetworkPolicy with ingress rules selects the pods of deployment {p.deployment}",
            hint="a NetworkPolicy whose podSelector matches the web pods, with policyTypes [Ingress]",
        )
    problems, allowed = [], False
    for policy in selecting:
        name = dig(policy, "metadata", "name")
        for number, rule in enumerate(dig(policy, "spec", "ingress") or [], 1):
            peers = rule.get("from") or []
            if not peers:
                problems.append(f"{name} rule {number} allows ingress from everywhere")
                continue
            for peer in peers:
                problem = peer_problem(peer, p.from_labels, inv.namespace)
                if problem:
                    problems.append(f"{name} rule {number} {problem}")
                else:
                    allowed = True
    if problems:
        return Result.failed("; ".join(problems))
    if not allowed:
        wanted = ",".join(f"{k}={v}" for k, v in p.from_labels.items())
        return Result.failed(f"the policies deny all ingress; pods labelled {wanted} must be allowed in")
    return Result.passed()


def shown_labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


class DefaultDenyParams(Params):
    policy_types: list[Literal["Ingress", "Egress"]] = Field(default_factory=lambda: ["Ingress"], min_length=1)


class TierParams(Params):
    to_labels: dict[str, str] = Field(min_length=1)
    from_labels: dict[str, str] = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)


class TierPortsParams(Params):
    to_labels: dict[str, str] = Field(min_length=1)
    ports: list[int] = Field(min_length=1)


def selects_everything(selector: Mapping[str, Any] | None) -> bool:
    return not (dig(selector, "matchLabels") or dig(selector, "matchExpressions"))


@check(
    "k8s.netpol-default-deny",
    title="A NetworkPolicy denies all {policy_types} traffic by default",
    reads=READS,
    params=DefaultDenyParams,
)
def netpol_default_deny(inv: KubernetesInventory, p: DefaultDenyParams) -> Result:
    rules_key = {"Ingress": "ingress", "Egress": "egress"}
    for _, policy in sorted(inv.network_policies.items()):
        spec = dig(policy, "spec") or {}
        types = spec.get("policyTypes") or ["Ingress"]
        if (
            selects_everything(spec.get("podSelector"))
            and all(t in types for t in p.policy_types)
            and not any(spec.get(rules_key[t]) for t in p.policy_types)
        ):
            return Result.passed()
    return Result.failed(
        f"no NetworkPolicy selects every pod (podSelector: {{}}) with policyTypes [{', '.join(p.policy_types)}] "
        "and no rules for them",
        hint="a policy named default-deny: {podSelector: {}, policyTypes: [Ingress]}",
    )


def tier_labels(inv: KubernetesInventory, labels: Mapping[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(deployment, pod labels) of every Deployment whose pods carry `labels`."""
    return [
        (name, template_labels(d))
        for name, d in sorted(inv.deployments.items())
        if all(template_labels(d).get(k) == v for k, v in labels.items())
    ]


def named_ports(deployment: KubeObject) -> dict[str, int]:
    """The container ports of a deployment's pods by name: what a NetworkPolicy's named port is on them."""
    return {
        port["name"]: port["containerPort"]
        for container in containers(pod_template(deployment))
        for port in container.get("ports") or []
        if port.get("name")
    }


def opened_ports(entry: Mapping[str, Any], names: Mapping[str, int]) -> range | None:
    """The ports one `ports` entry opens on pods with these named ports; None for every port.

    A named port opens the pods' container port of that name, and nothing on pods without one."""
    first = entry.get("port")
    if first is None:
        return None
    if isinstance(first, str):
        number = names.get(first)
        return range(0) if number is None else range(number, number + 1)
    return range(first, (entry.get("endPort") or first) + 1)


def rule_allows_port(rule: Mapping[str, Any], port: int | None, names: Mapping[str, int]) -> bool:
    ports = rule.get("ports") or []
    if port is None or not ports:
        return True
    for entry in ports:
        opened = opened_ports(entry, names)
        if opened is None or port in opened:
            return True
    return False


@check(
    "k8s.netpol-tier",
    title="Only {from_labels} pods reach {to_labels} pods",
    reads=READS,
    params=TierParams,
)
def netpol_tier(inv: KubernetesInventory, p: TierParams) -> Result:
    """Every policy selecting the target pods may admit only this namespace's `from_labels` pods, and one must."""
    target, source = shown_labels(p.to_labels), shown_labels(p.from_labels)
    tiers = tier_labels(inv, p.to_labels)
    if not tiers:
        return Result.skipped(f"no deployment's pods are labelled {target}")
    on_port = f" on port {p.port}" if p.port else ""
    problems: list[str] = []
    for deployment, labels in tiers:
        policies = ingress_policies(inv, labels)
        if not policies:
            problems.append(f"no NetworkPolicy restricts ingress to the pods of deployment {deployment}")
            continue
        allowed, before = False, len(problems)
        names = named_ports(inv.deployments[deployment])
        for policy in policies:
            name = dig(policy, "metadata", "name")
            for number, rule in enumerate(dig(policy, "spec", "ingress") or [], 1):
                peers = rule.get("from") or []
                if not peers:
                    problems.append(f"{name} rule {number} allows ingress to {target} from everywhere")
                for peer in peers:
                    problem = peer_problem(peer, p.from_labels, inv.namespace)
                    if problem:
                        problems.append(f"{name} rule {number} {problem}")
                    elif rule_allows_port(rule, p.port, names):
                        allowed = True
        if not allowed and len(problems) == before:
            problems.append(f"no rule lets {source} pods reach the pods of deployment {deployment}{on_port}")
    if problems:
        return Result.failed("; ".join(dict.fromkeys(problems)))
    return Result.passed()


def shown_ports(entry: Mapping[str, Any], opened: range) -> str:
    """`5432`, `5432-5434`, or a named port with the number it is on the pods: `metrics (9187)`."""
    shown = str(opened.start) if len(opened) == 1 else f"{opened.start}-{opened[-1]}"
    return f"{entry['port']} ({shown})" if isinstance(entry.get("port"), str) else shown


@check(
    "k8s.netpol-ports",
    title="Ingress to {to_labels} pods is limited to ports {ports}",
    reads=READS,
    params=TierPortsParams,
)
def netpol_ports(inv: KubernetesInventory, p: TierPortsParams) -> Result:
    target = shown_labels(p.to_labels)
    tiers = tier_labels(inv, p.to_labels)
    if not tiers:
        return Result.skipped(f"no deployment's pods are labelled {target}")
    problems: list[str] = []
    for deployment, labels in tiers:
        names = named_ports(inv.deployments[deployment])
        for policy in ingress_policies(inv, labels):
            name = dig(policy, "metadata", "name")
            for number, rule in enumerate(dig(policy, "spec", "ingress") or [], 1):
                ports = rule.get("ports") or []
                if not ports:
                    problems.append(f"{name} rule {number} allows every port")
                for entry in ports:
                    opened = opened_ports(entry, names)
                    if opened is None:
                        problems.append(f"{name} rule {number} allows every {entry.get('protocol', 'TCP')} port")
                    elif any(port not in p.ports for port in opened):
                        problems.append(f"{name} rule {number} allows port {shown_ports(entry, opened)}")
    if problems:
        return Result.failed(f"ingress to {target} pods: " + "; ".join(dict.fromkeys(problems)))
    return Result.passed()


OPEN_CIDRS = ("0.0.0.0/0", "::/0")


@check(
    "k8s.netpol-no-allow-all",
    title="No NetworkPolicy admits traffic from everywhere",
    reads=READS,
    params=NamespaceParams,
)
def netpol_no_allow_all(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    """Policies add up: one rule open to everything undoes a default deny for the pods it selects."""
    problems = []
    for name, policy in sorted(inv.network_policies.items()):
        for number, rule in enumerate(dig(policy, "spec", "ingress") or [], 1):
            peers = rule.get("from") or []
            if not peers:
                problems.append(f"{name} rule {number} has no from: it admits every source")
            for peer in peers:
                if dig(peer, "ipBlock", "cidr") in OPEN_CIDRS:
                    problems.append(f"{name} rule {number} admits the IP block {dig(peer, 'ipBlock', 'cidr')}")
                elif "namespaceSelector" in peer and selects_everything(peer.get("namespaceSelector")) and (
                    selects_everything(peer.get("podSelector"))
                ):
                    problems.append(f"{name} rule {number} admits every pod of every namespace")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()
