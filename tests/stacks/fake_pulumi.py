"""A recording fake of `pulumi.automation.PulumiCommand`, for tests that say `fake_engine` in their names.

The real LocalWorkspace and Stack code runs unchanged; only the CLI process is replaced. The fake
records every invocation (args, cwd, env), keeps stacks and their outputs in memory, writes engine
events to the `--event-log` file the SDK tails, and fails, locks or blocks chosen stacks. It reports
CLI version 3.200.0 so the SDK uses its file-based event log rather than the gRPC stream (>3.205).

Failures look like the real CLI's: the error as an engine event (a diagnostic naming the resource, or
a mandatory policy violation), `Updating (<stack>):` on stdout and nothing on stderr. A blocked
operation runs a child process with the CLI's arguments until it gets SIGINT, as the CLI cancels.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from pulumi.automation import CommandResult
from pulumi.automation.errors import create_command_error
from semver import VersionInfo

SECRET = "[secret]"
# Stands in for a CLI process in the middle of an update: says it is ready, exits 255 on SIGINT. It
# outlives the fake's wait for it: only a SIGINT ends it in time.
UPDATE_IN_PROGRESS = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGINT, lambda *_: sys.exit(255))\n"
    "print('ready', flush=True)\n"
    "time.sleep(300)\n"
)


@dataclass
class Call:
    args: list[str]
    cwd: str
    env: dict[str, str]
    effective: dict[str, str] = field(default_factory=dict)
    """The environment the real CLI would get: `PulumiCommand.run` puts the given env over os.environ."""

    @property
    def verb(self) -> str:
        return " ".join(a for a in self.args[:2] if not a.startswith("-"))

    @property
    def stack(self) -> str | None:
        return self.args[self.args.index("--stack") + 1] if "--stack" in self.args else None

    def values(self, flag: str) -> list[str]:
        return [self.args[i + 1] for i, a in enumerate(self.args) if a == flag]


@dataclass
class FakePulumi:
    """Stacks by name → outputs. `fail` (a resource fails on up or destroy), `violate` (a mandatory policy
    fails preview and up), `locked` and `block` hold stack names; `resources` per up; `extra_outputs` are
    added to every stack's outputs on up, `outputs` (stack name → outputs) to that stack's."""

    fail: dict[str, str] = field(default_factory=dict)
    violate: dict[str, str] = field(default_factory=dict)
    locked: set[str] = field(default_factory=set)
    block: set[str] = field(default_factory=set)
    on_start: Callable[[str], None] | None = None
    resources: int = 3
    extra_outputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    command: str = "/fake/bin/pulumi"
    version: VersionInfo = VersionInfo.parse("3.200.0")
    calls: list[Call] = field(default_factory=list)
    stacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: dict[str, dict[str, int]] = field(default_factory=dict)
    interrupted: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str], on_output=None, on_error=None):
        call = Call(list(args), cwd, dict(additional_env), {**os.environ, **additional_env})
        with self.lock:
            self.calls.append(call)
        verb, stack = call.verb, call.stack
        if verb == "stack select":
            if stack not in self.stacks:
                return self.error(f"error: no stack named '{stack}' found")
            return self.ok()
        if verb == "stack init":
            self.stacks.setdefault(args[2], {})
            return self.ok()
        if verb == "stack output":
            outputs = self.stacks.get(stack, {})
            if "--show-secrets" not in args:
                outputs = {k: SECRET if k.startswith("aws_secret") else v for k, v in outputs.items()}
            return self.ok(json.dumps(outputs))
        if verb == "stack history":
            return self.ok(json.dumps([self.history_entry(stack)]))
        if verb in ("up", "preview", "destroy"):
            return self.operation(verb, call, on_output)
        return self.ok()

    def operation(self, verb: str, call: Call, on_output) -> CommandResult:
        try:
            return self.engine_run(verb, call, on_output)
        finally:
            # The engine closes every event stream with a cancel event; the SDK stops tailing on it.
            self.write_events(call, [{"cancelEvent": {}}])

    def engine_run(self, verb: str, call: Call, on_output) -> CommandResult:
        stack = call.stack
        if stack in self.block:
            return self.run_until_interrupted(call)
        if self.on_start:
            self.on_start(stack)
        if stack in self.locked:
            return self.error("error: the stack is currently locked by 1 lock(s). Either wait for the other"
                              " process(es) to end or delete the lock file with `pulumi cancel`.")
        if stack in self.violate:
            urn = f"urn:pulumi:{stack}::labctl::aws:iam/policy:Policy::{stack.replace('.', '-')}-identity-1"
            self.write_events(call, [{"policyEvent": {
                "message": f"Checks whether a student's policies grant wildcards.\n{self.violate[stack]}",
                "color": "never", "policyName": "iam-no-wildcard", "policyPackName": "labctl-isolation",
                "policyPackVersion": "0.1.0", "policyPackVersionTag": "0.1.0", "enforcementLevel": "mandatory",
                "resourceUrn": urn}}])
            return self.failed(verb, stack)
        if stack in self.fail and verb != "preview":
            urn = f"urn:pulumi:{stack}::labctl::aws:s3/bucket:Bucket::{stack.replace('.', '-')}-site"
            self.write_events(call, [{"diagnosticEvent": {
                "urn": urn, "message": f"error: {self.fail[stack]}\n  more detail on the next line\n",
                "color": "never", "severity": "error"}}])
            return self.failed(verb, stack)
        op = {"up": "create", "preview": "create", "destroy": "delete"}[verb]
        events = [{"resOutputsEvent": {"metadata": {"op": op, "urn": f"urn:{stack}:{i}", "type": "t",
                                                       "provider": ""}}} for i in range(self.resources)]
        events.append({"summaryEvent": {"resourceChanges": {op: self.resources}, "durationSeconds": 1,
                                        "maybeCorrupt": False}})
        self.write_events(call, events)
        if on_output:
            on_output(f"{verb} {stack}: {self.resources} resources")
        if verb == "up":
            slug = stack.split(".", 1)[1]
            self.stacks[stack] = {"prefix": stack.replace(".", "-"), "aws_user": f"{slug}-user",
                                  "aws_access_key_id": f"AKIA{slug.upper()}", "aws_secret_access_key": f"s3cr3t-{slug}",
                                  **self.extra_outputs, **self.outputs.get(stack, {})}
        if verb == "destroy":
            self.stacks[stack] = {}
        self.changes[stack] = {op: self.resources}
        return self.ok(f"{verb} done")

    def run_until_interrupted(self, call: Call) -> CommandResult:
        """A child process with the CLI's arguments (`--stack <name>` among them) that runs until SIGINT."""
        child = subprocess.Popen([sys.executable, "-c", UPDATE_IN_PROGRESS, *call.args], stdout=subprocess.PIPE,
                                 text=True)
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        if self.on_start:
            self.on_start(call.stack)
        try:
            code = child.wait(timeout=30)  # only a hang guard: a signalled child exits at once
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        finally:
            child.stdout.close()
        if code != 255:
            return self.error("error: the update was never interrupted")
        with self.lock:
            self.interrupted.append(call.stack)
        return self.error("error: update canceled")

    def write_events(self, call: Call, events: list[dict]) -> None:
        paths = call.values("--event-log")
        if not paths:
            return
        with open(paths[0], "a", encoding="utf-8") as handle:
            for event in events:
                handle.write(json.dumps({"sequence": 0, "timestamp": 0, **event}) + "\n")

    def history_entry(self, stack: str) -> dict:
        return {"kind": "update", "startTime": "2026-01-01T00:00:00.000Z", "message": "", "environment": {},
                "config": {}, "result": "succeeded", "endTime": "2026-01-01T00:00:01.000Z",
                "resourceChanges": self.changes.get(stack, {})}

    def ok(self, stdout: str = "") -> CommandResult:
        return CommandResult(stdout=stdout, stderr="", code=0)

    def error(self, stderr: str) -> CommandResult:
        raise create_command_error(CommandResult(stdout="", stderr=stderr, code=255))

    def failed(self, verb: str, stack: str) -> CommandResult:
        """A failed operation as the real CLI ends it: its diagnostics went to the event stream and stdout."""
        heading = {"up": "Updating", "preview": "Previewing update", "destroy": "Destroying"}[verb]
        raise create_command_error(CommandResult(stdout=f"{heading} ({stack}):\n\nResources:\n", stderr="", code=255))

    def of(self, verb: str) -> list[Call]:
        return [c for c in self.calls if c.verb == verb]
