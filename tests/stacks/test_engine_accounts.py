"""`labctl up` and `destroy` of a cohort in isolation mode `account`, through the recording fake of the
Pulumi CLI, with AWS Organizations on the real moto server: the organization stack first, the accounts
moved into the cohort's OU, then one stack per student whose program (run here under the SDK's mock
runtime) builds their StudentAccount through a provider in their own account; destroy in reverse."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fake_pulumi import FakePulumi

from labctl.cli import cli
from labctl.cohorts.accounts import add_accounts, create_member_accounts
from labctl.cohorts.cohort import Cohort, make_target, parse_roster
from labctl.cohorts.registry import Registry
from labctl.labs.errors import LabctlError
from labctl.stacks import engine as engine_mod
from labctl.stacks.engine import Engine
from labctl.stacks.lifecycle import run_cohort
from labctl.stacks.plan import run_recorded

pytestmark = pytest.mark.emulator

ORG = "c1._organization"
STUDENTS = ("c1.ada", "c1.bob", "c1.cy")


@pytest.fixture
def org(aws, moto_endpoint):
    """(target, Organizations client, root id, pool OU id): three member accounts in a pool OU."""
    target = make_target("localstack", moto_endpoint, "us-east-1", None)
    client = aws.client("organizations", endpoint_url=moto_endpoint)
    entries = create_member_accounts(target, "pool", 3)
    root = client.list_roots()["Roots"][0]["Id"]
    pool_ou = client.create_organizational_unit(ParentId=root, Name="pool")["OrganizationalUnit"]["Id"]
    for entry in entries:
        client.move_account(AccountId=entry.account_id, SourceParentId=root, DestinationParentId=pool_ou)
    return target, client, entries, pool_ou


@pytest.fixture
def reg(org, fake):
    target, client, entries, pool_ou = org
    students = parse_roster("id,name\nada,Ada\nbob,Bob\ncy,Cy\n", "c1", "r.csv")
    with Registry() as registry:
        add_accounts(registry, "pool", entries, "pool.csv")
        registry.create_cohort(Cohort("c1", ("redteam-fix",), target, students), pool="pool")
        # What the organization stack's OU would be: the fake engine creates nothing in AWS.
        ou = client.create_organizational_unit(ParentId=pool_ou, Name="labctl-c1")["OrganizationalUnit"]["Id"]
        fake.outputs[ORG] = {"ou_id": ou}
        yield registry


@pytest.fixture
def programs(monkeypatch) -> dict[str, object]:
    """Stack name → the inline program the engine opened it with."""
    seen: dict[str, object] = {}
    opened = Engine.stack

    def spy(self, cohort, student, program=None, create=True):
        stack = opened(self, cohort, student, program, create)
        seen[stack.name] = program
        return stack

    monkeypatch.setattr(Engine, "stack", spy)
    return seen


def accounts_of(reg) -> dict[str, str]:
    from labctl.cohorts.accounts import cohort_accounts

    return {slug: a.account_id for slug, a in cohort_accounts(reg, "c1").items()}


def parent(client, account_id: str) -> str:
    return client.list_parents(ChildId=account_id)["Parents"][0]["Id"]


def stacks_in_order(fake: FakePulumi, verb: str) -> list[str]:
    return [c.stack for c in fake.of(verb)]


def test_fake_engine_up_runs_the_organization_stack_first_moves_the_accounts_then_each_student(
        reg, fake, org, programs):
    _, client, _, pool_ou = org
    summary = run_cohort(reg, reg.cohort("c1"), "up", Engine(), concurrency=2)
    assert summary.failed == 0 and summary.count("done") == 3
    ups = stacks_in_order(fake, "up")
    assert ups[0] == ORG and sorted(ups[1:]) == list(STUDENTS)
    assert stacks_in_order(fake, "preview")[0] == ORG  # the gate preview, with both packs, before anything
    assert len(fake.of("preview")[0].values("--policy-pack")) == 2
    ou = fake.outputs[ORG]["ou_id"]
    assert {parent(client, account) for account in accounts_of(reg).values()} == {ou}
    assert summary.notes == [f"organization stack {ORG}: up done (3 changed); 3 account(s) moved into OU {ou}"]

    organization = run_recorded(programs[ORG], ORG).plan_resources()
    by_type = {}
    for r in organization:
        by_type.setdefault(r["type"], []).append(r)
    assert [r["inputs"]["parentId"] for r in by_type["aws:organizations/organizationalUnit:OrganizationalUnit"]] == [
        pool_ou]
    targets = {r["inputs"]["targetId"] for r in by_type["aws:organizations/policyAttachment:PolicyAttachment"]}
    assert set(accounts_of(reg).values()) < targets  # and the OU's id, unknown in a preview
    provider = by_type["pulumi:providers:aws"][0]["inputs"]
    assert "assumeRoles" not in provider  # the management account's own credentials


@pytest.mark.parametrize("slug", ["ada", "cy"])
def test_fake_engine_each_students_program_works_in_their_own_account_through_the_access_role(
        reg, fake, programs, slug):
    run_cohort(reg, reg.cohort("c1"), "up", Engine())
    account = accounts_of(reg)[slug]
    resources = run_recorded(programs[f"c1.{slug}"], f"c1.{slug}").plan_resources()
    providers = [r for r in resources if r["type"] == "pulumi:providers:aws"]
    assert len(providers) == 1
    assert json.loads(providers[0]["inputs"]["assumeRoles"]) == [
        {"roleArn": f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole", "sessionName": "labctl-up"}]
    types = {r["type"] for r in resources}
    assert "aws:iam/user:User" not in types and "aws:iam/accessKey:AccessKey" not in types
    student_role = next(r for r in resources if r["name"] == f"c1-{slug}-account-student")
    # The roles trust the organization's management account (moto's default account here).
    assert json.loads(student_role["inputs"]["assumeRolePolicy"])["Statement"][0]["Principal"] == {
        "AWS": "arn:aws:iam::123456789012:root"}
    # The lab's starting state is built inside the student's account, through the same role.
    setup = next(r for r in resources if r["type"].endswith("labctl:AwsSetup"))
    assert setup["inputs"]["role_arn"] == f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole"
    assert setup["inputs"]["prefix"] == f"c1-{slug}"


def test_fake_engine_a_failed_organization_stack_stops_the_run_before_any_student(reg, fake, org):
    _, client, _, pool_ou = org
    fake.violate[ORG] = "scp-region-lock: no region lock"
    with pytest.raises(LabctlError, match=rf"^organization stack {ORG}: .*no student's stack was run"):
        run_cohort(reg, reg.cohort("c1"), "up", Engine())
    assert [c.stack for c in fake.calls if c.stack in STUDENTS] == []
    assert {parent(client, account) for account in accounts_of(reg).values()} == {pool_ou}
    assert reg.cohort_lock("c1") is None


def test_fake_engine_destroy_runs_the_students_then_returns_the_accounts_then_the_organization(reg, fake, org):
    _, client, _, pool_ou = org
    run_cohort(reg, reg.cohort("c1"), "up", Engine())
    one = run_cohort(reg, reg.cohort("c1"), "destroy", Engine(), ("ada",))
    assert one.notes == [] and stacks_in_order(fake, "destroy") == ["c1.ada"]  # bob and cy still need the SCPs
    summary = run_cohort(reg, reg.cohort("c1"), "destroy", Engine())
    destroys = stacks_in_order(fake, "destroy")
    assert destroys[-1] == ORG and sorted(destroys[1:-1]) == sorted(STUDENTS)
    assert {parent(client, account) for account in accounts_of(reg).values()} == {pool_ou}
    assert summary.notes == [f"organization stack {ORG}: destroy done (3 changed); 3 account(s) moved back to {pool_ou}"]


def test_fake_engine_a_failed_student_destroy_keeps_the_organization_stack(reg, fake, org):
    _, client, _, _ = org
    run_cohort(reg, reg.cohort("c1"), "up", Engine())
    fake.fail["c1.bob"] = "bucket not empty"
    summary = run_cohort(reg, reg.cohort("c1"), "destroy", Engine())
    assert summary.failed == 1 and ORG not in stacks_in_order(fake, "destroy")
    assert {parent(client, account) for account in accounts_of(reg).values()} == {fake.outputs[ORG]["ou_id"]}


def test_fake_engine_cli_up_in_account_mode_says_what_the_organization_stack_did(reg, fake):
    result = CliRunner().invoke(cli, ["up", "--cohort", "c1"])
    assert result.exit_code == 0, result.output
    assert f"organization stack {ORG}: up done" in result.output
    assert "3 done, 0 failed" in result.output


def test_fake_engine_unlock_also_cancels_the_organization_stack(reg, fake):
    run_cohort(reg, reg.cohort("c1"), "up", Engine())
    from labctl.stacks.lifecycle import unlock

    result = unlock(reg, reg.cohort("c1"), Engine())
    assert ORG in result.cancelled
    assert [c.stack for c in fake.of("cancel")][-1] == ORG


def test_operator_export_of_a_cohort_in_account_mode_is_one_line(reg, tmp_path):
    result = CliRunner().invoke(cli, ["up", "--cohort", "c1", "--via", "operator", "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "cohort 'c1' runs one account per student: `--via operator` does not export that mode; provision it"
        " with `labctl up --cohort c1`")
    assert not (tmp_path / "m").exists()


def test_engine_module_names_the_organization_stack_apart_from_any_student():
    from labctl.cohorts.cohort import student_slug

    assert engine_mod.stack_name("c1", engine_mod.ORGANIZATION_STACK) == ORG
    assert student_slug(engine_mod.ORGANIZATION_STACK) != engine_mod.ORGANIZATION_STACK


def test_release_moves_an_empty_account_back_to_the_pool_and_keeps_a_quarantined_one_in_the_ou(reg, fake, org):
    from labctl.cohorts.accounts import assumed_session
    from labctl.stacks.account_sweep import release_accounts

    target, client, _, pool_ou = org
    run_cohort(reg, reg.cohort("c1"), "up", Engine())
    ou = fake.outputs[ORG]["ou_id"]
    accounts = accounts_of(reg)
    assumed_session(target, accounts["bob"]).client("s3", endpoint_url=target.endpoint).create_bucket(Bucket="left")
    released = {r.student: r.state for r in release_accounts(reg, reg.cohort("c1"))}
    assert released == {"ada": "available", "bob": "quarantined", "cy": "available"}
    assert {slug: parent(client, account) for slug, account in accounts.items()} == {
        "ada": pool_ou, "bob": ou, "cy": pool_ou}


def test_fake_engine_cli_destroy_sweep_runs_the_students_then_the_organization_then_sweeps_each_account(
        reg, fake, org):
    target, client, _, pool_ou = org
    assert CliRunner().invoke(cli, ["up", "--cohort", "c1"]).exit_code == 0
    from labctl.cohorts.accounts import assumed_session

    bob = accounts_of(reg)["bob"]
    assumed_session(target, bob).client("s3", endpoint_url=target.endpoint).create_bucket(Bucket="by-hand")
    result = CliRunner().invoke(cli, ["destroy", "--cohort", "c1", "--sweep"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    organization = next(i for i, line in enumerate(lines) if line.startswith(f"organization stack {ORG}: destroy"))
    proofs = [i for i, line in enumerate(lines) if line.endswith(": 0 resources left")]
    assert len(proofs) == 3 and organization < min(proofs)
    assert f"deleted s3 by-hand in account {bob} (bob)" in result.output
    assert stacks_in_order(fake, "destroy")[-1] == ORG
    assert {parent(client, account) for account in accounts_of(reg).values()} == {pool_ou}


def test_the_plan_names_the_organization_stack_as_the_engine_does():
    from labctl.stacks import plan

    assert plan.ORGANIZATION_STACK == engine_mod.ORGANIZATION_STACK
