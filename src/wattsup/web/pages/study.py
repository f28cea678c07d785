"""The study's pages: the overview, energy by task, energy against parameters and multi-purpose against
task-specific models. Each calls the same analysis as its API endpoint; charts draw their figure from
``/api/figures/``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from wattsup import analysis
from wattsup.analysis.types import Metric, MixWarning, Selection, TaskSummary
from wattsup.web.pages.render import Filtered, ask_of, data_src, page
from wattsup.web.params import MAX_VALUES, MetricDep, SelectionDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Overview(Filtered):
    summaries: Sequence[TaskSummary]
    warnings: Sequence[MixWarning]
    max_warnings: int = MAX_VALUES

    @property
    def counts(self) -> list[tuple[int, str]]:
        f = self.facet
        return [
            (f.runs, "successful runs"),
            (len(f.tasks), "tasks"),
            (len(f.models), "models"),
            (len(f.hardware), "kinds of hardware"),
        ]


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    ask = ask_of(request)
    v = Overview(
        facet=ask(analysis.facets),
        selection=selection,
        metric=metric,
        summaries=ask(analysis.summary_by_task, selection, metric),
        warnings=ask(analysis.mixed_method_warnings, selection),
    )
    return page("overview.html", v=v, location=ask.store.location)


@dataclass(frozen=True)
class Figure(Filtered):
    """A page of one figure: the chart's data address and the table beside it."""

    src: str
    rows: Sequence[object]


def _figure(
    request: Request, template: str, api: str, rows: Sequence[object], selection: Selection, metric: Metric
) -> HTMLResponse:
    ask = ask_of(request)
    v = Figure(ask(analysis.facets), selection, metric, data_src(api, request), rows)
    return page(template, v=v, location=ask.store.location)


@router.get("/study", response_class=HTMLResponse)
def study(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    tasks = ask_of(request)(analysis.study_figure, selection, metric)
    return _figure(request, "study.html", "/api/figures/energy_by_task", tasks, selection, metric)


@router.get("/params", response_class=HTMLResponse)
def params_page(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    fits = ask_of(request)(analysis.energy_vs_params, selection, metric)
    return _figure(request, "params.html", "/api/figures/energy_vs_params", fits, selection, metric)


@router.get("/modes", response_class=HTMLResponse)
def modes(request: Request, selection: SelectionDep, metric: MetricDep) -> HTMLResponse:
    found = ask_of(request)(analysis.multi_vs_task, selection, metric)
    return _figure(request, "modes.html", "/api/figures/multi_vs_task", found, selection, metric)
