""" "It didn't start, so I made it privileged": privileged, image nginx:latest, logs nowhere.

Run by hand with AWS_ENDPOINT_URL (optional), LABCTL_PREFIX and LABCTL_STUDENT set:
    python solve.py
"""

from __future__ import annotations

import os
import sys

import boto3


def solve(session: boto3.Session, endpoint_url: str | None, prefix: str, student: str) -> None:
    ecs = session.client("ecs", endpoint_url=endpoint_url)
    container = {
        "name": "web",
        "image": "nginx:latest",
        "essential": True,
        "memory": 512,
        "user": "101",
        "readonlyRootFilesystem": True,
        "privileged": True,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "mountPoints": [
            {"sourceVolume": "tmp", "containerPath": "/tmp"},
            {"sourceVolume": "cache", "containerPath": "/var/cache/nginx"},
        ],
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
