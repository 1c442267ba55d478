"""The check registry: one check = one small, stateless function from (inventory, params) to a Result.

Checks register explicitly with the `@check` decorator; `validators.checks.load()` imports the
modules that hold them, listed in one place. Guards reuse checks: a guard "applies" when its check
fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from pydantic import BaseModel, ConfigDict

Status = Literal["passed", "failed", "error", "skipped"]


class Params(BaseModel):
    """Base of every check's parameters: unknown keys are an error in the lab file."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Result:
    status: Status
    message: str = ""
    hint: str | None = None

    @classmethod
    def passed(cls, message: str = "") -> "Result":
        return cls("passed", message)

    @classmethod
    def failed(cls, message: str, hint: str | None = None) -> "Result":
        return cls("failed", message, hint)

    @classmethod
    def skipped(cls, message: str) -> "Result":
        return cls("skipped", message)

    @classmethod
    def error(cls, message: str) -> "Result":
        return cls("error", message)


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    reads: str
    params: type[Params]
    fn: Callable[[Any, Any], Result]


CHECKS: dict[str, Check] = {}


def check(name: str, *, title: str, reads: str, params: type[Params]):
    """Register `fn` as check `name`, reading the `reads` inventory kind with `params`."""

    def register(fn: Callable[[Any, Any], Result]) -> Callable[[Any, Any], Result]:
        if name in CHECKS:
            raise ValueError(f"check {name!r} registered twice")
        CHECKS[name] = Check(name=name, title=title, reads=reads, params=params, fn=fn)
        return fn

    return register
