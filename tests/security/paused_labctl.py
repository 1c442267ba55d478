"""Run `labctl` in a subprocess that pauses at a chosen point until it is killed (crash and lock
tests only): after N graded results are committed (LABCTL_TEST_PAUSE_GRADE_AFTER), or when the
(N+1)th stack starts under the fake engine (LABCTL_TEST_PAUSE_UP_AFTER). It writes the file named
by LABCTL_TEST_READY when paused, so the test knows the state it is about to kill.

With LABCTL_TEST_PAUSE_REPORT_LOCK it does not pause: it writes that file once it has found the
grading lock held and goes on waiting as asked, and on taking the lock says on stderr whether the
run that held it was still alive (a `--wait` that does not wait takes it from a live holder)."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stacks"))

READY = Path(os.environ["LABCTL_TEST_READY"])


def pause() -> None:
    READY.write_text(str(os.getpid()), encoding="utf-8")
    threading.Event().wait()


def pause_grading(after: int) -> None:
    from labctl.cohorts.registry import Registry

    record = Registry.record_grade
    done = []

    def paused_record(self, run_id, cohort, result):
        record(self, run_id, cohort, result)
        done.append(result["student"])
        if len(done) == after:
            pause()

    Registry.record_grade = paused_record


def pause_up(after: int) -> None:
    from fake_pulumi import FakePulumi

    from labctl.stacks import engine

    started = []

    def on_start(stack: str) -> None:
        if stack in started:
            return  # the same stack's up, after its gate preview
        started.append(stack)
        if len(started) == after + 1:
            pause()

    fake = FakePulumi(on_start=on_start)
    engine.command_factory = lambda: fake


def report_lock() -> None:
    from labctl.cohorts.registry import Registry, pid_alive
    from labctl.labs.errors import LabctlError

    acquire = Registry.acquire_grading_lock

    def acquire_reporting(self, cohort, run_id, wait=False, poll_s=0.5):
        try:
            return acquire(self, cohort, run_id)
        except LabctlError:
            if not wait:
                raise
        (holder,) = self.db.execute("SELECT pid FROM grading_locks WHERE cohort = ?", (cohort,)).fetchone()
        READY.write_text(str(os.getpid()), encoding="utf-8")
        acquire(self, cohort, run_id, wait=True, poll_s=poll_s)
        state = "alive" if pid_alive(holder) else "gone"
        print(f"paused_labctl: took the grading lock from pid {holder}, which was {state}", file=sys.stderr)

    Registry.acquire_grading_lock = acquire_reporting


if __name__ == "__main__":
    if "LABCTL_TEST_PAUSE_GRADE_AFTER" in os.environ:
        pause_grading(int(os.environ["LABCTL_TEST_PAUSE_GRADE_AFTER"]))
    if "LABCTL_TEST_PAUSE_UP_AFTER" in os.environ:
        pause_up(int(os.environ["LABCTL_TEST_PAUSE_UP_AFTER"]))
    if "LABCTL_TEST_PAUSE_REPORT_LOCK" in os.environ:
        report_lock()
    from labctl.cli import main

    sys.argv = ["labctl", *sys.argv[1:]]
    main()
