"""The modules that hold checks, listed once; `load()` registers them all."""

from __future__ import annotations

import importlib

from validators.registry import CHECKS, Check, Params

CHECK_MODULES = (
    "validators.checks.s3",
    "validators.checks.dynamodb",
    "validators.checks.postgres",
    "validators.checks.kubernetes",
    "validators.checks.http",
    "validators.checks.ec2",
    "validators.checks.rds",
    "validators.checks.ecs",
    "validators.checks.cloudformation",
    "validators.checks.iam",
    "validators.checks.lambda_functions",
    "validators.checks.logs",
    "validators.checks.messaging",
    "validators.checks.apigateway",
    "validators.checks.s3_hardening",
)


def load() -> dict[str, Check]:
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return CHECKS


def params_by_name() -> dict[str, type[Params]]:
    """Every check's name with its params model: what a lab's `use:` and `with:` are validated against."""
    return {name: registered.params for name, registered in load().items()}
