"""`labctl student deploy`: run a student's own Pulumi project as that student.

The project's stack is `<cohort>.<student>.solution` in labctl's backend, run with the student's
credentials, endpoint and region from their lab stack's outputs (the same environment `labctl
student env` gives their shell, so the project sees what the student sees), and with labctl's
policy packs attached: a solution that breaks isolation or cost rules fails the way it would in
class. Nothing runs with the instructor's credentials: the Automation API gives the CLI this
process's whole environment under the variables it is handed (pulumi/automation/_cmd.py), so the
instructor's own settings are handed over blanked. A Terraform module (`*.tf`) goes through
python-terraform instead, with the same environment (stacks/terraform.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.home import home, write_secret
from labctl.labs.errors import InputError, LabctlError
from labctl.stacks.engine import Engine, OperationResult, cli_root, first_line, policy_config_files, policy_pack_paths
from labctl.stacks.handouts import student_env
from labctl.stacks.terraform import WITHHELD_PREFIXES, ModuleRun, apply_module, check_ready, is_module


@dataclass(frozen=True)
class Deployment:
    stack: str
    project: Path
    result: OperationResult

    def line(self) -> str:
        changes = ", ".join(f"{n} {op}" for op, n in sorted(self.result.changes.items())) or "no changes"
        verb = "previewed" if self.result.operation == "preview" else "deployed"
        outputs = f"; outputs: {', '.join(sorted(self.result.outputs))}" if self.result.outputs else ""
        return f"{verb} {self.stack} from {self.project}: {changes} (policy packs attached){outputs}"


def check_project(path: Path) -> str:
    """`pulumi` or `terraform`; a Terraform module only when this machine can run one."""
    if (path / "Pulumi.yaml").is_file() or (path / "Pulumi.yml").is_file():
        return "pulumi"
    if is_module(path):
        check_ready()
        return "terraform"
    raise InputError(f"{path} is neither a Pulumi project (Pulumi.yaml) nor a Terraform module (*.tf)", "PATH")


def deploy_env(cohort: Cohort, student: Student, outputs: dict[str, Any]) -> dict[str, str]:
    """The student's environment; their kubeconfig, if any, as a 0600 file under the labctl home."""
    if not (outputs.get("aws_access_key_id") or outputs.get("kubeconfig") or outputs.get("database_dsn")):
        raise LabctlError(
            f"{student.student} has no credentials yet: run `labctl up --cohort {cohort.name} --student"
            f" {student.student}` first"
        )
    env = student_env(cohort, student, outputs, local=True)
    if outputs.get("kubeconfig"):
        path = home() / "kubeconfigs" / cohort.name / f"{student.prefix}.yaml"
        write_secret(path, str(outputs["kubeconfig"]))
        env["KUBECONFIG"] = str(path)
    return env


def project_env(engine: Engine, student_env: dict[str, str]) -> dict[str, str]:
    """The variables a student's project runs with: the instructor's credentials, profiles, kubeconfig,
    PostgreSQL and Pulumi settings blanked (AWS SDKs and the CLI read an empty value as unset), no
    kubeconfig unless the student has one (an unset KUBECONFIG falls back to ~/.kube/config), then
    labctl's engine variables and the student's own."""
    withheld = {key: "" for key in os.environ if key.startswith(WITHHELD_PREFIXES)}
    return {**withheld, "KUBECONFIG": os.devnull, **engine.env, **student_env, "PULUMI_HOME": str(cli_root())}


def deploy(
    cohort: Cohort, student: Student, path: Path, engine: Engine, outputs: dict[str, Any], preview: bool = False
) -> Deployment | ModuleRun:
    """Preview or update the project's solution stack as the student, policy packs attached; or plan or
    apply a Terraform module as the student."""
    path = path.resolve()
    if check_project(path) == "terraform":
        return apply_module(cohort, student, path, deploy_env(cohort, student, outputs), preview)
    env = project_env(engine, deploy_env(cohort, student, outputs))
    name = f"{cohort.name}.{student.student}.solution"
    options = auto.LocalWorkspaceOptions(
        work_dir=str(path), pulumi_home=str(cli_root()), env_vars=env, secrets_provider="passphrase",
        pulumi_command=engine.command,
    )
    folder = home() / "pulumi-work" / cohort.name / student.student
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    packs = {
        "policy_packs": [str(p) for p in policy_pack_paths()],
        "policy_pack_configs": [str(p) for p in policy_config_files(cohort, folder)],
    }
    log = engine.log(cohort, student, "deploy-preview", None)
    try:
        stack = auto.create_or_select_stack(name, work_dir=str(path), opts=options)
        stack.set_config("aws:region", auto.ConfigValue(cohort.target.region))
        # The preview gates the update: an `up` skips its own, so stack policies would run only after
        # the resources they check exist (Engine.run).
        result = stack.preview(**packs, **engine.events(log, name))
        if preview:
            return Deployment(name, path, OperationResult("preview", dict(result.change_summary or {})))
        log = engine.log(cohort, student, "deploy", None)
        up = stack.up(**packs, **engine.events(log, name))
    except auto.ConcurrentUpdateError:
        raise LabctlError(f"stack {name} is locked by another update; wait for it, or `pulumi cancel` it") from None
    except auto.CommandError as exc:
        log.write({"error": str(exc)})
        raise LabctlError(f"{name}: {log.first_error or first_line(exc)}") from None
    outputs = {key: value.value for key, value in up.outputs.items()}
    return Deployment(name, path, OperationResult("up", dict(up.summary.resource_changes or {}), outputs))
