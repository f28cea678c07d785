"""The JSON API under ``/api/``: everything the pages show, from the analysis API (documented at
``/api/docs``, schema at ``/api/openapi.json``). Handlers are plain functions (FastAPI runs them in its
thread pool) that validate parameters, call one analysis function and return its pydantic models."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response

from wattsup import analysis
from wattsup.analysis.types import (
    Comparison,
    EnergyLabel,
    Facets,
    LifecycleBreakdown,
    MixWarning,
    ModeComparison,
    ModelEnergy,
    ParamFit,
    ParityRow,
    RunDetails,
    StarRating,
    StudyTask,
    TaskSummary,
)
from wattsup.errors import InvalidInput
from wattsup.results import Store
from wattsup.web import charts, views
from wattsup.web.cache import Ask
from wattsup.web.params import (
    MAX_COMPARE,
    LeaderboardDep,
    LifecycleDep,
    ManyText,
    MetricDep,
    Name,
    Opt,
    RunId,
    SelectionDep,
    ServingDep,
    kept,
    many,
)
from wattsup.web.serving import ServingTable, serving_table

router = APIRouter(prefix="/api", tags=["api"])


def get_ask(request: Request) -> Ask:
    ask: Ask = request.app.state.ask
    return ask


AskDep = Annotated[Ask, Depends(get_ask)]
RunIdPath = Annotated[RunId, PathParam(description="a run id or a unique prefix of one")]


@router.get("/facets", response_model=Facets, summary="Values present in the store, for filter menus")
def facets(ask: AskDep, selection: SelectionDep) -> Facets:
    return ask(analysis.facets, selection)


def _selection_route(
    path: str,
    name: str,
    answer: Callable[[Store, analysis.Selection, analysis.Metric], object],
    model: object,
    summary: str,
) -> None:
    """A GET route that answers ``answer(store, selection, metric)`` with ``model`` (the analyses that
    take the shared selection and metric parameters and nothing else)."""

    def endpoint(ask: AskDep, selection: SelectionDep, metric: MetricDep) -> object:
        return ask(answer, selection, metric)

    router.add_api_route(path, endpoint, methods=["GET"], name=name, response_model=model, summary=summary)


_selection_route(
    "/summary", "summary", analysis.summary_by_task, list[TaskSummary], "Per task: statistics over models"
)
_selection_route(
    "/models", "models", analysis.model_energies, list[ModelEnergy], "Per task and model: mean energy"
)


@router.get(
    "/leaderboard",
    response_model=views.Leaderboard,
    summary="A task's models from least to most energy, with star ratings",
)
def leaderboard(
    ask: AskDep, selection: SelectionDep, metric: MetricDep, view: LeaderboardDep
) -> views.Leaderboard:
    task = view.task
    if task is None:
        task = views.default_task(ask(analysis.facets, selection), None)
    return ask(views.leaderboard, selection, metric, view, task)


_selection_route(
    "/ratings", "ratings", analysis.star_ratings, list[StarRating], "Star ratings per task and hardware class"
)
_selection_route(
    "/study", "study", analysis.study_figure, list[StudyTask], "The study's main figure: energy per task"
)
_selection_route(
    "/energy-vs-params",
    "energy_vs_params",
    analysis.energy_vs_params,
    list[ParamFit],
    "Energy against parameter count, per task",
)
_selection_route(
    "/multi-vs-task",
    "multi_vs_task",
    analysis.multi_vs_task,
    list[ModeComparison],
    "Multi-purpose (zero-shot) against task-specific models, per task",
)


@router.get(
    "/warnings",
    response_model=list[MixWarning],
    summary="Figures that add measured and modelled components",
)
def warnings(ask: AskDep, selection: SelectionDep) -> list[MixWarning]:
    return ask(analysis.mixed_method_warnings, selection)


# ---------------------------------------------------------------- runs


@router.get("/runs", response_model=views.RunList, summary="Stored runs, newest first")
def runs(
    ask: AskDep,
    task: Annotated[ManyText, many("task (repeatable; globs)")] = None,
    model: Annotated[ManyText, many("model (repeatable; globs)")] = None,
    hardware: Annotated[ManyText, many("hardware (repeatable; globs)")] = None,
    status: Annotated[
        list[Annotated[Literal["ok", "failed"] | None, Opt]] | None, many("ok or failed")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="at most this many runs")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="skip this many runs")] = 0,
) -> views.RunList:
    return ask(
        views.run_list,
        task=kept(task),
        model=kept(model),
        hardware=kept(hardware),
        status=kept(status),
        limit=limit,
        offset=offset,
    )


@router.get("/runs/{run_id}", response_model=RunDetails, summary="One run: phases, repetitions, provenance")
def run(ask: AskDep, run_id: RunIdPath) -> RunDetails:
    return ask(analysis.run_details, run_id)


@router.get(
    "/runs/{run_id}/timeline", response_model=views.Timeline, summary="A run's power timeline, if it kept one"
)
def run_timeline(ask: AskDep, run_id: RunIdPath) -> views.Timeline:
    return ask(views.timeline, run_id)


# ---------------------------------------------------------------- comparisons


@router.get(
    "/compare/models",
    response_model=views.ModelComparison,
    summary="Two or more models side by side (give model= two or more times)",
)
def compare_models(ask: AskDep, selection: SelectionDep, metric: MetricDep) -> views.ModelComparison:
    models = [selection.model] if isinstance(selection.model, str) else list(selection.model or [])
    if len(models) > MAX_COMPARE:
        raise InvalidInput("model", f"compare at most {MAX_COMPARE} models at once, got {len(models)}")
    return ask(views.compare_models, tuple(models), selection, metric)


@router.get(
    "/compare/runs", response_model=Comparison, summary="Two or more runs side by side, phase by phase"
)
def compare_runs(
    ask: AskDep,
    metric: MetricDep,
    run: Annotated[
        list[RunId], Query(min_length=2, max_length=MAX_COMPARE, description="run ids (2 or more)")
    ],
) -> Comparison:
    return ask(analysis.compare_runs, tuple(run), metric)


# ---------------------------------------------------------------- life cycle


@router.get(
    "/lifecycle",
    response_model=LifecycleBreakdown,
    summary="Life-cycle carbon of a deployment: operational and embodied, training and inference",
)
def lifecycle(
    ask: AskDep, params: LifecycleDep, selection: SelectionDep, metric: MetricDep
) -> LifecycleBreakdown:
    result: LifecycleBreakdown = ask(views.lifecycle, params, selection, metric)
    return result


@router.get(
    "/parity",
    response_model=list[ParityRow],
    summary="Cost parity per model: inferences whose energy equals training",
)
def parity(
    ask: AskDep,
    selection: SelectionDep,
    metric: MetricDep,
    training_kwh: Annotated[float, Query(ge=0, le=1e12, allow_inf_nan=False, description="training energy")],
    finetune_kwh: Annotated[float, Query(ge=0, le=1e12, allow_inf_nan=False)] = 0.0,
    queries_per_day: Annotated[float | None, Query(gt=0, le=1e13, allow_inf_nan=False)] = None,
) -> list[ParityRow]:
    return ask(
        analysis.parity,
        training_kwh,
        selection,
        metric,
        finetune_kwh=finetune_kwh,
        queries_per_day=queries_per_day,
    )


@router.get("/regions", response_model=list[views.Region], summary="Grid regions and their carbon intensity")
def regions() -> list[views.Region]:
    return views.regions()


@router.get("/gpus", response_model=list[views.Gpu], summary="GPUs of the embodied-carbon catalog")
def gpus() -> list[views.Gpu]:
    return views.gpus()


# ---------------------------------------------------------------- figures and serving


FigureName = Annotated[
    str, PathParam(max_length=64, pattern=r"^[a-z_]+$", description="the figure's name (an unknown one: 404)")
]


@router.get(
    "/figures/{name}",
    response_model=charts.FigureAnswer,
    summary="One figure as plotly JSON (figure: null and a message when there is nothing to draw)",
)
def figure(
    ask: AskDep,
    name: FigureName,
    selection: SelectionDep,
    metric: MetricDep,
    lifecycle: LifecycleDep,
    serving: ServingDep,
    run: Annotated[
        list[RunId] | None,
        Query(max_length=MAX_COMPARE, description="run ids: the timeline's one, the comparison's"),
    ] = None,
) -> charts.FigureAnswer:
    args = charts.FigureArgs(
        selection, metric, serving, tuple(run or ()), lifecycle if name == "lifecycle" else None
    )
    return ask(charts.figure_answer, name, args)


@router.get("/serving", response_model=ServingTable, summary="The stored serving runs' load levels")
def serving(ask: AskDep, view: ServingDep) -> ServingTable:
    return ask(serving_table, view.serving_model, view.latency)


# ---------------------------------------------------------------- labels


LabelModel = Annotated[Name, Query(description="the model id")]
LabelTask = Annotated[Name, Query(description="the task")]


def _label(
    ask: AskDep, selection: SelectionDep, metric: MetricDep, model: LabelModel, task: LabelTask
) -> EnergyLabel:
    # ``model`` names the label's model; the rating compares it with every model of the selection.
    return ask(analysis.energy_label, model, task, replace(selection, model=None), metric)


LabelDep = Annotated[EnergyLabel, Depends(_label)]


def _filename(label: EnergyLabel, suffix: str) -> str:
    # a file name of letters, digits, dots and dashes only: nothing of the model id reaches the header raw
    slug = re.sub(r"[^A-Za-z0-9._]+", "-", f"{label.model}-{label.task}").strip("-.")[:120] or "label"
    return f"wattsup-label-{slug}{suffix}"


@router.get("/label", response_model=EnergyLabel, summary="What a model's energy label shows")
def label(found: LabelDep) -> EnergyLabel:
    return found


@router.get(
    "/label.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
    summary="A model's energy label as SVG (download=true to save it)",
)
def label_svg(found: LabelDep, download: bool = False) -> Response:
    headers = {"Cache-Control": "no-store"}
    if download:
        headers["Content-Disposition"] = f'attachment; filename="{_filename(found, ".svg")}"'
    return Response(analysis.label_svg(found), media_type="image/svg+xml", headers=headers)


@router.get(
    "/label.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
    summary="A model's energy label as PNG, to download",
)
def label_png(ask: AskDep, found: LabelDep) -> Response:
    body = ask.memo(views.label_png, found)
    headers = {
        "Content-Disposition": f'attachment; filename="{_filename(found, ".png")}"',
        "Cache-Control": "no-store",
    }
    return Response(body, media_type="image/png", headers=headers)
