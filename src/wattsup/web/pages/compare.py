"""The comparison page: models side by side on every task they ran, or runs phase by phase."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from wattsup import analysis
from wattsup.errors import InvalidInput
from wattsup.web import views
from wattsup.web.html import url
from wattsup.web.pages.render import Filtered, ask_of, data_src, page, query
from wattsup.web.params import MAX_COMPARE, MetricDep, RunId, SelectionDep

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Models(Filtered):
    """The models' comparison: the form, and the comparison once two models or more are chosen."""

    models: Sequence[str]
    runs_given: bool
    comparison: views.ModelComparison | None
    src: str
    max_compare: int = MAX_COMPARE


@dataclass(frozen=True)
class Runs:
    comparison: analysis.Comparison
    src: str


@router.get("/compare", response_class=HTMLResponse)
def compare(
    request: Request,
    selection: SelectionDep,
    metric: MetricDep,
    run: Annotated[list[RunId] | None, Query(max_length=MAX_COMPARE)] = None,
) -> HTMLResponse:
    ask = ask_of(request)
    if run and len(run) >= 2:
        cmp = ask(analysis.compare_runs, tuple(run), metric)
        src = url("/api/figures/compare_runs", [("run", r) for r in run] + query(request, ("run",)))
        return page("compare_runs.html", v=Runs(cmp, src), location=ask.store.location)
    models = [selection.model] if isinstance(selection.model, str) else list(selection.model or [])
    if len(models) > MAX_COMPARE:
        raise InvalidInput("model", f"compare at most {MAX_COMPARE} models at once, got {len(models)}")
    v = Models(
        facet=ask(analysis.facets),
        selection=selection,
        metric=metric,
        models=models,
        runs_given=bool(run),
        comparison=ask(views.compare_models, tuple(models), selection, metric) if len(models) >= 2 else None,
        src=data_src("/api/figures/compare_models", request, ("run",)),
    )
    return page("compare_models.html", v=v, location=ask.store.location)
