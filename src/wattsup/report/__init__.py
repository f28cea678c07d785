"""Static reports: an offline HTML page (plotly, with plotly.js embedded: no network needed to open it),
PNG figures (matplotlib) and a Markdown table, all from :mod:`wattsup.analysis`.

    build_report(source, out_dir, ReportOptions(...), location=..., params=...) -> ReportFiles
"""

from __future__ import annotations

from wattsup.report.build import ReportFiles, build_report

__all__ = ["ReportFiles", "build_report"]
