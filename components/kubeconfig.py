"""Kubeconfig helpers: a student's kubeconfig, and the cluster endpoint read from the instructor's."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml


def build_kubeconfig(server: str, ca_data: str, namespace: str, user: str, token: str) -> str:
    """The kubeconfig YAML for `user` on the cluster at `server`, whose CA (base64 PEM) is `ca_data`.

    The one context is current and pinned to `namespace`, so `kubectl` works there without `-n`.
    """
    cluster = namespace
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": namespace, "context": {"cluster": cluster, "user": user, "namespace": namespace}}],
        "current-context": namespace,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def cluster_endpoint(kubeconfig: str, context: str | None = None) -> tuple[str, str]:
    """(server, base64 CA) of `context`'s cluster (the current context when None) in a kubeconfig's text.

    A CA given as a file path is read and encoded, so students get a self-contained kubeconfig.
    Raises ValueError when the context or its cluster is missing.
    """
    config = yaml.safe_load(kubeconfig) or {}
    name = context or config.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in config.get("contexts") or []}
    if name not in contexts:
        raise ValueError(f"kubeconfig has no context {name!r} (has: {', '.join(sorted(map(str, contexts))) or 'none'})")
    clusters = {c.get("name"): c.get("cluster") or {} for c in config.get("clusters") or []}
    cluster = clusters.get(contexts[name].get("cluster"))
    if not cluster or not cluster.get("server"):
        raise ValueError(f"kubeconfig context {name!r} names no cluster with a server")
    ca = cluster.get("certificate-authority-data")
    if ca is None and cluster.get("certificate-authority"):
        ca = base64.b64encode(Path(cluster["certificate-authority"]).expanduser().read_bytes()).decode()
    return cluster["server"], ca or ""
