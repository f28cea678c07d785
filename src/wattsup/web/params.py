"""Query parameters shared by the pages and the JSON API, validated at the edge.

Every value is bounded (length, count, range, no control characters) so that a bad request is a 422
that names the parameter, never a 500; the values then become the analysis API's
:class:`~wattsup.analysis.Selection` and :class:`~wattsup.analysis.Metric`, which the analysis layer
turns into parameterised SQL. A blank value (an empty form field, ``task=``) means "not given".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Depends, Query
from pydantic import AfterValidator, BeforeValidator, StringConstraints

from wattsup.analysis.types import Component, Metric, Selection

MAX_TEXT = 512
"""The longest value of a text parameter (model ids, hardware names, globs)."""
MAX_VALUES = 50
"""The most values a repeatable parameter may have."""
MAX_COMPARE = 12
"""The most models or runs one comparison shows."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

T = TypeVar("T")


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


def _no_control(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (NUL, tab, line breaks)")
    return value


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_no_control)]
"""A text value: at most 512 characters, no control characters."""

Opt = BeforeValidator(_blank_to_none)
"""Marks a parameter whose blank value means "not given"."""

OptText = Annotated[Text | None, Opt]
"""An optional text value."""


def _required(value: str) -> str:
    if not value.strip():
        raise ValueError("is required: give a value")
    return value


Name = Annotated[Text, AfterValidator(_required)]
"""A required text value (a model id, a task)."""

RunId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
"""A run id or a unique prefix of one (letters, digits, ``_ . -``)."""

Mode = Literal["task-specific", "zero-shot"]
Weights = Literal["pretrained", "random"]


def kept(items: Sequence[T | None] | None) -> tuple[T, ...] | None:
    """The given (non-blank) values of a repeatable parameter, or ``None`` (a tuple: selections are
    hashable, so the memo can key on them)."""
    out = tuple(v for v in items or () if v is not None)
    return out or None


def many(description: str) -> Any:
    """The ``Query`` of a repeatable parameter: at most :data:`MAX_VALUES` values."""
    return Query(max_length=MAX_VALUES, description=description)


ManyText = list[OptText] | None


def selection_params(
    task: Annotated[ManyText, many("task (repeatable; globs: * and ?)")] = None,
    model: Annotated[ManyText, many("model id (repeatable; globs)")] = None,
    dataset: Annotated[ManyText, many("dataset (repeatable; globs)")] = None,
    hardware: Annotated[ManyText, many("GPU or CPU model as stored (repeatable; globs)")] = None,
    mode: Annotated[
        list[Annotated[Mode | None, Opt]] | None,
        many("task-specific, or zero-shot (multi-purpose models prompted for the task)"),
    ] = None,
    device: Annotated[ManyText, many("device: cpu, cuda:0, ... (repeatable; globs)")] = None,
    weights: Annotated[
        list[Annotated[Weights | None, Opt]] | None,
        many("weights source: pretrained, or random (a model built from its config)"),
    ] = None,
    exclude_model: Annotated[ManyText, many("leave out models matching these globs")] = None,
    since: Annotated[
        Annotated[datetime | None, Opt], Query(description="runs started at or after (ISO 8601)")
    ] = None,
    until: Annotated[
        Annotated[datetime | None, Opt], Query(description="runs started before (ISO 8601)")
    ] = None,
) -> Selection:
    """Which runs: each parameter narrows the selection; a repeated parameter gives several values (OR);
    values with ``*`` or ``?`` are case-insensitive globs. Only ``ok`` runs are read."""
    return Selection(
        task=kept(task),
        model=kept(model),
        dataset=kept(dataset),
        hardware=kept(hardware),
        mode=kept(mode),
        device=kept(device),
        weights=kept(weights),
        exclude_model=tuple(kept(exclude_model) or ()),
        since=since,
        until=until,
    )


def metric_params(
    phase: Annotated[
        OptText,
        Query(
            description="a phase as stored ('query model', 'generate/decode'; 'load' for the model-load "
            "window); default: the whole repetition window"
        ),
    ] = None,
    component: Annotated[
        Annotated[Literal["all", "gpu", "cpu", "ram"] | None, Opt],
        Query(description="all components (default) or one class"),
    ] = None,
) -> Metric:
    comp: Component = component or "all"
    return Metric(phase=phase, component=comp)


SelectionDep = Annotated[Selection, Depends(selection_params)]
MetricDep = Annotated[Metric, Depends(metric_params)]

# ---------------------------------------------------------------- the leaderboard's view

SizeBucket = Literal["lt100m", "100m-1b", "1b-10b", "ge10b", "unknown"]
SIZE_BUCKETS: dict[str, tuple[str, float, float]] = {
    "lt100m": ("< 100M", 0.0, 1e8),
    "100m-1b": ("100M – 1B", 1e8, 1e9),
    "1b-10b": ("1B – 10B", 1e9, 1e10),
    "ge10b": ("≥ 10B", 1e10, float("inf")),
}
"""Model-size filter values: label, lowest and highest (excluded) parameter count."""

SensorFilter = Literal["measured", "modeled"]
SENSOR_FILTERS = {
    "measured": "measured only",
    "modeled": "includes modelled parts",
}

SortKey = Literal["rank", "model", "kwh", "params", "stars", "runs", "hardware", "latest"]


@dataclass(frozen=True)
class LeaderboardView:
    """How a leaderboard is shown: which rows (hardware class, size, sensors) and in what order."""

    task: str | None
    hardware_class: str | None
    size: SizeBucket | None
    sensors: SensorFilter | None
    sort: SortKey
    desc: bool
    limit: int | None


def leaderboard_params(
    task: Annotated[OptText, Query(description="the task (default: the first task in the store)")] = None,
    hardware_class: Annotated[
        OptText, Query(description="one hardware class (A100, H100, CPU, ...): stars are rated within it")
    ] = None,
    size: Annotated[
        Annotated[SizeBucket | None, Opt],
        Query(description="model size by parameter count: lt100m, 100m-1b, 1b-10b, ge10b or unknown"),
    ] = None,
    sensors: Annotated[
        Annotated[SensorFilter | None, Opt],
        Query(description="measured: figures with no modelled component; modeled: figures with one"),
    ] = None,
    sort: Annotated[Annotated[SortKey | None, Opt], Query(description="the column to sort by")] = None,
    order: Annotated[Annotated[Literal["asc", "desc"] | None, Opt], Query(description="sort order")] = None,
    limit: Annotated[
        Annotated[int | None, Opt], Query(ge=1, le=10_000, description="at most this many rows")
    ] = None,
) -> LeaderboardView:
    return LeaderboardView(
        task=task,
        hardware_class=hardware_class,
        size=size,
        sensors=sensors,
        sort=sort or "rank",
        desc=order == "desc",
        limit=limit,
    )


LeaderboardDep = Annotated[LeaderboardView, Depends(leaderboard_params)]

# ---------------------------------------------------------------- the life-cycle calculator

OptFloat = Annotated[float | None, Opt]


@dataclass(frozen=True)
class LifecycleParams:
    """A deployment to assess, as the calculator's inputs give it."""

    task: str | None
    model: str | None
    kwh_per_1k: float | None
    region: str
    pue: float | None
    lifetime_years: float | None
    utilization: float | None
    queries_per_day: float
    years: float
    training_kwh: float | None
    finetune_kwh: float
    gpu: str | None


def lifecycle_params(
    task: Annotated[OptText, Query(description="the runs' task (with model: that model's energy)")] = None,
    model: Annotated[OptText, Query(description="the runs' model (default: the mean of the task's)")] = None,
    kwh_per_1k: Annotated[
        OptFloat, Query(ge=0, le=1e6, allow_inf_nan=False, description="override: kWh per 1,000 inferences")
    ] = None,
    region: Annotated[
        OptText, Query(description="grid region code: WORLD, FRA, US-CA, aws:us-west-2, ... (default WORLD)")
    ] = None,
    pue: Annotated[
        OptFloat,
        Query(ge=1, le=5, allow_inf_nan=False, description="data-centre PUE (default: the provider's)"),
    ] = None,
    lifetime_years: Annotated[
        OptFloat,
        Query(gt=0, le=30, allow_inf_nan=False, description="hardware lifetime in years (default 5)"),
    ] = None,
    utilization: Annotated[
        OptFloat,
        Query(gt=0, le=1, allow_inf_nan=False, description="hardware utilisation in (0, 1] (default 0.85)"),
    ] = None,
    queries_per_day: Annotated[
        OptFloat,
        Query(gt=0, le=1e13, allow_inf_nan=False, description="inferences per day (default 1,000,000)"),
    ] = None,
    years: Annotated[
        OptFloat, Query(gt=0, le=100, allow_inf_nan=False, description="years deployed (default 1)")
    ] = None,
    training_kwh: Annotated[
        OptFloat, Query(ge=0, le=1e12, allow_inf_nan=False, description="training energy in kWh")
    ] = None,
    finetune_kwh: Annotated[
        OptFloat, Query(ge=0, le=1e12, allow_inf_nan=False, description="fine-tuning energy in kWh")
    ] = None,
    gpu: Annotated[OptText, Query(description="catalog GPU (default: from the runs' hardware)")] = None,
) -> LifecycleParams:
    return LifecycleParams(
        task=task,
        model=model,
        kwh_per_1k=kwh_per_1k,
        region=region or "WORLD",
        pue=pue,
        lifetime_years=lifetime_years,
        utilization=utilization,
        queries_per_day=1_000_000.0 if queries_per_day is None else queries_per_day,
        years=1.0 if years is None else years,
        training_kwh=training_kwh,
        finetune_kwh=finetune_kwh or 0.0,
        gpu=gpu,
    )


LifecycleDep = Annotated[LifecycleParams, Depends(lifecycle_params)]
