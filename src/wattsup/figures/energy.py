"""The figures of the energy study: energy per task, against parameters, multi-purpose against
task-specific, phases, and against output length. Each takes the analysis result and the energy unit and
returns a plotly figure, or ``None`` when there is nothing to draw."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from wattsup import analysis as an
from wattsup.analysis import FamilyFit, ModeComparison, ParamFit, StudyTask, TaskPhases
from wattsup.figures.registry import FigureQuery, register
from wattsup.figures.style import MULTI_PURPOSE, TASK_SPECIFIC, add_points, finish, new_figure
from wattsup.format import number, sig

if TYPE_CHECKING:
    import plotly.graph_objects as go


def study_of(q: FigureQuery) -> list[StudyTask]:
    return q.once("study", lambda: an.study_figure(q.source, q.selection, q.metric))


def _params_of(q: FigureQuery) -> list[ParamFit]:
    return q.once("params", lambda: an.energy_vs_params(q.source, q.selection, q.metric, params=q.params))


def _modes_of(q: FigureQuery) -> list[ModeComparison]:
    return q.once("modes", lambda: an.multi_vs_task(q.source, q.selection, q.metric))


def _phases_of(q: FigureQuery) -> list[TaskPhases]:
    return q.once("phases", lambda: an.phase_breakdown(q.source, q.selection, q.metric))


def _lengths_of(q: FigureQuery) -> list[FamilyFit]:
    fits = q.once("lengths", lambda: an.output_length_vs_energy(q.source, q.selection, q.metric))
    return [f for f in fits if f.family != "unknown"]


_MODES = (("task-specific", TASK_SPECIFIC, "circle"), ("zero-shot", MULTI_PURPOSE, "triangle-up"))


@register("energy_by_task", "Energy per task", study_of)
def energy_by_task(study: Sequence[StudyTask], unit: str) -> go.Figure | None:
    """The study's main figure: energy per task on a log scale, one point per model (jittered), the mean
    over models as a bar; tasks in the analysis's order."""
    if not study:
        return None
    rng = random.Random(0)
    fig = new_figure()
    for mode, color, symbol in _MODES:
        xs, ys, text = [], [], []
        for i, t in enumerate(study):
            for m in t.models:
                if (m.mode == mode or (mode == "task-specific" and m.mode != "zero-shot")) and m.kwh:
                    xs.append(i + rng.uniform(-0.22, 0.22))
                    ys.append(m.kwh)
                    text.append(
                        f"{m.model}<br>{t.task}<br>{sig(m.kwh)} {unit}<br>"
                        f"parameters: {number(m.n_params)}<br>runs: {m.runs}"
                    )
        if xs:
            add_points(
                fig, xs, ys, mode, text, marker={"color": color, "symbol": symbol, "size": 8, "opacity": 0.8}
            )
    fig.add_scatter(
        x=list(range(len(study))),
        y=[t.mean_kwh for t in study],
        mode="markers",
        name="mean over models",
        marker={"symbol": "line-ew-open", "size": 30, "color": "black", "line": {"width": 3}},
        hovertemplate="%{y:.4g}<extra>mean</extra>",
    )
    return finish(
        fig,
        "Energy per task, one point per model",
        None,
        f"energy ({unit}, log scale)",
        log="y",
        xaxis={"tickmode": "array", "tickvals": list(range(len(study))), "ticktext": [t.task for t in study]},
    )


Fit = TypeVar("Fit", ParamFit, FamilyFit)


def _per_fit(fits: Sequence[Fit], draw: Callable[[go.Figure, Fit], None]) -> go.Figure | None:
    """A new figure with ``draw(fig, fit)`` run for each fit that has points, in order; ``None`` when no fit
    has any (the figures of one series per fit share this)."""
    drawn = [f for f in fits if f.points]
    if not drawn:
        return None
    fig = new_figure()
    for f in drawn:
        draw(fig, f)
    return fig


def _fit_line(xs: Sequence[float], slope: float, intercept: float) -> tuple[list[float], list[float]]:
    """The ends of a log-log least-squares line over ``xs``."""
    lo, hi = math.log10(min(xs)), math.log10(max(xs))
    return [10**lo, 10**hi], [10 ** (intercept + slope * lo), 10 ** (intercept + slope * hi)]


@register("energy_vs_params", "Energy against parameters", _params_of)
def energy_vs_params(fits: Sequence[ParamFit], unit: str) -> go.Figure | None:
    """Energy against parameter count, log-log, one colour per task with its least-squares line."""

    def draw(fig: go.Figure, f: ParamFit) -> None:
        xs = [float(p.n_params) for p in f.points]
        hover = [f"{p.model}<br>{number(p.n_params)} parameters<br>{sig(p.kwh)} {unit}" for p in f.points]
        add_points(fig, xs, [p.kwh for p in f.points], f.task, hover, legendgroup=f.task)
        if f.slope is not None and f.intercept is not None and len(set(xs)) > 1:
            line_x, line_y = _fit_line(xs, f.slope, f.intercept)
            fig.add_scatter(
                x=line_x,
                y=line_y,
                mode="lines",
                name=f"{f.task} fit (slope {sig(f.slope, '.2f')}, r {sig(f.r, '.2f')})"
                if f.r is not None
                else f.task,
                legendgroup=f.task,
                showlegend=False,
                hoverinfo="name",
            )

    fig = _per_fit(fits, draw)
    if fig is None:
        return None
    return finish(
        fig, "Energy against model size", "parameters (log scale)", f"energy ({unit}, log scale)", log="xy"
    )


@register("multi_vs_task", "Multi-purpose against task-specific", _modes_of)
def modes(comparisons: Sequence[ModeComparison], unit: str) -> go.Figure | None:
    """Multi-purpose against task-specific per task: the two means side by side on a log axis, the ratio at
    the multi-purpose bar."""
    rows = [c for c in comparisons if c.task_specific_kwh and c.multi_purpose_kwh]
    if not rows:
        return None
    fig = new_figure()
    tasks = [c.task for c in rows]
    ratios = [f"×{sig(c.ratio, '.3g')}" if c.ratio else "" for c in rows]
    bars = (
        ("task-specific", TASK_SPECIFIC, [c.task_specific_kwh for c in rows], None),
        ("multi-purpose (zero-shot)", MULTI_PURPOSE, [c.multi_purpose_kwh for c in rows], ratios),
    )
    for name, color, kwh, text in bars:
        fig.add_bar(
            y=tasks,
            x=kwh,
            orientation="h",
            name=name,
            marker_color=color,
            text=text,
            textposition=None if text is None else "outside",
        )
    return finish(
        fig,
        "Multi-purpose against task-specific models (mean over models)",
        f"energy ({unit}, log scale)",
        log="x",
        barmode="group",
    )


@register("phases", "Phases", _phases_of)
def phases(breakdown: Sequence[TaskPhases], unit: str) -> go.Figure | None:
    """Each task's window split by its top-level phases (share of the window's energy), stacked."""
    rows = [t for t in breakdown if t.phases and t.window_kwh]
    if not rows:
        return None
    names: list[str] = []
    for t in rows:
        names += [p.phase for p in t.phases if p.phase not in names]
    fig = new_figure()
    for name in names:
        xs, hover = [], []
        for t in rows:
            p = next((q for q in t.phases if q.phase == name), None)
            value = (
                100.0 * p.kwh / t.window_kwh if p is not None and p.kwh is not None and t.window_kwh else 0.0
            )
            xs.append(value)
            hover.append(
                f"{name}: {sig(p.kwh)} {unit} ({value:.0f}%)" if p and p.kwh is not None else f"{name}: none"
            )
        fig.add_bar(
            y=[t.task for t in rows], x=xs, name=name, orientation="h", hovertext=hover, hoverinfo="text"
        )
    return finish(
        fig,
        "Share of each phase in the repetition window",
        "share of the window's energy (%)",
        barmode="stack",
        yaxis={"autorange": "reversed"},
    )


@register("output_length", "Output length against energy", _lengths_of)
def output_length(fits: Sequence[FamilyFit], unit: str) -> go.Figure | None:
    """Energy against mean output length per inference, one colour per model family."""

    def draw(fig: go.Figure, f: FamilyFit) -> None:
        hover = [
            f"{p.model}<br>{p.task} / {p.dataset}<br>{sig(p.output_units, '.1f')} tokens, {sig(p.kwh)} {unit}"
            for p in f.points
        ]
        add_points(fig, [p.output_units for p in f.points], [p.kwh for p in f.points], f.family, hover)

    fig = _per_fit(fits, draw)
    if fig is None:
        return None
    return finish(
        fig,
        "Output length against energy, by model family",
        "mean output length (tokens per inference)",
        f"energy ({unit})",
    )
