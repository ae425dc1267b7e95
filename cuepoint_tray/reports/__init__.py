"""Reports of one matching session, from the history: HTML, CSV, JSON and plain text,
and its tables (results, candidates, queries) as CSV."""

from cuepoint_tray.reports.data import ReportData, build_report, export_matches
from cuepoint_tray.reports.render import RENDERERS, report_file_name, write_report
from cuepoint_tray.reports.tables import TABLES, write_tables

__all__ = ["RENDERERS", "TABLES", "ReportData", "build_report", "export_matches",
           "report_file_name", "write_report", "write_tables"]
