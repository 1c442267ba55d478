"""ConfigMap and Secret checks: keys, mounts, env from Secrets, and no credential in plain text."""

from __future__ import annotations

import re

from pydantic import Field

from labctl.validators.checks.kubernetes.objects import (
    READS,
    DeploymentParams,
    NamespaceParams,
    containers,
    deployment_or_result,
    dig,
    pod_specs,
    pod_template,
)
from labctl.validators.inventory.kubernetes import KubernetesInventory
from labctl.validators.registry import Params, Result, check


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
# `name=value`, `name: value`, and a quoted name as JSON and YAML files write it (`"password": "..."`).
ASSIGNMENT = re.compile(r"""^\s*(?:export\s+)?(["']?)([\w.-]+)\1\s*[=:]\s*\S""")


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
                if found and credential_name(found.group(2)):
                    problems.append(f"configmap {name} key {key} line {number} sets {found.group(2)}")
    for owner, spec in pod_specs(inv):
        for container in containers(spec, init=True):
            for e in container.get("env") or []:
                if e.get("value") and credential_name(str(e.get("name"))):
                    problems.append(f"{owner} container {container.get('name')} sets {e.get('name')} as a literal value")
    if problems:
        return Result.failed("; ".join(problems))
    return Result.passed()
