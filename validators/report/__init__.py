"""The grade report model and its renderers: each renderer is a pure function of a GradeReport.

Add a renderer as its own module (render_junit.py, render_csv.py, ...) and export it here.
"""

from validators.report.model import CheckResult, GradeReport, GuardResult, StudentResult
from validators.report.render_json import SCHEMA, student_json, to_json
from validators.report.render_table import TABLE_COLUMNS, rich_table, table_rows

__all__ = [
    "SCHEMA",
    "TABLE_COLUMNS",
    "CheckResult",
    "GradeReport",
    "GuardResult",
    "StudentResult",
    "rich_table",
    "student_json",
    "table_rows",
    "to_json",
]
