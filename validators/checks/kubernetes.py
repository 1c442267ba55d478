"""Kubernetes checks: pure functions of one namespace's KubernetesInventory.

Objects are dicts in the API server's JSON shape (validators.inventory.kubernetes).
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Literal, Mapping

from pydantic import Field

from labctl.validators.inventory.kubernetes import KubeObject, KubernetesInventory
from labctl.validators.registry import Params, Result, check

READS = "kubernetes"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
READ_VERBS = ("get", "list", "watch")


class DeploymentParams(Params):
    deployment: str


class ReplicasParams(DeploymentParams):
    replicas: int = Field(ge=0)


class ServiceParams(DeploymentParams):
    service: str
    port: int = Field(ge=1, le=65535)
    type: str = "ClusterIP"


class NetworkPolicyParams(DeploymentParams):
    from_labels: dict[str, str] = Field(min_length=1)


class NamespaceParams(Params):
    """No parameters: the check covers every workload of the student's namespace."""


def deployment_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    deployment = inv.deployment(name)
    if deployment is None:
        return Result.skipped(f"deployment {name} does not exist in namespace {inv.namespace}")
    return deployment


def dig(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def containers(pod_spec: Mapping[str, Any] | None, *, init: bool = False) -> list[Mapping[str, Any]]:
    kinds = ("initContainers", "containers") if init else ("containers",)
    return [c for kind in kinds for c in (dig(pod_spec, kind) or []) if isinstance(c, Mapping)]


def template_labels(deployment: KubeObject) -> dict[str, str]:
    return dict(dig(deployment, "spec", "template", "metadata", "labels") or {})


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


def image_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    tag = name.partition(":")[2]
    return bool(tag) and tag != "latest"


@check(
    "k8s.deployment-replicas",
    title="Deployment {deployment} runs {replicas} replicas",
    reads=READS,
    params=ReplicasParams,
)
def deployment_replicas(inv: KubernetesInventory, p: ReplicasParams) -> Result:
    deployment = inv.deployment(p.deployment)
    if deployment is None:
        return Result.failed(
            f"deployment {p.deployment} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create deployment {p.deployment} ...",
        )
    wanted = dig(deployment, "spec", "replicas")
    wanted = 1 if wanted is None else wanted
    available = dig(deployment, "status", "availableReplicas") or 0
    if wanted != p.replicas:
        return Result.failed(f"deployment {p.deployment} wants {wanted} replicas, expected {p.replicas}")
    if available < p.replicas:
        return Result.failed(
            f"deployment {p.deployment} has {available} of {p.replicas} replicas available",
            hint=f"kubectl -n {inv.namespace} describe deployment {p.deployment}",
        )
    return Result.passed()


@check(
    "k8s.image-pinned", title="Every image of {deployment} is pinned", reads=READS, params=DeploymentParams
)
def images_pinned(inv: KubernetesInventory, p: DeploymentParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    loose = [
        f"{c.get('name')} uses {c.get('image') or '(no image)'}"
        for c in containers(dig(deployment, "spec", "template", "spec"), init=True)
        if not image_pinned(str(c.get("image") or ""))
    ]
    if loose:
        return Result.failed("; ".join(loose) + " (use an explicit tag other than latest, or a digest)")
    return Result.passed()


@check(
    "k8s.resources",
    title="Every container of {deployment} sets requests and limits",
    reads=READS,
    params=DeploymentParams,
)
def resources(inv: KubernetesInventory, p: DeploymentParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    problems = []
    for container in containers(dig(deployment, "spec", "template", "spec")):
        missing = [
            f"{kind}.{resource}"
            for kind in ("requests", "limits")
            for resource in ("cpu", "memory")
            if not dig(container, "resources", kind, resource)
        ]
        if missing:
            problems.append(f"{container.get('name')} has no {', '.join(missing)}")
    if problems:
        return Result.failed(
            "; ".join(problems), hint="resources: {requests: {cpu, memory}, limits: {cpu, memory}}"
        )
    return Result.passed()


@check(
    "k8s.probes",
    title="Every container of {deployment} has readiness and liveness probes",
    reads=READS,
    params=DeploymentParams,
)
def probes(inv: KubernetesInventory, p: DeploymentParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    problems = []
    for container in containers(dig(deployment, "spec", "template", "spec")):
        missing = [probe for probe in ("readinessProbe", "livenessProbe") if not container.get(probe)]
        if missing:
            problems.append(f"{container.get('name')} has no {' and no '.join(missing)}")
    if problems:
        return Result.failed("; ".join(problems), hint="an httpGet probe on port 80 path / works for nginx")
    return Result.passed()


@check(
    "k8s.service",
    title="Service {service} ({type}, port {port}) selects {deployment}'s pods",
    reads=READS,
    params=ServiceParams,
)
def service(inv: KubernetesInventory, p: ServiceParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    svc = inv.service(p.service)
    if svc is None:
        return Result.failed(
            f"service {p.service} does not exist",
            hint=f"kubectl -n {inv.namespace} expose deployment {p.deployment} --name {p.service} --port {p.port}",
        )
    problems = []
    kind = dig(svc, "spec", "type") or "ClusterIP"
    if kind != p.type:
        problems.append(f"type is {kind}, expected {p.type}")
    ports = [port.get("port") for port in dig(svc, "spec", "ports") or []]
    if p.port not in ports:
        problems.append(f"ports are {', '.join(map(str, ports)) or 'none'}, expected {p.port}")
    selector = dig(svc, "spec", "selector") or {}
    labels = template_labels(deployment)
    if not selector:
        problems.append("it has no selector")
    elif any(labels.get(k) != v for k, v in selector.items()):
        shown = ",".join(f"{k}={v}" for k, v in selector.items())
        problems.append(f"its selector {shown} does not match the pods of deployment {p.deployment}")
    if problems:
        return Result.failed(f"service {p.service}: " + "; ".join(problems))
    return Result.passed()


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


def pod_template(workload: KubeObject) -> Mapping[str, Any]:
    """The pod spec a Deployment, Job or CronJob (`spec.jobTemplate`) creates its pods from."""
    spec = dig(workload, "spec", "jobTemplate", "spec") or dig(workload, "spec") or {}
    return dig(spec, "template", "spec") or {}


def owned(obj: KubeObject) -> bool:
    return bool(dig(obj, "metadata", "ownerReferences"))


def pod_specs(inv: KubernetesInventory) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every pod spec the student wrote: workload templates, and pods and jobs no controller owns."""
    for name, deployment in sorted(inv.deployments.items()):
        yield f"deployment {name}", pod_template(deployment)
    for name, cron_job in sorted(inv.cron_jobs.items()):
        yield f"cronjob {name}", pod_template(cron_job)
    for name, job in sorted(inv.jobs.items()):
        if not owned(job):
            yield f"job {name}", pod_template(job)
    for name, pod in sorted(inv.pods.items()):
        if not owned(pod):
            yield f"pod {name}", dig(pod, "spec") or {}


@check(
    "k8s.no-privileged", title="No container runs privileged or as root", reads=READS, params=NamespaceParams
)
def no_privileged(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    """Fails on privileged containers, allowPrivilegeEscalation true, or runAsUser 0 (pod or container)."""
    problems = []
    for owner, spec in pod_specs(inv):
        pod_user = dig(spec, "securityContext", "runAsUser")
        for container in containers(spec, init=True):
            context = container.get("securityContext") or {}
            where = f"{owner} container {container.get('name')}"
            if context.get("privileged"):
                problems.append(f"{where} is privileged")
            if context.get("allowPrivilegeEscalation"):
                problems.append(f"{where} allows privilege escalation")
            user = context.get("runAsUser", pod_user)
            if user == 0:
                problems.append(f"{where} runs as user 0")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


def shown_labels(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in labels.items())


class DeploymentsParams(Params):
    deployments: list[str] = Field(min_length=1)


@check(
    "k8s.deployments-available",
    title="Deployments {deployments} have every wanted replica available",
    reads=READS,
    params=DeploymentsParams,
)
def deployments_available(inv: KubernetesInventory, p: DeploymentsParams) -> Result:
    problems = []
    for name in p.deployments:
        deployment = inv.deployment(name)
        if deployment is None:
            problems.append(f"deployment {name} does not exist")
            continue
        wanted = dig(deployment, "spec", "replicas")
        wanted = 1 if wanted is None else wanted
        available = dig(deployment, "status", "availableReplicas") or 0
        if wanted < 1:
            problems.append(f"deployment {name} is scaled to 0")
        elif available < wanted:
            problems.append(f"deployment {name} has {available} of {wanted} replicas available")
    if problems:
        return Result.failed("; ".join(problems), hint=f"kubectl -n {inv.namespace} get deployments,pods")
    return Result.passed()


# --- Services and Ingresses -------------------------------------------------------------------


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
        return Result.failed(f"the tls entry for {p.host} uses secret {names[0] or '(none)'}, expected {p.secret}")
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


# --- ConfigMaps and Secrets -------------------------------------------------------------------


class ConfigMapParams(Params):
    configmap: str
    keys: list[str] = Field(min_length=1)


class SecretParams(Params):
    secret: str
    keys: list[str] = Field(min_length=1)
    type: str = "Opaque"


class ConfigMapVolumeParams(DeploymentParams):
    configmap: str
    mount_path: str


class SecretEnvParams(DeploymentParams):
    secret: str
    keys: list[str] = Field(min_length=1)


@check(
    "k8s.configmap-keys", title="ConfigMap {configmap} holds {keys}", reads=READS, params=ConfigMapParams
)
def configmap_keys(inv: KubernetesInventory, p: ConfigMapParams) -> Result:
    config_map = inv.config_maps.get(p.configmap)
    if config_map is None:
        return Result.failed(
            f"configmap {p.configmap} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create configmap {p.configmap} --from-literal=... --from-file=...",
        )
    keys = {*(config_map.get("data") or {}), *(config_map.get("binaryData") or {})}
    missing = [k for k in p.keys if k not in keys]
    if missing:
        return Result.failed(f"configmap {p.configmap} has no key {', '.join(missing)}")
    return Result.passed()


@check(
    "k8s.secret-keys", title="Secret {secret} ({type}) holds {keys}", reads=READS, params=SecretParams
)
def secret_keys(inv: KubernetesInventory, p: SecretParams) -> Result:
    """Reads only the Secret's summary (type and key names): the inventory never holds values."""
    secret = inv.secrets.get(p.secret)
    if secret is None:
        return Result.failed(
            f"secret {p.secret} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create secret generic {p.secret} --from-literal=KEY=...",
        )
    problems = []
    if secret.get("type") != p.type:
        problems.append(f"type is {secret.get('type')}, expected {p.type}")
    missing = [k for k in p.keys if k not in secret.get("keys", [])]
    if missing:
        problems.append(f"it has no key {', '.join(missing)}")
    if problems:
        return Result.failed(f"secret {p.secret}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.configmap-volume",
    title="Deployment {deployment} mounts ConfigMap {configmap} at {mount_path}",
    reads=READS,
    params=ConfigMapVolumeParams,
)
def configmap_volume(inv: KubernetesInventory, p: ConfigMapVolumeParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    spec = pod_template(deployment)
    volumes = {
        v.get("name")
        for v in spec.get("volumes") or []
        if dig(v, "configMap", "name") == p.configmap
        or any(dig(source, "configMap", "name") == p.configmap for source in dig(v, "projected", "sources") or [])
    }
    if not volumes:
        return Result.failed(
            f"deployment {p.deployment} has no volume from configmap {p.configmap}",
            hint=f"volumes: [{{name: config, configMap: {{name: {p.configmap}}}}}] and a volumeMount at {p.mount_path}",
        )
    mounts = [
        (c.get("name"), m.get("mountPath"))
        for c in containers(spec)
        for m in c.get("volumeMounts") or []
        if m.get("name") in volumes
    ]
    if any(path.rstrip("/") == p.mount_path.rstrip("/") for _, path in mounts):
        return Result.passed()
    where = ", ".join(f"{c} at {path}" for c, path in mounts) or "no container"
    return Result.failed(f"the configmap {p.configmap} volume is mounted by {where}, expected at {p.mount_path}")


@check(
    "k8s.secret-env",
    title="Deployment {deployment} reads {keys} from Secret {secret}",
    reads=READS,
    params=SecretEnvParams,
)
def secret_env(inv: KubernetesInventory, p: SecretEnvParams) -> Result:
    deployment = deployment_or_result(inv, p.deployment)
    if isinstance(deployment, Result):
        return deployment
    secret = inv.secrets.get(p.secret)
    if secret is None:
        return Result.failed(
            f"secret {p.secret} does not exist, so the pods of deployment {p.deployment} cannot start"
        )
    problems = []
    env = [e for c in containers(pod_template(deployment)) for e in c.get("env") or []]
    env_from_secret = any(
        dig(source, "secretRef", "name") == p.secret
        for c in containers(pod_template(deployment))
        for source in c.get("envFrom") or []
    )
    for key in p.keys:
        referenced = any(
            dig(e, "valueFrom", "secretKeyRef", "name") == p.secret
            and dig(e, "valueFrom", "secretKeyRef", "key") == key
            for e in env
        )
        if referenced or (env_from_secret and key in secret.get("keys", [])):
            continue
        if any(e.get("name") == key and "value" in e for e in env):
            problems.append(f"{key} is a literal env value, not read from secret {p.secret}")
        elif any(e.get("name") == key and dig(e, "valueFrom", "configMapKeyRef") for e in env):
            problems.append(f"{key} is read from a configmap, not from secret {p.secret}")
        else:
            problems.append(f"no container reads {key} from secret {p.secret}")
    if problems:
        return Result.failed(
            "; ".join(problems), hint=f"env: [{{name: KEY, valueFrom: {{secretKeyRef: {{name: {p.secret}, key: KEY}}}}}}]"
        )
    return Result.passed()


CREDENTIAL_NAME = re.compile(r"(password|passwd|pwd|secret|token|api[_.-]?key|private[_.-]?key|credential)", re.I)
# Names that point at a credential instead of holding one (`db.password.file=/run/secrets/db`).
REFERENCE_NAME = re.compile(r"[_.-](file|path|ref|name)$", re.I)
ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([\w.-]+)\s*[=:]\s*\S")


def credential_name(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name)) and not REFERENCE_NAME.search(name)


@check(
    "k8s.no-plaintext-secrets",
    title="No credential sits in a ConfigMap or a literal env value",
    reads=READS,
    params=NamespaceParams,
)
def no_plaintext_secrets(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    """Credentials found by name; messages name keys and lines only, never a value."""
    problems = []
    for name, config_map in sorted(inv.config_maps.items()):
        for key, value in sorted((config_map.get("data") or {}).items()):
            if credential_name(key):
                problems.append(f"configmap {name} key {key} looks like a credential")
                continue
            for number, line in enumerate(str(value).splitlines(), 1):
                found = ASSIGNMENT.match(line)
                if found and credential_name(found.group(1)):
                    problems.append(f"configmap {name} key {key} line {number} sets {found.group(1)}")
    for owner, spec in pod_specs(inv):
        for container in containers(spec, init=True):
            for e in container.get("env") or []:
                if e.get("value") and credential_name(str(e.get("name"))):
                    problems.append(f"{owner} container {container.get('name')} sets {e.get('name')} as a literal value")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()


# --- NetworkPolicies between tiers ------------------------------------------------------------


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


def rule_allows_port(rule: Mapping[str, Any], port: int | None) -> bool:
    ports = rule.get("ports") or []
    if port is None or not ports:
        return True
    for entry in ports:
        first, last = entry.get("port"), entry.get("endPort") or entry.get("port")
        if first is None or (isinstance(first, int) and first <= port <= last):
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
                    elif rule_allows_port(rule, p.port):
                        allowed = True
        if not allowed and len(problems) == before:
            problems.append(f"no rule lets {source} pods reach the pods of deployment {deployment}{on_port}")
    if problems:
        return Result.failed("; ".join(dict.fromkeys(problems)))
    return Result.passed()


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
    for _, labels in tiers:
        for policy in ingress_policies(inv, labels):
            name = dig(policy, "metadata", "name")
            for number, rule in enumerate(dig(policy, "spec", "ingress") or [], 1):
                ports = rule.get("ports") or []
                if not ports:
                    problems.append(f"{name} rule {number} allows every port")
                for entry in ports:
                    first, last = entry.get("port"), entry.get("endPort") or entry.get("port")
                    if first is None:
                        problems.append(f"{name} rule {number} allows every {entry.get('protocol', 'TCP')} port")
                    elif not isinstance(first, int):
                        problems.append(f"{name} rule {number} allows the named port {first}")
                    elif any(port not in p.ports for port in range(first, last + 1)):
                        shown_range = f"{first}-{last}" if last != first else str(first)
                        problems.append(f"{name} rule {number} allows port {shown_range}")
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


# --- HorizontalPodAutoscalers -----------------------------------------------------------------


class HpaParams(Params):
    hpa: str


class HpaTargetParams(HpaParams):
    deployment: str


class HpaBoundsParams(HpaParams):
    min_replicas: int = Field(ge=1)
    max_replicas: int = Field(ge=1)


class HpaCpuParams(HpaParams):
    utilization: int = Field(ge=1, le=100)


class HpaLimitParams(Params):
    max_replicas: int = Field(ge=1)


def hpa_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    hpa = inv.horizontal_pod_autoscalers.get(name)
    if hpa is None:
        return Result.skipped(f"horizontalpodautoscaler {name} does not exist in namespace {inv.namespace}")
    return hpa


@check(
    "k8s.hpa-target",
    title="HorizontalPodAutoscaler {hpa} scales Deployment {deployment}",
    reads=READS,
    params=HpaTargetParams,
)
def hpa_target(inv: KubernetesInventory, p: HpaTargetParams) -> Result:
    hpa = inv.horizontal_pod_autoscalers.get(p.hpa)
    if hpa is None:
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} autoscale deployment {p.deployment} --name {p.hpa} ...",
        )
    ref = dig(hpa, "spec", "scaleTargetRef") or {}
    target = f"{ref.get('kind')}/{ref.get('name')}"
    if ref.get("kind") != "Deployment" or ref.get("name") != p.deployment:
        return Result.failed(f"horizontalpodautoscaler {p.hpa} scales {target}, expected Deployment/{p.deployment}")
    if (ref.get("apiVersion") or "apps/v1") != "apps/v1":
        return Result.failed(f"horizontalpodautoscaler {p.hpa} targets apiVersion {ref.get('apiVersion')}, expected apps/v1")
    if inv.deployment(p.deployment) is None:
        return Result.failed(f"horizontalpodautoscaler {p.hpa} targets deployment {p.deployment}, which does not exist")
    return Result.passed()


@check(
    "k8s.hpa-bounds",
    title="HorizontalPodAutoscaler {hpa} scales between {min_replicas} and {max_replicas}",
    reads=READS,
    params=HpaBoundsParams,
)
def hpa_bounds(inv: KubernetesInventory, p: HpaBoundsParams) -> Result:
    hpa = hpa_or_result(inv, p.hpa)
    if isinstance(hpa, Result):
        return hpa
    low, high = dig(hpa, "spec", "minReplicas") or 1, dig(hpa, "spec", "maxReplicas")
    if (low, high) != (p.min_replicas, p.max_replicas):
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} scales between {low} and {high}, "
            f"expected {p.min_replicas} and {p.max_replicas}"
        )
    return Result.passed()


@check(
    "k8s.hpa-cpu",
    title="HorizontalPodAutoscaler {hpa} targets {utilization}% average cpu utilisation",
    reads=READS,
    params=HpaCpuParams,
)
def hpa_cpu(inv: KubernetesInventory, p: HpaCpuParams) -> Result:
    hpa = hpa_or_result(inv, p.hpa)
    if isinstance(hpa, Result):
        return hpa
    cpu = [
        dig(m, "resource", "target")
        for m in dig(hpa, "spec", "metrics") or []
        if m.get("type") == "Resource" and dig(m, "resource", "name") == "cpu"
    ]
    if not cpu:
        return Result.failed(f"horizontalpodautoscaler {p.hpa} has no cpu Resource metric")
    target = cpu[0] or {}
    if target.get("type") != "Utilization":
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} targets cpu by {target.get('type')}, expected Utilization"
        )
    if target.get("averageUtilization") != p.utilization:
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa} targets {target.get('averageUtilization')}% cpu, expected {p.utilization}%"
        )
    return Result.passed()


@check(
    "k8s.hpa-active", title="HorizontalPodAutoscaler {hpa} can read metrics and scale", reads=READS, params=HpaParams
)
def hpa_active(inv: KubernetesInventory, p: HpaParams) -> Result:
    """The controller's own verdict: AbleToScale and ScalingActive conditions are True."""
    hpa = hpa_or_result(inv, p.hpa)
    if isinstance(hpa, Result):
        return hpa
    conditions = {c.get("type"): c for c in dig(hpa, "status", "conditions") or []}
    problems = []
    for kind in ("AbleToScale", "ScalingActive"):
        condition = conditions.get(kind)
        if condition is None:
            problems.append(f"{kind} is not reported yet")
        elif condition.get("status") != "True":
            problems.append(f"{kind} is {condition.get('status')} ({condition.get('reason')}: {condition.get('message')})")
    if problems:
        return Result.failed(
            f"horizontalpodautoscaler {p.hpa}: " + "; ".join(problems),
            hint=f"kubectl -n {inv.namespace} describe hpa {p.hpa}",
        )
    return Result.passed()


@check(
    "k8s.hpa-max-replicas",
    title="No HorizontalPodAutoscaler may scale above {max_replicas} replicas",
    reads=READS,
    params=HpaLimitParams,
)
def hpa_max_replicas(inv: KubernetesInventory, p: HpaLimitParams) -> Result:
    problems = [
        f"horizontalpodautoscaler {name} may scale to {dig(hpa, 'spec', 'maxReplicas')} replicas"
        for name, hpa in sorted(inv.horizontal_pod_autoscalers.items())
        if (dig(hpa, "spec", "maxReplicas") or 0) > p.max_replicas
    ]
    if problems:
        return Result.failed("; ".join(problems) + f" (at most {p.max_replicas})")
    return Result.passed()


# --- Jobs and CronJobs ------------------------------------------------------------------------


class JobParams(Params):
    job: str


class CronJobParams(Params):
    cronjob: str


class JobLimitsParams(Params):
    kind: Literal["Job", "CronJob"]
    name: str
    max_backoff: int = Field(ge=0)
    max_deadline: int = Field(ge=1)


class CronScheduleParams(CronJobParams):
    schedule: str


class CronPolicyParams(CronJobParams):
    concurrency: Literal["Allow", "Forbid", "Replace"] = "Forbid"
    successful_history: int = Field(ge=0)
    failed_history: int = Field(ge=0)


class CronIntervalParams(Params):
    minutes: int = Field(ge=1, le=60)


DEFAULT_BACKOFF_LIMIT = 6


@check("k8s.job-succeeded", title="Job {job} completed", reads=READS, params=JobParams)
def job_succeeded(inv: KubernetesInventory, p: JobParams) -> Result:
    job = inv.jobs.get(p.job)
    if job is None:
        return Result.failed(
            f"job {p.job} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} apply -f job.yaml",
        )
    conditions = {c.get("type"): c for c in dig(job, "status", "conditions") or [] if c.get("status") == "True"}
    if "Complete" in conditions:
        return Result.passed()
    failed = conditions.get("Failed")
    if failed:
        return Result.failed(
            f"job {p.job} failed ({failed.get('reason')}: {failed.get('message')})",
            hint=f"kubectl -n {inv.namespace} logs job/{p.job}",
        )
    wanted = dig(job, "spec", "completions") or 1
    done = dig(job, "status", "succeeded") or 0
    return Result.failed(f"job {p.job} has not completed yet ({done} of {wanted} pods succeeded)")


@check(
    "k8s.job-limits",
    title="{kind} {name} retries at most {max_backoff} times within {max_deadline} s",
    reads=READS,
    params=JobLimitsParams,
)
def job_limits(inv: KubernetesInventory, p: JobLimitsParams) -> Result:
    found = (inv.jobs if p.kind == "Job" else inv.cron_jobs).get(p.name)
    if found is None:
        return Result.skipped(f"{p.kind.lower()} {p.name} does not exist in namespace {inv.namespace}")
    spec = dig(found, "spec", "jobTemplate", "spec") if p.kind == "CronJob" else dig(found, "spec")
    spec = spec or {}
    problems = []
    backoff = spec.get("backoffLimit")
    backoff = DEFAULT_BACKOFF_LIMIT if backoff is None else backoff
    if backoff > p.max_backoff:
        problems.append(f"backoffLimit is {backoff}, at most {p.max_backoff} allowed")
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is None:
        problems.append("activeDeadlineSeconds is not set")
    elif deadline > p.max_deadline:
        problems.append(f"activeDeadlineSeconds is {deadline}, at most {p.max_deadline} allowed")
    if problems:
        return Result.failed(f"{p.kind.lower()} {p.name}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.jobs-resources",
    title="Every container of every Job and CronJob sets requests and limits",
    reads=READS,
    params=NamespaceParams,
)
def jobs_resources(inv: KubernetesInventory, p: NamespaceParams) -> Result:
    specs = [(owner, spec) for owner, spec in pod_specs(inv) if owner.startswith(("job ", "cronjob "))]
    if not specs:
        return Result.skipped(f"no Job or CronJob in namespace {inv.namespace}")
    problems = []
    for owner, spec in specs:
        for container in containers(spec, init=True):
            missing = [
                f"{kind}.{resource}"
                for kind in ("requests", "limits")
                for resource in ("cpu", "memory")
                if not dig(container, "resources", kind, resource)
            ]
            if missing:
                problems.append(f"{owner} container {container.get('name')} has no {', '.join(missing)}")
    if problems:
        return Result.failed("; ".join(problems), hint="resources: {requests: {cpu, memory}, limits: {cpu, memory}}")
    return Result.passed()


def cron_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    cron_job = inv.cron_jobs.get(name)
    if cron_job is None:
        return Result.skipped(f"cronjob {name} does not exist in namespace {inv.namespace}")
    return cron_job


@check(
    "k8s.cronjob-schedule", title="CronJob {cronjob} runs on {schedule}", reads=READS, params=CronScheduleParams
)
def cronjob_schedule(inv: KubernetesInventory, p: CronScheduleParams) -> Result:
    cron_job = inv.cron_jobs.get(p.cronjob)
    if cron_job is None:
        return Result.failed(
            f"cronjob {p.cronjob} does not exist in namespace {inv.namespace}",
            hint=f'kubectl -n {inv.namespace} create cronjob {p.cronjob} --schedule="{p.schedule}" --image=...',
        )
    schedule = " ".join(str(dig(cron_job, "spec", "schedule") or "").split())
    problems = []
    if schedule != " ".join(p.schedule.split()):
        problems.append(f"schedule is {schedule!r}, expected {p.schedule!r}")
    if dig(cron_job, "spec", "suspend"):
        problems.append("it is suspended")
    if problems:
        return Result.failed(f"cronjob {p.cronjob}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.cronjob-policy",
    title="CronJob {cronjob}: concurrency {concurrency}, keeps {successful_history} successful and "
    "{failed_history} failed jobs",
    reads=READS,
    params=CronPolicyParams,
)
def cronjob_policy(inv: KubernetesInventory, p: CronPolicyParams) -> Result:
    cron_job = cron_or_result(inv, p.cronjob)
    if isinstance(cron_job, Result):
        return cron_job
    spec = dig(cron_job, "spec") or {}
    # The API server fills in the defaults (Allow, 3, 1), so what it returns is what applies.
    actual = {
        "concurrencyPolicy": (spec.get("concurrencyPolicy") or "Allow", p.concurrency),
        "successfulJobsHistoryLimit": (spec.get("successfulJobsHistoryLimit", 3), p.successful_history),
        "failedJobsHistoryLimit": (spec.get("failedJobsHistoryLimit", 1), p.failed_history),
    }
    problems = [f"{field} is {got}, expected {want}" for field, (got, want) in actual.items() if got != want]
    if problems:
        return Result.failed(f"cronjob {p.cronjob}: " + "; ".join(problems))
    return Result.passed()


CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


def cron_minutes(field: str) -> list[int] | None:
    """The minutes of the hour a cron minute field fires at; None when it cannot be read."""
    minutes: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            return None
        step = int(step_text) if step_text else 1
        if base in ("*", "?"):
            first, last = 0, 59
        elif "-" in base:
            low, _, high = base.partition("-")
            if not (low.isdigit() and high.isdigit()):
                return None
            first, last = int(low), int(high)
        elif base.isdigit():
            first, last = int(base), (59 if step_text else int(base))
        else:
            return None
        if step < 1 or not 0 <= first <= last <= 59:
            return None
        minutes.update(range(first, last + 1, step))
    return sorted(minutes)


def shortest_interval(schedule: str) -> int | None:
    """The shortest gap in minutes between two runs, assuming every hour fires; None if unreadable."""
    fields = [f for f in schedule.split() if not f.startswith(("CRON_TZ=", "TZ="))]
    if len(fields) == 1 and fields[0] in CRON_MACROS:
        return 60
    if len(fields) != 5:
        return None
    minutes = cron_minutes(fields[0])
    if not minutes:
        return None
    gaps = [b - a for a, b in zip(minutes, minutes[1:])] + [minutes[0] + 60 - minutes[-1]]
    return min(gaps)


@check(
    "k8s.cronjob-min-interval",
    title="No CronJob runs more often than every {minutes} minutes",
    reads=READS,
    params=CronIntervalParams,
)
def cronjob_min_interval(inv: KubernetesInventory, p: CronIntervalParams) -> Result:
    problems = []
    for name, cron_job in sorted(inv.cron_jobs.items()):
        schedule = str(dig(cron_job, "spec", "schedule") or "")
        interval = shortest_interval(schedule)
        if interval is not None and interval < p.minutes:
            problems.append(f"cronjob {name} ({schedule}) runs every {interval} min")
    if problems:
        return Result.failed("; ".join(problems) + f" (at least {p.minutes} min apart)")
    return Result.passed()


# --- RBAC -------------------------------------------------------------------------------------


class ServiceAccountParams(Params):
    service_account: str


class RoleParams(Params):
    role: str


class RoleResourcesParams(RoleParams):
    resources: list[str] = Field(min_length=1, description="as kubectl writes them: `pods/log`, `deployments.apps`")


class RoleGrantsParams(RoleResourcesParams):
    verbs: list[str] = Field(default_factory=lambda: list(READ_VERBS), min_length=1)


class RoleBindingParams(RoleParams):
    service_account: str


class RbacGuardParams(Params):
    allowed_cluster_roles: list[str] = Field(default_factory=lambda: ["view"])


def split_resource(resource: str) -> tuple[str, str]:
    """kubectl's `resource[/subresource][.group]` as (group, resource): `deployments.apps` → ("apps", "deployments")."""
    name, _, group = resource.partition(".")
    return group, name


def rule_grants(
    rule: Mapping[str, Any], group: str, resource: str, verb: str, *, named_too: bool = False
) -> bool:
    """Whether a PolicyRule grants `verb` on `group/resource`, wildcards included.

    A rule limited by resourceNames grants only those objects: it counts only when `named_too`.
    """
    return (
        any(g in ("*", group) for g in rule.get("apiGroups") or [])
        and any(r in ("*", resource) for r in rule.get("resources") or [])
        and any(v in ("*", verb) for v in rule.get("verbs") or [])
        and (named_too or not rule.get("resourceNames"))
    )


def rule_problems(rule: Mapping[str, Any]) -> list[str]:
    """What makes a PolicyRule more than read-only: write verbs and wildcards."""
    problems = []
    writes = [v for v in rule.get("verbs") or [] if v not in READ_VERBS]
    if writes:
        problems.append(f"verbs {', '.join(writes)}")
    if "*" in (rule.get("resources") or []):
        problems.append("every resource (*)")
    if "*" in (rule.get("apiGroups") or []):
        problems.append("every API group (*)")
    return problems


def role_or_result(inv: KubernetesInventory, name: str) -> KubeObject | Result:
    role = inv.roles.get(name)
    if role is None:
        return Result.skipped(f"role {name} does not exist in namespace {inv.namespace}")
    return role


@check(
    "k8s.service-account", title="ServiceAccount {service_account} exists", reads=READS, params=ServiceAccountParams
)
def service_account(inv: KubernetesInventory, p: ServiceAccountParams) -> Result:
    if p.service_account in inv.service_accounts:
        return Result.passed()
    return Result.failed(
        f"serviceaccount {p.service_account} does not exist in namespace {inv.namespace}",
        hint=f"kubectl -n {inv.namespace} create serviceaccount {p.service_account}",
    )


@check("k8s.role-read-only", title="Role {role} only reads", reads=READS, params=RoleParams)
def role_read_only(inv: KubernetesInventory, p: RoleParams) -> Result:
    role = inv.roles.get(p.role)
    if role is None:
        return Result.failed(
            f"role {p.role} does not exist in namespace {inv.namespace}",
            hint=f"kubectl -n {inv.namespace} create role {p.role} --verb=get,list,watch --resource=...",
        )
    rules = role.get("rules") or []
    if not rules:
        return Result.failed(f"role {p.role} has no rules")
    problems = [
        f"rule {number} grants {' and '.join(found)}"
        for number, rule in enumerate(rules, 1)
        if (found := rule_problems(rule))
    ]
    if problems:
        return Result.failed(f"role {p.role}: " + "; ".join(problems), hint="verbs: [get, list, watch] only")
    return Result.passed()


@check(
    "k8s.role-grants", title="Role {role} grants {verbs} on {resources}", reads=READS, params=RoleGrantsParams
)
def role_grants(inv: KubernetesInventory, p: RoleGrantsParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    rules = role.get("rules") or []
    problems = []
    for resource in p.resources:
        group, name = split_resource(resource)
        missing = [v for v in p.verbs if not any(rule_grants(r, group, name, v) for r in rules)]
        if missing:
            problems.append(f"{resource} lacks {', '.join(missing)}")
    if problems:
        return Result.failed(f"role {p.role}: " + "; ".join(problems))
    return Result.passed()


@check(
    "k8s.role-excludes", title="Role {role} grants nothing on {resources}", reads=READS, params=RoleResourcesParams
)
def role_excludes(inv: KubernetesInventory, p: RoleResourcesParams) -> Result:
    role = role_or_result(inv, p.role)
    if isinstance(role, Result):
        return role
    problems = []
    for resource in p.resources:
        group, name = split_resource(resource)
        for number, rule in enumerate(role.get("rules") or [], 1):
            verbs = [v for v in rule.get("verbs") or [] if rule_grants(rule, group, name, v, named_too=True)]
            if verbs:
                problems.append(f"rule {number} grants {', '.join(verbs)} on {resource}")
    if problems:
        return Result.failed(f"role {p.role}: " + "; ".join(problems))
    return Result.passed()


def subject_is(subject: Mapping[str, Any], account: str, namespace: str) -> bool:
    return (
        subject.get("kind") == "ServiceAccount"
        and subject.get("name") == account
        and subject.get("namespace") == namespace
    )


@check(
    "k8s.role-binding",
    title="A RoleBinding gives Role {role} to ServiceAccount {service_account}",
    reads=READS,
    params=RoleBindingParams,
)
def role_binding(inv: KubernetesInventory, p: RoleBindingParams) -> Result:
    to_role = [
        (name, b)
        for name, b in sorted(inv.role_bindings.items())
        if dig(b, "roleRef", "kind") == "Role" and dig(b, "roleRef", "name") == p.role
    ]
    if any(subject_is(s, p.service_account, inv.namespace) for _, b in to_role for s in b.get("subjects") or []):
        return Result.passed()
    if to_role:
        subjects = [
            f"{s.get('kind')} {s.get('name')}" + (f" of namespace {s['namespace']}" if s.get("namespace") else "")
            for _, b in to_role
            for s in b.get("subjects") or []
        ]
        return Result.failed(
            f"rolebinding {to_role[0][0]} binds role {p.role} to {', '.join(subjects) or 'no subject'}, "
            f"not to ServiceAccount {p.service_account} of namespace {inv.namespace}"
        )
    cluster = sorted(inv.cluster_role_bindings)
    detail = f" (clusterrolebinding {', '.join(cluster)} is cluster-wide, not a RoleBinding)" if cluster else ""
    return Result.failed(
        f"no RoleBinding in namespace {inv.namespace} binds role {p.role}{detail}",
        hint=f"kubectl -n {inv.namespace} create rolebinding {p.role} --role={p.role} "
        f"--serviceaccount={inv.namespace}:{p.service_account}",
    )


@check(
    "k8s.rbac-read-only",
    title="No RBAC object grants writes, wildcards or cluster-wide rights",
    reads=READS,
    params=RbacGuardParams,
)
def rbac_read_only(inv: KubernetesInventory, p: RbacGuardParams) -> Result:
    """The platform's own Role and RoleBinding (the student's identity) never reach the inventory."""
    problems = []
    for name, role in sorted(inv.roles.items()):
        for number, rule in enumerate(role.get("rules") or [], 1):
            found = rule_problems(rule)
            if found:
                problems.append(f"role {name} rule {number} grants {' and '.join(found)}")
    for name, binding in sorted(inv.role_bindings.items()):
        ref = binding.get("roleRef") or {}
        if ref.get("kind") != "ClusterRole":
            continue
        if ref.get("name") not in p.allowed_cluster_roles:
            problems.append(f"rolebinding {name} grants clusterrole {ref.get('name')}")
    for name, binding in sorted(inv.cluster_role_bindings.items()):
        ref = binding.get("roleRef") or {}
        problems.append(
            f"clusterrolebinding {name} grants clusterrole {ref.get('name')} to a ServiceAccount of "
            f"{inv.namespace} in every namespace"
        )
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()
