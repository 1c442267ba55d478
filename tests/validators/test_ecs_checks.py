"""ECS checks on fixture inventories (no emulator), each outcome stated from the lab's rule: the family
has an ACTIVE revision; the task sets CPU and memory and each container a hard memory limit; the task
asks for no more than the bounds (the bound itself admitted); every container runs as a non-root user,
with a read-only root filesystem, unprivileged, logging through awslogs with group, region and stream
prefix, from an image pinned by a tag other than latest or by a digest. Offenders are named in order."""

from __future__ import annotations

import pytest

from labctl.validators.checks import ecs
from labctl.validators.inventory.ecs import Container, EcsInventory, TaskDefinition

FAMILY = "c-ada-web"
WEB = ecs.FamilyParams(family=FAMILY)
LOGS = {"awslogs-group": "g", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}


def container(name: str = "web", **fields) -> Container:
    good = dict(
        image="nginxinc/nginx-unprivileged:1.27-alpine",
        memory=512,
        user="101",
        readonly_root=True,
        log_driver="awslogs",
        log_options=LOGS,
    )
    return Container(name, **{**good, **fields})


def family(*containers: Container, **fields) -> EcsInventory:
    task = dict(revision=3, cpu=256, memory=512, containers=containers)
    return EcsInventory({FAMILY: TaskDefinition(FAMILY, **{**task, **fields})})


EVERY_CONTAINER = (ecs.limits, ecs.non_root, ecs.read_only_root, ecs.awslogs, ecs.image_pinned, ecs.not_privileged)


def test_task_definition_fails_only_without_an_active_revision() -> None:
    missing = ecs.task_definition(EcsInventory(), WEB)
    assert missing.status == "failed" and FAMILY in missing.message and missing.hint
    assert ecs.task_definition(family(container(), detailed=False), WEB).status == "passed"


@pytest.mark.parametrize("check", [*EVERY_CONTAINER, ecs.size_within])
def test_a_missing_unread_or_empty_family(check) -> None:
    params = ecs.SizeParams(family=FAMILY, max_cpu=1024, max_memory=2048) if check is ecs.size_within else WEB
    assert check(family(container()), params).status == "passed"
    assert check(EcsInventory(), params).status == "skipped"
    unread = check(family(container(), error="AccessDenied"), params)
    assert unread.status == "error" and "AccessDenied" in unread.message
    assert check(family(container(), detailed=False), params).status == "error"
    empty = check(family(), params)
    assert (empty.status, empty.message) == ("failed", f"{FAMILY}:3 defines no containers")


@pytest.mark.parametrize(
    ("task", "missing"), [({"cpu": None}, "cpu"), ({"memory": None}, "memory"), ({"cpu": None, "memory": 0}, "cpu or memory")]
)
def test_the_task_sets_cpu_and_memory(task: dict, missing: str) -> None:
    result = ecs.limits(family(container(), **task), WEB)
    assert (result.status, result.message) == ("failed", f"{FAMILY}:3 sets no task-level {missing}")


def test_each_container_needs_a_hard_memory_limit_a_reservation_is_not_one() -> None:
    inv = family(container("a"), container("b", memory=None, memory_reservation=256), container("c", memory=None))
    result = ecs.limits(inv, WEB)
    assert result.message == f"{FAMILY}:3: containers without a hard memory limit (memory): b, c"


def size(cpu, memory):
    params = ecs.SizeParams(family=FAMILY, max_cpu=1024, max_memory=2048)
    return ecs.size_within(family(container(), cpu=cpu, memory=memory), params)


@pytest.mark.parametrize(("cpu", "memory"), [(1024, 2048), (256, 512), (None, None)])
def test_a_task_at_or_under_the_bounds_fits(cpu, memory) -> None:
    assert size(cpu, memory).status == "passed"


def test_each_bound_exceeded_is_named() -> None:
    assert size(1025, 2048).message == f"{FAMILY}:3 is oversized: cpu 1025 > 1024"
    assert size(1024, 2049).message == f"{FAMILY}:3 is oversized: memory 2049 MiB > 2048 MiB"


@pytest.mark.parametrize("user", [None, "", "0", "root", "ROOT", "0:0", "0:101", "root:wheel", " 0 :1", "00", "000:1"])
def test_no_user_or_uid_0_or_root_runs_as_root(user) -> None:
    assert ecs.runs_as_root(container(user=user)) is True


@pytest.mark.parametrize("user", ["101", "1000:0", "nginx", "rootless", "app:root", "010", "0a"])
def test_another_user_is_not_root_whatever_its_group(user: str) -> None:
    assert ecs.runs_as_root(container(user=user)) is False


def test_only_the_offending_containers_are_named() -> None:
    inv = family(container("a", user=None), container("b"), container("c", user="0"))
    result = ecs.non_root(inv, WEB)
    assert result.message == f"{FAMILY}:3: containers running as root (set user to a non-zero uid): a, c"
    writable = ecs.read_only_root(family(container("a"), container("b", readonly_root=False)), WEB)
    assert writable.message == f"{FAMILY}:3: containers with a writable root filesystem: b"
    privileged = ecs.not_privileged(family(container("a", privileged=True), container("b")), WEB)
    assert privileged.message == f"{FAMILY}:3: privileged containers (full access to the host): a"


def test_awslogs_needs_the_driver_and_its_three_options() -> None:
    inv = family(
        container("a", log_driver=None),
        container("b", log_driver="json-file"),
        container("c", log_options={"awslogs-group": "g", "awslogs-region": ""}),
        container("d"),
    )
    assert ecs.awslogs(inv, WEB).message == (
        f"{FAMILY}:3: a uses log driver (none); b uses log driver json-file; c lacks awslogs-region, awslogs-stream-prefix"
    )


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "nginx@sha256:0123abcd",
        "registry:5000/nginx:1.27",
        "registry:5000/team/nginx@sha256:0123abcd",
        "public.ecr.aws/nginx/nginx:stable-alpine",
    ],
)
def test_an_image_pinned_by_tag_or_digest(image: str) -> None:
    assert ecs.image_pinned(family(container(image=image)), WEB).status == "passed"


@pytest.mark.parametrize(
    "image", ["nginx", "nginx:", "nginx:latest", "registry:5000/nginx", "registry:5000/nginx:latest", "latest"]
)
def test_an_image_without_a_tag_or_with_latest_is_not_pinned(image: str) -> None:
    result = ecs.image_pinned(family(container(image=image)), WEB)
    assert (result.status, result.message) == ("failed", f"{FAMILY}:3: images without a pinned tag: web")


def test_a_driver_read_off_the_wire_is_awslogs() -> None:
    # A parsed response holds a new string object, never the literal the check compares with.
    assert ecs.awslogs(family(container(log_driver="".join(["aws", "logs"]))), WEB).status == "passed"
