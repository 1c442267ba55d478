"""The Pulumi Kubernetes Operator path: `labctl up --cohort C --via operator --out DIR` writes one `Stack`
custom resource (pulumi.com/v1) per student instead of running the engine here; `kubectl apply -f DIR`
hands the cohort to the operator, which runs each stack in a workspace pod of its own.

- **Program source: git.** The operator clones `--repo` at `--commit` (default: this checkout's HEAD)
  and runs the project at its root (`Pulumi.yaml`, main `stacks/`); `pulumi install` in the workspace
  installs labctl from `stacks/requirements.txt` (the language host reads it in the program's folder).
  A `Program` object (pulumi.com/v1) holds Pulumi YAML only, which labctl's Python program is not.
- **Config**: the student's part of the cohort (`labctl:cohort`, `labctl:student`, `labctl:lab`) inline,
  so the program in the pod needs no registry (`stack_config` here, read back by `stacks/__main__.py`).
- **Secrets** come from one Kubernetes Secret through `envRefs` (the passphrase, AWS keys, PGPASSWORD,
  PULUMI_ACCESS_TOKEN, as the cohort needs them): labctl names the keys, never writes their values.
- **Policy packs**: the operator cannot attach local packs (its agent's `PolicyPack` is a TODO,
  pulumi/pulumi-kubernetes-operator#366), so labctl runs both packs over every student's plan before
  it writes anything (a mandatory violation: nothing written, exit 1) and names them in an annotation.
  On Pulumi Cloud, publishing the packs to the organisation's policy group enforces them server-side.
- **destroyOnFinalize**: deleting a Stack object destroys the student's resources.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from labctl.cohorts.backend import PASSPHRASE, Backend
from labctl.cohorts.cohort import Cohort, Services, Student, Target
from labctl.labs.errors import InputError, LabctlError
from labctl.stacks.engine import POLICY_PACKS, PROJECT, REPO, stack_name
from labctl.stacks.program import LOOPBACK_HOSTS

API_VERSION = "pulumi.com/v1"
GROUP, VERSION, PLURAL = "pulumi.com", "v1", "stacks"
LABEL = "labctl.dev"
REPO_URL = re.compile(r"^(https://[^\s@]+|ssh://[^\s]+|git@[A-Za-z0-9.-]+:[^\s]+)$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class ProgramSource:
    repo: str
    commit: str


def program_source(repo: str | None, commit: str | None) -> ProgramSource:
    """The git source the operator clones: `repo` (default: this checkout's `origin`) at `commit` (default:
    this checkout's HEAD); an InputError when either is missing or malformed."""
    repo = repo or git("remote", "get-url", "origin")
    if not repo:
        raise InputError("give --repo: the git URL the cluster clones labctl from (this checkout has no origin)",
                         "--repo")
    if not REPO_URL.match(repo):
        raise InputError(f"{repo!r} is not a git URL the operator can clone (https://…, ssh://… or git@host:path)",
                         "--repo")
    commit = commit or git("rev-parse", "HEAD")
    if not commit or not COMMIT.match(commit):
        raise InputError(f"{commit!r} is not a full commit hash (40 hex digits)", "--commit")
    return ProgramSource(repo, commit)


def git(*args: str) -> str | None:
    """One line from git in labctl's own checkout, or None when it is not one."""
    try:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def check_exportable(cohort: Cohort, specs: list, backend: Backend | None, namespace: str) -> None:
    """Refuse (exit 2) a cohort whose stacks cannot run in a cluster: one line saying why."""
    if not DNS_LABEL.match(namespace):
        raise InputError(f"{namespace!r} is not a Kubernetes namespace name", "--namespace")
    if backend is None or not backend.shared:
        raise InputError(
            "the operator's pods cannot reach this machine's file backend: record a shared one first"
            f" (labctl cohort backend {cohort.name} --backend s3://…) or give --backend", "--backend")
    if cohort.target.kind == "emulator":
        raise InputError("the operator cannot reach labctl's own emulator: use a cohort with --target aws or"
                         " localstack", "--cohort")
    if cohort.target.endpoint and host_of(cohort.target.endpoint) in LOOPBACK_HOSTS:
        raise InputError(f"endpoint {cohort.target.endpoint} is this machine's loopback, which pods cannot reach",
                         "--cohort")
    for spec in specs:
        env = spec.environment
        if env.workspace is not None or env.kubernetes is not None:
            what = "a workspace container on this machine" if env.workspace else "a kubeconfig on this machine"
            raise InputError(f"lab {spec.id} needs {what}; the operator path takes cloud and database labs",
                             "--cohort")
    if cohort.services.postgres_dsn:
        from psycopg.conninfo import conninfo_to_dict

        host = str(conninfo_to_dict(cohort.services.postgres_dsn).get("host", "localhost"))
        if host in LOOPBACK_HOSTS:
            raise InputError(f"the cohort's PostgreSQL ({host}) is this machine's loopback, which pods cannot reach",
                             "--cohort")


def host_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def secret_keys(cohort: Cohort, backend: Backend) -> list[str]:
    """The keys the cohort's Secret must hold: each becomes the variable of the same name in the pods."""
    keys = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
    if backend.secrets_provider == PASSPHRASE:
        keys.append("PULUMI_CONFIG_PASSPHRASE")
    if backend.kind == "cloud":
        keys.append("PULUMI_ACCESS_TOKEN")
    if cohort.services.postgres_dsn:
        keys.append("PGPASSWORD")
    return keys


def stack_config(cohort: Cohort, student: Student, lab: str) -> dict[str, Any]:
    """The stack's inline config: what the program needs of the cohort, this student only (no other
    student, no name or email). The pods get AWS credentials from the Secret, so no profile."""
    target = cohort.target
    optional = {"postgres_dsn": cohort.services.postgres_dsn, "budget_usd": cohort.budget_usd,
                "instructor_email": cohort.instructor_email}
    return {
        "labctl:cohort": {
            "name": cohort.name, "labs": list(cohort.labs),
            "target": {"kind": target.kind, "region": target.region,
                       **({"endpoint": target.endpoint} if target.endpoint else {})},
            **{key: value for key, value in optional.items() if value is not None},
        },
        "labctl:student": {"student": student.student, "prefix": student.prefix},
        "labctl:lab": lab,
    }


def cohort_from_config(cohort: dict[str, Any], student: dict[str, Any]) -> Cohort:
    """The one-student cohort `stack_config` describes (read back by the program in the pod)."""
    target = cohort["target"]
    only = Student(student["student"], student["student"], "", "", student["prefix"])
    return Cohort(
        cohort["name"], tuple(cohort["labs"]), Target(target["kind"], target.get("endpoint"), target["region"]), (only,),
        Services(cohort.get("postgres_dsn")), cohort.get("budget_usd"), cohort.get("instructor_email"),
    )


def stack_manifest(cohort: Cohort, student: Student, lab: str, source: ProgramSource, backend: Backend,
                   namespace: str, secret: str) -> dict[str, Any]:
    """One student's `Stack` object."""
    from labctl.stacks.engine import refreshes

    name = stack_name(cohort, student)
    spec: dict[str, Any] = {
        "stack": backend.stack(name, PROJECT),
        "projectRepo": source.repo,
        "commit": source.commit,
        "backend": backend.url,
        "secretsProvider": backend.secrets_provider,
        "envRefs": {key: {"type": "Secret", "secret": {"name": secret, "key": key}}
                    for key in secret_keys(cohort, backend)},
        "config": stack_config(cohort, student, lab),
        "destroyOnFinalize": True,
        "refresh": refreshes(cohort),
    }
    return {
        "apiVersion": API_VERSION,
        "kind": "Stack",
        "metadata": {
            "name": student.prefix,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "labctl", f"{LABEL}/cohort": cohort.name,
                       f"{LABEL}/student": student.student},
            "annotations": {f"{LABEL}/lab": lab, f"{LABEL}/policy-packs": ", ".join(
                f"policies/{pack}" for pack in POLICY_PACKS)},
        },
        "spec": spec,
    }


def policy_gate(cohort: Cohort, labs: dict[str, str]) -> int:
    """Both packs over every student's plan of the lab they get; a mandatory violation is a LabctlError
    (exit 1) naming the first. Returns the number of resources checked."""
    from labctl.labs.catalog import get_lab
    from labctl.policies import offline
    from labctl.policies.engine import evaluate
    from labctl.stacks.plan import plan_cohort
    from labctl.stacks.program import TargetSettings

    config = {"cost-budget-limit": {"maxBudgetUsd": cohort.budget_usd}} if cohort.budget_usd is not None else None
    checked = 0
    for lab in dict.fromkeys(labs.values()):
        group = replace(cohort, students=tuple(s for s in cohort.students if labs[s.student] == lab))
        source = offline.input_from_plan(plan_cohort(group, [get_lab(lab).spec], TargetSettings.from_target(
            cohort.target), workers=1))
        report = evaluate(source.resources, config, monthly_usd=source.monthly_usd)
        mandatory = [v for v in report.violations if v.level == "mandatory"]
        if mandatory:
            first = mandatory[0]
            raise LabctlError(f"{first.student or first.resource_name}: policy {first.pack}/{first.policy}:"
                              f" {first.message} ({len(mandatory)} mandatory violation(s)); nothing written")
        checked += report.summary.resources_checked
    return checked


@dataclass
class Export:
    folder: Path
    files: list[Path]
    secret: str
    keys: list[str]
    resources_checked: int

    def lines(self) -> list[str]:
        literals = " ".join(f"--from-literal={key}=…" for key in self.keys)
        return [
            f"{len(self.files)} Stack manifests written to {self.folder} (both policy packs passed over"
            f" {self.resources_checked} planned resources)",
            f"create the Secret first: kubectl create secret generic {self.secret} {literals}",
            f"then: kubectl apply -f {self.folder}",
        ]


def export(cohort: Cohort, labs: dict[str, str], folder: Path, source: ProgramSource, backend: Backend,
           namespace: str, secret: str | None = None) -> Export:
    """Check, then write one `<stack>.yaml` per student into `folder` (created) and a README naming the
    Secret's keys. Nothing is written when a check fails."""
    from labctl.labs.catalog import get_lab
    from ruamel.yaml import YAML

    check_exportable(cohort, [get_lab(lab).spec for lab in dict.fromkeys(labs.values())], backend, namespace)
    secret = secret or f"{cohort.name}-pulumi"
    if not DNS_LABEL.match(secret):
        raise InputError(f"{secret!r} is not a Kubernetes Secret name", "--secret")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder} exists and is not a folder", "--out")
    checked = policy_gate(cohort, labs)
    manifests = [stack_manifest(cohort, s, labs[s.student], source, backend, namespace, secret)
                 for s in cohort.students]
    keys = secret_keys(cohort, backend)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        files = []
        for manifest in manifests:
            path = folder / f"{manifest['spec']['config']['labctl:student']['prefix']}.yaml"
            with path.open("w", encoding="utf-8") as handle:
                YAML().dump(manifest, handle)
            files.append(path)
        (folder / "README.md").write_text(readme(cohort, namespace, secret, keys, source), encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write to {exc.filename or folder}: {exc.strerror or exc}", "--out") from None
    return Export(folder, files, secret, keys, checked)


def readme(cohort: Cohort, namespace: str, secret: str, keys: list[str], source: ProgramSource) -> str:
    lines = [
        f"# Cohort {cohort.name} for the Pulumi Kubernetes Operator",
        "",
        f"One `Stack` per student, in namespace `{namespace}`, from {source.repo} at {source.commit}.",
        f"Each reads its secrets from the Secret `{secret}` (labctl never writes their values):",
        "",
        *[f"- `{key}`" for key in keys],
        "",
        "```sh",
        f"kubectl -n {namespace} create secret generic {secret} " + " ".join(f"--from-literal={k}=…" for k in keys),
        f"kubectl apply -f {Path('.')}",
        f"labctl status --cohort {cohort.name}    # reads the Stacks' state from the cluster",
        "```",
        "",
        "Deleting a Stack destroys that student's resources (destroyOnFinalize).",
        "",
    ]
    return "\n".join(lines)


# --- status from the cluster ---------------------------------------------------------------------


def cluster_statuses(namespace: str, cohort: str, kubeconfig: str | None, context: str | None) -> dict[str, dict]:
    """Student slug → the state of their Stack object in the cluster (one list call for the cohort)."""
    from kubernetes import client, config

    api = config.new_client_from_config(config_file=kubeconfig, context=context)
    listed = client.CustomObjectsApi(api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, label_selector=f"{LABEL}/cohort={cohort}")
    return {item["metadata"].get("labels", {}).get(f"{LABEL}/student", item["metadata"]["name"]): stack_state(item)
            for item in listed.get("items", [])}


def stack_state(item: dict[str, Any]) -> dict[str, Any]:
    """`ready` (the Ready condition), `state` of the last update, and the message worth showing."""
    status = item.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    ready = conditions.get("Ready", {})
    last = status.get("lastUpdate") or {}
    stalled = conditions.get("Stalled", {})
    message = (stalled.get("message") if stalled.get("status") == "True" else None) or last.get("message") or ""
    return {
        "ready": ready.get("status") == "True",
        "reason": ready.get("reason") or ("Pending" if not status else ""),
        "state": last.get("state"),
        "commit": last.get("lastSuccessfulCommit"),
        "message": message.strip().splitlines()[0] if message.strip() else None,
        "outputs": sorted((status.get("outputs") or {})),
    }


def operator_statuses(operator: dict[str, Any] | None, cohort: str) -> tuple[dict[str, dict], str | None]:
    """(student → Stack state, None), or ({}, why the cluster could not be read); ({}, None) when the
    cohort was never exported to a cluster."""
    if operator is None:
        return {}, None
    try:
        return cluster_statuses(operator["namespace"], cohort, operator["kubeconfig"], operator["kube_context"]), None
    except Exception as exc:  # noqa: BLE001 - config, connection and API errors: one line in the status
        text = str(getattr(exc, "reason", None) or exc).strip().splitlines()
        return {}, f"cluster not read: {type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def export_cohort(reg, cohort: Cohort, folder: Path, backend: Backend | None, namespace: str, source: ProgramSource,
                  students: tuple[str, ...] = (), lab: str | None = None, secret: str | None = None,
                  kubeconfig: str | None = None, context: str | None = None) -> Export:
    """`up --via operator`: the chosen students' (default: all) Stacks for the lab each gets (as `up` would
    choose it), written to `folder`; the cluster is recorded so `labctl status` reads the Stacks from it."""
    from labctl.stacks.lifecycle import refuse_operator_account_mode, target_labs

    refuse_operator_account_mode(reg, cohort)
    chosen = [cohort.student(s) for s in dict.fromkeys(students)] if students else list(cohort.students)
    labs = target_labs(cohort, "up", chosen, reg.current_labs(cohort.name), lab)
    result = export(replace(cohort, students=tuple(chosen)), labs, folder, source, backend, namespace, secret)
    reg.set_operator(cohort.name, namespace, kubeconfig, context)
    return result
