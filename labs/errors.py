"""Errors shared by every layer; the CLI translates them once into exit codes.

`InputError` is the user's fault (bad YAML, CSV, flag or config): exit 2, one line naming what and
where. `LabctlError` is a problem the user can act on but did not type (emulator not running,
cohort unknown): exit 1.
"""

from __future__ import annotations


class LabctlError(Exception):
    """A failure to report as one line, exit code 1."""

    exit_code = 1


class InputError(LabctlError):
    """Bad user input: `<where>: <what>` on one line, exit code 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str, where: str | None = None):
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)
