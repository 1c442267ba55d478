"""ECS checks: pure functions of one student's EcsInventory (validators.inventory.ecs).

Each reads the latest ACTIVE revision of the family: that is what a new service deployment runs.
"""

from __future__ import annotations

from labctl.policies.rules.workspace import root_user
from labctl.validators.inventory.ecs import Container, EcsInventory, TaskDefinition
from labctl.validators.registry import Params, Result, check

READS = "ecs"
AWSLOGS_OPTIONS = ("awslogs-group", "awslogs-region", "awslogs-stream-prefix")


class FamilyParams(Params):
    family: str


class SizeParams(FamilyParams):
    max_cpu: int
    max_memory: int


def family_or_result(inv: EcsInventory, name: str) -> TaskDefinition | Result:
    task = inv.family(name)
    if task is None:
        return Result.skipped(f"task definition family {name} has no ACTIVE revision")
    if task.error:
        return Result.error(f"could not read {name}: {task.error}")
    if not task.detailed:
        return Result.error(f"task definition {name} was not collected in detail")
    if not task.containers:
        return Result.failed(f"{name}:{task.revision} defines no containers")
    return task


def runs_as_root(container: Container) -> bool:
    """No user (the image's default, usually root), or user root or uid 0 however written, with any group."""
    return root_user(container.user or "")


def every_container(task: TaskDefinition, bad, what: str) -> Result:
    offenders = [c.name for c in task.containers if bad(c)]
    if offenders:
        return Result.failed(f"{task.family}:{task.revision}: {what}: {', '.join(offenders)}")
    return Result.passed()


@check(
    "ecs.task-definition",
    title="Task definition family {family} is registered",
    reads=READS,
    params=FamilyParams,
)
def task_definition(inv: EcsInventory, p: FamilyParams) -> Result:
    if inv.family(p.family) is None:
        return Result.failed(
            f"task definition family {p.family} has no ACTIVE revision", hint="register-task-definition"
        )
    return Result.passed()


@check(
    "ecs.limits",
    title="The task and every container of {family} set CPU and memory limits",
    reads=READS,
    params=FamilyParams,
)
def limits(inv: EcsInventory, p: FamilyParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task
    missing = [what for what, value in (("cpu", task.cpu), ("memory", task.memory)) if not value]
    if missing:
        return Result.failed(f"{p.family}:{task.revision} sets no task-level {' or '.join(missing)}")
    return every_container(task, lambda c: not c.memory, "containers without a hard memory limit (memory)")


@check(
    "ecs.size-within",
    title="Task {family} asks for at most {max_cpu} CPU units and {max_memory} MiB",
    reads=READS,
    params=SizeParams,
)
def size_within(inv: EcsInventory, p: SizeParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task
    problems = []
    if task.cpu and task.cpu > p.max_cpu:
        problems.append(f"cpu {task.cpu} > {p.max_cpu}")
    if task.memory and task.memory > p.max_memory:
        problems.append(f"memory {task.memory} MiB > {p.max_memory} MiB")
    if problems:
        return Result.failed(f"{p.family}:{task.revision} is oversized: {', '.join(problems)}")
    return Result.passed()


@check(
    "ecs.non-root",
    title="Every container of {family} runs as a non-root user",
    reads=READS,
    params=FamilyParams,
)
def non_root(inv: EcsInventory, p: FamilyParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task
    return every_container(task, runs_as_root, "containers running as root (set user to a non-zero uid)")


@check(
    "ecs.read-only-root",
    title="Every container of {family} has a read-only root filesystem",
    reads=READS,
    params=FamilyParams,
)
def read_only_root(inv: EcsInventory, p: FamilyParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task
    return every_container(task, lambda c: not c.readonly_root, "containers with a writable root filesystem")


@check(
    "ecs.awslogs",
    title="Every container of {family} logs to CloudWatch with awslogs",
    reads=READS,
    params=FamilyParams,
)
def awslogs(inv: EcsInventory, p: FamilyParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task
    problems = []
    for c in task.containers:
        if c.log_driver != "awslogs":
            problems.append(f"{c.name} uses log driver {c.log_driver or '(none)'}")
            continue
        missing = [o for o in AWSLOGS_OPTIONS if not c.log_options.get(o)]
        if missing:
            problems.append(f"{c.name} lacks {', '.join(missing)}")
    if problems:
        return Result.failed(f"{p.family}:{task.revision}: {'; '.join(problems)}")
    return Result.passed()


@check(
    "ecs.image-pinned",
    title="Every image of {family} has an explicit tag other than latest, or a digest",
    reads=READS,
    params=FamilyParams,
)
def image_pinned(inv: EcsInventory, p: FamilyParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task

    def unpinned(c: Container) -> bool:
        if "@sha256:" in c.image:
            return False
        name = c.image.rsplit("/", 1)[-1]
        return ":" not in name or name.rsplit(":", 1)[1] in ("", "latest")

    return every_container(task, unpinned, "images without a pinned tag")


@check("ecs.not-privileged", title="No container of {family} is privileged", reads=READS, params=FamilyParams)
def not_privileged(inv: EcsInventory, p: FamilyParams) -> Result:
    task = family_or_result(inv, p.family)
    if isinstance(task, Result):
        return task
    return every_container(task, lambda c: c.privileged, "privileged containers (full access to the host)")
