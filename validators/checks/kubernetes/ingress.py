"""Ingress and Service exposure checks: class, routes, TLS, admission, hosts a student may claim."""

from __future__ import annotations

from typing import Any, Mapping

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import READS, NamespaceParams, dig
from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result, check


class IngressParams(Params):
    ingress: str


class IngressClassParams(IngressParams):
    class_name: str


class IngressRouteParams(IngressParams):
    host: str
    path: str = "/"
    path_type: str = "Prefix"
    service: str
    port: int = Field(ge=1, le=65535)


class IngressTlsParams(IngressParams):
    host: str
    secret: str


class DomainParams(Params):
    domain: str


def ingress_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    ingress = inv.ingresses.get(name)
    if ingress is None:
        return Result.skipped(f"ingress {name} does not exist in namespace {inv.namespace}")
    return ingress


@check(
    "k8s.ingress-class", title="Ingress {ingress} names class {class_name}", reads=READS, params=IngressClassParams
)
def ingress_class(inv: KubernetesInventory, p: IngressClassParams) -> Result:
    ingress = ingress_or_result(inv, p.ingress)
    if isinstance(ingress, Result):
        return ingress
    name = dig(ingress, "spec", "ingressClassName")
    if name == p.class_name:
        return Result.passed()
    if name is None:
        legacy = dig(ingress, "metadata", "annotations", "kubernetes.io/ingress.class")
        detail = " (the kubernetes.io/ingress.class annotation is deprecated)" if legacy else ""
        return Result.failed(f"ingress {p.ingress} has no spec.ingressClassName{detail}, expected {p.class_name}")
    return Result.failed(f"ingress {p.ingress} has ingressClassName {name}, expected {p.class_name}")


def backend_port_matches(backend_port: Mapping[str, Any], service: KubeObject | None, port: int) -> bool:
    """An Ingress backend port given by number, or by the name of a Service port that is `port`."""
    if backend_port.get("number") is not None:
        return backend_port.get("number") == port
    named = backend_port.get("name")
    return any(sp.get("name") == named and sp.get("port") == port for sp in dig(service, "spec", "ports") or [])


@check(
    "k8s.ingress-route",
    title="Ingress {ingress} routes {host}{path} to service {service} port {port}",
    reads=READS,
    params=IngressRouteParams,
)
def ingress_route(inv: KubernetesInventory, p: IngressRouteParams) -> Result:
    ingress = inv.ingresses.get(p.ingress)
    if ingress is None:
        return Result.failed(
            f"ingress {p.ingress} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create ingress {p.ingress} --rule={p.host}{p.path}*={p.service}:{p.port}",
        )
    rules = dig(ingress, "spec", "rules") or []
    hosts = [rule.get("host") or "(any host)" for rule in rules]
    rule = next((r for r in rules if r.get("host") == p.host), None)
    if rule is None:
        return Result.failed(
            f"ingress {p.ingress} has no rule for host {p.host} (rules: {', '.join(hosts) or 'none'})"
        )
    paths = dig(rule, "http", "paths") or []
    match = next((x for x in paths if (x.get("path") or "/") == p.path), None)
    if match is None:
        found = ", ".join(x.get("path") or "/" for x in paths) or "none"
        return Result.failed(f"ingress {p.ingress} host {p.host} has no path {p.path} (paths: {found})")
    problems = []
    if match.get("pathType") != p.path_type:
        problems.append(f"pathType is {match.get('pathType')}, expected {p.path_type}")
    backend = dig(match, "backend", "service") or {}
    service = inv.service(backend.get("name") or "")
    if backend.get("name") != p.service:
        problems.append(f"the backend is service {backend.get('name') or '(none)'}, expected {p.service}")
    elif service is None:
        problems.append(f"its backend service {p.service} does not exist")
    elif not backend_port_matches(backend.get("port") or {}, service, p.port):
        shown_port = dig(backend, "port", "number") or dig(backend, "port", "name")
        problems.append(f"the backend port is {shown_port}, expected {p.port}")
    elif p.port not in [sp.get("port") for sp in dig(service, "spec", "ports") or []]:
        problems.append(f"service {p.service} does not expose port {p.port}")
    if problems:
        return Result.failed(f"ingress {p.ingress} {p.host}{p.path}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.ingress-tls",
    title="Ingress {ingress} serves {host} over TLS with secret {secret}",
    reads=READS,
    params=IngressTlsParams,
)
def ingress_tls(inv: KubernetesInventory, p: IngressTlsParams) -> Result:
    ingress = ingress_or_result(inv, p.ingress)
    if isinstance(ingress, Result):
        return ingress
    entries = [t for t in dig(ingress, "spec", "tls") or [] if p.host in (t.get("hosts") or [])]
    if not entries:
        return Result.failed(
            f"ingress {p.ingress} has no tls entry for host {p.host}",
            hint=f"spec.tls: [{{hosts: [{p.host}], secretName: {p.secret}}}]",
        )
    names = [t.get("secretName") for t in entries]
    if p.secret not in names:
        shown = ", ".join(name or "(none)" for name in names)
        return Result.failed(f"the tls entry for {p.host} uses secret {shown}, expected {p.secret}")
    secret = inv.secrets.get(p.secret)
    if secret is None:
        return Result.failed(
            f"secret {p.secret} does not exist",
            hint=f"kubectl -n {inv.namespace} create secret tls {p.secret} --cert=tls.crt --key=tls.key",
        )
    missing = [k for k in ("tls.crt", "tls.key") if k not in secret.get("keys", [])]
    if secret.get("type") != "kubernetes.io/tls" or missing:
        detail = f"; it has no {', '.join(missing)}" if missing else ""
        return Result.failed(f"secret {p.secret} has type {secret.get('type')}, expected kubernetes.io/tls{detail}")
    return Result.passed()


@check("k8s.ingress-admitted", title="Ingress {ingress} has an address", reads=READS, params=IngressParams)
def ingress_admitted(inv: KubernetesInventory, p: IngressParams) -> Result:
    ingress = ingress_or_result(inv, p.ingress)
    if isinstance(ingress, Result):
        return ingress
    addresses = [a.get("ip") or a.get("hostname") for a in dig(ingress, "status", "loadBalancer", "ingress") or []]
    if any(addresses):
        return Result.passed()
    return Result.failed(
        f"ingress {p.ingress} has no address yet: no ingress controller has admitted it",
        hint=f"kubectl -n {inv.namespace} describe ingress {p.ingress} (is ingressClassName right?)",
    )


def host_inside(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


@check(
    "k8s.ingress-own-hosts",
    title="Every Ingress only claims hosts under {domain}",
    reads=READS,
    params=DomainParams,
)
def ingress_own_hosts(inv: KubernetesInventory, p: DomainParams) -> Result:
    """On a shared controller a rule without a host, a default backend or another host takes others' traffic."""
    problems = []
    for name, ingress in sorted(inv.ingresses.items()):
        if dig(ingress, "spec", "defaultBackend"):
            problems.append(f"ingress {name} sets a defaultBackend (it catches every unmatched host)")
        for number, rule in enumerate(dig(ingress, "spec", "rules") or [], 1):
            host = rule.get("host")
            if not host:
                problems.append(f"ingress {name} rule {number} has no host (it catches every host)")
            elif not host_inside(host, p.domain):
                problems.append(f"ingress {name} rule {number} claims host {host}, outside {p.domain}")
        for tls in dig(ingress, "spec", "tls") or []:
            for host in tls.get("hosts") or []:
                if not host_inside(host, p.domain):
                    problems.append(f"ingress {name} tls claims host {host}, outside {p.domain}")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


@check(
    "k8s.no-external-services",
    title="No Service is exposed outside the cluster",
    reads=READS,
    params=NamespaceParams,
)
def no_external_services(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    """NodePort and LoadBalancer Services (and externalIPs) bypass the ingress, and load balancers cost money."""
    problems = []
    for name, svc in sorted(inv.services.items()):
        kind = dig(svc, "spec", "type") or "ClusterIP"
        if kind in ("NodePort", "LoadBalancer"):
            problems.append(f"service {name} is of type {kind}")
        if dig(svc, "spec", "externalIPs"):
            problems.append(f"service {name} sets externalIPs")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()
