"""The energy label page: a model's label on a task, rated among the task's models, to download."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from wattsup import analysis
from wattsup.analysis.types import EnergyLabel, Facets, Metric, Selection
from wattsup.errors import NotFound
from wattsup.web.cache import Ask
from wattsup.web.html import url
from wattsup.web.pages.render import ask_of, first, page, query
from wattsup.web.params import MetricDep, OptText, SelectionDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Label:
    facet: Facets
    metric: Metric
    task: str | None
    task_models: Sequence[str]
    model: str | None
    note: str | None
    """Why the model asked for is not shown (it has no runs on the task)."""
    label: EnergyLabel | None
    params: Sequence[tuple[str, str]] = ()
    """The query of the label's image and downloads."""

    @property
    def svg(self) -> str:
        return url("/api/label.svg", self.params)

    @property
    def svg_download(self) -> str:
        return url("/api/label.svg", [*self.params, ("download", "true")])

    @property
    def png(self) -> str:
        return url("/api/label.png", self.params)


def _model_shown(
    ask: Ask, selection: Selection, metric: Metric, task: str | None, models: Sequence[str], asked: str | None
) -> tuple[str | None, str | None]:
    """The model whose label the page shows (the one asked for, else the task's best) and a note when
    the one asked for has no runs on the task."""
    note = None
    model = asked
    if model is not None and model not in models:
        # a task changed in the form with the previous task's model still chosen
        note = f"{model} has no runs on {task} in this selection; showing the task's best."
        model = None
    if model is None and task is not None:
        top = ask(analysis.leaderboard, task, selection, metric, limit=1) if models else []
        model = top[0].model if top else None
    return model, note


@router.get("/label", response_class=HTMLResponse)
def label(
    request: Request,
    selection: SelectionDep,
    metric: MetricDep,
    model: Annotated[OptText, Query()] = None,
) -> HTMLResponse:
    ask = ask_of(request)
    facet = ask(analysis.facets)
    selection = replace(selection, model=None)  # ``model`` is the label's; it is rated among all models
    task = first(selection.task) or (facet.tasks[0] if facet.tasks else None)
    task_models = ask(analysis.facets, replace(selection, task=task)).models if task else []
    if task is not None and not task_models:
        raise NotFound("task", task, facet.tasks, hint="in the selected runs")
    model, note = _model_shown(ask, selection, metric, task, task_models, model)
    found, params = None, []
    if model is not None and task is not None:
        found = ask(analysis.energy_label, model, task, selection, metric)
        params = [("model", found.model), ("task", task), *query(request, ("model", "task"))]
    v = Label(facet, metric, task, task_models, model, note, found, params)
    return page("label.html", v=v, location=ask.store.location)
