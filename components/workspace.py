"""One student's workspace container (code-server by default), hardened as a sandbox must be.

The settings that make it a sandbox are the pure `container_hardening` and `network_options`, so
tests and policies can check the same values the component applies. Pass the docker provider in `opts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from labctl.labs.spec import WorkspaceEnvironment

LOOPBACK = "127.0.0.1"
USER = "1000:1000"
HOME = "/home/coder"
PASSWORD_LENGTH = 24
TMPFS = {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}


def container_hardening(env: WorkspaceEnvironment) -> dict[str, Any]:
    """The Container arguments that confine a student: who runs, what may be written, what is allowed."""
    return {
        "user": USER,
        "read_only": True,
        "tmpfs": dict(TMPFS),
        "capabilities": {"drops": ["ALL"]},
        "privileged": False,
        # setuid binaries in the image must not regain what was dropped.
        "security_opts": ["no-new-privileges:true"],
        "ipc_mode": "private",
        "cpus": format(env.cpu, "g"),
        "memory": env.memory_mb,
        # Swap equal to memory means no swap: the memory limit is the real limit.
        "memory_swap": env.memory_mb,
    }


def network_options(internet: bool) -> dict[str, str]:
    """Bridge driver options: ports bind to loopback by default; no NAT to the outside unless `internet`."""
    options = {"com.docker.network.bridge.host_binding_ipv4": LOOPBACK}
    if not internet:
        options["com.docker.network.bridge.enable_ip_masquerade"] = "false"
    return options


def docker_labels(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"label": key, "value": value} for key, value in sorted(tags.items())]


@dataclass(frozen=True)
class WorkspaceArgs:
    """`host_port` is where the workspace is published on the Docker host's loopback: one per student
    on a host, chosen by the cohort so the URL is known before `up` and survives restarts.
    `internet` lets the container reach the outside (e.g. extension marketplaces)."""

    prefix: str
    tags: Mapping[str, str]
    host_port: int
    spec: WorkspaceEnvironment = field(default_factory=WorkspaceEnvironment)
    home: str = HOME
    internet: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.host_port <= 65535:
            raise ValueError(f"workspace host port {self.host_port} is outside 1-65535")


class StudentWorkspace(pulumi.ComponentResource):
    """A non-root, read-only, capability-less container on its own network, reachable on 127.0.0.1 only."""

    def __init__(self, name: str, args: WorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("labctl:workspace:StudentWorkspace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = docker_labels(args.tags)
        self.network = docker.Network(
            f"{name}-net",
            name=f"{args.prefix}-net",
            driver="bridge",
            # Not `internal`: Docker publishes no ports from internal networks (moby/moby#36174), so the
            # workspace would be unreachable; the options below cut outbound NAT instead.
            internal=False,
            options=network_options(args.internet),
            labels=labels,
            opts=child,
        )
        self.volume = docker.Volume(f"{name}-home", name=f"{args.prefix}-home", labels=labels, opts=child)
        self.image = docker.RemoteImage(
            f"{name}-image",
            name=args.spec.image,
            # The image is shared by every student on the host: one student's teardown must not remove it.
            keep_locally=True,
            opts=child,
        )
        self.password_resource = random.RandomPassword(
            f"{name}-password", length=PASSWORD_LENGTH, special=False, opts=child
        )
        password = pulumi.Output.secret(self.password_resource.result)
        self.container = docker.Container(
            f"{name}-container",
            name=f"{args.prefix}-workspace",
            image=self.image.image_id,
            hostname=args.prefix,
            # The student's own bridge network only: never `host`, never the default bridge.
            network_mode=self.network.name,
            ports=[{"internal": args.spec.port, "external": args.host_port, "ip": LOOPBACK, "protocol": "tcp"}],
            volumes=[{"volume_name": self.volume.name, "container_path": args.home}],
            envs=password.apply(lambda p: [f"PASSWORD={p}"]),
            labels=labels,
            restart="unless-stopped",
            **container_hardening(args.spec),
            opts=child,
        )
        self.url = pulumi.Output.from_input(f"http://{LOOPBACK}:{args.host_port}")
        self.password = password
        self.register_outputs({"url": self.url, "password": self.password})
