"""StudentWorkspace under the SDK's mock runtime: the hardened container, its network and volume.

Registrations come from the plan's recording monitor (`stacks.plan.run_recorded`, a preview); the
password's value, its use in the container and the providers used from an `up` under the mock runtime.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pytest
from mock_up import EchoMocks, resolve
from pulumi.runtime import rpc

from labctl.components.tags import student_tags
from labctl.components.workspace import (
    StudentWorkspace,
    WorkspaceArgs,
    container_hardening,
    network_options,
)
from labctl.labs.spec import WorkspaceEnvironment
from labctl.stacks.plan import run_recorded

PREFIX = "c1-alice"
TAGS = student_tags("c1", "alice", "python-intro")
LABELS = [
    {"label": "labctl:cohort", "value": "c1"},
    {"label": "labctl:lab", "value": "python-intro"},
    {"label": "labctl:student", "value": "alice"},
]
SPEC = WorkspaceEnvironment(image="codercom/code-server:4.96.4", cpu=1.5, memory_mb=1024, port=8080)
COMPONENT = "labctl:workspace:StudentWorkspace"


def build() -> StudentWorkspace:
    provider = docker.Provider(f"{PREFIX}-docker-provider", host="unix:///var/run/docker.sock")
    return StudentWorkspace(
        f"{PREFIX}-ws",
        WorkspaceArgs(prefix=PREFIX, tags=TAGS, host_port=20001, spec=SPEC),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )


@pytest.fixture(scope="module")
def recorded() -> list[dict]:
    return run_recorded(build, "c1.alice").plan_resources()


def one(recorded: list[dict], type_: str) -> dict:
    (found,) = [r for r in recorded if r["type"] == type_]
    return found


@pytest.fixture(scope="module")
def container(recorded) -> dict:
    return one(recorded, "docker:index/container:Container")["inputs"]


ENGINE_VALUES = {"random:index/randomPassword:RandomPassword": {"result": "s3cret-pw"}}


def test_one_container_on_the_workspaces_own_network_volume_and_image(recorded, container):
    """A workspace is one container; the network it joins, the volume it mounts and the image it runs
    are the workspace's own, made with it under the component. Shown failing with the container on
    Docker's default `bridge` network, and with a second container added."""
    docker_kinds = sorted(r["type"] for r in recorded if r["type"].startswith("docker:index/"))
    assert docker_kinds == [
        "docker:index/container:Container", "docker:index/network:Network",
        "docker:index/remoteImage:RemoteImage", "docker:index/volume:Volume",
    ]
    assert container["networkMode"] == one(recorded, "docker:index/network:Network")["inputs"]["name"]
    assert [v["volumeName"] for v in container["volumes"]] == [one(recorded, "docker:index/volume:Volume")["inputs"]["name"]]
    assert one(recorded, "docker:index/remoteImage:RemoteImage")["inputs"]["name"] == SPEC.image
    assert {r["parent"] for r in recorded if r["type"].startswith(("docker:index/", "random:"))} == {COMPONENT}


def test_names_start_with_the_prefix_and_docker_objects_are_labelled(recorded):
    for r in recorded:
        assert r["name"].startswith(PREFIX), r["name"]
    for type_ in ("network:Network", "volume:Volume", "container:Container"):
        inputs = one(recorded, f"docker:index/{type_}")["inputs"]
        assert inputs["name"].startswith(PREFIX) and inputs["labels"] == LABELS, type_


def test_container_runs_non_root_read_only_without_capabilities(container):
    assert container["user"] == "1000:1000"
    assert container["readOnly"] is True
    assert container["tmpfs"] == {"/tmp": "rw,noexec,nosuid,nodev,size=256m"}
    assert container["capabilities"] == {"drops": ["ALL"]}
    assert container["privileged"] is False
    assert container["securityOpts"] == ["no-new-privileges:true"]


def test_container_shares_nothing_with_the_host(container):
    assert container["networkMode"] == f"{PREFIX}-net"
    assert "pidMode" not in container and container["ipcMode"] == "private"
    assert container["volumes"] == [{"volumeName": f"{PREFIX}-home", "containerPath": "/home/coder"}]
    assert "mounts" not in container and "devices" not in container
    assert all("hostPath" not in volume for volume in container["volumes"])


def test_container_is_limited_and_published_on_loopback_only(container):
    assert container["cpus"] == "1.5" and container["memory"] == 1024 and container["memorySwap"] == 1024
    assert container["ports"] == [{"internal": 8080, "external": 20001, "ip": "127.0.0.1", "protocol": "tcp"}]
    assert "publishAllPorts" not in container


def test_network_is_the_students_own_bridge_without_outbound_nat(recorded):
    network = one(recorded, "docker:index/network:Network")["inputs"]
    assert network["driver"] == "bridge"
    assert network["options"] == {
        "com.docker.network.bridge.host_binding_ipv4": "127.0.0.1",
        "com.docker.network.bridge.enable_ip_masquerade": "false",
    }
    assert "com.docker.network.bridge.enable_ip_masquerade" not in network_options(internet=True)


def test_image_is_kept_for_the_other_students(recorded):
    assert one(recorded, "docker:index/remoteImage:RemoteImage")["inputs"] == {
        "name": "codercom/code-server:4.96.4",
        "keepLocally": True,
    }


def test_outputs_password_is_secret_and_url_is_loopback(recorded, container):
    assert one(recorded, COMPONENT)["outputs"] == {"url": "http://127.0.0.1:20001", "password": "[secret]"}
    assert container["envs"] == "[secret]"


def test_generated_password_reaches_the_container_on_the_given_provider():
    mocks = EchoMocks(ENGINE_VALUES)
    settled = resolve(lambda: {"password": (ws := build()).password, "url": ws.url}, mocks)
    assert settled["password"] == ("s3cret-pw", True)
    assert settled["url"] == ("http://127.0.0.1:20001", False)
    (created,) = [a for a in mocks.created if a.typ == "docker:index/container:Container"]
    # The monitor receives the env list still wrapped as a secret.
    envs = created.inputs["envs"]
    assert envs[rpc._special_sig_key] == rpc._special_secret_sig and envs["value"] == ["PASSWORD=s3cret-pw"]
    docker_children = [a for a in mocks.created if a.typ.startswith("docker:index/")]
    assert len(docker_children) == 4
    assert {a.provider.split("::")[3] for a in docker_children} == {f"{PREFIX}-docker-provider"}


def test_hardening_is_the_same_for_every_spec():
    small = container_hardening(WorkspaceEnvironment(cpu=0.5, memory_mb=256))
    big = container_hardening(WorkspaceEnvironment(cpu=8, memory_mb=16384))
    for settings in (small, big):
        assert settings["read_only"] and not settings["privileged"] and settings["capabilities"] == {"drops": ["ALL"]}
    assert (small["cpus"], small["memory"]) == ("0.5", 256) and (big["cpus"], big["memory"]) == ("8", 16384)


def test_host_port_must_be_a_port():
    with pytest.raises(ValueError, match="70000"):
        WorkspaceArgs(prefix=PREFIX, tags=TAGS, host_port=70000)
