"""Reference solution of ecs-task-definition: limits, non-root, read-only root filesystem,
awslogs logging and a pinned image.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


TASK_SIZE = {"cpu": "256", "memory": "512"}


def container(prefix: str, region: str) -> dict:
    """The web container: a hard memory limit, user 101, a read-only root with writable scratch
    volumes, not privileged, logs to CloudWatch."""
    return {
        "name": "web",
        "image": "nginxinc/nginx-unprivileged:1.27-alpine",
        "essential": True,
        "memory": 512,
        "user": "101",
        "readonlyRootFilesystem": True,
        "privileged": False,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "mountPoints": [
            {"sourceVolume": "tmp", "containerPath": "/tmp"},
            {"sourceVolume": "cache", "containerPath": "/var/cache/nginx"},
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/ecs/{prefix}-web",
                "awslogs-region": region,
                "awslogs-stream-prefix": "web",
            },
        },
    }


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ecs = session.client("ecs", endpoint_url=endpoint_url)
    ecs.register_task_definition(
        family=f"{prefix}-web",
        requiresCompatibilities=["EC2"],
        **TASK_SIZE,
        containerDefinitions=[container(prefix, ecs.meta.region_name)],
        volumes=[{"name": "tmp"}, {"name": "cache"}],
    )


if __name__ == "__main__":
    missing = [name for name in ("LABCTL_PREFIX", "LABCTL_STUDENT") if not os.environ.get(name)]
    if missing:
        sys.exit(f"set {' and '.join(missing)} first (labctl student env prints them)")
    solve(
        boto3.Session(),
        os.environ.get("AWS_ENDPOINT_URL"),
        os.environ["LABCTL_PREFIX"],
        os.environ["LABCTL_STUDENT"],
    )
