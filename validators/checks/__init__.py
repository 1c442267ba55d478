"""The modules that hold checks, listed once; `load()` registers them all."""

from __future__ import annotations

import importlib

from validators.registry import CHECKS, Check

CHECK_MODULES = (
    "validators.checks.s3",
    "validators.checks.dynamodb",
    "validators.checks.postgres",
    "validators.checks.kubernetes",
)


def load() -> dict[str, Check]:
    for module in CHECK_MODULES:
        importlib.import_module(module)
    return CHECKS
