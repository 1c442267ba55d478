"""The engine adapter (DESIGN decision 3): `pulumi.automation` with labctl's inline program, both policy
packs attached, and the cohort's backend (cohorts/backend.py): by default a local file backend under the
labctl home with a passphrase secrets provider; else an S3-compatible bucket or a Pulumi Cloud organisation,
with a passphrase (read from the environment variable the cohort names) or an AWS KMS key.

One stack per student, named `<cohort>.<student>`. Each stack keeps a persistent work directory
(`<home>/pulumi-work/<cohort>/<student>`): the passphrase provider stores the stack's encryption salt
in `Pulumi.<stack>.yaml` there, so a temporary directory would lose it. Engine output and events go
to `<home>/logs/<cohort>/<student>.log`, one JSON object a line. The passphrase never appears in a
log, a repr or an exception: it comes from a 0600 file or from `LABCTL_PASSPHRASE`.

The CLI runs with `{**os.environ, **labctl's variables}` (pulumi/automation/_cmd.py, `PulumiCommand.run`),
so every variable that decides where state goes, how it is encrypted and which Python runs labctl's
code is set explicitly here: a shell's own (a CI job's `PULUMI_BACKEND_URL`) never wins.
"""

from __future__ import annotations

import enum
import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from pulumi import automation as auto

from labctl.cohorts.backend import PASSPHRASE, Backend, parse_backend
from labctl.cohorts.cohort import Cohort, Student, check_cluster_service
from labctl.cohorts.home import home, write_secret
from labctl.cohorts.organization import ORGANIZATION_STACK, OrganizationLayout
from labctl.labs.errors import InputError, LabctlError

if TYPE_CHECKING:
    from labctl.components.student_lab import AccountPlacement

PROJECT = "labctl"
REPO = Path(__file__).resolve().parent.parent
POLICY_PACKS = ("isolation", "cost")
OPERATIONS = ("preview", "up", "destroy")
NOT_INSTALLED = "the Pulumi CLI is not installed: run `labctl engine install`"
# Destroy and refresh of an inline program pass `--client`, which the CLI has since 3.181.0
# (Stack._check_inline_support, pulumi/automation/_stack.py); the SDK itself only insists on 3.1.0.
MINIMUM_CLI = "3.181.0"
# Provider plugins the components use, at the versions of the installed Python SDKs (the pins).
PLUGIN_PACKAGES = {
    "aws": "pulumi_aws", "kubernetes": "pulumi_kubernetes", "docker": "pulumi_docker",
    "postgresql": "pulumi_postgresql", "random": "pulumi_random",
}
ChangeCounts = dict[str, int]


def cli_root() -> Path:
    """Where `labctl engine install` puts the CLI; also the engine's PULUMI_HOME (plugins)."""
    return home() / "pulumi"


def default_backend_url() -> str:
    state = home() / "pulumi-state"
    state.mkdir(exist_ok=True, mode=0o700)
    return f"file://{state}"


def passphrase_path() -> Path:
    return home() / "pulumi-passphrase"


class MaskedStr(str):
    """A string whose repr hides it: LocalWorkspace puts its env vars in its own repr."""

    def __repr__(self) -> str:
        return "'[secret]'"


def passphrase_env() -> dict[str, str]:
    """The secrets provider's passphrase: `LABCTL_PASSPHRASE`, else a file generated once (0600). Passed
    by value: the CLI reads `PULUMI_CONFIG_PASSPHRASE` before `PULUMI_CONFIG_PASSPHRASE_FILE`, so a
    shell's own passphrase would otherwise win over labctl's file."""
    given = os.environ.get("LABCTL_PASSPHRASE")
    if not given:
        path = passphrase_path()
        if not path.exists():
            write_secret(path, secrets.token_urlsafe(32))
        given = path.read_text(encoding="utf-8")
    return {"PULUMI_CONFIG_PASSPHRASE": MaskedStr(given)}


def plugin_versions() -> dict[str, str]:
    """Provider plugin → version, from the installed Python SDK of each provider."""
    versions = {}
    for plugin, package in PLUGIN_PACKAGES.items():
        try:
            versions[plugin] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def find_command() -> auto.PulumiCommand:
    """The Pulumi CLI: the one `labctl engine install` put under the home, else the one on PATH; refused
    when older than MINIMUM_CLI."""
    root = cli_root()
    if (root / "bin" / "pulumi").is_file():
        args: dict[str, Any] = {"root": str(root)}
    elif shutil.which("pulumi"):
        args = {}
    else:
        raise LabctlError(NOT_INSTALLED)
    try:
        # labctl compares versions itself (too_old): the SDK's own check only insists on 3.1.0 and is
        # switched off by PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK.
        command = auto.PulumiCommand(**args, skip_version_check=True)
    except Exception as exc:  # OSError or CalledProcessError from `pulumi version`
        raise LabctlError(f"the Pulumi CLI did not answer `pulumi version` ({first_line(exc)})") from None
    problem = too_old(command.version)
    if problem:
        raise LabctlError(f"{problem} ({shutil.which(command.command) or command.command}): run `labctl engine install`")
    return command


def too_old(version: Any) -> str | None:
    """Why a CLI of `version` cannot serve labctl, or None when it can."""
    from semver import VersionInfo

    if version is None:
        return "the Pulumi CLI's version could not be read"
    if VersionInfo.parse(str(version)) < VersionInfo.parse(MINIMUM_CLI):
        return f"pulumi {version} is older than {MINIMUM_CLI}, which labctl needs"
    return None


def installed_version(root: Path) -> Any:
    """The version of the CLI under `root`, or None when there is none or it does not answer."""
    if not (root / "bin" / "pulumi").is_file():
        return None
    try:
        return auto.PulumiCommand(root=str(root), skip_version_check=True).version
    except Exception:  # noqa: BLE001 - a broken install is replaced like a missing one
        return None


# Tests replace this with a recording fake of PulumiCommand.
command_factory: Callable[[], auto.PulumiCommand] = find_command


def install(version: str | None = None) -> tuple[str, dict[str, str]]:
    """Install the CLI under the home (`version`, default the one matching the Pulumi SDK) and the provider
    plugins; (CLI version, plugin versions). A CLI of another version under the home is replaced:
    `PulumiCommand.install` would keep any install it accepts (pulumi/automation/_cmd.py)."""
    from semver import VersionInfo

    try:
        wanted = VersionInfo.parse((version or importlib.metadata.version("pulumi")).lstrip("v"))
    except ValueError:
        raise InputError(f"{version!r} is not a version like 3.200.0", "--version") from None
    problem = too_old(wanted)
    if problem:
        raise InputError(problem, "--version")
    root = cli_root()
    if installed_version(root) not in (None, wanted):
        shutil.rmtree(root / "bin")
    try:
        command = auto.PulumiCommand.install(root=str(root), version=wanted, skip_version_check=True)
    except Exception as exc:  # no network, a failed download or installer: one line
        raise LabctlError(f"could not install the Pulumi CLI into {root}: {first_line(exc)}") from None
    if command.version != wanted:
        raise LabctlError(f"asked for pulumi {wanted} but {root / 'bin'} holds {command.version}")
    workspace = auto.LocalWorkspace(pulumi_home=str(root), pulumi_command=command, env_vars=base_env())
    plugins = plugin_versions()
    for name, plugin_version in plugins.items():
        try:
            workspace.install_plugin(name, f"v{plugin_version}")
        except Exception as exc:  # auto.CommandError and friends
            raise LabctlError(f"could not install plugin {name} v{plugin_version}: {first_line(exc)}") from None
    return str(command.version), plugins


def status() -> dict[str, Any]:
    """What is installed and where state goes; never the passphrase itself."""
    try:
        command = command_factory()
        cli = {"installed": True, "command": command.command, "version": str(command.version)}
    except LabctlError as exc:
        cli = {"installed": False, "detail": str(exc)}
    plugin_dir = cli_root() / "plugins"
    installed = sorted(p.name for p in plugin_dir.iterdir()) if plugin_dir.is_dir() else []
    source = "LABCTL_PASSPHRASE" if os.environ.get("LABCTL_PASSPHRASE") else str(passphrase_path())
    return {
        "cli": cli,
        "plugins_installed": installed,
        "plugins_pinned": plugin_versions(),
        "backend": default_backend_url(),
        "passphrase_from": source,
        "policy_packs": [str(p) for p in policy_pack_paths()],
    }


PACK_MAIN = '''"""Written by labctl: its {pack} policy pack, run from where labctl is installed."""
import runpy

runpy.run_path({main!r}, run_name="__main__")
'''


def policy_pack_paths() -> list[Path]:
    """The policy packs as the CLI runs them, written under the home: the packs' own PulumiPolicy.yaml
    names the repository's `.venv` by a relative path, which exists only in a checkout."""
    return [write_policy_pack(pack) for pack in POLICY_PACKS]


def pack_runtime() -> dict[str, Any]:
    """labctl's own Python for the packs. With `virtualenv` the CLI runs `<virtualenv>/bin/python` (a
    venv's, or an installed Python's prefix, e.g. setup-python's); without one, PULUMI_PYTHON_CMD."""
    if (Path(sys.prefix) / "bin" / "python").is_file():
        return {"name": "python", "options": {"virtualenv": sys.prefix}}
    return {"name": "python"}


def write_policy_pack(pack: str) -> Path:
    """`<home>/policy-packs/<pack>`: the pack's settings with labctl's Python, and a `__main__.py` that
    runs the installed pack. Written whole and renamed into place: stacks run in parallel."""
    from ruamel.yaml import YAML

    source = REPO / "policies" / pack
    settings = YAML(typ="safe").load(source / "PulumiPolicy.yaml")
    folder = home() / "policy-packs" / pack
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = {
        "PulumiPolicy.yaml": json.dumps({**settings, "runtime": pack_runtime()}, indent=2) + "\n",
        "__main__.py": PACK_MAIN.format(pack=pack, main=str(source / "__main__.py")),
    }
    for name, text in files.items():
        partial = folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
        partial.write_text(text, encoding="utf-8")
        partial.replace(folder / name)
    return folder


def stack_name(cohort: Cohort | str, student: Student | str) -> str:
    cohort_name = cohort if isinstance(cohort, str) else cohort.name
    return f"{cohort_name}.{slug_of(student)}"


def slug_of(student: Student | str) -> str:
    """A student's slug, or a stack's own slug (ORGANIZATION_STACK) as it is."""
    return student if isinstance(student, str) else student.student


def base_env(backend: Backend | None = None) -> dict[str, str]:
    """labctl's own engine variables; each wins over the shell's value of the same name."""
    return {
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        # PULUMI_BACKEND_URL outranks the project's `backend.url` (pkg/workspace GetCurrentCloudURL).
        "PULUMI_BACKEND_URL": backend.url if backend else default_backend_url(),
        # Dynamic providers (LabSetup) run as `${PULUMI_PYTHON_CMD:-python3} -m pulumi.dynamic`
        # (pulumi-resource-pulumi-python, pulumi#7960): labctl's interpreter has the pulumi SDK and labctl.
        "PULUMI_PYTHON_CMD": sys.executable,
        **secrets_env(backend),
    }


def secrets_env(backend: Backend | None) -> dict[str, str]:
    """What the secrets provider needs from the environment. The home's own backend keeps its generated
    passphrase; a shared backend's passphrase comes only from the variable the cohort names (every machine
    that runs its stacks needs the same one), and a Pulumi Cloud backend needs PULUMI_ACCESS_TOKEN."""
    if backend is not None and backend.kind == "cloud" and not os.environ.get("PULUMI_ACCESS_TOKEN"):
        raise LabctlError(f"backend {backend.url} (org {backend.org}) needs PULUMI_ACCESS_TOKEN in the environment")
    if backend is None or not backend.shared:
        return passphrase_env() if backend is None or backend.secrets_provider == PASSPHRASE else {}
    if backend.secrets_provider != PASSPHRASE:
        return {}
    given = os.environ.get(backend.passphrase_env)
    if not given:
        raise LabctlError(
            f"backend {backend.url} encrypts with a passphrase: set {backend.passphrase_env} (labctl never stores it)")
    return {"PULUMI_CONFIG_PASSPHRASE": MaskedStr(given)}


def engine_backend(recorded: Backend | None, url: str | None) -> Backend | None:
    """The backend a run uses: `url` (a command's --backend, with the recorded organisation and secrets
    provider), else the cohort's recorded one, else None (the home's file backend)."""
    if not url:
        return recorded
    if recorded is None:
        return parse_backend(url)
    env = recorded.passphrase_env if recorded.secrets_provider == PASSPHRASE else None
    org = recorded.org if url.startswith("https://") else None
    return parse_backend(url, org, recorded.secrets_provider, env)


def first_line(exc: BaseException | str) -> str:
    """The line of an error worth showing: a CommandError's stderr first, else its first text line."""
    text = str(exc)
    stdout, _, stderr = text.partition("\n stderr: ")
    for section in (stderr, stdout):
        for line in section.splitlines():
            line = line.strip().removeprefix("stdout: ").strip()
            if line and not line.startswith("code:"):
                return line.removeprefix("error: ")
    return type(exc).__name__


def policy_config_files(cohort: Cohort, folder: Path) -> list[Path]:
    """One `--policy-pack-config` file per pack, in POLICY_PACKS order, from the cohort's settings."""
    configs: dict[str, dict[str, Any]] = {"isolation": {}, "cost": {}}
    if cohort.budget_usd is not None:
        configs["cost"]["cost-budget-limit"] = {"maxBudgetUsd": cohort.budget_usd}
    paths = []
    for pack in POLICY_PACKS:
        path = folder / f"policy-{pack}.json"
        path.write_text(json.dumps(configs[pack], indent=2) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def plain(value: Any) -> Any:
    """An engine event (nested plain objects and enums) as JSON-ready data."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "__dict__"):
        return {k: plain(v) for k, v in vars(value).items() if v is not None}
    return value


def resource_label(urn: str | None) -> str:
    """`<resource name>: ` from a URN (its last `::` part), or nothing for a stack-level event."""
    return f"{urn.rsplit('::', 1)[-1]}: " if urn else ""


def message_line(message: str, last: bool = False) -> str:
    """The first (or last) non-empty line of an engine message, without the CLI's `error: ` prefix."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    if not lines:
        return ""
    return (lines[-1] if last else lines[0]).removeprefix("error: ")


@dataclass
class OperationLog:
    """One student's engine log: output lines and events, one JSON object a line, appended. It keeps the
    first error the engine reported: a failed update's CLI prints its diagnostics to stdout under
    `Updating (<stack>):` and nothing to stderr, so the CommandError's own text says nothing useful."""

    path: Path
    operation: str
    on_step: Callable[[], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    first_error: str | None = None

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps({"op": self.operation, **record}, default=str)
        with self.lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")

    def output(self, line: str) -> None:
        self.write({"output": line})

    def event(self, event: auto.EngineEvent) -> None:
        self.write({"event": plain(event)})
        if self.first_error is None:
            self.first_error = reported_error(event)
        if event.res_outputs_event is not None and self.on_step:
            self.on_step()


def reported_error(event: auto.EngineEvent) -> str | None:
    """A mandatory policy violation (its pack, policy and the violation: a policy event's message is the
    policy's description, then the violation) or an error diagnostic, as one line naming the resource."""
    policy = event.policy_event
    if policy is not None and policy.enforcement_level == "mandatory":
        return (f"{resource_label(policy.resource_urn)}policy {policy.policy_pack_name}/{policy.policy_name}:"
                f" {message_line(policy.message, last=True)}")
    diagnostic = event.diagnostic_event
    if diagnostic is not None and diagnostic.severity == "error" and message_line(diagnostic.message):
        return f"{resource_label(diagnostic.urn)}{message_line(diagnostic.message)}"
    return None


@dataclass(frozen=True)
class OperationResult:
    operation: str
    changes: ChangeCounts
    outputs: dict[str, Any] = field(default_factory=dict, repr=False)


class Engine:
    """Runs preview/up/destroy/cancel on students' stacks through the Automation API."""

    def __init__(self, backend: Backend | str | None = None, command: auto.PulumiCommand | None = None):
        self.backend = parse_backend(backend) if isinstance(backend, str) else backend
        self.command = command or command_factory()
        self.env = base_env(self.backend)
        self.backend_url = self.env["PULUMI_BACKEND_URL"]
        self.secrets_provider = self.backend.secrets_provider if self.backend else PASSPHRASE
        self.running: dict[str, auto.Stack] = {}
        self.lock = threading.Lock()

    def check_ready(self, cohort: Cohort, labs: Iterable[str]) -> None:
        """Fail before any stack is touched when one of `labs` cannot be provisioned (lab, cluster, credentials)."""
        from labctl.labs.catalog import get_lab

        check_cluster_service([get_lab(lab).spec for lab in dict.fromkeys(labs)], cohort.services)
        if cohort.students:
            for lab in dict.fromkeys(labs):
                student_program(cohort, cohort.students[0], lab)

    def stack(
        self, cohort: Cohort, student: Student | str, program: Callable[[], None] | None = None, create: bool = True
    ) -> auto.Stack:
        """One student's stack, or (`student` the slug ORGANIZATION_STACK) the cohort's organization stack."""
        work_dir = home() / "pulumi-work" / cohort.name / slug_of(student)
        work_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings = auto.ProjectSettings(
            name=PROJECT, runtime="python", backend=auto.ProjectBackend(self.backend_url),
            description="labctl: one student's lab",
        )
        options = auto.LocalWorkspaceOptions(
            work_dir=str(work_dir), pulumi_home=str(cli_root()), env_vars=self.env,
            secrets_provider=self.secrets_provider, project_settings=settings, pulumi_command=self.command,
        )
        open_stack = auto.create_or_select_stack if create else auto.select_stack
        name = self.backend.stack(stack_name(cohort, student), PROJECT) if self.backend else stack_name(cohort, student)
        try:
            return open_stack(
                name, project_name=PROJECT, program=program or student_program(cohort, student), opts=options,
            )
        except auto.StackNotFoundError:
            raise
        except auto.CommandError as exc:
            raise LabctlError(f"stack {stack_name(cohort, student)}: {first_line(exc)}") from None

    def log(self, cohort: Cohort, student: Student | str, operation: str,
            on_step: Callable[[], None] | None) -> OperationLog:
        folder = home() / "logs" / cohort.name
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return OperationLog(folder / f"{slug_of(student)}.log", operation, on_step)

    def run(
        self, operation: str, cohort: Cohort, student: Student, on_step: Callable[[], None] | None = None,
        lab: str | None = None, account: AccountPlacement | None = None,
    ) -> OperationResult:
        """Run `operation` (preview, up, destroy) on one student's stack with `lab`'s program (default: the
        cohort's only lab), in the student's own `account` in isolation mode `account`; a failure reads
        as the first error the engine reported. Moving a stack to another lab is an `up` with that lab:
        the engine replaces what differs.

        An `up` is gated by a preview with the policy packs: the Automation API's `up` passes
        `--skip-preview` (pulumi/automation/_stack.py), and stack policies (wildcards across the identity
        policies, a missing boundary) run only after the resources they check exist. On an emulator every
        operation refreshes first: an emulator restarted without its state no longer has what the state
        lists."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        if operation == "destroy" and lab is None and len(cohort.labs) != 1:
            # A destroy deletes what the state holds and runs no program: a stack of no known lab needs none.
            stack = self.stack(cohort, student, program=lambda: None)
        else:
            stack = self.stack(cohort, student, student_program(cohort, student, lab, account=account))
        return self.operate(operation, cohort, student, stack, on_step)

    def run_organization(self, operation: str, cohort: Cohort, layout: OrganizationLayout,
                         account_ids: Sequence[str]) -> OperationResult:
        """Run `operation` on the cohort's organization stack (isolation mode `account`): in the
        management account, the cohort's OU under `layout.parent_id` and its SCPs, attached to the OU
        and to each of `account_ids`, for every lab of the cohort."""
        from labctl.labs.catalog import get_lab
        from labctl.stacks.program import organization_program

        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")
        labs = [get_lab(lab).spec for lab in cohort.labs]
        program = organization_program(cohort, labs, account_ids, layout.parent_id, target_settings(cohort))
        stack = self.stack(cohort, ORGANIZATION_STACK, program)
        return self.operate(operation, cohort, ORGANIZATION_STACK, stack, None)

    def operate(self, operation: str, cohort: Cohort, student: Student | str, stack: auto.Stack,
                on_step: Callable[[], None] | None) -> OperationResult:
        """Run `operation` on an opened stack, logged under `student`'s slug (see `run`)."""
        name = stack.name
        refresh = {"refresh": True} if refreshes(cohort) else {}
        # An up's gate preview is logged as a preview; its steps are not the up's progress.
        gated = operation == "up"
        log = self.log(cohort, student, "preview" if gated else operation, None if gated else on_step)
        with self.lock:
            self.running[name] = stack
        try:
            if operation == "destroy":
                result = stack.destroy(**refresh, **self.events(log, name))
                return OperationResult(operation, dict(result.summary.resource_changes or {}))
            folder = home() / "pulumi-work" / cohort.name / slug_of(student)
            packs = {
                "policy_packs": [str(p) for p in policy_pack_paths()],
                "policy_pack_configs": [str(p) for p in policy_config_files(cohort, folder)],
            }
            preview = stack.preview(**packs, **refresh, **self.events(log, name))
            if operation == "preview":
                return OperationResult(operation, dict(preview.change_summary or {}))
            log = self.log(cohort, student, "up", on_step)
            up = stack.up(**packs, **refresh, **self.events(log, name))
            outputs = {key: value.value for key, value in up.outputs.items()}
            return OperationResult(operation, dict(up.summary.resource_changes or {}), outputs)
        except auto.ConcurrentUpdateError:
            only = "" if slug_of(student) == ORGANIZATION_STACK else f" --student {slug_of(student)}"
            raise LabctlError(
                f"stack {name} is locked by another update; if none is running, clear it with"
                f" `labctl unlock --cohort {cohort.name}{only}`"
            ) from None
        except auto.CommandError as exc:
            log.write({"error": str(exc)})
            raise LabctlError(log.first_error or first_line(exc)) from None
        finally:
            with self.lock:
                self.running.pop(name, None)

    @staticmethod
    def events(log: OperationLog, stack: str) -> dict[str, Any]:
        log.write({"stack": stack, "start": True})
        return {"on_output": log.output, "on_event": log.event, "color": "never"}

    def cancel_running(self) -> list[str]:
        """Cancel every update in flight (Ctrl-C); returns the stacks cancelled. The CLI cancels an update
        gracefully on SIGINT; `pulumi cancel` would only delete a file backend's lock while the update ran
        on (and let a second one interleave), so it is kept for `labctl unlock`."""
        with self.lock:
            names = sorted(self.running)
        if not names or children_have_the_interrupt():
            return names
        cancelled = set()
        for stack, pid in cli_processes(names):
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                continue  # finished meanwhile
            cancelled.add(stack)
        return sorted(cancelled)

    def cancel(self, cohort: Cohort, student: Student | str) -> str | None:
        """Cancel the update holding one student's stack (`pulumi cancel`): None, or why nothing was."""
        try:
            stack = self.stack(cohort, student, program=lambda: None, create=False)
        except auto.StackNotFoundError:
            return "no such stack"
        except LabctlError as exc:
            return str(exc)
        try:
            stack.cancel()
        except auto.CommandError as exc:
            return first_line(exc)
        return None

    def outputs(self, cohort: Cohort, student: Student) -> dict[str, Any]:
        """The stack's outputs (plaintext), or {} when the stack does not exist (nothing is created)."""
        try:
            # Reading outputs runs no program: a no-op stands in for the lab's.
            stack = self.stack(cohort, student, program=lambda: None, create=False)
            return {key: value.value for key, value in stack.outputs().items()}
        except (LabctlError, auto.CommandError):
            return {}


def refreshes(cohort: Cohort) -> bool:
    """Whether engine operations on this cohort's stacks refresh first: on emulator targets."""
    from labctl.stacks.program import EMULATED

    return cohort.target.kind in EMULATED


def children_have_the_interrupt() -> bool:
    """Whether a Ctrl-C reached the CLI processes too: a terminal sends it to its whole foreground process
    group, and `PulumiCommand.run` starts the CLI in labctl's. A second SIGINT would make the CLI stop at
    once instead of cancelling gracefully, so it is only sent when labctl alone was interrupted."""
    try:
        tty = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(tty) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(tty)


def cli_processes(stacks: Iterable[str]) -> list[tuple[str, int]]:
    """(stack, pid) of this process's children whose arguments name one of `stacks` (`--stack <name>`,
    as the Automation API runs every stack command)."""
    wanted = set(stacks)
    listing = subprocess.run(["ps", "-A", "-ww", "-o", "pid=,ppid=,args="], capture_output=True, text=True, check=False)
    found = []
    for line in listing.stdout.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[1] != str(os.getpid()):
            continue
        args = parts[2:]
        for flag, value in zip(args, args[1:]):
            if flag == "--stack" and value in wanted:
                found.append((value, int(parts[0])))
    return found


def student_program(cohort: Cohort, student: Student, lab: str | None = None,
                    account: AccountPlacement | None = None) -> Callable[[], None]:
    """The inline program for one of the cohort's labs (default: its only one), with the instructor's
    credentials for the target (through the access role of the student's `account` in isolation mode
    `account`). A student's stack holds one lab at a time: their current one."""
    from labctl.labs.catalog import get_lab
    from labctl.stacks import program

    spec = get_lab(cohort_lab(cohort, lab)).spec
    return program.student_program(cohort, student, spec, target_settings(cohort), account=account)


def cohort_lab(cohort: Cohort, lab: str | None) -> str:
    """`lab`, checked against the cohort's labs; without it the cohort's only lab, else an input error."""
    if lab is None:
        if len(cohort.labs) != 1:
            raise InputError(
                f"cohort {cohort.name!r} takes {len(cohort.labs)} labs ({', '.join(cohort.labs)}); choose the one to"
                " provision", "--lab",
            )
        return cohort.labs[0]
    if lab not in cohort.labs:
        raise InputError(f"cohort {cohort.name!r} does not take lab {lab!r} (it takes {', '.join(cohort.labs)})", "--lab")
    return lab


def target_settings(cohort: Cohort):
    from labctl.cohorts import emulator_client
    from labctl.stacks.program import TargetSettings

    if cohort.target.kind == "emulator":
        creds = emulator_client.credentials()
        return TargetSettings.from_target(cohort.target, creds["AWS_ACCESS_KEY_ID"], creds["AWS_SECRET_ACCESS_KEY"])
    return TargetSettings.from_target(cohort.target)
