"""The department report: one page a department head reads in five minutes.

`department_report(session, run, department)` assembles the data (no HTML; `data`);
`render_department_report(report, lang)` turns it into a self-contained page with every
stored text escaped (`html`); `write_department_report(s)` write it to files (`files`).
The department's own labels are in `labels`.
"""

from reports.department.data import (
    DepartmentReport,
    ReportCache,
    Section,
    department_report,
    run_intervals,
    standing_table,
)
from reports.department.files import safe_filename, write_department_report, write_department_reports
from reports.department.html import render_department_report

__all__ = [
    "DepartmentReport",
    "ReportCache",
    "Section",
    "department_report",
    "render_department_report",
    "run_intervals",
    "safe_filename",
    "standing_table",
    "write_department_report",
    "write_department_reports",
]
