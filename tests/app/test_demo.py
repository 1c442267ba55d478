"""`labctl demo` with the engine: provisions with `up` and ends with `destroy --sweep` when a Pulumi CLI
is present (here the recording fake of PulumiCommand), one line and the rest of the story without it."""

from __future__ import annotations

import pytest

from labctl.app import demo
from labctl.stacks import engine as engine_mod
from tests.stacks.fake_pulumi import FakePulumi


def test_without_the_pulumi_cli_the_engine_steps_are_one_line(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    said: list[str] = []
    assert demo.open_engine(said.append) is None
    assert said == ["the Pulumi CLI is not installed: run `labctl engine install`; skipping `up` and"
                    " `destroy --sweep`, running the rest"]


@pytest.mark.emulator
def test_fake_engine_demo_provisions_with_up_and_ends_with_destroy_sweep(monkeypatch):
    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    said: list[str] = []
    result = demo.run_demo(said.append)
    cohort = result.cohort
    up_line = said.index(f"up {cohort}: 3 done, 0 failed")
    built = next(i for i, line in enumerate(said) if "builds the reference solution" in line)
    destroy_line = said.index(f"destroy {cohort}: 3 done, 0 failed")
    assert up_line < built < destroy_line
    assert said[destroy_line + 1].startswith("sweep: ") and said[destroy_line + 1].endswith(f"0 resources left for {cohort}")
    assert result.proof == f"0 resources left for {cohort}"
    assert [c.verb for c in fake.calls if c.verb in ("up", "destroy")] == ["up"] * 3 + ["destroy"] * 3
    assert sum(r.passed for r in result.report.results) == 1
