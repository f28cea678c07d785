"""The life-cycle figure: operational, embodied and construction carbon of training and of the deployment."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from wattsup import analysis as an
from wattsup.analysis import LifecycleBreakdown
from wattsup.figures.energy import study_of
from wattsup.figures.registry import FigureQuery, register
from wattsup.figures.style import CONSTRUCTION, EMBODIED, NOTE, OPERATIONAL, finish, new_figure, note
from wattsup.format import kg, sig

if TYPE_CHECKING:
    import plotly.graph_objects as go


def lifecycle_of(q: FigureQuery) -> LifecycleBreakdown:
    """The life cycle of the query's scenario; a scenario naming no task, model nor energy assesses the task
    with the most models. Raises :class:`~wattsup.errors.WattsupError` when it cannot be computed (an
    unknown region, no runs)."""

    def compute() -> LifecycleBreakdown:
        scenario = q.scenario
        if scenario.task is None and scenario.model is None and scenario.kwh_per_1k is None:
            counts = Counter({t.task: len(t.models) for t in study_of(q)})
            if counts:
                scenario = scenario.model_copy(update={"task": counts.most_common(1)[0][0]})
        return an.lifecycle(q.source, scenario, q.selection, q.metric)

    return q.once("lifecycle", compute)


def _totals(fig: go.Figure, b: LifecycleBreakdown, names: list[str]) -> None:
    """Each bar's known total on top of it, or why there is none."""
    parts = (
        (b.training_operational_kg, b.training_embodied_kg, b.training_construction_kg),
        (b.inference_operational_kg, b.inference_embodied_kg, b.inference_construction_kg),
    )
    for name, (op, emb, con) in zip(names, parts, strict=True):
        y = (op or 0.0) + (emb or 0.0) + (con or 0.0)
        if op is None:
            text = "operational unknown<br>(no training energy given:<br>--training-kwh)"
        else:
            text = kg(y) + ("" if emb is not None else "<br>(embodied unknown)")
        fig.add_annotation(
            x=name, y=y, text=text, showarrow=False, yanchor="bottom", font={"size": 11, "color": NOTE}
        )


@register("lifecycle", "Life cycle", lifecycle_of, what="life-cycle figure")
def lifecycle(b: LifecycleBreakdown, unit: str = "") -> go.Figure:
    """Operational, embodied and construction carbon (kgCO2e) of training and of the deployment, stacked per
    phase; each bar's total on top, an unknown part said so. ``unit`` (of energy) is not used: carbon is in
    kgCO2e."""
    names = ["training", "inference"]
    fig = new_figure()
    for name, color, values in (
        ("operational", OPERATIONAL, [b.training_operational_kg, b.inference_operational_kg]),
        ("embodied", EMBODIED, [b.training_embodied_kg, b.inference_embodied_kg]),
        ("construction", CONSTRUCTION, [b.training_construction_kg, b.inference_construction_kg]),
    ):
        fig.add_bar(x=names, y=values, name=name, marker_color=color)
    _totals(fig, b, names)
    s = b.scenario
    who = s.model or s.task or "selected models"
    title = f"Life cycle: {who}, {s.queries_per_day:,.0f} queries/day, {s.years:g} y, {s.region}"
    finish(fig, title, None, "carbon (kgCO2e)", barmode="stack")
    if b.parity_inferences is not None:
        days = f" ({sig(b.parity_days, ',.0f')} days)" if b.parity_days is not None else ""
        note(fig, f"energy parity with training after {sig(b.parity_inferences, ',.3g')} inferences{days}")
    return fig
