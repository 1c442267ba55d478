"""The modules that hold checks, listed once; `load()` registers them all."""

from __future__ import annotations

import importlib

from labctl.labs.catalog import Lab, get_lab
from labctl.validators.registry import CHECKS, Check, Params

CHECK_MODULES = (
    "labctl.validators.checks.s3",
    "labctl.validators.checks.dynamodb",
    "labctl.validators.checks.postgres",
    "labctl.validators.checks.kubernetes.workloads",
    "labctl.validators.checks.kubernetes.network",
    "labctl.validators.checks.kubernetes.ingress",
    "labctl.validators.checks.kubernetes.config",
    "labctl.validators.checks.kubernetes.autoscaling",
    "labctl.validators.checks.kubernetes.jobs",
    "labctl.validators.checks.kubernetes.rbac",
    "labctl.validators.checks.http",
    "labctl.validators.checks.ec2",
    "labctl.validators.checks.rds",
    "labctl.validators.checks.ecs",
    "labctl.validators.checks.cloudformation",
    "labctl.validators.checks.iam",
    "labctl.validators.checks.lambda_functions",
    "labctl.validators.checks.logs",
    "labctl.validators.checks.messaging",
    "labctl.validators.checks.apigateway",
    "labctl.validators.checks.s3_hardening",
)


def load() -> dict[str, Check]:
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return CHECKS


def params_by_name() -> dict[str, type[Params]]:
    """Every check's name with its params model: what a lab's `use:` and `with:` are validated against."""
    return {name: registered.params for name, registered in load().items()}


def usable_lab(lab_id: str) -> Lab:
    """The catalog's lab `lab_id` with every `use:` a registered check and every `with:` fitting it:
    what each command that puts a lab to use (cohort create, plan, policy check, grade) loads, so a
    lab naming an unknown check is one line naming its file:line, exit 2, before anything runs."""
    return get_lab(lab_id, checks=params_by_name())
