"""Reports: the monthly and annual community reports and the weekly newsletter (Markdown,
HTML, PDF; English and Simplified Chinese), saved in the workspace with an index, generated on
demand or on a schedule, and the charts they and the web pages draw. See docs/reports.md.

Every number comes from the metrics catalogue (``commops.metrics``) and travels with its
metric, parameters and row, so it can be checked against ``commops metrics``.
"""

from __future__ import annotations

from commops.reports.models import Report
from commops.reports.periods import KINDS, Period, parse_period
from commops.reports.render import FORMATS, read_figures
from commops.reports.saved import (
    SavedReport,
    generate,
    generate_languages,
    get_report,
    list_reports,
    render,
    report_path,
)
from commops.reports.schedule import due_reports, run_schedule

__all__ = [
    "FORMATS",
    "KINDS",
    "Period",
    "Report",
    "SavedReport",
    "due_reports",
    "generate",
    "generate_languages",
    "get_report",
    "list_reports",
    "parse_period",
    "read_figures",
    "render",
    "report_path",
    "run_schedule",
]
