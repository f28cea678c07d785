"""Assemble a report directory: ``report.html`` (self-contained), ``summary.md``, ``summary.csv`` and
``figures/*.png``."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wattsup.analysis import ReportOptions, export_rows
from wattsup.analysis.query import Source
from wattsup.analysis.uncertainty import MIN_INTERVAL_MODELS
from wattsup.errors import InvalidInput
from wattsup.format import sig
from wattsup.report import figures, interactive
from wattsup.report.data import ReportData, collect


@dataclass
class ReportFiles:
    """What a report wrote."""

    directory: Path
    html: Path
    markdown: Path
    csv: Path
    figures: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _litres(footprint: dict[str, object], key: str) -> float | None:
    v = footprint.get(key)
    return float(v) if isinstance(v, int | float) else None


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#!"})


def md(text: str) -> str:
    """``text`` as literal Markdown: HTML is escaped (a model named ``<img onerror=...>`` stays text, in
    every renderer), Markdown's inline syntax is backslash-escaped and line breaks become spaces, so a
    name can neither run code nor break a table or a heading."""
    flat = " ".join(text.split("\n")).replace("\r", " ")
    return html.escape(flat.translate(_MD_SPECIAL), quote=False)


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(md(h) for h in header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    out += ["| " + " | ".join(md(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _summary_rows(d: ReportData) -> tuple[list[str], list[list[str]]]:
    header = ["task", "models", "runs", "mean", "std", "median", "min", "max", "95% CI of the mean"]
    rows = []
    for s in d.summary:
        ci = d.intervals.get(s.task)
        interval = (
            f"{ci.interval.low:.4g} – {ci.interval.high:.4g}"
            if ci is not None and ci.interval is not None
            else f"n/a (< {MIN_INTERVAL_MODELS} models)"
        )
        rows.append(
            [
                s.task,
                str(s.models),
                str(s.runs),
                sig(s.mean_kwh),
                sig(s.std_kwh),
                sig(s.median_kwh),
                sig(s.min_kwh),
                sig(s.max_kwh),
                interval,
            ]
        )
    return header, rows


def markdown(d: ReportData) -> str:
    m = d.options.metric
    what = f"phase {m.phase!r}" if m.phase else "the whole repetition window"
    parts = [
        f"# {md(d.options.title)}",
        "",
        f"{d.runs} runs from {md(d.location or 'the store')}, generated {d.generated_at:%Y-%m-%d %H:%M} UTC. "
        f"Energy: {d.summary[0].unit if d.summary else m.unit}, {what}, {m.component} components. Per task: "
        "statistics over models, each model first averaged over its runs per dataset, then over datasets.",
        "",
        *([f"**Estimates.** {d.modelled}.", ""] if d.modelled else []),
        "## Energy per task",
        "",
        _md_table(*_summary_rows(d)),
        "",
    ]
    if d.modes:
        parts += ["## Multi-purpose against task-specific", ""]
        parts.append(
            _md_table(
                ["task", "task-specific", "multi-purpose", "ratio", "models (ts / mp)"],
                [
                    [
                        c.task,
                        sig(c.task_specific_kwh),
                        sig(c.multi_purpose_kwh),
                        sig(c.ratio, ".3g"),
                        f"{c.task_specific_models} / {c.multi_purpose_models}",
                    ]
                    for c in d.modes
                ],
            )
        )
        parts.append("")
    if d.params:
        parts += ["## Energy against parameters (log-log fit per task)", ""]
        parts.append(
            _md_table(
                ["task", "models", "slope", "r", "Spearman", "no parameter count"],
                [
                    [
                        f.task,
                        str(f.n),
                        sig(f.slope, ".3g"),
                        sig(f.r, ".3f"),
                        sig(f.spearman, ".3f"),
                        ", ".join(f.missing_params) or "-",
                    ]
                    for f in d.params
                ],
            )
        )
        parts.append("")
    if d.lifecycle is not None:
        b = d.lifecycle
        s = b.scenario
        parts += [
            "## Life cycle of a deployment",
            "",
            f"{md(s.model or s.task or '')}: {s.queries_per_day:,.0f} queries per day for {s.years:g} years "
            f"in {md(s.region or '')}, {sig(b.kwh_per_1k)} kWh per 1,000 inferences "
            f"({md(b.kwh_source)}); GPU {md(b.gpu or 'unknown')}.",
            "",
            _md_table(
                ["", "operational (kgCO2e)", "embodied (kgCO2e)", "construction (kgCO2e)"],
                [
                    [
                        "training",
                        sig(b.training_operational_kg, ",.4g"),
                        sig(b.training_embodied_kg, ",.4g"),
                        sig(b.training_construction_kg, ",.4g"),
                    ],
                    [
                        "inference",
                        sig(b.inference_operational_kg, ",.4g"),
                        sig(b.inference_embodied_kg, ",.4g"),
                        sig(b.inference_construction_kg, ",.4g"),
                    ],
                ],
            ),
            "",
            f"Total: {sig(b.total_kg, ',.4g')} kgCO2e"
            + (
                f" ({sig(b.total_excluding_embodied_kg, ',.4g')} kgCO2e excluding embodied, unknown)"
                if b.total_kg is None and b.total_excluding_embodied_kg is not None
                else ""
            )
            + ". Energy parity with training: "
            f"{sig(b.parity_inferences, ',.4g')} inferences ({sig(b.parity_days, ',.4g')} days).",
            "",
            f"Water: {sig(_litres(b.footprint, 'water_l'), ',.4g')} L (on site "
            f"{sig(_litres(b.footprint, 'water_onsite_l'), ',.4g')} L, off site for the electricity "
            f"{sig(_litres(b.footprint, 'water_offsite_l'), ',.4g')} L).",
            "",
        ]
        parts += [f"- {md(n)}" for n in b.notes]
    elif d.lifecycle_note:
        parts += ["## Life cycle of a deployment", "", md(d.lifecycle_note), ""]
    parts += ["## Leaderboards (least energy first, stars within task and hardware class)", ""]
    for task, entries in d.leaderboards.items():
        parts += [f"### {md(task)}", ""]
        parts.append(
            _md_table(
                ["rank", "model", "mode", "energy", "stars", "hardware class", "runs"],
                [
                    [
                        str(e.rank),
                        e.model,
                        e.mode,
                        sig(e.kwh),
                        "★" * e.stars if e.stars else "not rated",
                        e.hardware_class,
                        str(e.runs),
                    ]
                    for e in entries
                ],
            )
        )
        parts.append("")
    if d.warnings and m.component == "all":
        parts += [
            "## Measured and modelled energy mixed",
            "",
            f"{len(d.warnings)} model/task pairs add measured and modelled components (e.g. "
            f"{md(d.warnings[0].methods)}): their totals are part estimate. Use --component gpu for measured "
            "figures only.",
            "",
        ]
    return "\n".join(parts).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;max-width:1180px;
margin:2em auto;
padding:0 1em;color:#1f2328;line-height:1.45}
h1{font-size:1.8em}h2{margin-top:2em;border-bottom:1px solid #d0d7de;padding-bottom:.2em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{border:1px solid #d0d7de;padding:.3em .6em;
text-align:right}th{background:#f6f8fa}td:first-child,th:first-child{text-align:left}
.note{color:#57606a;font-size:.92em}.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.6em 1em;
border-radius:6px}.fig{margin:1.5em 0}
"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(d: ReportData) -> str:
    from plotly.offline import get_plotlyjs

    unit = d.summary[0].unit if d.summary else d.options.metric.unit
    m = d.options.metric
    what = f"phase {m.phase!r}" if m.phase else "the whole repetition window"
    sections = [
        f"<h1>{html.escape(d.options.title)}</h1>",
        f"<p class='note'>{d.runs} runs from {html.escape(d.location or 'the store')}, generated "
        f"{d.generated_at:%Y-%m-%d %H:%M} UTC. Energy in {html.escape(unit)}, {html.escape(what)}, "
        f"{html.escape(m.component)} components. Per task: statistics over models, each model first averaged "
        "over its runs per dataset, then over datasets. 95% intervals: percentile bootstrap over models.</p>",
    ]
    if d.modelled:
        sections.append(f"<p class='warn'><strong>Estimates.</strong> {html.escape(d.modelled)}.</p>")
    if d.warnings and m.component == "all":
        sections.append(
            f"<p class='warn'>{len(d.warnings)} model/task pairs add measured and modelled components (e.g. "
            f"{html.escape(d.warnings[0].methods)}): their totals are part estimate.</p>"
        )
    sections += ["<h2>Energy per task</h2>", _html_table(*_summary_rows(d))]
    figs = [
        ("Energy per task", interactive.energy_by_task(d.study, unit)),
        ("Energy against parameters", interactive.energy_vs_params(d.params, unit)),
        ("Multi-purpose against task-specific", interactive.modes(d.modes, unit)),
        ("Phases", interactive.phases(d.phases, unit)),
        ("Output length against energy", interactive.output_length(d.lengths, unit)),
        ("Life cycle", interactive.lifecycle(d.lifecycle) if d.lifecycle is not None else None),
    ]
    for title, frag in figs:
        sections.append(f"<h2>{html.escape(title)}</h2>")
        if frag is None:
            why = (
                d.lifecycle_note if title == "Life cycle" and d.lifecycle_note else "no data for this figure"
            )
            sections.append(f"<p class='note'>Not drawn: {html.escape(why)}.</p>")
        else:
            sections.append(f"<div class='fig'>{frag}</div>")
    if d.lifecycle is not None:
        sections.append(
            "<ul class='note'>" + "".join(f"<li>{html.escape(n)}</li>" for n in d.lifecycle.notes) + "</ul>"
        )
    sections.append("<h2>Leaderboards</h2>")
    for task, entries in d.leaderboards.items():
        sections.append(f"<h3>{html.escape(task)}</h3>")
        sections.append(
            _html_table(
                ["rank", "model", "mode", f"energy ({unit})", "stars", "hardware class", "runs"],
                [
                    [
                        str(e.rank),
                        e.model,
                        e.mode,
                        sig(e.kwh),
                        "★" * e.stars if e.stars else "not rated",
                        e.hardware_class,
                        str(e.runs),
                    ]
                    for e in entries
                ],
            )
        )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(d.options.title)}</title><style>{_CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )


def build_report(
    source: Source,
    out_dir: str | Path,
    options: ReportOptions | None = None,
    *,
    location: str = "",
    params: Mapping[str, int] | None = None,
) -> ReportFiles:
    """Write the report for the runs ``options.selection`` picks into ``out_dir`` (created if needed)."""
    opts = options or ReportOptions()
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidInput("--out", f"{out} is a file; give a directory")
    d = collect(source, opts, location=location, params=params)  # before any folder: no runs, nothing made
    try:
        (out / "figures").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InvalidInput("--out", f"cannot create {out} ({err.strerror})") from None
    unit = d.summary[0].unit if d.summary else opts.metric.unit
    files = ReportFiles(
        directory=out, html=out / "report.html", markdown=out / "summary.md", csv=out / "summary.csv"
    )
    drawn = {
        "energy_by_task": figures.energy_by_task(d.study, out / "figures" / "energy_by_task.png", unit),
        "energy_vs_params": figures.energy_vs_params(
            d.params, out / "figures" / "energy_vs_params.png", unit
        ),
        "multi_vs_task": figures.modes(d.modes, out / "figures" / "multi_vs_task.png", unit),
        "phases": figures.phases(d.phases, out / "figures" / "phases.png", unit),
        "output_length": figures.output_length(d.lengths, out / "figures" / "output_length.png", unit),
        "lifecycle": (
            figures.lifecycle(d.lifecycle, out / "figures" / "lifecycle.png")
            if d.lifecycle is not None
            else None
        ),
    }
    files.figures = {k: v for k, v in drawn.items() if v is not None}
    files.notes = [f"{k}: not drawn (no data)" for k, v in drawn.items() if v is None]
    if d.lifecycle_note:
        files.notes.append(d.lifecycle_note)
    text = markdown(d)
    text += (
        "\n## Figures\n\n" + "\n".join(f"![{k}](figures/{p.name})" for k, p in files.figures.items()) + "\n"
    )
    files.markdown.write_text(text, encoding="utf-8")
    export_rows(d.summary, files.csv, "csv")
    files.html.write_text(page(d), encoding="utf-8")
    return files
