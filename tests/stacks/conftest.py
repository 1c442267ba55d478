"""Fixtures of the engine's tests."""

from __future__ import annotations

import pytest
from fake_pulumi import FakePulumi

from labctl.stacks import engine as engine_mod


@pytest.fixture
def fake(monkeypatch) -> FakePulumi:
    """The recording fake of the Pulumi CLI, also what `labctl` commands get when they open the engine."""
    fake = FakePulumi()
    monkeypatch.setattr(engine_mod, "command_factory", lambda: fake)
    return fake
