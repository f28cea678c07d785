"""Static reports: an offline HTML page (plotly, with plotly.js embedded: no network needed to open it),
PNG figures (drawn by matplotlib from the same plotly figures, :mod:`wattsup.figures`) and a Markdown
summary, all from :mod:`wattsup.analysis`, rendered from the Jinja2 templates in ``templates/``.

    build_report(source, out_dir, ReportOptions(...), location=..., params=...) -> ReportFiles
"""

from __future__ import annotations

from wattsup.report.build import ReportFiles, build_report

__all__ = ["ReportFiles", "build_report"]
