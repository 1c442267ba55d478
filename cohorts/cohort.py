"""Cohorts and rosters: derived names (DESIGN decision 7) and the roster CSV parser."""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, TypeVar
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from text_unidecode import unidecode

from labctl.labs.errors import InputError, choices_hint

COHORT_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,23}$")
STUDENT_MAX = 20
TARGETS = ("emulator", "localstack", "aws")
T = TypeVar("T")


@dataclass(frozen=True)
class Student:
    student: str
    roster_id: str
    name: str
    email: str
    prefix: str

    @property
    def database(self) -> str:
        return self.prefix.replace("-", "_")


@dataclass(frozen=True)
class Target:
    kind: str
    endpoint: str | None
    region: str
    profile: str | None = None


@dataclass(frozen=True)
class Services:
    """Where a cohort's non-AWS pieces live; never a secret (passwords come from PGPASSWORD/~/.pgpass)."""

    postgres_dsn: str | None = None
    kubeconfig: str | None = None
    kube_context: str | None = None


@dataclass(frozen=True)
class Cohort:
    name: str
    labs: tuple[str, ...]
    target: Target
    students: tuple[Student, ...]
    services: Services = Services()
    budget_usd: float | None = None
    """The cohort's cap on each student's budget; a lab's budget_usd above it is lowered to it."""
    instructor_email: str | None = None
    public_endpoint: str | None = None
    """Where students reach the target when not at the instructor's endpoint (a classroom emulator)."""

    @property
    def student_endpoint(self) -> str | None:
        """The endpoint students are shown: the public one, else the target's own."""
        return self.public_endpoint or self.target.endpoint

    def student(self, slug: str) -> Student:
        for student in self.students:
            if student.student == slug:
                return student
        hint = choices_hint(slug, [s.student for s in self.students])
        raise InputError(f"no student {slug!r} in cohort {self.name!r}{hint}", "--student")


def check_cohort_name(name: str) -> str:
    if not COHORT_SLUG.match(name):
        raise InputError(
            f"cohort name {name!r} must be 2-24 characters: a lowercase letter, then a-z, 0-9 or '-'",
            "NAME",
        )
    return name


def student_slug(roster_id: str) -> str:
    """A DNS-1123 label, or '' when the id has no letter or digit: transliterated to ASCII
    (`José Müller` → `jose-muller`, `李雷` → `li-lei`), lowercased, each run of other characters one
    '-', none leading or trailing."""
    return re.sub(r"[^a-z0-9]+", "-", unidecode(roster_id).lower()).strip("-")


def prefix_for(cohort: str, student: str) -> str:
    return f"{cohort}-{student}"


def roster_delimiter(text: str) -> str:
    """`,` unless the header line holds more `;` (a European spreadsheet's CSV) or tabs."""
    header = text.split("\n", 1)[0]
    return max(",;\t", key=lambda d: (header.count(d), d == ","))


def roster_email(text: str, where: str) -> str:
    """The email as written, once email-validator has accepted its syntax ('' stays '')."""
    if not text:
        return ""
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InputError(f"email {text!r} is not valid: {exc}", where) from None
    return text


def csv_rows(text: str, where: str, required: tuple[str, ...], header_error: str) -> Iterator[tuple[int, dict]]:
    """(line, row) of spreadsheet CSV text: header names stripped and lowercased, `,`, `;` or tab
    between fields (see `roster_delimiter`), rows with nothing in them skipped; a header without
    the `required` columns is `header_error` at line 1."""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=roster_delimiter(text))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if any(column not in header for column in required):
        raise InputError(header_error, f"{where}:1")
    reader.fieldnames = header
    for row in reader:
        if None in row:
            raise InputError("row has more fields than the header", f"{where}:{reader.line_num}")
        if any((value or "").strip() for value in row.values()):
            yield reader.line_num, row


def parse_roster(text: str, cohort: str, where: str) -> tuple[Student, ...]:
    """Parse roster CSV text (header with `id`, optional `name`, `email`, in any case; `,`, `;` or
    tab between fields) into students. Rows with nothing in them are skipped."""
    students: list[Student] = []
    seen: dict[str, tuple[int, str]] = {}
    rows = csv_rows(text, where, ("id",), "roster header must have an 'id' column (optional: name, email)")
    for line, row in rows:
        roster_id = (row.get("id") or "").strip()
        if not roster_id:
            raise InputError("empty id", f"{where}:{line}")
        slug = student_slug(roster_id)
        if not slug:
            raise InputError(f"id {roster_id!r} has no letter or digit to name the student by", f"{where}:{line}")
        if len(slug) > STUDENT_MAX:
            raise InputError(
                f"id {roster_id!r} becomes student {slug!r}, longer than {STUDENT_MAX} characters", f"{where}:{line}"
            )
        if slug in seen:
            first_line, first_id = seen[slug]
            raise InputError(
                f"id {roster_id!r} becomes student {slug!r}, same as id {first_id!r} on line {first_line}",
                f"{where}:{line}",
            )
        seen[slug] = (line, roster_id)
        students.append(
            Student(
                student=slug,
                roster_id=roster_id,
                name=(row.get("name") or "").strip(),
                email=roster_email((row.get("email") or "").strip(), f"{where}:{line}"),
                prefix=prefix_for(cohort, slug),
            )
        )
    if not students:
        raise InputError("roster has no students", f"{where}:1")
    check_prefix_free(seen, where)
    return tuple(students)


def check_prefix_free(seen: dict[str, tuple[int, str]], where: str) -> None:
    """No slug may be another's slug + '-…': IAM and bucket scopes `<prefix>-*` would overlap.
    `seen` maps each slug to its roster (line, id)."""
    ordered = sorted(seen)
    for shorter, longer in zip(ordered, ordered[1:]):
        if longer.startswith(shorter + "-"):
            raise InputError(
                f"student {longer!r} starts with student {shorter!r} (line {seen[shorter][0]}) + '-': their"
                f" resource scopes would overlap; rename one",
                f"{where}:{seen[longer][0]}",
            )


def decode_roster(data: bytes, where: str) -> str:
    """UTF-8 (with or without a BOM) or UTF-16 with its BOM; anything else is refused at the first
    line that is not UTF-8, rather than guessed."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError("the roster starts like UTF-16 but is not: save it as UTF-8", where) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            "not UTF-8 (a spreadsheet's plain 'CSV' is often Windows-1252): save the roster as 'CSV UTF-8'",
            f"{where}:{line}",
        ) from None


def read_csv_file(path: Path, what: str, parse: Callable[[str, str], T]) -> T:
    """`parse(text, where)` of the spreadsheet CSV file at `path` (decoded as `decode_roster` does);
    an unreadable file or CSV is an InputError naming it."""
    where = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} file not found", where) from None
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror or exc}", where) from None
    text = decode_roster(data, where)
    try:
        return parse(text, where)
    except csv.Error as exc:
        raise InputError(f"invalid CSV: {exc}", where) from None


def read_roster(path: Path, cohort: str) -> tuple[Student, ...]:
    return read_csv_file(path, "roster", lambda text, where: parse_roster(text, cohort, where))


def synthetic_students(cohort: str, count: int) -> tuple[Student, ...]:
    """`count` made-up students (s001, s002, ...) for plans and benchmarks."""
    width = max(3, len(str(count)))
    slugs = [f"s{i:0{width}d}" for i in range(1, count + 1)]
    return tuple(Student(s, s, s, "", prefix_for(cohort, s)) for s in slugs)


DEFAULT_EMULATOR_ENDPOINT = "http://127.0.0.1:4566"


def check_public_endpoint(url: str, target: Target) -> str:
    """A cohort's public endpoint: http(s)://HOST[:PORT], no credentials, path, query or fragment
    (students' SDKs put it in front of every request); without a trailing slash. Real AWS has none:
    students use AWS's own endpoints."""
    if target.kind == "aws":
        raise InputError("real AWS takes no public endpoint: students use AWS's own", "--public-endpoint")
    problem = InputError(f"public endpoint {url!r} must be http(s)://HOST[:PORT], like http://192.168.1.20:4566",
                         "--public-endpoint")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise problem from None
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None
            or parts.path not in ("", "/") or parts.query or parts.fragment or parts.netloc.endswith(":")
            or re.search(r"\s", url)):
        raise problem
    return f"{parts.scheme}://{parts.netloc}"


def make_target(kind: str, endpoint: str | None, region: str, profile: str | None) -> Target:
    """Validate a cohort's target. LocalStack defaults to 127.0.0.1:4566; the emulator without
    --endpoint is labctl's own, wherever it listens when used (its endpoint stays None here and is
    resolved by `cohorts.targets.resolve`)."""
    if kind not in TARGETS:
        raise InputError(f"unknown target {kind!r} (choose from {', '.join(TARGETS)})", "--target")
    if endpoint is not None and not re.match(r"^https?://[^\s/]+(:\d+)?/?$", endpoint):
        raise InputError(f"endpoint {endpoint!r} must look like http://host:port", "--endpoint")
    if kind == "aws" and endpoint:
        raise InputError("real AWS takes no --endpoint (use --profile and --region)", "--endpoint")
    if kind != "aws" and profile:
        raise InputError(f"--profile applies to target aws, not {kind}", "--profile")
    if not re.match(r"^[a-z]{2}(-[a-z]+)+-\d$", region):
        raise InputError(f"region {region!r} is not an AWS region name like us-east-1", "--region")
    if kind == "localstack" or endpoint:
        endpoint = (endpoint or DEFAULT_EMULATOR_ENDPOINT).rstrip("/")
    return Target(kind, endpoint, region, profile)


def check_postgres_dsn(dsn: str | None) -> str | None:
    """An admin DSN without a password: the registry never stores secrets."""
    if dsn is None:
        return None
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(dsn)
    except Exception as exc:  # psycopg.ProgrammingError for anything it cannot parse
        raise InputError(f"not a PostgreSQL connection string: {str(exc).splitlines()[0]}", "--postgres-dsn") from None
    if parts.get("password"):
        raise InputError(
            "the DSN must not contain a password (labctl never stores one): use PGPASSWORD or ~/.pgpass",
            "--postgres-dsn",
        )
    return dsn


def make_services(postgres_dsn: str | None, kubeconfig: Path | None, context: str | None) -> Services:
    if context and not kubeconfig:
        raise InputError("--context needs --kubeconfig", "--context")
    if kubeconfig is not None and not Path(kubeconfig).is_file():
        raise InputError("kubeconfig file not found", str(kubeconfig))
    path = str(Path(kubeconfig).resolve()) if kubeconfig else None
    return Services(check_postgres_dsn(postgres_dsn), path, context)


def check_database_service(specs: list, services: Services) -> None:
    """A lab with a database on the cohort's shared PostgreSQL server cannot be provisioned or
    graded without one: refused at create, not discovered as zeros at grading."""
    for spec in specs:
        database = spec.environment.database
        if database is not None and database.mode == "shared" and not services.postgres_dsn:
            raise InputError(
                f"lab {spec.id} needs a PostgreSQL server: give its admin connection (without password)",
                "--postgres-dsn",
            )


def check_cluster_service(specs: list, services: Services) -> None:
    """A Kubernetes lab without the cohort's kubeconfig would deploy to whatever cluster is current for
    the instructor: a provider without a kubeconfig reads $KUBECONFIG or ~/.kube/config."""
    for spec in specs:
        if spec.environment.kubernetes is not None and not services.kubeconfig:
            raise InputError(
                f"lab {spec.id} deploys to Kubernetes: give the cohort's cluster (otherwise the instructor's"
                " current one would be used)", "--kubeconfig",
            )


def check_email(email: str | None) -> str | None:
    if email is not None and not email:
        raise InputError("an empty email is not an email address", "--instructor-email")
    return None if email is None else roster_email(email, "--instructor-email")


def build_cohort(
    name: str,
    labs: tuple[str, ...],
    roster: Path,
    target: Target,
    services: Services = Services(),
    budget_usd: float | None = None,
    instructor_email: str | None = None,
) -> Cohort:
    """A validated cohort, ready to record; nothing is written here."""
    from labctl.labs.catalog import get_lab

    check_cohort_name(name)
    if not labs:
        raise InputError("at least one --lab is required", "--lab")
    specs = [get_lab(lab).spec for lab in labs]
    check_database_service(specs, services)
    check_cluster_service(specs, services)
    if budget_usd is not None and not 0 < budget_usd <= 10_000:
        raise InputError(f"budget {budget_usd} must be between 0 and 10000 USD", "--budget-usd")
    return Cohort(
        name, tuple(dict.fromkeys(labs)), target, read_roster(roster, name), services, budget_usd,
        check_email(instructor_email),
    )


def synthetic_cohort(lab_id: str, count: int, name: str = "preview") -> Cohort:
    """A made-up cohort of `count` students on the emulator, for previews and benchmarks."""
    from labctl.labs.catalog import get_lab

    get_lab(lab_id)
    target = Target("emulator", DEFAULT_EMULATOR_ENDPOINT, "us-east-1")  # a plan only names an endpoint
    return Cohort(name, (lab_id,), target, synthetic_students(name, count))
