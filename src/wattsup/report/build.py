"""Assemble a report directory: ``report.html`` (self-contained), ``summary.md``, ``summary.csv`` and
``figures/*.png``, from the templates in ``templates/`` and the figures of :mod:`wattsup.figures`."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattsup import format as fmt
from wattsup.analysis import ReportOptions, export_rows
from wattsup.analysis.query import Source
from wattsup.analysis.serving import LATENCIES
from wattsup.errors import InvalidInput
from wattsup.figures import write_png
from wattsup.figures.style import html as plotly_html
from wattsup.report import view
from wattsup.report.data import ReportData, collect
from wattsup.report.view import md

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["ReportFiles", "build_report", "markdown", "md", "page"]


@dataclass
class ReportFiles:
    """What a report wrote."""

    directory: Path
    html: Path
    markdown: Path
    csv: Path
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@functools.cache
def _env(kind: str) -> Environment:
    """The templates' environment: autoescaped for ``html``; for ``md``, names go through the ``md``
    filter. Numbers go through :mod:`wattsup.format`'s functions as filters."""
    from jinja2 import Environment, PackageLoader, StrictUndefined
    from markupsafe import Markup

    env = Environment(
        loader=PackageLoader("wattsup.report", "templates"),
        autoescape=kind == "html",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    env.filters.update(_formatters(), md=md, plotly_html=lambda fig: Markup(plotly_html(fig)))
    return env


def _formatters() -> dict[str, Any]:
    """Every public function of :mod:`wattsup.format` under its own name (``sig``, ``kwh``, ``when``, ...):
    a formatter added there is a filter here with no edit."""
    return {
        name: f
        for name, f in vars(fmt).items()
        if inspect.isfunction(f) and f.__module__ == fmt.__name__ and not name.startswith("_")
    }


def _context(d: ReportData) -> dict[str, Any]:
    m = d.options.metric
    serving = d.serving
    return {
        "d": d,
        "v": view,
        "what": f"phase {m.phase!r}" if m.phase else "the whole repetition window",
        "latency": LATENCIES[serving.latency] if serving is not None else "",
    }


def markdown(d: ReportData, figures: Mapping[str, Path] | None = None) -> str:
    """``summary.md``: the report's tables and notes in Markdown, with links to ``figures`` if given."""
    text = _env("md").get_template("summary.md.j2").render(**_context(d), figures=dict(figures or {}))
    return text.rstrip() + "\n"


def page(d: ReportData) -> str:
    """``report.html``: one page with plotly.js embedded (no network needed to open it)."""
    from markupsafe import Markup
    from plotly.offline import get_plotlyjs

    return _env("html").get_template("report.html.j2").render(**_context(d), plotlyjs=Markup(get_plotlyjs()))


def _write_figures(d: ReportData, folder: Path, files: ReportFiles) -> None:
    """Each drawn figure's PNG; a note for each figure of the study that has nothing to draw (and for the
    serving figures when the store has serving runs)."""
    has_serving = d.serving is not None and d.serving.runs > 0
    for f in d.figures:
        if f.figure is not None:
            files.figures[f.name] = write_png(f.figure, folder / f"{f.name}.png")
        elif f.section == "energy" or has_serving:
            files.notes.append(f"{f.name}: not drawn (no data)")
    if d.lifecycle_note:
        files.notes.append(d.lifecycle_note)


def build_report(
    source: Source,
    out_dir: str | Path,
    options: ReportOptions | None = None,
    *,
    location: str = "",
    params: Mapping[str, int] | None = None,
    serving_latency: str = "ttft",
) -> ReportFiles:
    """Write the report for the runs ``options.selection`` picks into ``out_dir`` (created if needed);
    ``serving_latency`` (``ttft`` or ``tpot``) is the latency of the serving section's Pareto front."""
    opts = options or ReportOptions()
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} is a file; give a directory")
    d = collect(
        source, opts, location=location, params=params, serving_latency=serving_latency
    )  # before any folder: no runs, nothing made
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInput("--out", f"cannot create {out} ({err.strerror})") from None
    files = ReportFiles(
        directory=out, html=out / "report.html", markdown=out / "summary.md", csv=out / "summary.csv"
    )
    _write_figures(d, out / "figures", files)
    files.markdown.write_text(markdown(d, files.figures), encoding="utf-8")
    export_rows(d.summary, files.csv, "csv")
    files.html.write_text(page(d), encoding="utf-8")
    return files
