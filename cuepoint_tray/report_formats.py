"""The report formats, listed once: the CLI's `--format`, the `report_format` setting and its
choices, the dashboard's downloads and media types all read this list.

`reports.render.RENDERERS` holds one renderer for each; a test keeps the two in step.
"""

from __future__ import annotations

from typing import NamedTuple


class ReportFormat(NamedTuple):
    label: str  # what the DJ reads in a list of choices
    media_type: str


REPORT_FORMATS: dict[str, ReportFormat] = {
    "html": ReportFormat("HTML (opens in a browser)", "text/html; charset=utf-8"),
    "csv": ReportFormat("CSV (spreadsheet)", "text/csv; charset=utf-8"),
    "json": ReportFormat("JSON", "application/json"),
    "txt": ReportFormat("Plain text", "text/plain; charset=utf-8"),
}

