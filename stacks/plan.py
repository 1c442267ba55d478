"""The plan: run a student's real program under the SDK's mock runtime and keep what it registers.

`pulumi.runtime.set_mocks` is given a recording `MockMonitor`: every resource the component code
registers is kept with the inputs exactly as they reach the monitor (camelCase wire names, provider
inputs JSON-encoded the way the provider SDK sends them). Secrets and unknowns are recognised in
the raw protobuf, before deserialization, and written as "[secret]" and "[unknown]". The runtime is
process-global, so every program starts from `reset_options` and a fresh monitor; cohorts are spread
over worker processes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from collections import Counter
from typing import Any, Callable, Iterable, Mapping

import pulumi
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs
from pulumi.runtime.settings import get_project, get_stack
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from labctl.cohorts.accounts import cohort_accounts, cohort_pool
from labctl.cohorts.cohort import Cohort, Student
from labctl.cohorts.organization import ORGANIZATION_STACK
from labctl.cohorts.registry import Registry
from labctl.labs.spec import LabSpec
from labctl.stacks.cost import estimate_cost
from labctl.components.student_lab import AccountPlacement
from labctl.stacks.program import TargetSettings, organization_program, student_program

PROJECT = "labctl"
STACK_TYPE = "pulumi:pulumi:Stack"
SECRET = "[secret]"
UNKNOWN = "[unknown]"
# fork is cheapest (workers inherit the imported SDKs); the worker entry point is spawn-safe too.
START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"
ORGANIZATION_ROOT = "[organization root]"
PLACEHOLDER_MANAGEMENT = "000000000000"
"""A plan names no real organization: the root and the management account are read at provisioning."""


class PlanMocks(pulumi.runtime.Mocks):
    """A plan is a preview: resources echo their inputs, and ids and computed outputs stay unknown."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        return "", args.inputs

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        return {}, None


def wire_value(value: Any) -> Any:
    """A value from the monitor's raw Struct (as JSON) with Pulumi's special values made plain."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return SECRET
        if signature == rpc._special_resource_sig:
            return value.get("urn", UNKNOWN)
        if signature == rpc._special_output_value_sig:
            return SECRET if value.get("secret") else wire_value(value.get("value", rpc.UNKNOWN))
        if signature in (rpc._special_asset_sig, rpc._special_archive_sig):
            kind = "asset" if signature == rpc._special_asset_sig else "archive"
            return {kind: {key: wire_value(value[key]) for key in sorted(value) if key != rpc._special_sig_key}}
        return {key: wire_value(value[key]) for key in sorted(value) if key != rpc._special_sig_key}
    if isinstance(value, list):
        return [wire_value(item) for item in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def urn_type(urn: str) -> str:
    """The type token of a URN's own resource (the last `$`-separated part of its qualified type)."""
    return urn.split("::")[2].split("$")[-1]


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, also keeping every registration and component outputs as plain data."""

    def __init__(self) -> None:
        super().__init__(PlanMocks())
        self.registrations: list[dict[str, Any]] = []
        self.component_outputs: dict[str, dict[str, Any]] = {}
        self.dependencies: dict[str, list[str]] = {}
        """URN → the URNs it waits for (explicit `depends_on`, components expanded to their children)."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine makes them: the parent's whole qualified type, the root stack left out."""
        qualified = type_
        if parent and urn_type(parent) != STACK_TYPE:
            qualified = f"{parent.split('::')[2]}${type_}"
        return f"urn:pulumi:{get_stack()}::{get_project()}::{qualified}::{name}"

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        self.dependencies[response.urn] = list(request.dependencies)
        if request.type != STACK_TYPE:
            parent_type = urn_type(request.parent) if request.parent else None
            self.registrations.append(
                {
                    "type": request.type,
                    "name": request.name,
                    "urn": response.urn,
                    "parent": None if parent_type == STACK_TYPE else parent_type,
                    # A provider reference is "<urn>::<id>"; the id is unknown in a plan.
                    "provider": request.provider.rsplit("::", 1)[0] if request.provider else None,
                    "inputs": wire_value(json_format.MessageToDict(request.object)),
                }
            )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802 - the gRPC method name
        if urn_type(request.urn) != STACK_TYPE:
            self.component_outputs[request.urn] = wire_value(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)

    def plan_resources(self) -> list[dict[str, Any]]:
        """Registrations, parents before children, in a stable order.

        Beyond type, name, urn, parent and inputs: `provider` (the URN of the explicit provider a
        custom resource uses, or null) and `outputs` (what a component registered; {} otherwise).
        """
        records = [dict(r, outputs=self.component_outputs.get(r["urn"], {})) for r in self.registrations]
        return sorted(records, key=lambda r: (r["urn"].split("::")[2].count("$"), r["urn"]))


def stack_name(cohort: Cohort, student: Student) -> str:
    return f"{cohort.name}.{student.student}"


def run_recorded(program: Callable[[], None], stack: str) -> RecordingMonitor:
    """Run one program on a freshly reset mock runtime and return the monitor that recorded it."""
    monitor = RecordingMonitor()
    # reset_options drops the root stack and gives a fresh settings bag (RPC manager, pending
    # outputs, package refs); set_mocks then installs the monitor and a new root stack.
    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=True)
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=stack, preview=True, monitor=monitor)
    # What `pulumi.runtime.test` does: run, wait for every RPC and output, re-raise the first error.
    _sync_await(run_pulumi_func(program))
    return monitor


def plan_student(cohort: Cohort, student: Student, lab: LabSpec, settings: TargetSettings,
                 account: AccountPlacement | None = None) -> dict:
    """The resources `lab` registers for `student` (in their own account, with `account`), as plain
    JSON-ready data."""
    program = student_program(cohort, student, lab, settings, None, account)
    resources = run_recorded(program, stack_name(cohort, student)).plan_resources()
    placed = {"account_id": account.account_id} if account else {}
    return {"student": student.student, "prefix": student.prefix, "lab": lab.id, **placed, "resources": resources}


def plan_chunk(
    cohort: Cohort, students: tuple[Student, ...], labs: tuple[LabSpec, ...], settings: TargetSettings,
    accounts: Mapping[str, AccountPlacement] | None = None,
) -> list[dict]:
    """The worker's unit: plans for a chunk of students (module level, so spawn can import it)."""
    return [plan_student(cohort, student, lab, settings, (accounts or {}).get(student.student))
            for student in students for lab in labs]


def plan_organization(cohort: Cohort, labs: list[LabSpec], settings: TargetSettings,
                      accounts: Mapping[str, AccountPlacement]) -> dict:
    """The cohort's management-account resources in isolation mode `account`, and its SCPs with
    their size against AWS's limit."""
    from labctl.components.org_policies import SCP_MAX_CHARS, cohort_scps, scp_json

    account_ids = [a.account_id for a in accounts.values()]
    program = organization_program(cohort, labs, account_ids, ORGANIZATION_ROOT, settings)
    resources = run_recorded(program, f"{cohort.name}.{ORGANIZATION_STACK}").plan_resources()
    scps = {name: {"chars": len(scp_json(doc)), "max_chars": SCP_MAX_CHARS, "document": doc}
            for name, doc in cohort_scps(labs, cohort.target.region).items()}
    return {"resources": resources, "scps": scps}


def fresh_event_loop() -> None:
    """A forked worker must not reuse the parent's loop: its executor threads did not survive the fork."""
    asyncio.set_event_loop(asyncio.new_event_loop())


def chunked(students: tuple[Student, ...], size: int) -> Iterable[tuple[Student, ...]]:
    for start in range(0, len(students), size):
        yield students[start : start + size]


def plan_cohort(
    cohort: Cohort,
    labs: list[LabSpec],
    settings: TargetSettings,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
    accounts: Mapping[str, AccountPlacement] | None = None,
) -> dict:
    """Plan every student × lab of the cohort; `progress(n)` is told each time n more students are done.

    `workers` defaults to the CPU count; 1 (or a single student) plans in this process. The result
    carries the totals by type and the monthly cost estimate (see `stacks.cost.estimate_cost`). With
    `accounts` (isolation mode `account`: student slug → their account) each student's resources go
    into their own account, and the result has the cohort's `organization` (OU, SCPs) too.
    """
    students = cohort.students
    workers = max(1, min(workers or os.cpu_count() or 1, len(students)))
    plans: list[dict] = []
    if workers == 1:
        for student in students:
            plans += plan_chunk(cohort, (student,), tuple(labs), settings, accounts)
            if progress:
                progress(1)
    else:
        # Small enough chunks to keep every worker busy and progress moving, big enough to amortise IPC.
        size = max(1, min(25, len(students) // (workers * 4) or 1))
        chunks = list(chunked(students, size))
        context = multiprocessing.get_context(START_METHOD)
        with context.Pool(workers, initializer=fresh_event_loop) as pool:
            results = [pool.apply_async(plan_chunk, (cohort, chunk, tuple(labs), settings, accounts)) for chunk in chunks]
            for chunk, result in zip(chunks, results):
                plans += result.get()
                if progress:
                    progress(len(chunk))
    organization = plan_organization(cohort, labs, settings, accounts) if accounts else None
    by_type = Counter(r["type"] for plan in plans for r in plan["resources"])
    by_type.update(r["type"] for r in (organization or {}).get("resources", []))
    return {
        "cohort": cohort.name,
        "isolation": "account" if accounts else "shared",
        "students": plans,
        **({"organization": organization} if organization else {}),
        "totals": {"resources": sum(by_type.values()), "by_type": dict(sorted(by_type.items()))},
        "cost": estimate_cost(plans, labs),
    }


def plan_accounts(registry: Registry, cohort: Cohort, synthetic: bool) -> dict[str, AccountPlacement] | None:
    """Where each student's plan goes: a registered cohort in isolation mode `account` into its leased
    accounts, a synthetic one (`synthetic`) into made-up account ids; None in shared mode."""
    if synthetic:
        return {s.student: AccountPlacement(f"{n:012d}", PLACEHOLDER_MANAGEMENT, "")
                for n, s in enumerate(cohort.students, start=1)}
    if cohort_pool(registry, cohort.name) is None:
        return None
    return {student: AccountPlacement(a.account_id, PLACEHOLDER_MANAGEMENT, a.email)
            for student, a in cohort_accounts(registry, cohort.name).items()}
