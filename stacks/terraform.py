"""The Terraform path of `labctl student deploy`: a student's module run as that student, through
python-terraform.

The module folder is only read: state and Terraform's working data live under the labctl home, per
student and per module (`terraform/<cohort>/<student>/<module-hash>/`, the hash of the module's path,
so editing the module keeps its state). The student's credentials, endpoint and region reach the
providers as the environment `labctl student env` gives their shell, and `TF_VAR_prefix`, `_student`,
`_cohort`, `_region` (and `_endpoint` on an emulator) let the module name resources by prefix; the
instructor's own cloud, Pulumi and Terraform settings are not passed on. Terraform's JSON output goes to
the student's log with their secrets masked. Without registry access no provider can be downloaded:
`init` then says which one, in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.home import home
from labctl.labs.errors import LabctlError, one_line
from labctl.stacks.engine import OperationLog

MIN_VERSION = (1, 5)
INSTALL = "install Terraform ≥ 1.5"
PYTHON_TERRAFORM_ABSENT = (
    "Terraform modules need python-terraform, which this labctl install does not include"
    " (pip install 'python-terraform>=0.10.1,<0.11')"
)
# The instructor's settings that a student's run must not inherit (their credentials, state, flags).
WITHHELD_PREFIXES = (
    "AWS_", "PULUMI_", "LABCTL_", "TF_VAR_", "TF_CLI_ARGS", "TF_WORKSPACE", "TF_DATA_DIR", "KUBECONFIG",
    "DATABASE_URL", "PG", "ARM_", "GOOGLE_",
)
SECRET_KEYS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "DATABASE_URL", "LABCTL_WORKSPACE_PASSWORD")
PROVIDER = re.compile(r"provider ((?:[\w.-]+/){1,2}[\w-]+)")
OFFLINE = (
    "could not connect to", "no such host", "dial tcp", "connection refused", "network is unreachable", "i/o timeout",
)
# python-terraform 0.10.1 runs every command with the process's own environment and takes none per
# call: the student's environment is swapped in for the run, one run at a time.
ENVIRON_LOCK = threading.Lock()


def is_module(path: Path) -> bool:
    return path.is_dir() and (any(path.glob("*.tf")) or any(path.glob("*.tf.json")))


def python_terraform() -> Any:
    """The python-terraform package, imported on first use: labctl runs without it."""
    try:
        import python_terraform
    except ImportError:
        raise LabctlError(PYTHON_TERRAFORM_ABSENT) from None
    return python_terraform


def terraform_binary() -> str:
    found = shutil.which("terraform")
    if found is None:
        raise LabctlError(f"Terraform is not installed (no `terraform` on PATH): {INSTALL}")
    return found


def check_ready() -> None:
    """Fail in one line, before anything runs, when this machine cannot run a Terraform module."""
    python_terraform()
    terraform_binary()


def state_dir(cohort: Cohort, student: Student, module: Path) -> Path:
    digest = hashlib.sha256(str(module.resolve()).encode()).hexdigest()[:12]
    return home() / "terraform" / cohort.name / student.student / digest


def run_env(cohort: Cohort, student: Student, student_env: dict[str, str], data_dir: Path) -> dict[str, str]:
    """This process's environment less the instructor's settings, plus the student's and the module's."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(WITHHELD_PREFIXES)}
    env |= student_env
    env |= {
        "TF_IN_AUTOMATION": "1",
        "TF_INPUT": "0",
        "CHECKPOINT_DISABLE": "1",
        "TF_DATA_DIR": str(data_dir),
        "TF_VAR_prefix": student.prefix,
        "TF_VAR_student": student.student,
        "TF_VAR_cohort": cohort.name,
        "TF_VAR_region": cohort.target.region,
    }
    if cohort.target.endpoint:
        env["TF_VAR_endpoint"] = cohort.target.endpoint
    return env


@contextmanager
def process_environ(env: dict[str, str]) -> Iterator[None]:
    with ENVIRON_LOCK:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)


@dataclass(frozen=True)
class ModuleRun:
    """What one plan or apply did: change counts (add, change, remove) and the shown outputs."""

    module: Path
    prefix: str
    operation: str
    changes: dict[str, int]
    outputs: dict[str, str]
    state: Path

    def line(self) -> str:
        add, change, remove = (self.changes.get(k, 0) for k in ("add", "change", "remove"))
        if self.operation == "plan":
            verb, tail = "previewed", " (nothing applied)"
            counts = f"{add} to add, {change} to change, {remove} to destroy"
        else:
            verb, counts, tail = "deployed", f"{add} added, {change} changed, {remove} destroyed", ""
        if not (add or change or remove):
            counts = "no changes"
        outputs = f"; outputs: {', '.join(f'{k}={v}' for k, v in sorted(self.outputs.items()))}" if self.outputs else ""
        return f"{verb} terraform module {self.module} as {self.prefix}: {counts}{tail}{outputs}"


class Masked:
    """Replaces each of the student's secrets in a text before it is logged or shown."""

    def __init__(self, env: dict[str, str]):
        self.secrets = sorted((env[k] for k in SECRET_KEYS if len(env.get(k) or "") >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


def json_messages(out: str) -> list[dict[str, Any]]:
    messages = []
    for line in out.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if isinstance(message, dict):
            messages.append(message)
    return messages


def first_error(text: str) -> str:
    """The first `Error:` line of Terraform's human output, or its first line."""
    lines = [line.strip(" │╷╵") for line in text.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if line.startswith("Error: "):
            return line.removeprefix("Error: ")
    return lines[0] if lines else "no output"


def init_failure(module: Path, text: str) -> str:
    flat = " ".join(text.split())
    provider = PROVIDER.search(flat)
    if provider and any(mark in flat for mark in OFFLINE):
        return (
            f"{module} needs provider {provider.group(1)}, which `terraform init` cannot download: this machine"
            " has no access to a Terraform registry (put the provider in a plugin cache or filesystem mirror first)"
        )
    if provider:
        return f"terraform init cannot install provider {provider.group(1)} for {module}: {first_error(text)}"
    return f"terraform init failed for {module}: {first_error(text)}"


def run_failure(operation: str, module: Path, messages: list[dict[str, Any]], err: str) -> str:
    for message in messages:
        diagnostic = message.get("diagnostic") or {}
        if message.get("type") == "diagnostic" and diagnostic.get("severity") == "error":
            where = f" ({diagnostic['address']})" if diagnostic.get("address") else ""
            detail = (diagnostic.get("detail") or "").strip().splitlines()
            return one_line(f"terraform {operation} failed for {module}: {diagnostic.get('summary')}{where}"
                            + (f": {detail[0]}" if detail else ""))
    return one_line(f"terraform {operation} failed for {module}: {first_error(err)}")


def shown_outputs(messages: list[dict[str, Any]], mask: Masked) -> dict[str, str]:
    """The last `outputs` message: sensitive outputs masked (Terraform omits their values anyway)."""
    outputs: dict[str, Any] = {}
    for message in messages:
        if message.get("type") == "outputs":
            outputs = message.get("outputs") or {}
    shown = {}
    for name, output in outputs.items():
        if output.get("sensitive"):
            shown[name] = "(sensitive)"
        elif "value" in output:
            value = output["value"]
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            shown[name] = one_line(mask(text))
    return shown


def version_of(out: str) -> tuple[int, ...]:
    try:
        text = json.loads(out)["terraform_version"]
        return tuple(int(part) for part in text.split("-")[0].split(".")[:2])
    except (ValueError, KeyError, TypeError, AttributeError):
        return ()


def apply_module(
    cohort: Cohort, student: Student, module: Path, student_env: dict[str, str], preview: bool = False
) -> ModuleRun:
    """`init` then `plan` (preview) or `apply -auto-approve` the module as the student, state under the home."""
    library = python_terraform()
    flagged, not_flagged = library.IsFlagged, library.IsNotFlagged
    module = module.resolve()
    work = state_dir(cohort, student, module)
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    state = work / "terraform.tfstate"
    env = run_env(cohort, student, student_env, work / ".terraform")
    mask = Masked(env)
    logs = home() / "logs" / cohort.name
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    operation = "plan" if preview else "apply"
    log = OperationLog(logs / f"{student.student}.log", f"terraform-{operation}")
    log.write({"module": str(module), "state": str(state), "start": True})

    def record(command: str, rc: int, out: str, err: str) -> None:
        log.write({"command": command, "rc": rc})
        for line in (out + "\n" + err).splitlines():
            if line.strip():
                log.write({"output": mask(line)})

    terraform = library.Terraform(working_dir=str(module), state=str(state), terraform_bin_path=terraform_binary())
    with process_environ(env):
        rc, out, err = terraform.version_cmd(json=flagged)
        found = version_of(out)
        if rc != 0 or found < MIN_VERSION:
            shown = ".".join(map(str, found)) or "of unknown version"
            raise LabctlError(f"the terraform on PATH is {shown}: {INSTALL}")
        # No `-state` or `-var` at init (init takes neither): python-terraform adds them unless told not to.
        rc, out, err = terraform.init(input=False, state=None, var=None, no_color=flagged)
        record("init", rc, out, err)
        if rc != 0:
            raise LabctlError(one_line(init_failure(module, out + "\n" + err)))
        if preview:
            rc, out, err = terraform.plan(json=flagged, var=None, detailed_exitcode=not_flagged)
        else:
            rc, out, err = terraform.apply(skip_plan=True, json=flagged, var=None)
    record(operation, rc, out, err)
    messages = json_messages(out)
    if rc != 0:
        raise LabctlError(mask(run_failure(operation, module, messages, err)))
    changes: dict[str, int] = {}
    for message in messages:
        if message.get("type") == "change_summary":
            changes = {k: int(v) for k, v in (message.get("changes") or {}).items() if k != "operation"}
    outputs = {} if preview else shown_outputs(messages, mask)
    return ModuleRun(module, student.prefix, operation, changes, outputs, state)
