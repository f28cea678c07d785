"""The figures the dashboard's charts draw, as plotly JSON from ``/api/figures/{name}``: every figure of
:mod:`wattsup.figures` (drawn by its one definition) and three that only the dashboard shows (a run's power
timeline, models and runs side by side), defined here with the same style. ``app.js`` only renders the
JSON.

A figure with nothing to draw answers ``figure: null`` with a message that says why."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pydantic import BaseModel, ConfigDict, Field

from wattsup import analysis, figures
from wattsup.analysis.types import Comparison, Metric, Selection
from wattsup.errors import InvalidInput, NotFound
from wattsup.figures.style import PALETTE, finish, new_figure
from wattsup.format import kwh, sig
from wattsup.results import Store
from wattsup.web import views
from wattsup.web.params import LifecycleParams, ServingParams

if TYPE_CHECKING:
    import plotly.graph_objects as go


class FigureAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    figure: dict[str, Any] | None = Field(
        description="plotly's JSON ({data, layout}) for Plotly.react; null: nothing to draw"
    )
    message: str | None = Field(default=None, description="why there is nothing to draw")


@dataclass(frozen=True)
class FigureArgs:
    """What a chart is drawn from: the page's selection and energy figure, the serving view, the runs
    (``run=``: the timeline's one, the comparison's two or more) and, for the life cycle, the calculator's
    inputs."""

    selection: Selection = field(default_factory=Selection)
    metric: Metric = field(default_factory=Metric)
    serving: ServingParams = field(default_factory=ServingParams)
    runs: tuple[str, ...] = ()
    lifecycle: LifecycleParams | None = None


EMPTY: dict[str, str] = {
    "energy_by_task": "No runs with a known energy in this selection.",
    "energy_vs_params": "No model in this selection has a known parameter count.",
    "multi_vs_task": "No task has runs in both modes in this selection.",
    "serving_energy_vs_concurrency": "No serving run swept the concurrency (wattsup serve -c 1,4,16).",
    "serving_energy_vs_rate": "No serving run swept the arrival rate (wattsup serve --rate 0.5,1,2).",
    "serving_pareto": "No load level has both a latency and an energy per output token.",
    "serving_equal_load": "No load level was measured for two models or more.",
    "compare_models": "None of these models has runs in this selection.",
    "compare_runs": "None of these runs has a known energy.",
}
"""Why a figure has nothing to draw (a figure not named here says so in general terms)."""

Drawn = tuple["go.Figure | None", str]
"""A figure, or None and why there is nothing to draw."""


# ---------------------------------------------------------------- the dashboard's own figures


def timeline(store: Store, args: FigureArgs) -> Drawn:
    """A run's power timeline: one step line per metered window and component."""
    if len(args.runs) != 1:
        raise InvalidInput("run", f"the timeline is of one run: give run=ID once, got {len(args.runs)}")
    t = views.timeline(store, args.runs[0])
    if not t.series:
        return None, t.note
    fig = new_figure()
    for i, s in enumerate(t.series):
        fig.add_scatter(
            x=s.t_s,
            y=s.power_w,
            mode="lines",
            name=f"{s.window} · {s.component}",
            line={"color": PALETTE[i % len(PALETTE)], "width": 1.5, "shape": "hv"},
            hovertemplate="%{x:.3f} s: %{y:.1f} W<extra>%{fullData.name}</extra>",
        )
    finish(
        fig, "Power during the metered windows", "seconds since the window started", "power (W)"
    ).update_yaxes(rangemode="tozero")
    return fig, ""


def _points(fig: go.Figure, x: list[str], y: list[float | None], name: str, text: list[str], i: int) -> None:
    marker = {"color": PALETTE[i % len(PALETTE)], "size": 14}
    fig.add_scatter(x=x, y=y, mode="markers", name=name, text=text, hoverinfo="text", marker=marker)


def _side_by_side(fig: go.Figure, title: str, unit: str, count: int) -> go.Figure:
    return finish(
        fig,
        title,
        None,
        f"energy ({unit}, log scale)",
        log="y",
        scattermode="group",
        scattergap=0.5,
        xaxis={"range": [-0.5, count - 0.5]},
    )


def compare_models(store: Store, args: FigureArgs) -> Drawn:
    """The models' energy on each task they ran, side by side, with each one's ratio to the first."""
    sel = args.selection
    models = (sel.model,) if isinstance(sel.model, str) else tuple(sel.model or ())
    c = views.compare_models(store, models, sel, args.metric)
    if not c.rows:
        return None, EMPTY["compare_models"]
    fig = new_figure()
    tasks = [r.task for r in c.rows]
    for i, model in enumerate(c.models):
        cells = [(r.energies[i], r.ratio_to_first[i]) for r in c.rows]
        text = [
            f"{model}<br>{task}: "
            + ("not run" if e is None else f"{kwh(e.kwh)} {c.unit}")
            + f"<br>×{sig(ratio, '.3g')} the first model"
            for task, (e, ratio) in zip(tasks, cells, strict=True)
        ]
        _points(fig, tasks, [e.kwh if e is not None else None for e, _ in cells], model, text, i)
    return _side_by_side(fig, "Energy per task, model by model", c.unit, len(tasks)), ""


def compare_runs(store: Store, args: FigureArgs) -> Drawn:
    """The runs' energy over the whole window and in each phase, side by side."""
    if len(args.runs) < 2:
        raise InvalidInput(
            "run", f"compare two runs or more: give run=ID twice or more, got {len(args.runs)}"
        )
    c: Comparison = analysis.compare_runs(store, args.runs, args.metric)
    names = ["whole window", *[p.phase for p in c.phases]]
    fig = new_figure()
    drawn = False
    for i, r in enumerate(c.runs):
        values = [r.kwh, *[p.kwh[i] for p in c.phases]]
        drawn = drawn or any(v is not None for v in values)
        label = f"{r.run_id[:12]} · {r.model}"
        text = [f"{label}<br>{name}: {kwh(v)} {c.unit}" for name, v in zip(names, values, strict=True)]
        _points(fig, names, values, label, text, i)
    if not drawn:
        return None, EMPTY["compare_runs"]
    return _side_by_side(fig, "Energy of each run, phase by phase", c.unit, len(names)), ""


DASHBOARD: dict[str, Callable[[Store, FigureArgs], Drawn]] = {
    "timeline": timeline,
    "compare_models": compare_models,
    "compare_runs": compare_runs,
}
"""The figures only the dashboard shows, by name."""


# ---------------------------------------------------------------- every figure by name


def names() -> list[str]:
    return [s.name for s in figures.specs()] + list(DASHBOARD)


def _plain(fig: go.Figure) -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(fig.to_json()))


def _registered(store: Store, name: str, args: FigureArgs) -> dict[str, Any] | None:
    spec = figures.spec(name)
    if name == "lifecycle":  # the calculator's deployment: every footprint input, as /api/lifecycle
        breakdown = views.lifecycle(store, args.lifecycle or LifecycleParams(), args.selection, args.metric)
        fig = spec.draw(breakdown, args.metric.unit)
        return None if fig is None else _plain(fig)
    query = figures.FigureQuery(
        store,
        args.selection,
        args.metric,
        serving_model=args.serving.serving_model,
        latency=args.serving.latency,
    )
    return figures.figure_json(name, query)


def figure_answer(store: Store, name: str, args: FigureArgs) -> FigureAnswer:
    """Figure ``name`` drawn from ``args``; :class:`NotFound` (listing the names) for an unknown name."""
    if name in DASHBOARD:
        fig, why = DASHBOARD[name](store, args)
        return FigureAnswer(name=name, figure=None if fig is None else _plain(fig), message=why or None)
    known = names()
    if name not in known:
        raise NotFound("figure", name, known, hint=f"Figures: {', '.join(known)}.")
    spec = figures.spec(name)
    drawn = _registered(store, name, args)
    why = EMPTY.get(name, f"Nothing to draw: this selection gives no data for the {spec.what}.")
    return FigureAnswer(name=name, figure=drawn, message=None if drawn is not None else why)
