"""Handouts: one file per student with their lab instructions, where their cloud is and — once the
engine has provisioned their stack — their credentials. Written 0600: a handout holds a secret key.

Credentials come only from the student's stack outputs (StudentLab's AWS keys, kubeconfig, database
DSN, workspace URL and password, as the lab has them); in isolation mode `account` a handout names the
student's own account and role and how to get short-lived credentials (`labctl student env`), and
holds no AWS secret; without outputs (no `labctl up` yet, or no
Pulumi CLI on this machine) the handout says where they will come from instead of inventing any.
The endpoint a handout shows is the cohort's public one (`--public-endpoint`: where students reach
a classroom emulator) when it has one, else the target's. The env form is self-contained: sourcing it (or eval-ing `labctl student env`) also writes the
kubeconfig to `~/.kube/<prefix>.yaml` (0600) and points KUBECONFIG at it. Nothing here prints: only
`labctl student env` puts these values on a terminal, for eval in the student's own shell.

A handout describes the student's current lab (the one their stack holds; the course moves through
the cohort's labs in order); before a several-lab cohort's first `up` it lists every lab instead.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Callable, Mapping

from labctl.cohorts.backend import Backend
from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.home import write_secret
from labctl.labs.catalog import get_lab

FORMATS = ("md", "env")
NO_CREDENTIALS = "Your credentials appear here after your instructor runs `labctl up --cohort {cohort}`."
# Stack outputs with a section of their own, not repeated among the other details.
CREDENTIAL_KEYS = ("aws_access_key_id", "aws_secret_access_key", "aws_user", "aws_account_id", "aws_role_arn")
OWN_SECTION_KEYS = (*CREDENTIAL_KEYS, "kubeconfig", "database_dsn", "workspace_url", "workspace_password")
KUBECONFIG_END = "LABCTL_KUBECONFIG_END"
Outputs = Callable[[Student], dict[str, Any]]


def current_lab(cohort: Cohort, outputs: dict[str, Any], lab: str | None) -> str | None:
    """The lab a handout describes: `lab` (the registry's current lab), else the one the stack's outputs
    name, else the cohort's only lab; None for a several-lab cohort not provisioned yet."""
    for candidate in (lab, outputs.get("lab")):
        if candidate in cohort.labs:
            return candidate
    return cohort.labs[0] if len(cohort.labs) == 1 else None


def student_env(cohort: Cohort, student: Student, outputs: dict[str, Any], lab: str | None = None,
                local: bool = False) -> dict[str, str]:
    """The environment of one student's shell: their target (the cohort's public endpoint, where
    students reach it), region, names, current lab and (if any) keys. `local`: for a process run as
    the student on the instructor's machine (`student deploy`), which uses the instructor's endpoint."""
    env: dict[str, str] = {}
    endpoint = cohort.target.endpoint if local else cohort.student_endpoint
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    env |= {
        "AWS_REGION": cohort.target.region,
        "AWS_DEFAULT_REGION": cohort.target.region,
        "LABCTL_COHORT": cohort.name,
        "LABCTL_STUDENT": student.student,
        "LABCTL_PREFIX": student.prefix,
    }
    current = current_lab(cohort, outputs, lab)
    if current:
        env["LABCTL_LAB"] = current
    if outputs.get("aws_access_key_id") and outputs.get("aws_secret_access_key"):
        env["AWS_ACCESS_KEY_ID"] = str(outputs["aws_access_key_id"])
        env["AWS_SECRET_ACCESS_KEY"] = str(outputs["aws_secret_access_key"])
    if outputs.get("aws_session_token"):
        env["AWS_SESSION_TOKEN"] = str(outputs["aws_session_token"])
    if outputs.get("aws_account_id"):
        env["LABCTL_AWS_ACCOUNT_ID"] = str(outputs["aws_account_id"])
        env["LABCTL_AWS_ROLE_ARN"] = str(outputs.get("aws_role_arn", ""))
    if outputs.get("namespace"):
        env["LABCTL_NAMESPACE"] = str(outputs["namespace"])
    if outputs.get("database_dsn"):
        env["DATABASE_URL"] = str(outputs["database_dsn"])
    if outputs.get("workspace_url"):
        env["LABCTL_WORKSPACE_URL"] = str(outputs["workspace_url"])
    if outputs.get("workspace_password"):
        env["LABCTL_WORKSPACE_PASSWORD"] = str(outputs["workspace_password"])
    return env


def kubeconfig_path(student: Student) -> str:
    """Where the env form writes the student's kubeconfig (in the shell's own home)."""
    return f"$HOME/.kube/{student.prefix}.yaml"


def kubeconfig_lines(student: Student, kubeconfig: str) -> list[str]:
    """Shell lines that write the kubeconfig 0600 (in a subshell: the umask stays the shell's) and export
    KUBECONFIG. A quoted here-document: nothing in the kubeconfig is expanded."""
    path = kubeconfig_path(student)
    body = kubeconfig.rstrip("\n").splitlines()
    if KUBECONFIG_END in body:
        raise ValueError("kubeconfig contains the here-document terminator")
    return [
        f'(umask 077 && mkdir -p "$HOME/.kube" && cat > "{path}") <<\'{KUBECONFIG_END}\'',
        *body,
        KUBECONFIG_END,
        f'export KUBECONFIG="{path}"',
    ]


def account_details(account_id: str) -> dict[str, str]:
    """Isolation mode `account`: the student's own account and the role they work as — no credentials."""
    from labctl.cohorts.accounts import LABCTL_PATH, STUDENT_ROLE, role_arn

    return {"aws_account_id": account_id, "aws_role_arn": role_arn(account_id, STUDENT_ROLE, LABCTL_PATH)}


def account_outputs(cohort: Cohort, account_id: str) -> dict[str, str]:
    """Isolation mode `account`: short-lived credentials of the student's own role in their account
    (`sts:AssumeRole` of `labctl-student` with the instructor's credentials), in place of stack outputs.
    Only `labctl student env` prints them; no handout holds them."""
    from labctl.cohorts.accounts import student_session

    creds = student_session(cohort.target, account_id).get_credentials().get_frozen_credentials()
    return {**account_details(account_id), "aws_access_key_id": creds.access_key,
            "aws_secret_access_key": creds.secret_key, "aws_session_token": creds.token}


def credentials_command(cohort: Cohort, student: Student) -> str:
    return f"labctl student env --cohort {cohort.name} --student {student.student}"


def env_text(cohort: Cohort, student: Student, outputs: dict[str, Any], lab: str | None = None,
             portal: str | None = None) -> str:
    env = student_env(cohort, student, outputs, lab)
    lines = [f"# labctl: {cohort.name} / {student.student} — source this file in your shell"]
    if portal:
        lines.append(f"# check your work in the lab portal: {portal}")
    lines += [f"export {key}={shlex.quote(value)}" for key, value in env.items()]
    if outputs.get("kubeconfig"):
        lines += kubeconfig_lines(student, str(outputs["kubeconfig"]))
    if outputs.get("aws_account_id") and not outputs.get("aws_session_token"):
        lines.append(f'# short-lived credentials of your role: eval "$({credentials_command(cohort, student)})"')
    if not outputs:
        lines.append("# " + NO_CREDENTIALS.format(cohort=cohort.name))
    return "\n".join(lines) + "\n"


def course_line(cohort: Cohort, current: str | None) -> str | None:
    """Where the student is in a several-lab course (None for a single-lab cohort)."""
    if len(cohort.labs) == 1:
        return None
    order = ", ".join(f"`{lab_id}`" for lab_id in cohort.labs)
    if current is None:
        return f"- labs, in order: {order}; your instructor provisions one at a time"
    return f"- lab: `{current}` ({cohort.labs.index(current) + 1} of {len(cohort.labs)}: {order})"


def personal(readme: str, cohort: Cohort, student: Student) -> str:
    """A lab's instructions with the `<cohort>`, `<student>` and `<prefix>` placeholders filled in,
    so every command in a handout runs as written."""
    for placeholder, value in (("<cohort>", cohort.name), ("<student>", student.student), ("<prefix>", student.prefix)):
        readme = readme.replace(placeholder, value)
    return readme


def portal_lines(portal: str | None) -> list[str]:
    """The handout's portal section: the student's sign-in link (personal: it signs them in), or
    the portal's address when links are handed out separately."""
    if not portal:
        return []
    personal_link = "/signin?token=" in portal
    return [
        "## Check your work",
        "",
        f"- lab portal: <{portal}>" + (" (your personal sign-in link: keep it to yourself)" if personal_link
                                        else " (sign in with the link your instructor gives you)"),
        "",
    ]


def markdown_text(cohort: Cohort, student: Student, outputs: dict[str, Any], lab: str | None = None,
                  portal: str | None = None) -> str:
    current = current_lab(cohort, outputs, lab)
    labs = [get_lab(lab_id) for lab_id in ([current] if current else cohort.labs)]
    who = student.name or student.student
    target = cohort.target
    course = course_line(cohort, current)
    lines = [
        f"# {', '.join(lab.spec.title for lab in labs)} — {who}",
        "",
        "## Your environment",
        "",
        f"- cohort: `{cohort.name}`, student: `{student.student}`",
        *([course] if course else []),
        f"- your prefix: `{student.prefix}`; name everything you create"
        f" `{student.prefix}-…`",
        f"- target: {target.kind}" + (f" at `{cohort.student_endpoint}`" if cohort.student_endpoint else ""),
        f"- region: `{target.region}`",
        "",
        *portal_lines(portal),
        "## Your credentials",
        "",
    ]
    if outputs.get("aws_account_id"):
        lines += [
            f"- your own AWS account: `{outputs['aws_account_id']}` (only your work is in it)",
            f"- the role you work as: `{outputs.get('aws_role_arn', '')}` (labctl-student), region"
            f" `{target.region}`",
            "- credentials: short-lived (at most 12 hours), never a key in this file:"
            f" `{credentials_command(cohort, student)}` prints them as `export` lines"
            f" (`eval \"$({credentials_command(cohort, student)})\"`); your instructor runs it for you"
            " when you have no labctl of your own",
        ]
    elif "aws_access_key_id" in outputs:
        lines += [
            f"- user: `{outputs.get('aws_user', '')}`",
            f"- AWS_ACCESS_KEY_ID: `{outputs['aws_access_key_id']}`",
            f"- AWS_SECRET_ACCESS_KEY: `{outputs.get('aws_secret_access_key', '')}`",
        ]
    if outputs.get("database_dsn"):
        lines.append(f"- database (DATABASE_URL; `psql \"$DATABASE_URL\"`): `{outputs['database_dsn']}`")
    if outputs.get("workspace_url"):
        lines.append(f"- workspace: <{outputs['workspace_url']}>")
    if outputs.get("workspace_password"):
        lines.append(f"- workspace password: `{outputs['workspace_password']}`")
    if outputs.get("kubeconfig"):
        lines += [
            f"- kubeconfig: the shell setup below saves it as `~/.kube/{student.prefix}.yaml`"
            " and sets KUBECONFIG; here it is in full:",
            "",
            "```yaml",
            str(outputs["kubeconfig"]).rstrip("\n"),
            "```",
        ]
    if not outputs:
        lines.append(NO_CREDENTIALS.format(cohort=cohort.name))
    others = {k: v for k, v in outputs.items() if k not in OWN_SECTION_KEYS}
    if others:
        lines += ["", "## Other details", ""] + [f"- {key}: `{value}`" for key, value in sorted(others.items())]
    lines += ["", "## Shell setup", "", "```sh", env_text(cohort, student, outputs, current).rstrip(), "```"]
    for lab in labs:
        lines += ["", "---", "", personal(lab.readme, cohort, student).rstrip()]
    return "\n".join(lines) + "\n"


def write_handouts(
    cohort: Cohort, out: Path, fmt: str, outputs: Outputs, current_labs: Mapping[str, str] | None = None,
    portal: Mapping[str, str] | None = None,
) -> list[Path]:
    """One 0600 file per student, `<student>.md` or `<student>.env`, under `out`, for the student's
    current lab (`current_labs`: student slug → lab, as the registry records them), with their
    portal link (`portal`: student slug → URL) when there is one."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown handout format {fmt!r}")
    render = markdown_text if fmt == "md" else env_text
    labs = current_labs or {}
    paths = []
    for student in cohort.students:
        path = Path(out) / f"{student.student}.{fmt}"
        write_secret(path, render(cohort, student, outputs(student), labs.get(student.student),
                                  (portal or {}).get(student.student)))
        paths.append(path)
    return paths


def engine_outputs(cohort: Cohort, backend: Backend | None = None) -> tuple[Outputs, str | None]:
    """Stack outputs per student from the engine, or none with the reason (e.g. no Pulumi CLI)."""
    from labctl.labs.errors import LabctlError
    from labctl.stacks.engine import Engine

    try:
        engine = Engine(backend)
    except LabctlError as exc:
        return (lambda student: {}), str(exc)
    return (lambda student: engine.outputs(cohort, student)), None
