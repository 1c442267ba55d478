"""Where a cohort's leased accounts sit in the AWS Organization (isolation mode `account`).

`labctl up` puts the cohort's OU (`labctl-<cohort>`, made by the cohort's organization stack) under the
parent the pool's accounts sit in (the organization's root, or a pool OU), and moves each leased account
into it with Organizations MoveAccount: pulumi_aws has no resource that moves an existing account (its
`organizations.Account` creates one, and deleting it removes the account from the organization). Before
the OU is destroyed, and on `labctl accounts release`, each account still in the cohort's OU goes back
to the OU's parent. All of it through the instructor's credentials in the management account.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from labctl.cohorts.cohort import Target
from labctl.labs.errors import LabctlError

OU_TYPE = "ORGANIZATIONAL_UNIT"
ORGANIZATION_STACK = "_organization"
"""The slug of a cohort's organization stack (isolation mode `account`): `<cohort>._organization`. No
student's slug can be it (slugs are lowercase letters, digits and '-')."""


@dataclass(frozen=True)
class OrganizationLayout:
    """The organization's management account, and the parent the cohort's OU goes under."""

    management_account: str
    parent_id: str


def cohort_ou_name(cohort: str) -> str:
    return f"labctl-{cohort}"


def organizations(target: Target) -> Any:
    from labctl.cohorts.targets import instructor_session

    return instructor_session(target).client("organizations", endpoint_url=target.endpoint)


def parent_of(org: Any, child_id: str) -> dict:
    return org.list_parents(ChildId=child_id)["Parents"][0]


def is_cohort_ou(org: Any, parent: dict, cohort: str) -> bool:
    if parent["Type"] != OU_TYPE:
        return False
    return org.describe_organizational_unit(OrganizationalUnitId=parent["Id"])["OrganizationalUnit"]["Name"] == \
        cohort_ou_name(cohort)


def pool_parent(org: Any, cohort: str, account_id: str) -> str:
    """Where the pool keeps `account_id`: its parent, or its OU's parent when it already sits in the cohort's OU."""
    parent = parent_of(org, account_id)
    if is_cohort_ou(org, parent, cohort):
        return parent_of(org, parent["Id"])["Id"]
    return parent["Id"]


def organization_layout(target: Target, cohort: str, account_ids: list[str]) -> OrganizationLayout:
    """The management account and the OU's parent (where the first leased account's pool sits; the
    organization's root for a cohort without accounts)."""
    org = organizations(target)
    with organization_errors(target):
        management = org.describe_organization()["Organization"]["MasterAccountId"]
        parent = pool_parent(org, cohort, account_ids[0]) if account_ids else org.list_roots()["Roots"][0]["Id"]
    return OrganizationLayout(management, parent)


def move_accounts(target: Target, account_ids: Iterable[str], destination: str) -> list[str]:
    """Move each account into `destination` (the cohort's OU); the ids of those that moved."""
    org = organizations(target)
    moved = []
    with organization_errors(target):
        for account_id in account_ids:
            source = parent_of(org, account_id)["Id"]
            if source != destination:
                org.move_account(AccountId=account_id, SourceParentId=source, DestinationParentId=destination)
                moved.append(account_id)
    return moved


def return_accounts(target: Target, cohort: str, account_ids: Iterable[str]) -> list[str]:
    """Move each account that sits in the cohort's OU back to the OU's parent; the ids of those that moved."""
    org = organizations(target)
    moved = []
    with organization_errors(target):
        for account_id in account_ids:
            parent = parent_of(org, account_id)
            if is_cohort_ou(org, parent, cohort):
                home = parent_of(org, parent["Id"])["Id"]
                org.move_account(AccountId=account_id, SourceParentId=parent["Id"], DestinationParentId=home)
                moved.append(account_id)
    return moved


@contextmanager
def organization_errors(target: Target) -> Iterator[None]:
    """An AWS error from Organizations as one LabctlError line naming the endpoint."""
    from botocore.exceptions import BotoCoreError, ClientError

    from labctl.cohorts.aws_errors import error_text

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        where = target.endpoint or f"AWS ({target.region})"
        raise LabctlError(f"Organizations at {where}: {error_text(exc)}") from None
