"""The report's interactive figures (plotly), as HTML fragments; plotly.js is embedded once by the page."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from wattsup.analysis import FamilyFit, LifecycleBreakdown, ModeComparison, ParamFit, StudyTask, TaskPhases

_CONFIG = {"displaylogo": False, "responsive": True}
_LAYOUT: dict[str, Any] = {
    "template": "plotly_white",
    "margin": {"l": 70, "r": 30, "t": 60, "b": 90},
    "font": {"size": 13},
}


def _html(fig: Any) -> str:
    return str(fig.to_html(full_html=False, include_plotlyjs=False, config=_CONFIG))


def energy_by_task(study: Sequence[StudyTask], unit: str) -> str | None:
    if not study:
        return None
    import plotly.graph_objects as go

    rng = random.Random(0)
    fig = go.Figure()
    for mode, color, symbol in (
        ("task-specific", "#0969da", "circle"),
        ("zero-shot", "#cf222e", "triangle-up"),
    ):
        xs, ys, text = [], [], []
        for i, t in enumerate(study):
            for m in t.models:
                if (m.mode == mode or (mode == "task-specific" and m.mode not in ("zero-shot",))) and m.kwh:
                    xs.append(i + rng.uniform(-0.22, 0.22))
                    ys.append(m.kwh)
                    params = f"{m.n_params:,}" if m.n_params else "unknown"
                    text.append(
                        f"{m.model}<br>{t.task}<br>{m.kwh:.4g} {unit}<br>"
                        f"parameters: {params}<br>runs: {m.runs}"
                    )
        if xs:
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    mode="markers",
                    name=mode,
                    text=text,
                    hoverinfo="text",
                    marker={"color": color, "symbol": symbol, "size": 8, "opacity": 0.8},
                )
            )
    fig.add_trace(
        go.Scatter(
            x=list(range(len(study))),
            y=[t.mean_kwh for t in study],
            mode="markers",
            name="mean over models",
            marker={"symbol": "line-ew-open", "size": 30, "color": "black", "line": {"width": 3}},
            hovertemplate="%{y:.4g}<extra>mean</extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title="Energy per task, one point per model",
        yaxis_type="log",
        yaxis_title=f"energy ({unit}, log scale)",
        xaxis={"tickmode": "array", "tickvals": list(range(len(study))), "ticktext": [t.task for t in study]},
    )
    return _html(fig)


def energy_vs_params(fits: Sequence[ParamFit], unit: str) -> str | None:
    drawn = [f for f in fits if f.points]
    if not drawn:
        return None
    import plotly.graph_objects as go

    fig = go.Figure()
    for f in drawn:
        xs = [p.n_params for p in f.points]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=[p.kwh for p in f.points],
                mode="markers",
                name=f.task,
                legendgroup=f.task,
                text=[f"{p.model}<br>{p.n_params:,} parameters<br>{p.kwh:.4g} {unit}" for p in f.points],
                hoverinfo="text",
            )
        )
        if f.slope is not None and f.intercept is not None and len(set(xs)) > 1:
            lo, hi = math.log10(min(xs)), math.log10(max(xs))
            fig.add_trace(
                go.Scatter(
                    x=[10**lo, 10**hi],
                    y=[10 ** (f.intercept + f.slope * lo), 10 ** (f.intercept + f.slope * hi)],
                    mode="lines",
                    name=f"{f.task} fit (slope {f.slope:.2f}, r {f.r:.2f})" if f.r is not None else f.task,
                    legendgroup=f.task,
                    showlegend=False,
                    hoverinfo="name",
                )
            )
    fig.update_layout(
        **_LAYOUT,
        title="Energy against model size",
        xaxis_type="log",
        yaxis_type="log",
        xaxis_title="parameters (log scale)",
        yaxis_title=f"energy ({unit}, log scale)",
    )
    return _html(fig)


def modes(comparisons: Sequence[ModeComparison], unit: str) -> str | None:
    rows = [c for c in comparisons if c.task_specific_kwh and c.multi_purpose_kwh]
    if not rows:
        return None
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=[c.task for c in rows],
            x=[c.task_specific_kwh for c in rows],
            orientation="h",
            name="task-specific",
            marker_color="#0969da",
        )
    )
    fig.add_trace(
        go.Bar(
            y=[c.task for c in rows],
            x=[c.multi_purpose_kwh for c in rows],
            orientation="h",
            name="multi-purpose (zero-shot)",
            marker_color="#cf222e",
            text=[f"×{c.ratio:.3g}" if c.ratio else "" for c in rows],
            textposition="outside",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        barmode="group",
        title="Multi-purpose against task-specific models (mean over models)",
        xaxis_type="log",
        xaxis_title=f"energy ({unit}, log scale)",
    )
    return _html(fig)


def phases(breakdown: Sequence[TaskPhases], unit: str) -> str | None:
    rows = [t for t in breakdown if t.phases and t.window_kwh]
    if not rows:
        return None
    import plotly.graph_objects as go

    names: list[str] = []
    for t in rows:
        names += [p.phase for p in t.phases if p.phase not in names]
    fig = go.Figure()
    for name in names:
        xs, hover = [], []
        for t in rows:
            p = next((q for q in t.phases if q.phase == name), None)
            value = (
                100.0 * p.kwh / t.window_kwh if p is not None and p.kwh is not None and t.window_kwh else 0.0
            )
            xs.append(value)
            hover.append(
                f"{name}: {p.kwh:.4g} {unit} ({value:.0f}%)" if p and p.kwh is not None else f"{name}: none"
            )
        fig.add_trace(
            go.Bar(
                y=[t.task for t in rows], x=xs, name=name, orientation="h", hovertext=hover, hoverinfo="text"
            )
        )
    fig.update_layout(
        **_LAYOUT,
        barmode="stack",
        title="Share of each phase in the repetition window",
        xaxis_title="share of the window's energy (%)",
        yaxis={"autorange": "reversed"},
    )
    return _html(fig)


def lifecycle(b: LifecycleBreakdown) -> str:
    import plotly.graph_objects as go

    names = ["training", "inference"]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=names,
            y=[b.training_operational_kg, b.inference_operational_kg],
            name="operational",
            marker_color="#0969da",
        )
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[b.training_embodied_kg, b.inference_embodied_kg],
            name="embodied",
            marker_color="#bf8700",
        )
    )
    fig.add_trace(
        go.Bar(
            x=names,
            y=[b.training_construction_kg, b.inference_construction_kg],
            name="construction",
            marker_color="#8250df",
        )
    )
    s = b.scenario
    fig.update_layout(
        **_LAYOUT,
        barmode="stack",
        yaxis_title="carbon (kgCO2e)",
        title=(
            f"Life cycle: {s.model or s.task}, {s.queries_per_day:,.0f} queries/day, {s.years:g} y, "
            f"{s.region}"
        ),
    )
    return _html(fig)


def output_length(fits: Sequence[FamilyFit], unit: str) -> str | None:
    drawn = [f for f in fits if f.points]
    if not drawn:
        return None
    import plotly.graph_objects as go

    fig = go.Figure()
    for f in drawn:
        fig.add_trace(
            go.Scatter(
                x=[p.output_units for p in f.points],
                y=[p.kwh for p in f.points],
                mode="markers",
                name=f.family,
                text=[
                    f"{p.model}<br>{p.task} / {p.dataset}<br>{p.output_units:.1f} tokens, {p.kwh:.4g} {unit}"
                    for p in f.points
                ],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title="Output length against energy, by model family",
        xaxis_title="mean output length (tokens per inference)",
        yaxis_title=f"energy ({unit})",
    )
    return _html(fig)
