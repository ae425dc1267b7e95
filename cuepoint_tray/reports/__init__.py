"""Reports of one matching session, from the history: HTML, CSV, JSON and plain text."""

from cuepoint_tray.reports.data import ReportData, build_report, export_matches
from cuepoint_tray.reports.render import RENDERERS, report_file_name, write_report

__all__ = ["RENDERERS", "ReportData", "build_report", "export_matches", "report_file_name",
           "write_report"]
