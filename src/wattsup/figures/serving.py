"""The serving figures (``wattsup serve`` runs): energy per output token against the load, the
latency–energy Pareto front per model, and models at equal load. Energies are joules per output token with
the meter's error bound; a figure that includes modelled energy says so in its legend and in a note."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wattsup.analysis.serving import LATENCIES, ServingAnalysis, ServingPoint, serving_analysis
from wattsup.figures.registry import FigureQuery, register
from wattsup.figures.style import PALETTE, add_points, finish, new_figure, note
from wattsup.format import sig

if TYPE_CHECKING:
    import plotly.graph_objects as go

J_PER_TOKEN = "energy per output token (J)"
MODELLED = "modelled: includes energy estimated from a power model, not read from a hardware counter"


def serving_of(q: FigureQuery) -> ServingAnalysis:
    return q.once("serving", lambda: serving_analysis(q.source, model=q.serving_model, latency=q.latency))


def _name(points: Sequence[ServingPoint], *parts: str) -> str:
    modelled = any(p.modelled for p in points)
    return " · ".join(parts) + (" (modelled)" if modelled else "")


def _hover(p: ServingPoint) -> str:
    return (
        f"{p.model} · {p.engine}<br>{p.label}<br>{sig(p.j_per_token)} ± {sig(p.j_per_token_bound)} J/token "
        f"({p.method})<br>{sig(p.tokens_per_s)} tokens/s<br>TTFT p50 {sig(_ms(p.ttft_p50_s))} ms, "
        f"TPOT p50 {sig(_ms(p.tpot_p50_s))} ms"
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _finish(fig: go.Figure, points: Sequence[ServingPoint], title: str, x: str, **layout: Any) -> go.Figure:
    """``fig`` with energy per output token up the y axis and the modelled note if a point is modelled."""
    if any(p.modelled for p in points):
        note(fig, MODELLED)
    return finish(fig, title, x, J_PER_TOKEN, **layout)


def _against_load(a: ServingAnalysis, kind: str, title: str, x_title: str) -> go.Figure | None:
    curves = [c for c in a.curves if c.kind == kind]
    if not curves:
        return None
    fig = new_figure()
    for c in curves:
        add_points(
            fig,
            [p.value for p in c.points],
            [p.j_per_token for p in c.points],
            _name(c.points, c.model, c.engine),
            [_hover(p) for p in c.points],
            mode="lines+markers",
            error_y={"type": "data", "array": [p.j_per_token_bound for p in c.points], "visible": True},
        )
    points = [p for c in curves for p in c.points]
    return _finish(fig, points, title, x_title, log="x")


@register(
    "serving_energy_vs_concurrency",
    "Energy per output token against concurrency",
    serving_of,
    section="serving",
)
def energy_vs_concurrency(a: ServingAnalysis, unit: str = "") -> go.Figure | None:
    """J/token against the batch size / concurrency (closed loop), one line per model and engine."""
    return _against_load(
        a,
        "concurrency",
        "Energy per output token against batch size / concurrency",
        "requests in flight (batch size / concurrency, log scale)",
    )


@register(
    "serving_energy_vs_rate", "Energy per output token against arrival rate", serving_of, section="serving"
)
def energy_vs_rate(a: ServingAnalysis, unit: str = "") -> go.Figure | None:
    """J/token against the Poisson arrival rate (open loop), one line per model and engine."""
    return _against_load(
        a,
        "rate",
        "Energy per output token against arrival rate",
        "arrival rate (requests per second, log scale)",
    )


@register("serving_pareto", "Latency against energy: the Pareto front", serving_of, section="serving")
def pareto(a: ServingAnalysis, unit: str = "") -> go.Figure | None:
    """Each model's levels, latency (p50, ms) against J/token; its Pareto front joined and labelled."""
    if not a.fronts:
        return None
    fig = new_figure()
    latency = LATENCIES[a.latency]
    for i, f in enumerate(a.fronts):
        color = PALETTE[i % len(PALETTE)]
        add_points(
            fig,
            [_ms(p.latency_s(a.latency)) for p in f.points],
            [p.j_per_token for p in f.points],
            _name(f.points, f.model),
            [_hover(p) for p in f.points],
            legendgroup=f.model,
            marker={"size": 9, "opacity": 0.6, "color": color},
        )
        add_points(
            fig,
            [_ms(p.latency_s(a.latency)) for p in f.front],
            [p.j_per_token for p in f.front],
            f"{f.model} front",
            [f"{p.label} ({p.engine})" for p in f.front],
            mode="lines+markers+text",
            legendgroup=f.model,
            textposition="top right",
            marker={"size": 11, "symbol": "diamond", "color": color},
            line={"color": color},
        )
    points = [p for f in a.fronts for p in f.points]
    title = f"Latency against energy per output token ({latency}): the Pareto front per model"
    return _finish(fig, points, title, f"{latency} (ms)")


@register("serving_equal_load", "Models at equal load", serving_of, section="serving")
def equal_load(a: ServingAnalysis, unit: str = "") -> go.Figure | None:
    """J/token of each model and engine at the load levels measured for two models or more, grouped."""
    if not a.equal_load:
        return None
    series: dict[tuple[str, str], dict[str, ServingPoint]] = {}
    for level in a.equal_load:
        for p in level.rows:
            series.setdefault((p.model, p.engine), {})[level.label] = p
    labels = [level.label for level in a.equal_load]
    fig = new_figure()
    for (model, engine), at in sorted(series.items()):
        fig.add_bar(
            x=labels,
            y=[at[label].j_per_token if label in at else None for label in labels],
            name=_name(list(at.values()), model, engine),
            hovertext=[_hover(at[label]) if label in at else "" for label in labels],
            hoverinfo="text",
        )
    points = [p for level in a.equal_load for p in level.rows]
    return _finish(
        fig, points, "Models at equal load: energy per output token", "load level", barmode="group"
    )
