"""`labctl`: the click entry point. Parses, calls one function, renders — no business logic here.

Library errors (labs.errors.LabctlError) are translated once, in `LabctlGroup.main`, into
`Error: <what> (<where>)` on one line with exit code 2 for bad input and 1 otherwise.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable

import click
from rich.console import Console
from rich.table import Table

from labctl.labs.errors import InputError, LabctlError

FORMAT_TABLE_JSON = click.Choice(["table", "json"])


class LabctlGroup(click.Group):
    """A group whose every failure is one line on stderr and a documented exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `labctl` or `labctl cohort`: the help
            click.echo(exc.ctx.get_help())
            code = 0
        except click.exceptions.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            code = 2
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except LabctlError as exc:
            click.echo(f"Error: {exc}", err=True)
            code = exc.exit_code
        except (click.exceptions.Abort, KeyboardInterrupt):
            click.echo("Aborted.", err=True)
            code = 130
        code = code if isinstance(code, int) else 0
        if standalone_mode:
            sys.exit(code)
        return code


# Tables written to a pipe or a CI log are not squeezed into 80 columns (COLUMNS still wins).
PIPE_WIDTH = 160


class Settings:
    """The context object: output settings shared by every command."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.out = Console(soft_wrap=True)
        if not self.out.is_terminal and "COLUMNS" not in os.environ:
            self.out = Console(soft_wrap=True, width=PIPE_WIDTH)
        self.err = Console(stderr=True)

    @property
    def show_progress(self) -> bool:
        return not self.quiet and self.err.is_terminal


pass_settings = click.make_pass_decorator(Settings)


def existing_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """An --out file goes into a folder that exists: checked before anything runs (exit 2)."""
    if value is not None and not value.parent.is_dir():
        raise click.BadParameter(f"folder {str(value.parent)!r} does not exist", ctx, param)
    return value


def out_option(help: str) -> Callable[[Callable], Callable]:
    return click.option("--out", type=click.Path(dir_okay=False, path_type=Path), callback=existing_folder, help=help)


def write_out(out: Path, text: str) -> None:
    """Write a report or plan to `out`; a file that cannot be written is one line, exit 2."""
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror or exc}", "--out") from None


def emit_json(data: Any, out: Path | None = None) -> None:
    text = json.dumps(data, indent=2, sort_keys=False)
    if out:
        write_out(out, text + "\n")
    else:
        click.echo(text)


def emit_text(text: str, out: Path | None) -> None:
    """Write a rendered report to `out`, or to stdout."""
    text = text if text.endswith("\n") else text + "\n"
    if out:
        write_out(out, text)
    else:
        click.echo(text, nl=False)


def plain_text(renderable: Any) -> str:
    """A rich renderable (a table) as plain text, for --out."""
    import io

    buffer = io.StringIO()
    Console(file=buffer, width=PIPE_WIDTH, no_color=True).print(renderable)
    return buffer.getvalue()


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Table:
    grid = Table(title=title, title_justify="left")
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    return grid


def registry():
    from labctl.cohorts.registry import Registry

    return Registry()


@click.group(cls=LabctlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="No progress display.")
@click.version_option(package_name="labctl")
@click.pass_context
def cli(ctx: click.Context, quiet: bool) -> None:
    """labctl: one isolated cloud lab per student, guarded by policy packs, graded by validators.

    State lives under $LABCTL_HOME (default ~/.labctl).
    """
    ctx.obj = Settings(quiet)


# --- labs ---------------------------------------------------------------------------------------


@click.group("labs")
def labs_group() -> None:
    """The lab catalog: list, show and validate labs."""


@click.command("list")
@click.option("--track", type=click.Choice(["cloud", "kubernetes", "data", "web"]))
@click.option("--level", type=click.Choice(["beginner", "intermediate", "advanced"]))
@click.option("--topic", help="Only labs with this topic.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def labs_list(settings: Settings, track: str | None, level: str | None, topic: str | None, fmt: str) -> None:
    """List the labs in the catalog."""
    from labctl.labs.catalog import filter_labs, load_catalog

    labs = filter_labs(load_catalog(), track, level, topic)
    rows = [
        {
            "id": lab.spec.id,
            "title": lab.spec.title,
            "track": lab.spec.track,
            "level": lab.spec.level,
            "minutes": lab.spec.minutes,
            "topics": lab.spec.topics,
            "max_points": lab.spec.max_points,
        }
        for lab in labs
    ]
    if fmt == "json":
        emit_json(rows)
        return
    settings.out.print(
        table(
            f"{len(rows)} labs",
            ["id", "title", "track", "level", "minutes", "points"],
            [[r["id"], r["title"], r["track"], r["level"], r["minutes"], r["max_points"]] for r in rows],
        )
    )


@click.command("show")
@click.argument("lab_id")
@click.option("--format", "fmt", type=click.Choice(["markdown", "json"]), default="markdown", show_default=True)
def labs_show(lab_id: str, fmt: str) -> None:
    """Show one lab: its instructions (markdown) or its full spec (json)."""
    from labctl.labs.catalog import get_lab

    lab = get_lab(lab_id)
    if fmt == "json":
        emit_json({**lab.spec.model_dump(mode="json", by_alias=True), "max_points": lab.spec.max_points})
    else:
        click.echo(lab.readme)


@click.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def labs_validate(paths: tuple[Path, ...]) -> None:
    """Validate lab folders or lab.yaml files (default: the whole catalog)."""
    from labctl.labs.catalog import lab_folders, validate_paths
    from labctl.validators.checks import params_by_name

    from labctl.components.aws_policies import check_lab_sandbox

    files = [path / "lab.yaml" if path.is_dir() else path for path in (list(paths) or lab_folders())]
    specs = validate_paths(files, params_by_name())
    for spec, file in zip(specs, files):
        check_lab_sandbox(spec, str(file))
    click.echo(f"{len(specs)} lab(s) valid: {', '.join(s.id for s in specs)}")


for command in (labs_list, labs_show, labs_validate):
    labs_group.add_command(command)


# --- emulator -----------------------------------------------------------------------------------


@click.group("emulator")
def emulator_group() -> None:
    """The embedded AWS emulator (moto's server, on 127.0.0.1 unless started with --host)."""


@click.command("start")
@click.option("--port", type=click.IntRange(1024, 65535), default=4566, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, metavar="ADDR",
              help="Address to listen on; 0.0.0.0 (every interface) or this machine's address lets a classroom reach it.")
@click.option("--enforce-iam", is_flag=True, help="Enforce IAM: requests need valid keys and permissions.")
def emulator_start(port: int, host: str, enforce_iam: bool) -> None:
    """Start the emulator in the background and wait until it answers."""
    from labctl.app import emulator

    saved = emulator.saved_state()
    status = emulator.start(port=port, enforce_iam=enforce_iam, host=host)
    warning = emulator.exposure_warning(status.host, enforce_iam)
    if warning:
        click.echo(warning, err=True)
    mode = " with IAM enforcement" if status.enforce_iam else ""
    kept = f", state saved {saved[1]} restored" if saved else ", empty"
    listening = f", listening on {status.host}" if status.host != emulator.HOST else ""
    click.echo(f"emulator running at {status.endpoint} (pid {status.pid}){listening}{mode}{kept}")
    if listening:
        click.echo(f"students reach it at this machine's address on port {port}: give each cohort that URL with"
                   " `labctl cohort set NAME --public-endpoint URL`")


@click.command("stop")
def emulator_stop() -> None:
    """Stop the emulator; it saves its state first, and the next start restores it."""
    from labctl.app import emulator

    click.echo("emulator stopped, state saved" if emulator.stop() else "emulator was not running")


@click.command("reset")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def emulator_reset(yes: bool) -> None:
    """Erase everything the emulator holds (every student's buckets, tables, queues, users and keys):
    the one way to empty it. The emulator must be stopped.
    """
    from labctl.app import emulator

    emulator.ensure_stopped()
    saved = emulator.saved_state()
    if saved is None:
        click.echo("nothing to reset: the emulator has no saved state")
        return
    with registry() as reg:
        cohorts = [name for name in reg.cohort_names() if reg.cohort(name).target.kind == "emulator"]
    whose = f"; it holds the work of cohort(s) {', '.join(cohorts)}" if cohorts else ""
    click.echo(f"this erases the emulator's saved state ({saved[0] / 1e6:.1f} MB, saved {saved[1]}): every resource,"
               f" user and key made in it{whose}")
    if not yes:
        click.confirm("erase it?", abort=True)
    emulator.reset()
    click.echo("emulator state erased: the next start is empty")


@click.command("status")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
def emulator_status(fmt: str) -> None:
    """Is the emulator running, where, with IAM enforcement?"""
    from labctl.cohorts import emulator_client

    status = emulator_client.status()
    if fmt == "json":
        emit_json(status.to_dict())
    elif status.running:
        mode = ", IAM enforced" if status.enforce_iam else ""
        listening = f", listening on {status.host}" if status.host != emulator_client.HOST else ""
        click.echo(f"running at {status.endpoint} (pid {status.pid}{listening}{mode})")
    else:
        click.echo("not running")


@click.command("env")
@click.option("--format", "fmt", type=click.Choice(["shell", "json"]), default="shell", show_default=True)
def emulator_env(fmt: str) -> None:
    """Print the instructor's environment for the emulator (eval "$(labctl emulator env)")."""
    from labctl.cohorts import emulator_client

    env = emulator_client.credentials()
    if fmt == "json":
        emit_json(env)
    else:
        for key, value in env.items():
            click.echo(f"export {key}={shell_quote(value)}")


def shell_quote(value: str) -> str:
    import shlex

    return shlex.quote(value)


for command in (emulator_start, emulator_stop, emulator_reset, emulator_status, emulator_env):
    emulator_group.add_command(command)


# --- cohort -------------------------------------------------------------------------------------


@click.group("cohort")
def cohort_group() -> None:
    """Cohorts: a roster of students and the labs they take."""


@click.command("create")
@click.argument("name")
@click.option("--lab", "labs", multiple=True, required=True, help="Lab id (repeatable).")
@click.option("--roster", required=True, type=click.Path(path_type=Path), help="CSV with id[,name,email].")
@click.option("--target", type=click.Choice(["emulator", "localstack", "aws"]), default="emulator", show_default=True)
@click.option("--endpoint", help="Emulator or LocalStack URL (default http://127.0.0.1:4566).")
@click.option("--region", default="us-east-1", show_default=True)
@click.option("--profile", help="AWS profile for target aws (default: the default credential chain).")
@click.option("--postgres-dsn", help="Admin connection of the shared PostgreSQL server, without password (PGPASSWORD or ~/.pgpass supply it).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="Kubeconfig of the cluster for Kubernetes labs.")
@click.option("--context", "kube_context", help="Kubeconfig context (default: the current one).")
@click.option("--budget-usd", type=float, help="Cap on each student's AWS budget (a lab's budget above it is lowered).")
@click.option("--instructor-email", help="Budget alerts at 80%% and 100%% go here.")
@click.option("--expires", metavar="DATE", help="Lease end: ISO 8601 date (through that day, UTC) or datetime; `labctl reap` destroys the stacks after it.")
@click.option("--ttl", metavar="DURATION", help="Lease length from now, like 14d, 36h or 90m (instead of --expires).")
@click.option("--isolation", type=click.Choice(["shared", "account"]), default="shared", show_default=True,
              help="shared: every student in the target's account; account: one pool account per student.")
@click.option("--pool", help="With --isolation account: the account pool to lease from.")
@click.option("--public-endpoint", metavar="URL", help="Where students reach the target (a classroom emulator: http://THIS-MACHINE:4566); shown to them instead of --endpoint.")
def cohort_create(
    name: str, labs: tuple[str, ...], roster: Path, target: str, endpoint: str | None, region: str,
    profile: str | None, postgres_dsn: str | None, kubeconfig: Path | None, kube_context: str | None,
    budget_usd: float | None, instructor_email: str | None, expires: str | None, ttl: str | None,
    isolation: str, pool: str | None, public_endpoint: str | None,
) -> None:
    """Validate and record a cohort. Nothing is provisioned; with --isolation account each student
    leases an account of the pool."""
    from labctl.cohorts.accounts import check_isolation
    from labctl.cohorts.cohort import build_cohort, check_public_endpoint, make_services, make_target
    from labctl.components.aws_policies import check_lab_sandbox
    from labctl.stacks.leases import format_instant, lease_end
    from labctl.validators.checks import usable_lab

    lease = lease_end(expires, ttl)
    pool = check_isolation(isolation, pool, target)
    chosen_target = make_target(target, endpoint, region, profile)
    public = check_public_endpoint(public_endpoint, chosen_target) if public_endpoint is not None else None
    cohort = build_cohort(
        name, labs, roster, chosen_target, make_services(postgres_dsn, kubeconfig, kube_context), budget_usd,
        instructor_email,
    )
    for lab in cohort.labs:
        check_lab_sandbox(usable_lab(lab).spec, "--lab")
    with registry() as reg:
        leased = reg.create_cohort(cohort, pool)
        if lease:
            reg.set_lease(cohort.name, format_instant(lease))
        if public:
            reg.set_public_endpoint(cohort.name, public)
    until = f", lease until {format_instant(lease)}" if lease else ""
    accounts = f", {len(leased)} accounts leased from pool {pool}" if pool else ""
    count = len(cohort.students)
    shown = f", students use {public}" if public else ""
    click.echo(f"cohort {cohort.name}: {count} student{'' if count == 1 else 's'}, labs {', '.join(cohort.labs)},"
               f" target {target}{shown}{accounts}{until}")


@click.command("set")
@click.argument("name")
@click.option("--public-endpoint", metavar="URL", help="Where students reach the target; handouts, `student env` and the portal show it.")
@click.option("--no-public-endpoint", is_flag=True, help="Show students the target's own endpoint again.")
def cohort_set(name: str, public_endpoint: str | None, no_public_endpoint: bool) -> None:
    """Change a recorded cohort's settings."""
    from labctl.cohorts.cohort import check_public_endpoint

    if (public_endpoint is None) == (not no_public_endpoint):
        raise InputError("give either --public-endpoint URL or --no-public-endpoint", "--public-endpoint")
    with registry() as reg:
        cohort = reg.cohort(name)
        public = check_public_endpoint(public_endpoint, cohort.target) if public_endpoint is not None else None
        reg.set_public_endpoint(cohort.name, public)
    shown = public or f"the target's own endpoint ({cohort.target.endpoint or cohort.target.region})"
    click.echo(f"cohort {cohort.name}: students are shown {shown}; reissue handouts (labctl handouts) for the change")


@click.command("show")
@click.argument("name")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def cohort_show(settings: Settings, name: str, fmt: str) -> None:
    """Show a cohort and its students (with --isolation account, each student's account)."""
    from labctl.cohorts.accounts import cohort_accounts, cohort_pool

    with registry() as reg:
        cohort = reg.cohort(name)
        pool = cohort_pool(reg, cohort.name)
        leased = cohort_accounts(reg, cohort.name)
    data = {
        "cohort": cohort.name,
        "labs": list(cohort.labs),
        "target": cohort.target.kind,
        "endpoint": cohort.target.endpoint,
        "public_endpoint": cohort.public_endpoint,
        "region": cohort.target.region,
        "isolation": "account" if pool else "shared",
        "pool": pool,
        "students": [
            {"student": s.student, "name": s.name, "email": s.email, "prefix": s.prefix,
             **({"account_id": leased[s.student].account_id if s.student in leased else None} if pool else {})}
            for s in cohort.students
        ],
    }
    if fmt == "json":
        emit_json(data)
        return
    where = cohort.target.endpoint or cohort.target.region
    public = f", students use {cohort.public_endpoint}" if cohort.public_endpoint else ""
    mode = f" · one account per student (pool {pool})" if pool else ""
    title = f"cohort {cohort.name} · {', '.join(cohort.labs)} · {cohort.target.kind} ({where}{public}){mode}"
    columns = ["student", "name", "email", "prefix", *(["account"] if pool else [])]
    settings.out.print(table(title, columns, [[s["student"], s["name"], s["email"], s["prefix"],
                                               *([s["account_id"] or ""] if pool else [])] for s in data["students"]]))


@click.command("list")
def cohort_list() -> None:
    """List the cohorts in the registry."""
    with registry() as reg:
        names = reg.cohort_names()
    click.echo("\n".join(names) if names else "no cohorts yet (labctl cohort create)")


@click.command("delete")
@click.argument("name")
@click.option("--force", is_flag=True, help="Delete even though stacks are recorded as possibly live (they are gone).")
def cohort_delete(name: str, force: bool) -> None:
    """Delete a cohort from the registry (students, grade history, stack statuses), freeing its name.

    Refused while its stacks may be live: `labctl destroy --cohort NAME` first. Export the grades
    first if you need them (`labctl grades export`).
    """
    from labctl.stacks.lifecycle import delete_cohort

    with registry() as reg:
        click.echo(delete_cohort(reg, name, force))


@click.command("backend")
@click.argument("name")
@click.option("--backend", "url", help="s3://bucket?endpoint=HOST:PORT&region=R, https://api.pulumi.com (with --org) or file:///path.")
@click.option("--org", help="The Pulumi Cloud organisation (with a Pulumi Cloud backend).")
@click.option("--secrets-provider", help="passphrase (default) or awskms://… (a KMS key).")
@click.option("--passphrase-env", help="The environment variable holding the passphrase (default LABCTL_PASSPHRASE); its value is never stored.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
def cohort_backend(name: str, url: str | None, org: str | None, secrets_provider: str | None,
                   passphrase_env: str | None, fmt: str) -> None:
    """Show, or with --backend record, where the cohort's Pulumi state lives and how it is encrypted.

    Used by up, destroy, reset, reap, unlock, status, handouts and student env/deploy on every machine
    that shares the registry; each needs the passphrase in the named variable (or KMS access).
    """
    from labctl.cohorts.backend import parse_backend

    with registry() as reg:
        reg.cohort(name)
        if url is not None:
            reg.set_backend(name, parse_backend(url, org, secrets_provider, passphrase_env))
        elif org or secrets_provider or passphrase_env:
            raise InputError("--org, --secrets-provider and --passphrase-env go with --backend", "--backend")
        backend = reg.backend(name)
    data = backend.to_dict() if backend else {"url": "file:// under the labctl home (default)", "org": None,
                                             "secrets_provider": "passphrase", "passphrase_env": None}
    if fmt == "json":
        emit_json({"cohort": name, **data})
        return
    shown = [f"{key} {value}" for key, value in data.items() if value and key != "url"]
    click.echo(f"cohort {name}: backend {data['url']}" + "".join(f", {part}" for part in shown))


for command in (cohort_create, cohort_set, cohort_show, cohort_list, cohort_delete, cohort_backend):
    cohort_group.add_command(command)


@click.group("registry")
def registry_group() -> None:
    """The registry: SQLite under the home, or the PostgreSQL database of LABCTL_DATABASE_URL."""


@click.command("import")
@click.option("--from", "source", type=click.Path(dir_okay=False, path_type=Path),
              help="The SQLite registry to copy (default: this home's).")
def registry_import(source: Path | None) -> None:
    """Copy this home's SQLite registry into the shared PostgreSQL database (LABCTL_DATABASE_URL), which
    must hold no cohort yet. The SQLite file is left as it was."""
    from labctl.cohorts.home import registry_path
    from labctl.cohorts.registry import import_home

    with registry() as reg:
        counts = import_home(reg, source or registry_path())
    copied = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
    click.echo(f"imported into {reg.db.where}: {copied or 'nothing (an empty registry)'}")


registry_group.add_command(registry_import)


# --- accounts -----------------------------------------------------------------------------------


@click.group("accounts")
def accounts_group() -> None:
    """The pool of AWS member accounts leased one per student (cohort create --isolation account)."""


@click.command("add")
@click.option("--pool", required=True, help="The pool the accounts join.")
@click.option("--csv", "csv_file", required=True, type=click.Path(path_type=Path), help="CSV with account_id,email.")
def accounts_add(pool: str, csv_file: Path) -> None:
    """Add member accounts to a pool, all or none (an account already pooled is refused)."""
    from labctl.cohorts.accounts import add_accounts, check_pool_name, read_accounts

    check_pool_name(pool)
    entries = read_accounts(csv_file)
    with registry() as reg:
        added = add_accounts(reg, pool, entries, str(csv_file))
    click.echo(f"pool {pool}: {added} account{'' if added == 1 else 's'} added, available")


@click.command("create")
@click.option("--pool", required=True, help="The pool the new accounts join.")
@click.option("--count", required=True, type=click.IntRange(1, 500), help="How many member accounts.")
def accounts_create(pool: str, count: int) -> None:
    """On the embedded emulator: create member accounts through Organizations and pool them."""
    from labctl.cohorts.accounts import add_accounts, check_pool_name, create_member_accounts
    from labctl.cohorts.cohort import make_target
    from labctl.cohorts.targets import resolve

    check_pool_name(pool)
    target = resolve(make_target("emulator", None, "us-east-1", None))
    entries = create_member_accounts(target, pool, count)
    with registry() as reg:
        add_accounts(reg, pool, entries, "Organizations")
    click.echo(f"pool {pool}: {len(entries)} account{'' if len(entries) == 1 else 's'} created and added:"
               f" {', '.join(e.account_id for e in entries)}")


@click.command("list")
@click.option("--pool", help="Only this pool.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def accounts_list(settings: Settings, pool: str | None, fmt: str) -> None:
    """The pooled accounts: state (available, leased, cleaning, quarantined) and whose they are."""
    from labctl.cohorts.accounts import list_accounts

    with registry() as reg:
        found = list_accounts(reg, pool)
    rows = [{k: a.to_dict()[k] for k in ("account_id", "pool", "state", "cohort", "student")} for a in found]
    if fmt == "json":
        emit_json(rows)
        return
    settings.out.print(table(f"{len(rows)} accounts", ["account", "pool", "state", "cohort", "student", "note"],
                             [[a.account_id, a.pool, a.state, a.cohort or "", a.student or "", a.note or ""]
                              for a in found]))


@click.command("release")
@click.option("--cohort", "cohort_name", required=True, help="The cohort whose accounts go back to the pool.")
@click.option("--student", "students", multiple=True, help="Only this student's account (repeatable).")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
def accounts_release(cohort_name: str, students: tuple[str, ...], fmt: str) -> None:
    """Return swept accounts to the pool: an empty account becomes available, one with anything left
    quarantined (with the list). Exit 1 if any is quarantined."""
    from labctl.stacks.account_sweep import release_accounts

    with registry() as reg:
        released = release_accounts(reg, reg.cohort(cohort_name), students)
    if fmt == "json":
        emit_json([{"account_id": r.account_id, "student": r.student, "state": r.state, "left": list(r.left)}
                   for r in released])
    else:
        for r in released:
            left = f": {len(r.left)} left ({'; '.join(r.left)})" if r.left else ""
            click.echo(f"account {r.account_id} ({r.student}) → {r.state}{left}")
    if any(r.state == "quarantined" for r in released):
        raise click.exceptions.Exit(1)


for command in (accounts_add, accounts_create, accounts_list, accounts_release):
    accounts_group.add_command(command)


# --- plan ---------------------------------------------------------------------------------------


def cohort_option(fn: Callable) -> Callable:
    """--cohort NAME, or --lab ID --students N for a synthetic cohort."""
    fn = click.option("--students", type=click.IntRange(1, 5000), help="With --lab: a synthetic cohort of N students.")(fn)
    fn = click.option("--lab", "lab_id", help="With --students: plan this lab for a synthetic cohort.")(fn)
    return click.option("--cohort", "cohort_name", help="A cohort from the registry.")(fn)


def resolve_cohort(cohort_name: str | None, lab_id: str | None, students: int | None):
    """The cohort and its lab specs, from the registry or synthetic."""
    from labctl.cohorts.cohort import synthetic_cohort
    from labctl.components.aws_policies import check_lab_sandbox
    from labctl.validators.checks import usable_lab

    if cohort_name and (lab_id or students):
        raise InputError("give either --cohort or --lab with --students, not both", "--cohort")
    if cohort_name:
        with registry() as reg:
            cohort = reg.cohort(cohort_name)
    elif lab_id and students:
        cohort = synthetic_cohort(lab_id, students)
    else:
        raise InputError("give --cohort NAME, or --lab ID with --students N", "--cohort")
    specs = [usable_lab(lab).spec for lab in cohort.labs]
    for spec in specs:
        check_lab_sandbox(spec, "--lab" if lab_id else "--cohort")
    return cohort, specs


def progress_bar(settings: Settings, total: int, label: str):
    """A rich progress bar on stderr, silent with --quiet or when stderr is not a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=settings.err, disable=not settings.show_progress, transient=True,
    )


@click.command("plan")
@cohort_option
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@out_option("Write the plan JSON here.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: CPU count).")
@click.option("--isolation", type=click.Choice(["shared", "account"]),
              help="With --lab: plan one account per student (default shared); a cohort keeps its own mode.")
@pass_settings
def plan(settings: Settings, cohort_name: str | None, lab_id: str | None, students: int | None,
         fmt: str, out: Path | None, workers: int | None, isolation: str | None) -> None:
    """Show what each student would get, under the Pulumi SDK's mock runtime (no cloud, no engine)."""
    from labctl.stacks.plan import plan_accounts, plan_cohort
    from labctl.stacks.program import TargetSettings

    if isolation and cohort_name:
        raise InputError("a cohort plans in its own isolation mode: give --isolation only with --lab", "--isolation")
    cohort, labs = resolve_cohort(cohort_name, lab_id, students)
    with registry() as reg:
        accounts = plan_accounts(reg, cohort, isolation == "account")
    with progress_bar(settings, len(cohort.students), "planning") as bar:
        task = bar.add_task("plan", total=len(cohort.students))
        result = plan_cohort(cohort, labs, TargetSettings.from_target(cohort.target), workers=workers,
                             progress=lambda n: bar.advance(task, n), accounts=accounts)
    if out:
        emit_json(result, out)
    if fmt == "json" and not out:
        emit_json(result)
    elif fmt == "table":
        from labctl.stacks.render import plan_renderable

        settings.out.print(plan_renderable(result))


# --- policy -------------------------------------------------------------------------------------


@click.group("policy")
def policy_group() -> None:
    """The isolation and cost policy packs, run offline."""


@click.command("check")
@cohort_option
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), help="A `labctl plan --format json` file.")
@click.option("--preview-json", type=click.Path(dir_okay=False, path_type=Path), help="`pulumi preview --json` output.")
@click.option("--stack-export", type=click.Path(dir_okay=False, path_type=Path), help="`pulumi stack export` output.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="Policy config JSON (as --policy-pack-config).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif", "junit"]), default="table", show_default=True)
@out_option("Write the report here (default: stdout).")
@pass_settings
def policy_check(settings: Settings, cohort_name: str | None, lab_id: str | None, students: int | None,
                 plan_file: Path | None, preview_json: Path | None, stack_export: Path | None,
                 config_path: Path | None, fmt: str, out: Path | None) -> None:
    """Check a plan against both packs. Exit 0 clean, 1 on a mandatory violation, 2 on bad input."""
    from labctl.policies import offline
    from labctl.policies.report import table_rows, to_json, to_junit, to_sarif

    if cohort_name or lab_id or students:
        from labctl.stacks.plan import plan_cohort
        from labctl.stacks.program import TargetSettings

        cohort, labs = resolve_cohort(cohort_name, lab_id, students)
        offline.read_config(config_path)  # bad config is exit 2 before the plan runs
        source = offline.input_from_plan(plan_cohort(cohort, labs, TargetSettings.from_target(cohort.target)))
        location = f"labs/{cohort.labs[0]}/lab.yaml"
    else:
        source, location = offline.input_from_files(plan_file, preview_json, stack_export)
    report = offline.check(source, config_path)
    if fmt == "json":
        emit_json(to_json(report), out)
    elif fmt == "sarif":
        emit_json(to_sarif(report, location), out)
    elif fmt == "junit":
        emit_text(to_junit(report), out)
    else:
        s = report.summary
        title = f"{s.policies} policies · {s.resources_checked} resources · {s.mandatory} mandatory · {s.advisory} advisory"
        rows = [list(r) for r in table_rows(report)]
        if not rows:
            emit_text(f"{title}: no violations", out)
        elif out:
            emit_text(plain_text(table(title, ["level", "policy", "student", "resource", "message"], rows)), out)
        else:
            settings.out.print(table(title, ["level", "policy", "student", "resource", "message"], rows))
    if report.summary.mandatory:
        raise click.exceptions.Exit(1)


policy_group.add_command(policy_check)


# --- grade --------------------------------------------------------------------------------------


REPORT_FORMAT = click.Choice(["table", "json", "junit", "csv", "html"])


def render_report(settings: Settings, report, cohort, fmt: str, out: Path | None) -> None:
    """A grade report in `fmt`, to `out` or stdout; students that could not be graded are named on
    stderr too when the report itself did not go to the terminal as a table."""
    from labctl.validators.report import rich_table, to_csv, to_html, to_json, to_junit

    if fmt == "json":
        emit_json(to_json(report), out)
    elif fmt == "table" and not out:
        settings.out.print(rich_table(report))
    else:
        renderers = {"junit": to_junit, "html": to_html, "csv": lambda r: to_csv(r, cohort),
                     "table": lambda r: plain_text(rich_table(r))}
        emit_text(renderers[fmt](report), out)
    if fmt != "table" or out:
        for line in report.could_not_grade():
            click.echo(line, err=True)


@click.command("grade")
@click.option("--cohort", "cohort_name", required=True, help="The cohort to grade.")
@click.option("--lab", help="Only this lab (default: every lab of the cohort).")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--format", "fmt", type=REPORT_FORMAT, default="table", show_default=True)
@out_option("Write the report here (default: stdout).")
@click.option("--wait", is_flag=True, help="If another grading run holds the cohort, wait for it instead of refusing.")
@pass_settings
def grade(settings: Settings, cohort_name: str, lab: str | None, students: tuple[str, ...], fmt: str,
          out: Path | None, wait: bool) -> None:
    """Grade what each student deployed, against the cohort's live target."""
    from labctl.validators.grading import grade_and_record

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        chosen = [cohort.student(s).student for s in students] or None
        total = len(chosen or cohort.students) * (1 if lab else len(cohort.labs))
        with progress_bar(settings, total, "grading") as bar:
            task = bar.add_task("grade", total=total)
            report = grade_and_record(reg, cohort, lab=lab, students=chosen, progress=lambda: bar.advance(task),
                                      wait=wait)
    render_report(settings, report, cohort, fmt, out)
    if report.ungraded:  # an error is not a grade
        raise click.exceptions.Exit(1)


# --- grades and student views -------------------------------------------------------------------


@click.group("grades")
def grades_group() -> None:
    """Grade history from the registry."""


@click.command("history")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--student", help="Only this student.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def grades_history(settings: Settings, cohort_name: str, student: str | None, fmt: str) -> None:
    """Past grading runs, oldest first: graded_at, student, lab, score, percent, passed."""
    from labctl.validators.report import HISTORY_COLUMNS, history_json, history_rows

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        slug = cohort.student(student).student if student else None
        entries = reg.grade_history(cohort.name, slug)
    if fmt == "json":
        emit_json(history_json(cohort.name, entries))
        return
    title = f"grade history · {cohort.name}" + (f" · {slug}" if slug else "") + f" · {len(entries)} result(s)"
    settings.out.print(table(title, list(HISTORY_COLUMNS), [list(r) for r in history_rows(entries)]))


@click.command("export")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--run", help="The run id, or its start as `grades history` shows it (default: the latest run).")
@click.option("--format", "fmt", type=REPORT_FORMAT, default="table", show_default=True)
@out_option("Write the report here (default: stdout).")
@pass_settings
def grades_export(settings: Settings, cohort_name: str, run: str | None, fmt: str, out: Path | None) -> None:
    """Render a stored grading run again, without regrading: e.g. --format csv for the LMS."""
    from labctl.validators.report import stored_report

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        report = stored_report(cohort.name, reg.grade_run(cohort.name, run))
    render_report(settings, report, cohort, fmt, out)


for command in (grades_history, grades_export):
    grades_group.add_command(command)


@click.group("student")
def student_group() -> None:
    """The student's own views."""


@click.command("check")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--student", required=True, help="The student's slug.")
@click.option("--lab", help="Only this lab (default: every lab of the cohort).")
def student_check(cohort_name: str, student: str, lab: str | None) -> None:
    """Grade one student now: score, each shortfall with its hint, penalties, next labs on a pass.

    A view, not a gate: exit 0 whenever grading ran, whatever the score; 1 when the target, cluster
    or database could not be reached.
    """
    from labctl.validators.grading import grade_and_record, next_labs
    from labctl.validators.report import student_text

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        slug = cohort.student(student).student
        report = grade_and_record(reg, cohort, lab=lab, students=[slug])
    click.echo(f"{cohort.name} · {slug} · graded {report.graded_at}")
    click.echo(student_text(report, next_labs(report)))
    if report.ungraded:
        raise click.exceptions.Exit(1)


student_group.add_command(student_check)


# --- engine and cohort lifecycle -----------------------------------------------------------------


@click.group("engine")
def engine_group() -> None:
    """The Pulumi engine: install the CLI and provider plugins under the labctl home."""


@click.command("install")
@click.option("--version", "version", help="CLI version (default: the one matching the Pulumi SDK).")
def engine_install(version: str | None) -> None:
    """Install the Pulumi CLI and the pinned provider plugins (needs network)."""
    from labctl.stacks import engine

    cli_version, plugins = engine.install(version)
    pinned = ", ".join(f"{name} {v}" for name, v in plugins.items())
    click.echo(f"pulumi {cli_version} installed in {engine.cli_root()}; plugins: {pinned}")


@click.command("status")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
def engine_status(fmt: str) -> None:
    """What is installed, where stacks are stored and where the passphrase comes from."""
    from labctl.stacks import engine

    data = engine.status()
    if fmt == "json":
        emit_json(data)
        return
    cli_info = data["cli"]
    click.echo(f"cli: {cli_info['version']} at {cli_info['command']}" if cli_info["installed"] else f"cli: {cli_info['detail']}")
    click.echo(f"plugins installed: {', '.join(data['plugins_installed']) or 'none'}")
    click.echo(f"plugins pinned: {', '.join(f'{k} {v}' for k, v in data['plugins_pinned'].items())}")
    click.echo(f"backend: {data['backend']}")
    click.echo(f"passphrase from: {data['passphrase_from']}")


for command in (engine_install, engine_status):
    engine_group.add_command(command)


def run_stacks(settings: Settings, cohort_name: str, operation: str, students: tuple[str, ...], concurrency: int,
               backend: str | None, rerun_all: bool = False, then: Callable[[], bool] | None = None,
               lab: str | None = None) -> None:
    """Fan `operation` out over the cohort's students; a summary, then `then()` (False = a failure);
    exit 1 if anything failed, 130 on Ctrl-C."""
    from labctl.stacks.engine import Engine, engine_backend
    from labctl.stacks.lifecycle import run_cohort

    from labctl.stacks.live import LiveRuns

    with registry() as reg:
        cohort = reg.cohort(cohort_name)  # an unknown cohort is said before anything about the engine
        engine = Engine(engine_backend(reg.backend(cohort.name), backend))
        with LiveRuns(settings.err, f"{operation} {cohort.name}", settings.show_progress) as live:
            summary = run_cohort(reg, cohort, operation, engine, students, concurrency, rerun_all, live, lab)
    several = len(cohort.labs) > 1  # a single-lab cohort's lab goes without saying
    rows = [[r.student, *([r.lab_note] if several else []), r.status, r.changed,
             f"{r.duration_s:.1f}s" if r.duration_s else "", r.error or ""] for r in summary.runs]
    if rows:
        columns = ["student", *(["lab"] if several else []), "status", "changed", "took", "error"]
        settings.out.print(table(None, columns, rows))
    click.echo(summary.line())
    for note in summary.notes:
        click.echo(note)
    if summary.interrupted:
        raise click.exceptions.Exit(130)
    ok = then() if then and not summary.failed else True
    if summary.failed or not ok:
        raise click.exceptions.Exit(1)


def backend_option(fn: Callable) -> Callable:
    return click.option("--backend", help="Pulumi backend URL for this run (default: the cohort's, set by"
                        " `labctl cohort backend`, else file:// under the labctl home).")(fn)


@click.command("up")
@click.option("--cohort", "cohort_name", required=True, help="The cohort to provision.")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable; always rerun).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Stacks at a time.")
@click.option("--preview", is_flag=True, help="Preview with both policy packs; change nothing.")
@click.option("--all", "rerun_all", is_flag=True, help="Rerun students already up too (default: failed and pending only).")
@click.option("--lab", help="The lab to provision (default: each student's current lab, or the cohort's only one); a stack holding another lab is moved to it.")
@backend_option
@click.option("--via", type=click.Choice(["engine", "operator"]), default="engine", show_default=True,
              help="engine: run the stacks here; operator: write Pulumi Kubernetes Operator Stack manifests to --out.")
@click.option("--out", type=click.Path(path_type=Path), help="With --via operator: the folder for the manifests.")
@click.option("--namespace", default="default", show_default=True, help="With --via operator: the Stacks' namespace.")
@click.option("--repo", help="With --via operator: the git URL the cluster clones labctl from (default: origin).")
@click.option("--commit", help="With --via operator: the commit to run (default: this checkout's HEAD).")
@click.option("--secret", help="With --via operator: the Secret holding the stacks' credentials (default: COHORT-pulumi).")
@click.option("--kubeconfig", type=click.Path(dir_okay=False, path_type=Path), help="With --via operator: the cluster `labctl status` reads the Stacks from.")
@click.option("--context", "kube_context", help="With --via operator: the kubeconfig context.")
@pass_settings
def up(settings: Settings, cohort_name: str, students: tuple[str, ...], concurrency: int, preview: bool,
       rerun_all: bool, lab: str | None, backend: str | None, via: str, out: Path | None, namespace: str,
       repo: str | None, commit: str | None, secret: str | None, kubeconfig: Path | None,
       kube_context: str | None) -> None:
    """Provision one stack per student (`<cohort>.<student>`) with one lab, policy packs attached; or,
    --via operator, write one Stack manifest per student for the Pulumi Kubernetes Operator."""
    operator_only = {"--out": out, "--repo": repo, "--commit": commit, "--secret": secret,
                     "--kubeconfig": kubeconfig, "--context": kube_context}
    if via == "engine":
        given = [flag for flag, value in operator_only.items() if value is not None]
        if given:
            raise InputError(f"{given[0]} goes with --via operator", given[0])
        run_stacks(settings, cohort_name, "preview" if preview else "up", students, concurrency, backend, rerun_all,
                   lab=lab)
        return
    from labctl.stacks.engine import engine_backend
    from labctl.stacks.lifecycle import refuse_operator_account_mode
    from labctl.stacks.operator import export_cohort, program_source

    with registry() as reg:
        refuse_operator_account_mode(reg, reg.cohort(cohort_name))
    if out is None or preview:
        raise InputError("--via operator writes manifests: give --out DIR (and no --preview)", "--out")
    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        chosen_backend = engine_backend(reg.backend(cohort.name), backend)
        result = export_cohort(reg, cohort, out, chosen_backend, namespace, program_source(repo, commit), students,
                               lab, secret, str(kubeconfig.resolve()) if kubeconfig else None, kube_context)
    for line in result.lines():
        click.echo(line)


@click.command("destroy")
@click.option("--cohort", "cohort_name", required=True, help="The cohort to tear down.")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Stacks at a time.")
@click.option("--sweep", "and_sweep", is_flag=True, help="Then sweep what students made by hand, and print the proof.")
@backend_option
@pass_settings
def destroy(settings: Settings, cohort_name: str, students: tuple[str, ...], concurrency: int, and_sweep: bool,
            backend: str | None) -> None:
    """Destroy the students' stacks; with --sweep also what they made by hand (`labctl sweep`)."""

    def sweep_after() -> bool:
        from labctl.stacks.sweep import sweep_target

        with registry() as reg:
            cohort = reg.cohort(cohort_name)
            if in_account_mode(reg, cohort_name):
                return echo_account_sweeps(sweep_cohort_accounts(reg, cohort, students, False), "table")
            report = sweep_target(cohort, students)
        for left in report.left:
            click.echo(f"left {left.resource.label} ({left.resource.student}): {left.reason}")
        click.echo(f"sweep: {len(report.deleted)} deleted; {report.proof()}")
        return not report.left

    run_stacks(settings, cohort_name, "destroy", students, concurrency, backend, then=sweep_after if and_sweep else None)


@click.command("reset")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--student", required=True, help="The student whose stack is destroyed and provisioned again.")
@backend_option
@pass_settings
def reset(settings: Settings, cohort_name: str, student: str, backend: str | None) -> None:
    """Destroy one student's stack, then bring its current lab up again."""
    from labctl.stacks.lifecycle import rebuild_lab

    with registry() as reg:
        lab = rebuild_lab(reg, reg.cohort(cohort_name), student)  # refused before anything is destroyed
    run_stacks(settings, cohort_name, "destroy", (student,), 1, backend,
               then=lambda: run_stacks(settings, cohort_name, "up", (student,), 1, backend, lab=lab) or True)


@click.command("status")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def status(settings: Settings, cohort_name: str, fmt: str) -> None:
    """Per student: stack, current lab, last operation, its outcome and duration, last grade."""
    from labctl.stacks.lifecycle import status_rows

    with registry() as reg:
        rows = status_rows(reg, reg.cohort(cohort_name))
        backend = reg.backend(cohort_name)
    if fmt == "json":
        emit_json(rows)
        return

    def grade_cell(g) -> str:
        if g and g.get("error"):
            return "error (not graded)"
        return f"{g['percent']:.0f}% {'pass' if g['passed'] else 'fail'}" if g else ""

    from labctl.stacks.leases import utc_now

    def lease_cell(expires: str | None) -> str:
        from datetime import datetime

        if not expires:
            return ""
        end = datetime.fromisoformat(expires)
        return end.strftime("%Y-%m-%d %H:%M UTC") + (" (expired)" if end <= utc_now() else "")

    def cluster_cell(state: dict | None) -> str:
        if state is None:
            return "no Stack"
        if state.get("error"):
            return state["error"]
        word = "ready" if state["ready"] else state["reason"] or "not ready"
        return f"{word} ({state['state']})" if state["state"] else word

    cluster = "cluster" in (rows[0] if rows else {})
    state_where = f" · state in {backend.url}" + (f" (org {backend.org})" if backend.org else "") if backend else ""
    settings.out.print(table(
        f"cohort {cohort_name}{state_where}",
        ["student", "stack", "lab", "last op", "status", "took", "changed", "lease", "grade",
         *(["cluster"] if cluster else []), "error"],
        [[r["student"], r["stack"], r["lab"] or "", r["operation"] or "", r["status"],
          f"{r['duration_s']}s" if r["duration_s"] is not None else "", sum(r["changes"].values()) or "",
          lease_cell(r["lease_expires"]), grade_cell(r["last_grade"]),
          *([cluster_cell(r["cluster"])] if cluster else []),
          r["error"] or (r.get("cluster") or {}).get("message") or ""] for r in rows],
    ))


@click.command("reap")
@click.option("--dry-run", is_flag=True, help="Say which stacks are due; destroy nothing.")
@click.option("--now", "at", metavar="ISO", help="Reap as if it were this instant (ISO 8601; default: now).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True, help="Stacks at a time.")
@backend_option
@pass_settings
def reap(settings: Settings, dry_run: bool, at: str | None, concurrency: int, backend: str | None) -> None:
    """Destroy the stacks of cohorts whose lease has ended. Safe from cron: one reap at a time, silent
    when nothing is due, one summary line otherwise; exit 1 if a stack could not be destroyed."""
    from labctl.stacks.engine import Engine, engine_backend
    from labctl.stacks.leases import parse_instant, utc_now
    from labctl.stacks.lifecycle import reap as reap_due

    moment = parse_instant(at, "--now") if at else utc_now()
    with registry() as reg:
        result = reap_due(reg, moment, lambda name: Engine(engine_backend(reg.backend(name), backend)), dry_run,
                          concurrency)
    line = result.line()
    if line:
        click.echo(line)
    if result.interrupted:
        raise click.exceptions.Exit(130)
    if result.failed:
        raise click.exceptions.Exit(1)


@click.command("unlock")
@click.option("--cohort", "cohort_name", required=True, help="The cohort a crashed run left locked.")
@click.option("--student", "students", multiple=True, help="Only this student's stack (repeatable).")
@backend_option
def unlock(cohort_name: str, students: tuple[str, ...], backend: str | None) -> None:
    """Cancel stuck stack updates (`pulumi cancel`) and release the cohort lock a crashed run left."""
    from labctl.stacks.engine import Engine, engine_backend
    from labctl.stacks.lifecycle import unlock as unlock_cohort

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        result = unlock_cohort(reg, cohort, Engine(engine_backend(reg.backend(cohort.name), backend)), students)
    for line in result.lines():
        click.echo(line)
    click.echo(result.line())


@click.command("sweep")
@click.option("--cohort", "cohort_name", required=True, help="The cohort whose students' hand-made resources go.")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
def sweep(cohort_name: str, students: tuple[str, ...], dry_run: bool, fmt: str) -> None:
    """Delete what students made by hand under their prefixes (with --isolation account: everything in
    each student's account), then prove what is left. Exit 1 if anything is."""
    from labctl.stacks.sweep import sweep_target

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        if in_account_mode(reg, cohort_name):
            if not echo_account_sweeps(sweep_cohort_accounts(reg, cohort, students, dry_run), fmt) and not dry_run:
                raise click.exceptions.Exit(1)
            return
    report = sweep_target(cohort, students, dry_run)
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        echo_sweep(report, lambda resource: f"({resource.student})")
        for arn in report.outside:
            click.echo(f"not touched {arn}: tagged for {cohort_name} but named outside its prefixes")
        click.echo(report.proof())
    if report.left and not dry_run:
        raise click.exceptions.Exit(1)


def echo_sweep(report, where: Callable[[Any], str]) -> None:
    """What a sweep would delete, deleted and left, one line each; `where(resource)` says whose."""
    for resource in report.planned:
        click.echo(f"would delete {resource.label} {where(resource)}")
    for resource in report.deleted:
        click.echo(f"deleted {resource.label} {where(resource)}")
    for left in report.left:
        click.echo(f"left {left.resource.label} {where(left.resource)}: {left.reason}")


def in_account_mode(reg, cohort_name: str) -> bool:
    from labctl.cohorts.accounts import cohort_pool

    return cohort_pool(reg, cohort_name) is not None


def sweep_cohort_accounts(reg, cohort, students: tuple[str, ...], dry_run: bool) -> list:
    from labctl.stacks.account_sweep import sweep_accounts

    return sweep_accounts(reg, cohort, students, dry_run)


def echo_account_sweeps(sweeps: list, fmt: str) -> bool:
    """Each account's deletions and leftovers, then its proof line; True when nothing is left anywhere."""
    if fmt == "json":
        emit_json([s.to_dict() for s in sweeps])
    else:
        for sweep in sweeps:
            echo_sweep(sweep, lambda _, s=sweep: f"in account {s.account_id} ({s.student})")
        for sweep in sweeps:
            click.echo(sweep.proof())
    return not any(s.left for s in sweeps)


@click.command("handouts")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Folder for the handouts.")
@click.option("--format", "fmt", type=click.Choice(["md", "env"]), default="md", show_default=True)
@click.option("--portal-links", is_flag=True, help="Issue fresh portal tokens and put each student's sign-in link in their handout.")
@backend_option
def handouts(cohort_name: str, out: Path, fmt: str, portal_links: bool, backend: str | None) -> None:
    """One file per student (0600): lab instructions, endpoint, region, the portal and, after `up`, credentials."""
    from labctl.app.portal.tokens import DEFAULT_URL, issue_student_tokens, known_url
    from labctl.cohorts.accounts import cohort_accounts
    from labctl.stacks.engine import engine_backend
    from labctl.stacks.handouts import account_details, engine_outputs, write_handouts

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        current = reg.current_labs(cohort_name)
        chosen_backend = engine_backend(reg.backend(cohort_name), backend)
        base = known_url()
        if portal_links:
            portal = {i["student"]: i["url"] for i in issue_student_tokens(reg, cohort, None, base or DEFAULT_URL)}
        else:
            portal = {s.student: base + "/" for s in cohort.students} if base else {}
        accounts = {slug: a.account_id for slug, a in cohort_accounts(reg, cohort_name).items()}
    outputs, reason = engine_outputs(cohort, chosen_backend)
    if accounts:  # isolation mode `account`: the student's account and role, never credentials
        from_engine = outputs
        outputs = lambda student: {**from_engine(student), **account_details(accounts[student.student])}  # noqa: E731
    try:
        paths = write_handouts(cohort, out, fmt, outputs, current, portal)
    except OSError as exc:
        raise InputError(f"cannot write handouts to {exc.filename or out}: {exc.strerror or exc}", "--out") from None
    note = f" without credentials ({reason})" if reason else ""
    click.echo(f"{len(paths)} handouts written to {out}{note}")


@click.command("env")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--student", required=True, help="The student.")
@backend_option
def student_env(cohort_name: str, student: str, backend: str | None) -> None:
    """Print `export` lines for one student's shell (eval "$(labctl student env ...)"); in isolation mode
    account, short-lived credentials of their role in their own account."""
    from labctl.cohorts.accounts import cohort_accounts
    from labctl.stacks.engine import engine_backend
    from labctl.stacks.handouts import account_outputs, engine_outputs, env_text

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        lab = reg.current_lab(cohort_name, student)
        chosen_backend = engine_backend(reg.backend(cohort_name), backend)
        account = cohort_accounts(reg, cohort_name).get(cohort.student(student).student)
    chosen = cohort.student(student)
    if account is not None:  # isolation mode `account`: the student's role in their own account
        click.echo(env_text(cohort, chosen, account_outputs(cohort, account.account_id), lab), nl=False)
        return
    outputs, _ = engine_outputs(cohort, chosen_backend)
    click.echo(env_text(cohort, chosen, outputs(chosen), lab), nl=False)


student_group.add_command(student_env)


@click.command("deploy")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--student", required=True, help="The student whose credentials and endpoint the project runs with.")
@click.option("--preview", is_flag=True, help="Preview with the policy packs (Terraform: plan); change nothing.")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@backend_option
def student_deploy(cohort_name: str, student: str, preview: bool, path: Path, backend: str | None) -> None:
    """Deploy a student's Pulumi project (labctl's policy packs attached) or Terraform module as that student."""
    from labctl.stacks.deploy import check_project, deploy
    from labctl.stacks.engine import Engine, engine_backend

    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        chosen_backend = engine_backend(reg.backend(cohort_name), backend)
    chosen = cohort.student(student)
    check_project(path)
    engine = Engine(chosen_backend)
    click.echo(deploy(cohort, chosen, path, engine, engine.outputs(cohort, chosen), preview).line())


student_group.add_command(student_deploy)


# --- demo ---------------------------------------------------------------------------------------


@click.command("demo")
@pass_settings
def demo(settings: Settings) -> None:
    """Run the whole story on the embedded emulator: cohort, plan, policy check, solutions, grades."""
    from labctl.app.demo import run_demo
    from labctl.validators.report.render_table import rich_table

    result = run_demo(lambda line: settings.out.print(f"[cyan]›[/] {line}", highlight=False))
    settings.out.print(rich_table(result.report))
    passed = sum(r.passed for r in result.report.results)
    settings.out.print(
        f"[bold]demo done in {result.seconds:.1f}s[/]: cohort {result.cohort}, {result.resources} planned resources, "
        f"{result.mandatory_violations} mandatory policy violations, {passed}/{len(result.report.results)} students passed. "
        f"Explore: labctl cohort show {result.cohort} · labctl plan --cohort {result.cohort}",
        highlight=False,
    )
    settings.out.print(
        f"Open the portal: labctl serve (prints the instructor's sign-in link; the board of {result.cohort} is there) · "
        f"students' links: labctl portal tokens --cohort {result.cohort}",
        highlight=False,
    )


# --- portal -------------------------------------------------------------------------------------


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@click.option("--public-url", metavar="URL", help="The portal's address as students reach it (behind a TLS proxy: https://portal.example.edu): sign-in links use it; https makes cookies Secure.")
@click.option("--session-idle", default="60m", show_default=True, metavar="DURATION", help="A browser's session ends after this long without a request.")
@click.option("--session-max", default="12h", show_default=True, metavar="DURATION", help="A browser's session ends this long after sign-in, however busy.")
def serve(host: str, port: int, public_url: str | None, session_idle: str, session_max: str) -> None:
    """The lab portal: students check their own work in a browser, instructors watch their cohorts.

    Prints the instructor's sign-in link once; students' links come from `labctl portal tokens`.
    Sessions live in this process's memory: a restart signs everyone out (their links sign them in again).
    """
    from labctl.app.portal.server import serve as run_portal

    run_portal(host, port, click.echo, public_url, session_idle, session_max)


@click.group("portal")
def portal_group() -> None:
    """The lab portal's sign-in tokens."""


@click.command("tokens")
@click.option("--cohort", "cohort_name", required=True, help="The cohort.")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable; default: every student).")
@click.option("--url", help="The portal's address for the links (default: where `labctl serve` last listened).")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def portal_tokens(settings: Settings, cohort_name: str, students: tuple[str, ...], url: str | None, fmt: str) -> None:
    """Issue fresh sign-in tokens (a student's older token stops working); shown this once only."""
    from labctl.app.portal.tokens import DEFAULT_URL, check_url, issue_student_tokens, known_url

    base = check_url(url) if url else (known_url() or DEFAULT_URL)
    with registry() as reg:
        cohort = reg.cohort(cohort_name)
        for slug in students:
            cohort.student(slug)
        issued = issue_student_tokens(reg, cohort, list(students), base)
    if fmt == "json":
        emit_json(issued)
        return
    settings.out.print(table(f"portal tokens · {cohort.name} (shown once; hand each link to its student only)",
                             ["student", "token", "url"], [[i["student"], i["token"], i["url"]] for i in issued]))


portal_group.add_command(portal_tokens)


# --- selftest -----------------------------------------------------------------------------------


@click.group("selftest")
def selftest_group() -> None:
    """Prove labctl's promises on this machine."""


@click.command("isolation")
@click.option("--students", type=click.IntRange(2, 26), default=3, show_default=True, help="Students in the matrix.")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def selftest_isolation(settings: Settings, students: int, fmt: str) -> None:
    """Every student's keys against every other's bucket and queue, in an IAM-enforcing emulator.

    Exit 1 if any cell is not as expected; `?` marks cells the emulator cannot evaluate.
    """
    from labctl.app.selftest import ESCALATIONS, matrix_rows, run_isolation

    report = run_isolation(students, progress=lambda line: None if settings.quiet or fmt == "json"
                           else settings.err.print(f"[cyan]›[/] {line}", highlight=False))
    counts = report.to_dict()["counts"]
    if fmt == "json":
        emit_json(report.to_dict())
    else:
        columns, rows = matrix_rows(report)
        settings.out.print(table("isolation matrix (✓ as expected, ? emulator cannot evaluate, ✗ failed)", columns, rows))
        marks = {"pass": "✓", "FAIL": "✗", "unverifiable": "?"}
        esc = [[s, *(f"{marks[c.verdict]} {c.observed}" for a in ESCALATIONS for c in report.cells
                     if c.actor == s and c.owner is None and c.action == a)] for s in report.students]
        settings.out.print(table("escalations", ["actor", *ESCALATIONS], esc))
        for cell in report.cells:
            if cell.verdict != "pass":
                click.echo(f"{cell.verdict}: {cell.actor} {cell.action} on {cell.owner or '-'}: {cell.observed}"
                           f"{' (' + cell.detail + ')' if cell.detail else ''}")
        click.echo(f"allowed-own {counts['allowed-own']} · denied-cross {counts['denied-cross']} · escalations-denied"
                   f" {counts['escalations-denied']} · unverifiable {counts['unverifiable']} · failed {counts['failed']}"
                   f" (of {counts['total']})")
    if not report.ok:
        raise click.exceptions.Exit(1)


selftest_group.add_command(selftest_isolation)


# --- doctor -------------------------------------------------------------------------------------


@click.command("doctor")
@click.option("--format", "fmt", type=FORMAT_TABLE_JSON, default="table", show_default=True)
@pass_settings
def doctor(settings: Settings, fmt: str) -> None:
    """Check this machine: Python, packages, engine (Pulumi CLI, plugins), emulator, credentials, PostgreSQL."""
    from labctl.app.doctor import run_checks

    results = run_checks()
    if fmt == "json":
        emit_json([r.to_dict() for r in results])
    else:
        marks = {"ok": "[green]ok[/]  ", "warn": "[yellow]warn[/]", "fail": "[red]fail[/]"}
        for r in results:
            fix = f"  → {r.fix}" if r.fix else ""
            settings.out.print(f"{marks[r.status]} {r.name}: {r.detail}{fix}", highlight=False)
    if any(r.status == "fail" for r in results):
        raise click.exceptions.Exit(1)


for command in (labs_group, emulator_group, cohort_group, plan, policy_group, grade, grades_group, student_group, demo, doctor, engine_group, up, destroy, reset, status, sweep, handouts, selftest_group):
    cli.add_command(command)
for command in (reap, unlock, serve, portal_group, accounts_group, registry_group):
    cli.add_command(command)


EXAMPLES = {
    "labs list": "labctl labs list --track cloud --level beginner",
    "labs show": "labctl labs show s3-static-website",
    "labs validate": "labctl labs validate labs/s3-static-website",
    "emulator start": "labctl emulator start --port 4566 --enforce-iam",
    "emulator stop": "labctl emulator stop",
    "emulator reset": "labctl emulator stop && labctl emulator reset",
    "emulator status": "labctl emulator status --format json",
    "emulator env": 'eval "$(labctl emulator env)"',
    "cohort create": "labctl cohort create fall24 --lab s3-static-website --roster roster.csv --ttl 14d",
    "accounts add": "labctl accounts add --pool fall24-pool --csv accounts.csv",
    "accounts create": "labctl accounts create --pool demo --count 5",
    "accounts list": "labctl accounts list --pool fall24-pool --format json",
    "accounts release": "labctl accounts release --cohort fall24",
    "cohort set": "labctl cohort set fall24 --public-endpoint http://192.168.1.20:4566",
    "cohort show": "labctl cohort show fall24",
    "cohort list": "labctl cohort list",
    "cohort delete": "labctl cohort delete fall24",
    "registry import": "labctl registry import --from ~/.labctl/registry.sqlite3",
    "cohort backend": "labctl cohort backend fall24 --backend 's3://labs-state?endpoint=minio:9000&region=us-east-1' --passphrase-env LABCTL_PASSPHRASE",
    "plan": "labctl plan --cohort fall24 --format json --out plan.json",
    "policy check": "labctl policy check --preview-json preview.json --format sarif --out results.sarif",
    "grade": "labctl grade --cohort fall24 --format csv --out grades.csv",
    "grades history": "labctl grades history --cohort fall24 --student ada",
    "grades export": "labctl grades export --cohort fall24 --format csv --out grades.csv",
    "student check": "labctl student check --cohort fall24 --student ada",
    "student env": 'eval "$(labctl student env --cohort fall24 --student ada)"',
    "student deploy": "labctl student deploy --cohort fall24 --student ada ./my-project",
    "demo": "labctl demo",
    "doctor": "labctl doctor",
    "engine install": "labctl engine install",
    "engine status": "labctl engine status --format json",
    "up": "labctl up --cohort fall24 --concurrency 4",
    "destroy": "labctl destroy --cohort fall24 --sweep",
    "reset": "labctl reset --cohort fall24 --student ada",
    "status": "labctl status --cohort fall24",
    "sweep": "labctl sweep --cohort fall24 --dry-run",
    "handouts": "labctl handouts --cohort fall24 --out handouts/ --portal-links",
    "selftest isolation": "labctl selftest isolation --students 3",
    "reap": "labctl reap --dry-run",
    "unlock": "labctl unlock --cohort fall24",
    "serve": "labctl serve --host 0.0.0.0 --port 8080 --public-url https://portal.example.edu",
    "portal tokens": "labctl portal tokens --cohort fall24 --student ada --format json",
}


def commands(group: click.Group, path: tuple[str, ...] = ()):
    """(path, command) of every command under `group`, depth first."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield " ".join((*path, name)), command


for path, command in commands(cli):
    if path in EXAMPLES:  # tests/test_cli.py holds every command to having one
        command.epilog = f"Example: {EXAMPLES[path]}"


def main() -> None:
    cli(prog_name="labctl")


if __name__ == "__main__":
    main()
