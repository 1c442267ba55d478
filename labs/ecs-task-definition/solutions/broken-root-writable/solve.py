"""A working task that keeps the image defaults: it runs as root on a writable root filesystem.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ecs = session.client("ecs", endpoint_url=endpoint_url)
    region = ecs.meta.region_name
    container = {
        "name": "web",
        "image": "nginx:1.27-alpine",
        "essential": True,
        "memory": 512,
        "readonlyRootFilesystem": False,
        "privileged": False,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "mountPoints": [],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": f"/ecs/{prefix}-web",
                "awslogs-region": region,
                "awslogs-stream-prefix": "web",
            },
        },
    }
    ecs.register_task_definition(
        family=f"{prefix}-web",
        requiresCompatibilities=["EC2"],
        cpu="256",
        memory="512",
        containerDefinitions=[container],
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
