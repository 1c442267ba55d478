"""The state home: everything labctl writes lives under `$LABCTL_HOME` (default `~/.labctl`)."""

from __future__ import annotations

import os
from pathlib import Path


def home_path() -> Path:
    """Where the labctl home is; nothing is created."""
    return Path(os.environ.get("LABCTL_HOME") or Path.home() / ".labctl").expanduser()


def home() -> Path:
    """The labctl home, created on first use with owner-only permissions."""
    root = home_path()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def registry_path() -> Path:
    """The registry's file; the registry creates it (and the home) when it first records a cohort."""
    return home_path() / "registry.sqlite3"


def emulator_dir() -> Path:
    path = home() / "emulator"
    path.mkdir(exist_ok=True, mode=0o700)
    return path


def write_secret(path: Path, text: str) -> None:
    """Write a file that holds a secret: created 0600 before any byte is written."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
