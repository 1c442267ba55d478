"""The grade report: one plain data object per grading run; renderers only read it."""

from __future__ import annotations

from dataclasses import dataclass

from labctl.validators.registry import Status


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    status: Status
    points: int
    awarded: int
    message: str
    hint: str | None


@dataclass(frozen=True)
class GuardResult:
    id: str
    status: Status
    """`failed` means the guard applies (its check failed) and the penalty is deducted."""
    penalty: int
    deducted: int
    message: str
    hint: str | None


@dataclass(frozen=True)
class StudentResult:
    """One student's grade for one lab."""

    student: str
    prefix: str
    lab: str
    score: int
    max_score: int
    percent: float
    passed: bool
    checks: tuple[CheckResult, ...]
    guards: tuple[GuardResult, ...]


@dataclass(frozen=True)
class Ungraded:
    """A student who could not be graded on a lab because the target, cluster or database did not
    answer: no score, only the reason."""

    student: str
    prefix: str
    lab: str
    reason: str


@dataclass(frozen=True)
class GradeReport:
    cohort: str
    labs: tuple[str, ...]
    graded_at: str
    """ISO 8601, UTC, seconds."""
    results: tuple[StudentResult, ...]
    """Roster order, then lab order."""
    ungraded: tuple[Ungraded, ...] = ()
    """Roster order, then lab order: nobody here has a score in `results`."""

    def could_not_grade(self) -> list[str]:
        """One line per reason: `could not grade N students: <reason>`."""
        by_reason: dict[str, set[str]] = {}
        for item in self.ungraded:
            by_reason.setdefault(item.reason, set()).add(item.student)
        return [
            f"could not grade {len(names)} student{'' if len(names) == 1 else 's'}: {reason}"
            for reason, names in by_reason.items()
        ]

    @property
    def lab(self) -> str:
        return ",".join(self.labs)
