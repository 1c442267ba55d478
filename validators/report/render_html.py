"""One self-contained HTML page of a GradeReport: cohort summary, two inline SVG charts, every
student's checks with messages and hints. No scripts, no external assets.

Messages carry student-controlled text, so the Jinja2 environment always autoescapes. The charts'
geometry is computed here, from the report's own scores and statuses; nothing is re-scored.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from functools import lru_cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from labctl.validators.report.model import GradeReport

BINS = 10
CHART_W, CHART_H = 560, 200
BAR_AREA_W = 320
ROW_H = 22


@dataclass(frozen=True)
class Bar:
    label: str
    x: float
    width: float
    passed: int
    failed: int
    passed_h: float
    failed_h: float


@dataclass(frozen=True)
class CheckRate:
    lab: str
    id: str
    title: str
    passed: int
    failed: int
    error: int
    skipped: int
    y: float
    width: float

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.error + self.skipped

    @property
    def rate(self) -> float:
        return self.passed / self.total * 100 if self.total else 0.0


@lru_cache(maxsize=1)
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("labctl.validators.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def distribution(report: GradeReport) -> tuple[list[Bar], int]:
    """Students per 10 % band of percent, split by passed; and the tallest bar's count."""
    counts = [[0, 0] for _ in range(BINS)]
    for result in report.results:
        band = min(int(result.percent // (100 / BINS)), BINS - 1)
        counts[band][0 if result.passed else 1] += 1
    tallest = max((p + f for p, f in counts), default=0) or 1
    slot = CHART_W / BINS
    bars = []
    for i, (passed, failed) in enumerate(counts):
        low = i * 100 // BINS
        label = f"{low}–{low + 100 // BINS - (0 if i == BINS - 1 else 1)}"
        bars.append(
            Bar(label, i * slot + 4, slot - 8, passed, failed, passed / tallest * CHART_H, failed / tallest * CHART_H)
        )
    return bars, tallest


def check_rates(report: GradeReport) -> list[CheckRate]:
    """Per (lab, check): how many students passed, failed, errored or skipped it, in first-seen order."""
    tallies: dict[tuple[str, str], dict] = {}
    for result in report.results:
        for check in result.checks:
            tally = tallies.setdefault(
                (result.lab, check.id),
                {"title": check.title, "passed": 0, "failed": 0, "error": 0, "skipped": 0},
            )
            tally[check.status] += 1
    rates = []
    for i, ((lab, check_id), t) in enumerate(tallies.items()):
        total = t["passed"] + t["failed"] + t["error"] + t["skipped"]
        width = t["passed"] / total * BAR_AREA_W if total else 0.0
        rates.append(CheckRate(lab, check_id, t["title"], t["passed"], t["failed"], t["error"], t["skipped"], i * ROW_H, width))
    return rates


def summary(report: GradeReport) -> dict:
    percents = [r.percent for r in report.results]
    return {
        "students": len({r.student for r in report.results}),
        "results": len(report.results),
        "passed": sum(r.passed for r in report.results),
        "mean": statistics.fmean(percents) if percents else 0.0,
        "median": statistics.median(percents) if percents else 0.0,
        "errors": sum(c.status == "error" for r in report.results for c in r.checks),
        "penalised": sum(any(g.status == "failed" for g in r.guards) for r in report.results),
    }


def to_html(report: GradeReport) -> str:
    bars, tallest = distribution(report)
    rates = check_rates(report)
    return environment().get_template("report.html.j2").render(
        report=report,
        summary=summary(report),
        bars=bars,
        tallest=tallest,
        rates=rates,
        chart={"w": CHART_W, "h": CHART_H, "bar_area_w": BAR_AREA_W, "row_h": ROW_H},
        multi_lab=len(report.labs) > 1,
    )
