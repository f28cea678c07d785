"""The report's view model: its tables as header and rows of text (numbers through :mod:`wattsup.format`),
shared by the HTML and the Markdown templates, which escape each cell their own way; and the Markdown
escape itself."""

from __future__ import annotations

import html
from dataclasses import dataclass

from wattsup.analysis import LeaderboardEntry, LifecycleBreakdown
from wattsup.analysis.serving import EqualLoad, ServingAnalysis, ServingPoint
from wattsup.analysis.uncertainty import MIN_INTERVAL_MODELS
from wattsup.format import sig
from wattsup.report.data import ReportData


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#!"})


def md(text: object) -> str:
    """``text`` as literal Markdown: HTML is escaped (a model named ``<img onerror=...>`` stays text, in
    every renderer), Markdown's inline syntax is backslash-escaped and line breaks become spaces, so a
    name can neither run code nor break a table or a heading."""
    flat = " ".join(str(text).split("\n")).replace("\r", " ")
    return html.escape(flat.translate(_MD_SPECIAL), quote=False)


def summary_table(d: ReportData) -> Table:
    rows = []
    for s in d.summary:
        ci = d.intervals.get(s.task)
        interval = (
            f"{sig(ci.interval.low)} – {sig(ci.interval.high)}"
            if ci is not None and ci.interval is not None
            else f"n/a (< {MIN_INTERVAL_MODELS} models)"
        )
        rows.append(
            [
                s.task,
                str(s.models),
                str(s.runs),
                *(sig(v) for v in (s.mean_kwh, s.std_kwh, s.median_kwh, s.min_kwh, s.max_kwh)),
                interval,
            ]
        )
    header = ["task", "models", "runs", "mean", "std", "median", "min", "max", "95% CI of the mean"]
    return Table(header, rows)


def modes_table(d: ReportData) -> Table:
    return Table(
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


def params_table(d: ReportData) -> Table:
    return Table(
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


def lifecycle_table(b: LifecycleBreakdown) -> Table:
    kg = ",.4g"
    return Table(
        ["", "operational (kgCO2e)", "embodied (kgCO2e)", "construction (kgCO2e)"],
        [
            [
                "training",
                sig(b.training_operational_kg, kg),
                sig(b.training_embodied_kg, kg),
                sig(b.training_construction_kg, kg),
            ],
            [
                "inference",
                sig(b.inference_operational_kg, kg),
                sig(b.inference_embodied_kg, kg),
                sig(b.inference_construction_kg, kg),
            ],
        ],
    )


def litres(b: LifecycleBreakdown, key: str) -> float | None:
    """A water figure of the life cycle's footprint (litres), ``None`` when unknown."""
    v = b.footprint.get(key)
    return float(v) if isinstance(v, int | float) else None


def leaderboard_table(entries: list[LeaderboardEntry], energy: str = "energy") -> Table:
    return Table(
        ["rank", "model", "mode", energy, "stars", "hardware class", "runs"],
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


def _ms(seconds: float | None) -> str:
    return sig(None if seconds is None else seconds * 1000.0, ".3g")


def _j_per_token(p: ServingPoint) -> str:
    bound = f" ± {sig(p.j_per_token_bound, '.2g')}" if p.j_per_token_bound is not None else ""
    return sig(p.j_per_token, ".4g") + (bound if p.j_per_token is not None else "")


def serving_levels_table(a: ServingAnalysis) -> Table:
    """Every level of every model and engine, by model, engine and load; whether it is on its model's
    Pareto front."""
    fronts = {f.model: f for f in a.fronts}
    rows = []
    for p in sorted(a.points, key=lambda p: (p.model, p.engine, p.kind, p.value)):
        front = fronts.get(p.model)
        rows.append(
            [
                p.model,
                p.engine,
                p.label,
                _j_per_token(p),
                p.method,
                sig(p.tokens_per_s, ".4g"),
                _ms(p.ttft_p50_s),
                _ms(p.tpot_p50_s),
                "yes" if front is not None and front.on_front(p) else "no",
            ]
        )
    return Table(
        [
            "model",
            "engine",
            "load",
            "J per output token",
            "method",
            "tokens/s",
            "TTFT p50 (ms)",
            "TPOT p50 (ms)",
            f"on the {a.latency.upper()} Pareto front",
        ],
        rows,
    )


def equal_load_table(level: EqualLoad) -> Table:
    return Table(
        ["model", "engine", "J per output token", "method", "tokens/s", "TTFT p50 (ms)"],
        [
            [p.model, p.engine, _j_per_token(p), p.method, sig(p.tokens_per_s, ".4g"), _ms(p.ttft_p50_s)]
            for p in level.rows
        ],
    )
