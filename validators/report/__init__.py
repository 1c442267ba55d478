"""The grade report model and its renderers: each renderer is a pure function of a GradeReport.

One module per format: render_table, render_json, render_junit, render_csv, render_html (Jinja2
templates in templates/), plus render_student (the student's own view) and render_history (rows
of the registry's grade history).
"""

from labctl.validators.report.model import CheckResult, GradeReport, GuardResult, StudentResult, Ungraded
from labctl.validators.report.render_csv import to_csv
from labctl.validators.report.render_history import HISTORY_COLUMNS, history_json, history_rows
from labctl.validators.report.render_html import to_html
from labctl.validators.report.render_json import SCHEMA, stored_report, student_json, to_json
from labctl.validators.report.render_junit import to_junit
from labctl.validators.report.render_student import student_text
from labctl.validators.report.render_table import TABLE_COLUMNS, rich_table, table_rows

__all__ = [
    "HISTORY_COLUMNS",
    "SCHEMA",
    "TABLE_COLUMNS",
    "CheckResult",
    "GradeReport",
    "GuardResult",
    "StudentResult",
    "Ungraded",
    "history_json",
    "history_rows",
    "rich_table",
    "stored_report",
    "student_json",
    "student_text",
    "table_rows",
    "to_csv",
    "to_html",
    "to_json",
    "to_junit",
]
