"""Grade history rows (as `Registry.grade_history` returns them, oldest first) for a table or JSON.

An entry with an `error` is a student who could not be graded: no score, `error` and the reason.
"""

from __future__ import annotations

from typing import Any, Iterable

HISTORY_COLUMNS = ("run", "graded_at", "student", "lab", "score", "percent", "passed", "reason")
RUN_ID_SHOWN = 8
"""Characters of a run id a table shows: enough for `labctl grades export --run`."""


def history_json(cohort: str, entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {
        "cohort": cohort,
        "runs": [
            {
                "run": e["run_id"],
                "graded_at": e["graded_at"],
                "student": e["student"],
                "lab": e["lab"],
                "score": e.get("score"),
                "max_score": e.get("max_score"),
                "percent": e.get("percent"),
                "passed": e.get("passed"),
                "error": e.get("error"),
            }
            for e in entries
        ],
    }


def history_rows(entries: Iterable[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [
        (e["run_id"][:RUN_ID_SHOWN], e["graded_at"], e["student"], e["lab"], "", "", "error", e["error"])
        if e.get("error")
        else (
            e["run_id"][:RUN_ID_SHOWN],
            e["graded_at"],
            e["student"],
            e["lab"],
            f"{e['score']}/{e['max_score']}",
            f"{e['percent']:.1f}%",
            "yes" if e["passed"] else "no",
            "",
        )
        for e in entries
    ]
