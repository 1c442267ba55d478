"""Errors shared by every layer; the CLI translates them once into exit codes.

`InputError` is the user's fault (bad YAML, CSV, flag or config): exit 2, one line naming what and
where. `LabctlError` is a problem the user can act on but did not type (emulator not running,
cohort unknown): exit 1.
"""

from __future__ import annotations

import difflib
import unicodedata
from typing import Iterable


def one_line(text: str) -> str:
    """`text` with line and paragraph separators and control characters escaped: user input echoed
    in an error must never split it over several lines."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
    )


class LabctlError(Exception):
    """A failure to report as one line, exit code 1."""

    exit_code = 1


class InputError(LabctlError):
    """Bad user input: `<where>: <what>` on one line, exit code 2, nothing written."""

    exit_code = 2

    def __init__(self, message: str, where: str | None = None):
        self.message = one_line(message)
        self.where = one_line(where) if where else where
        super().__init__(f"{self.where}: {self.message}" if where else self.message)


def choices_hint(name: str, known: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the nearest known name, else ` (known: a, b, …)`; '' when none is known."""
    known = list(known)
    nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if nearest:
        return f" (did you mean {nearest[0]!r}?)"
    shown = ", ".join(known[:12]) + (", …" if len(known) > 12 else "")
    return f" (known: {shown})" if known else ""
