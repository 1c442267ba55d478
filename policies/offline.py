"""`labctl policy check`: the rules over a cohort's plan, a plan file, a preview or a stack export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labctl.labs.errors import InputError
from labctl.policies.engine import evaluate
from labctl.policies.loaders import PolicyInput, from_plan, load_file, read_json
from labctl.policies.model import PolicyReport


def read_config(path: Path | None) -> dict[str, Any] | None:
    """The `--policy-pack-config` JSON: an object keyed by policy name."""
    if path is None:
        return None
    config = read_json(path)
    if not isinstance(config, dict):
        raise InputError("policy config must be a JSON object keyed by policy name", str(path))
    return config


def check(source: PolicyInput, config_path: Path | None = None) -> PolicyReport:
    return evaluate(
        source.resources, read_config(config_path), monthly_usd=source.monthly_usd,
        config_where=str(config_path) if config_path else "--config",
    )


def input_from_files(plan: Path | None, preview: Path | None, export: Path | None) -> tuple[PolicyInput, str]:
    """Exactly one input file: (its resources, the location SARIF results point at)."""
    given = [(p, kind) for p, kind in ((plan, "plan"), (preview, "preview"), (export, "stack-export")) if p]
    if len(given) != 1:
        raise InputError("give exactly one of --plan, --preview-json or --stack-export", "--plan")
    path, kind = given[0]
    return load_file(path, kind), str(path)


def input_from_plan(planned: dict) -> PolicyInput:
    return from_plan(planned, f"plan of cohort {planned['cohort']}")
