"""Live progress of a fan-out run: one row per student (queued / running / done / failed, resources
changed so far), redrawn on stderr as workers report. Disabled (a no-op) with --quiet or when stderr
is not a terminal; the caller prints the final table and summary line either way."""

from __future__ import annotations

from rich.console import Console
from rich.live import Live
from rich.table import Table

from labctl.stacks.lifecycle import StudentRun

STYLES = {"queued": "dim", "running": "yellow", "done": "green", "failed": "red"}


class LiveRuns:
    """A progress callback for `run_cohort`: `with LiveRuns(...) as live: run_cohort(..., progress=live)`."""

    def __init__(self, console: Console, title: str, enabled: bool = True):
        self.title = title
        self.runs: dict[str, StudentRun] = {}
        # No refresh thread: the table is redrawn when a report arrives, on the caller's thread.
        self.live = Live(console=console, auto_refresh=False, transient=True, redirect_stdout=False,
                         redirect_stderr=False) if enabled else None

    def __enter__(self) -> "LiveRuns":
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.stop()

    def __call__(self, run: StudentRun) -> None:
        self.runs[run.student] = run
        if self.live:
            self.live.update(self.table(), refresh=True)

    def counts(self) -> str:
        totals = {status: 0 for status in STYLES}
        for run in self.runs.values():
            totals[run.status] = totals.get(run.status, 0) + 1
        return ", ".join(f"{n} {status}" for status, n in totals.items() if n)

    def table(self) -> Table:
        grid = Table(title=f"{self.title} · {self.counts()}", title_justify="left")
        for column in ("student", "status", "resources", "took", "error"):
            grid.add_column(column)
        for run in self.runs.values():
            changed = run.changed if run.status in ("done", "failed") else run.steps
            took = f"{run.duration_s:.1f}s" if run.duration_s is not None else ""
            grid.add_row(run.student, f"[{STYLES.get(run.status, '')}]{run.status}[/]", str(changed or ""), took,
                         run.error or "")
        return grid
