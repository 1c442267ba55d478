"""Run a component as an `up` on the Pulumi SDK's mock runtime and read back its settled outputs.

The plan (stacks.plan) records a preview; some properties only exist after creation (a generated
password, a token the cluster fills in), so these tests run an `up` whose resources echo their
inputs plus the values a provider would have set.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import pulumi
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


class EchoMocks(pulumi.runtime.Mocks):
    """Resources echo their inputs, plus `created[type token]` as the values their provider sets."""

    def __init__(self, created: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.provider_values = dict(created or {})
        self.created: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args):
        self.created.append(args)
        return f"{args.name}-id", {**args.inputs, **self.provider_values.get(args.typ, {})}

    def call(self, args):
        return {}, None


def resolve(
    program: Callable[[], dict[str, pulumi.Output]], mocks: pulumi.runtime.Mocks
) -> dict[str, tuple[Any, bool]]:
    """Run `program` as an `up` on a fresh mock runtime; (value, is_secret) of each output it returns."""
    pulumi.runtime.reset_options(project="labctl", stack="c1.alice", preview=False)
    pulumi.runtime.set_mocks(mocks, project="labctl", stack="c1.alice", preview=False)
    settled: dict[str, tuple[Any, bool]] = {}

    async def settle(outputs: dict[str, pulumi.Output]) -> None:
        for key, output in outputs.items():
            settled[key] = (await output.future(), await output.is_secret())

    _sync_await(run_pulumi_func(lambda: _sync_await(settle(program()))))
    return settled
