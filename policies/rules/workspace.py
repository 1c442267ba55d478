"""Workspaces: a student's container cannot become root on the host or starve the other students."""

from __future__ import annotations

from typing import Any, Iterator

from labctl.policies.model import UNEVALUABLE, PolicyResource, resource_rule

DOCKER_CONTAINER = "docker:index/container:Container"
DOCKER_SOCKET = "/var/run/docker.sock"


def as_dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def root_user(user: str) -> bool:
    """Whether a container's `user` (`name|uid[:group|gid]`, as Docker and ECS read it) runs as root:
    none (the image's default, root in most images), `root`, or uid 0 however written (`0`, `00`), with
    any group (`0:1000` is still root)."""
    name = user.split(":", 1)[0].strip().lower()
    return name in ("", "root") or (name.isdigit() and int(name) == 0)


def host_paths(props: dict[str, Any]) -> list[str]:
    """Host paths a container mounts: `volumes[].hostPath` and bind `mounts[].source`."""
    paths = [v.get("hostPath") for v in as_dicts(props.get("volumes"))]
    paths += [m.get("source") for m in as_dicts(props.get("mounts")) if m.get("type") == "bind"]
    return [p for p in paths if isinstance(p, str) and p and p not in UNEVALUABLE]


@resource_rule(
    "workspace-hardened",
    pack="isolation",
    description="Checks whether workspace containers run as non-root with a read-only root filesystem, "
    "all capabilities dropped, no privilege, no host network/PID, no host mounts, and CPU and memory limits.",
    types={DOCKER_CONTAINER},
)
def workspace_hardened(resource: PolicyResource, _config: Any) -> Iterator[str]:
    props = resource.props
    who = f"{resource.type} {resource.name!r}"
    user = props.get("user")
    if user not in UNEVALUABLE and (not isinstance(user, str) or root_user(user)):
        yield f"{who} must run as a non-root user (set user)."
    if props.get("readOnly") is not True:
        yield f"{who} must have a read-only root filesystem (readOnly: true)."
    capabilities = props.get("capabilities")
    drops = capabilities.get("drops") if isinstance(capabilities, dict) else None
    adds = capabilities.get("adds") if isinstance(capabilities, dict) else None
    if not (isinstance(drops, list) and any(isinstance(d, str) and d.upper() == "ALL" for d in drops)):
        yield f"{who} must drop all capabilities (capabilities.drops: [ALL])."
    if isinstance(adds, list) and adds:
        yield f"{who} must not add capabilities (it adds {', '.join(map(str, adds))})."
    if props.get("privileged") is True:
        yield f"{who} must not be privileged."
    for prop, mode in (("networkMode", "network"), ("pidMode", "PID namespace")):
        if props.get(prop) == "host":
            yield f"{who} must not share the host {mode} ({prop}: host)."
    for path in host_paths(props):
        what = "the Docker socket" if path.rstrip("/") == DOCKER_SOCKET else f"the host path {path!r}"
        yield f"{who} must not mount {what}."
    if not props.get("memory"):
        yield f"{who} must have a memory limit (memory)."
    # cpuShares is only a weight under contention, not a cap: it does not count.
    if not any(props.get(p) for p in ("cpus", "cpuQuota", "cpuSet")):
        yield f"{who} must have a CPU limit (cpus, cpuQuota or cpuSet)."


RULES = (workspace_hardened,)
