"""Query parameters shared by the pages and the JSON API, generated from the parameter models.

:func:`query_dependency` turns a model (the analysis API's :class:`~wattsup.analysis.Selection` and
:class:`~wattsup.analysis.Metric`, :class:`~wattsup.carbon.FootprintInput` for the life-cycle calculator)
into a FastAPI dependency: one query parameter per field, with the field's bounds, description and
choices, a repeatable parameter for a field of several values. Every value is bounded (length, count,
range, no control characters) so that a bad request is a 422 that names the parameter, never a 500. A
blank value (an empty form field, ``task=``) means "not given".
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypeVar, get_args

from fastapi import Depends, Query
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    model_validator,
)
from pydantic.fields import FieldInfo

from wattsup.analysis.serving import Latency
from wattsup.analysis.types import MAX_TEXT, MAX_VALUES, Metric, Selection, Text
from wattsup.carbon.inputs import FootprintInput
from wattsup.params import build, field_infos, is_many, members, offered, param, plain, unit_of

__all__ = ["MAX_TEXT", "MAX_VALUES"]

MAX_COMPARE = 12
"""The most models or runs one comparison shows."""

T = TypeVar("T")


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


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

# ---------------------------------------------------------------- query parameters from a model


def _element(annotation: Any) -> Any:
    """The type of one value of a field of several values (its constraints kept)."""
    for member in members(plain(annotation)):
        args = get_args(plain(member))
        if (args and args[-1] is Ellipsis) or len(args) == 1:
            return args[0]
    return str


def _annotated(*parts: Any) -> Any:
    """``Annotated[parts]`` of types known only at run time."""
    return getattr(typing, "Annotated")[parts]  # noqa: B009


def _query_param(model: type[Any], name: str, info: FieldInfo, limit: float | None) -> inspect.Parameter:
    unit = unit_of(model, name)
    text = (info.description or "").rstrip(".") + (f" ({unit})" if unit else "")
    if is_many(info.annotation):
        annotation: Any = list[_annotated(_element(info.annotation) | None, Opt)] | None  # type: ignore[misc]
        query = Query(max_length=MAX_VALUES, description=text + " (repeatable)")
    else:
        base = next(m for m in members(info.annotation) if m is not type(None))
        typed = _annotated(base, *info.metadata) if info.metadata else base
        annotation = Annotated[typed | None, Opt]
        query = Query(description=text) if limit is None else Query(description=text, le=limit)
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=Annotated[annotation, query]
    )


def query_dependency(
    model: type[T],
    *,
    include: Iterable[str] | None = None,
    limits: dict[str, float] | None = None,
    name: str | None = None,
) -> Callable[..., T]:
    """A FastAPI dependency that reads ``model``'s fields (``include``, default: every offered one) from
    the query string and builds the model; ``limits`` adds upper bounds the dashboard keeps tighter
    than the model's. Errors of the model's checks across fields name the parameter (422)."""
    infos = field_infos(model)
    names = list(include) if include is not None else [n for n in infos if offered(model, n)]
    params = [_query_param(model, n, infos[n], (limits or {}).get(n)) for n in names]

    def dependency(**given: Any) -> T:
        values = {k: (kept(v) if isinstance(v, list) else v) for k, v in given.items()}
        built: T = build(model, {k: v for k, v in values.items() if v is not None})
        return built

    dependency.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    dependency.__name__ = name or f"{model.__name__.lower()}_params"
    dependency.__doc__ = model.__doc__
    return dependency


selection_params = query_dependency(Selection, name="selection_params")
"""Which runs: each parameter narrows the selection; a repeated parameter gives several values (OR);
values with ``*`` or ``?`` are case-insensitive globs. Only ``ok`` runs are read."""
metric_params = query_dependency(Metric, name="metric_params")

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


class LifecycleParams(FootprintInput):
    """A deployment to assess, as the calculator's inputs give it: the runs that give the energy (task,
    model) and every input of the footprint (declared once, in :class:`FootprintInput`), with the
    calculator's defaults. The checks across fields wait for the energy and GPU the runs give:
    :meth:`footprint_input` makes the checked input."""

    task: Text | None = param(None, "The runs' task (with model: that model's energy).")
    model: Text | None = param(None, "The runs' model (default: the mean of the task's).")
    region: str = param(
        "WORLD", "Grid region code: WORLD, FRA, US-CA, aws:us-west-2, ...", max_length=MAX_TEXT
    )
    queries_per_day: float = param(1_000_000.0, "Inferences per day.", gt=0)
    years: float = param(1.0, "Years deployed.", gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> LifecycleParams:
        return self  # the calculator's input is checked whole by footprint_input()

    def footprint_input(self, **resolved: Any) -> FootprintInput:
        """The footprint's input: these values, with ``resolved`` ones (the runs' energy, GPU) on top."""
        values = {k: v for k, v in self if k in FootprintInput.model_fields}
        return FootprintInput(**{**values, **resolved})


LIFECYCLE_LIMITS = {
    "kwh_per_1k": 1e6,
    "pue": 5.0,
    "lifetime_years": 30.0,
    "queries_per_day": 1e13,
    "years": 100.0,
    "training_kwh": 1e12,
    "finetune_kwh": 1e12,
}
"""The calculator's realistic upper bounds, tighter than the model's (a figure must not overflow)."""

lifecycle_params = query_dependency(LifecycleParams, limits=LIFECYCLE_LIMITS, name="lifecycle_params")
LifecycleDep = Annotated[LifecycleParams, Depends(lifecycle_params)]

# ---------------------------------------------------------------- the serving page and figures


class ServingParams(BaseModel):
    """Which serving runs the serving page and figures show: one model's, or every model's; and the
    latency of the latency–energy Pareto front."""

    model_config = ConfigDict(frozen=True)

    serving_model: Text | None = param(None, "The served model (default: every model).")
    latency: Latency = param("ttft", "The Pareto front's latency: ttft (first token) or tpot (per token).")


serving_params = query_dependency(ServingParams, name="serving_params")
ServingDep = Annotated[ServingParams, Depends(serving_params)]
