"""Emptying and returning the accounts of a cohort in isolation mode `account`.

A leased account is its student's alone, so its sweep does not go by name: everything of every kind
`stacks.sweep` knows is the student's, in every region the cohort's SCPs allow, except what belongs to
the account itself — the Organizations access role, AWS's service-linked and reserved roles, labctl's
own roles and policies under `/labctl/`, StackSets the organization deployed, and the default VPC with
what AWS put in it. Each account is reached through its access role (`OrganizationAccountAccessRole`)
with the instructor's credentials; only the cohort's own leased accounts are ever touched.

`release` inventories each account again (a dry run of the same sweep): an empty one goes back to
`available`, one with anything left to `quarantined`, with the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import boto3

from labctl.cohorts.accounts import ACCESS_ROLE, Account, assumed_session, cohort_accounts, set_state
from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.registry import Registry
from labctl.components.org_policies import allowed_regions
from labctl.labs.catalog import get_lab
from labctl.labs.errors import InputError
from labctl.stacks.sweep import Left, Resource, Sweeper, run_sweep

RESERVED_NAMES = frozenset({ACCESS_ROLE})
RESERVED_NAME_PREFIXES = ("aws-service-role/", "aws-reserved/", "StackSet-")
NOTE_MAX = 900
"""A quarantined account's note lists what was left, cut to this many characters."""


class AccountSweeper(Sweeper):
    """A sweeper for one student's own account: every name is theirs but the account's own."""

    def owner_of(self, name: str) -> Student | None:
        if name in RESERVED_NAMES or name.startswith(RESERVED_NAME_PREFIXES):
            return None
        return self.students[0]

    def name_filters(self, key: str) -> list[dict[str, str]]:
        return [{}]

    def claim(self, tags: dict[str, str], names: Iterable[str | None], vpc_id: str | None = None) -> Student | None:
        """Everything is the student's, but the unnamed parts of a default VPC (its subnets, gateway)."""
        if vpc_id in self.default_vpcs and not any(names):
            return None
        return self.students[0]


@dataclass
class AccountSweep:
    """One account's sweep over the allowed regions: what went, what is left."""

    account_id: str
    student: str
    regions: tuple[str, ...]
    dry_run: bool
    deleted: list[Resource] = field(default_factory=list)
    planned: list[Resource] = field(default_factory=list)
    left: list[Left] = field(default_factory=list)

    def proof(self) -> str:
        where = f"account {self.account_id} ({self.student}), regions {', '.join(self.regions)}"
        if self.dry_run:
            return f"{where}: dry run: {len(self.planned)} resources would be deleted"
        return f"{where}: {len(self.left)} resources left"

    def to_dict(self) -> dict:
        def res(r: Resource) -> dict:
            return {"service": r.service, "name": r.name, "ref": r.ref}

        return {
            "account_id": self.account_id, "student": self.student, "regions": list(self.regions),
            "dry_run": self.dry_run, "proof": self.proof(), "deleted": [res(r) for r in self.deleted],
            "would_delete": [res(r) for r in self.planned],
            "left": [{**res(x.resource), "reason": x.reason} for x in self.left],
        }


def cohort_regions(cohort: Cohort) -> tuple[str, ...]:
    """The regions the cohort's SCPs allow: its labs' regions and the target's own."""
    return allowed_regions([get_lab(lab).spec for lab in cohort.labs], cohort.target.region)


def leased(registry: Registry, cohort: Cohort, students: tuple[str, ...]) -> list[tuple[Student, Account]]:
    """The chosen students (default: all) with the account leased to them, roster order."""
    accounts = cohort_accounts(registry, cohort.name)
    chosen = [cohort.student(s) for s in students] or list(cohort.students)
    if not accounts:
        raise InputError(f"cohort {cohort.name!r} has no leased accounts", "--cohort")
    return [(student, accounts[student.student]) for student in chosen if student.student in accounts]


def sweep_account(session: boto3.Session, cohort: Cohort, student: Student, account_id: str,
                  regions: tuple[str, ...], dry_run: bool = False,
                  progress: Callable[[Resource], None] | None = None) -> AccountSweep:
    """Empty one student's account, region by region (global kinds go in the first), then list again."""
    result = AccountSweep(account_id, student.student, regions, dry_run)
    for region in regions:
        sweeper = AccountSweeper(session, cohort.target.endpoint, cohort, [student], region)
        report = run_sweep(sweeper, dry_run, progress)
        # Global kinds (IAM, S3) are listed from every region: each resource counts once.
        result.deleted += [r for r in report.deleted if r not in result.deleted]
        result.planned += [r for r in report.planned if r not in result.planned]
        result.left += [x for x in report.left if x.resource not in {y.resource for y in result.left}]
    return result


def sweep_accounts(registry: Registry, cohort: Cohort, students: tuple[str, ...] = (), dry_run: bool = False,
                   progress: Callable[[Resource], None] | None = None) -> list[AccountSweep]:
    """Sweep each chosen student's leased account; its state becomes `cleaning` first (not on a dry run)."""
    pairs = leased(registry, cohort, students)
    if not dry_run:
        set_state(registry, [account.account_id for _, account in pairs], "cleaning")
    regions = cohort_regions(cohort)
    return [
        sweep_account(assumed_session(cohort.target, account.account_id, purpose="labctl-sweep"), cohort, student,
                      account.account_id, regions, dry_run, progress)
        for student, account in pairs
    ]


@dataclass(frozen=True)
class Released:
    account_id: str
    student: str
    state: str
    left: tuple[str, ...]


def release_accounts(registry: Registry, cohort: Cohort, students: tuple[str, ...] = ()) -> list[Released]:
    """Inventory each chosen student's account again: empty → `available` (the lease ends; an account
    still in the cohort's OU goes back to the OU's parent, where the pool keeps it), anything left →
    `quarantined` with the list (it stays where it is, under the cohort's SCPs)."""
    from labctl.cohorts.organization import return_accounts
    from labctl.cohorts.targets import resolve

    regions = cohort_regions(cohort)
    released = []
    for student, account in leased(registry, cohort, students):
        session = assumed_session(cohort.target, account.account_id, purpose="labctl-release")
        found = sweep_account(session, cohort, student, account.account_id, regions, dry_run=True)
        left = tuple(dict.fromkeys([r.label for r in found.planned] + [x.resource.label for x in found.left]))
        state = "quarantined" if left else "available"
        if not left:
            return_accounts(resolve(cohort.target), cohort.name, [account.account_id])
        set_state(registry, [account.account_id], state, "; ".join(left)[:NOTE_MAX] if left else None)
        released.append(Released(account.account_id, student.student, state, left))
    return released
