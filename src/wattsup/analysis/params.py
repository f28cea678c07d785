"""Energy against parameter count, per task: a log-log least-squares fit and the correlations (the
study's Figure 3). Parameter counts come from the runs (``n_params``) or from a mapping given (the
study's ``model_parameters.csv``, read with :func:`read_model_parameters`); the mapping wins."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from wattsup.analysis.query import Source
from wattsup.analysis.stats import pearson, slope_intercept, spearman
from wattsup.analysis.summary import model_energies
from wattsup.analysis.types import DEFAULT_METRIC, Metric, ParamFit, ParamPoint, Selection


def read_model_parameters(path: str | Path) -> dict[str, int]:
    """A ``model_name,num_parameters`` CSV → model → parameter count (``--params``)."""
    from wattsup.results.importers.study import read_params

    return read_params(path)


def energy_vs_params(
    source: Source,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
    *,
    params: Mapping[str, int] | None = None,
) -> list[ParamFit]:
    """Per task: log10(kWh per 1,000) against log10(parameters) over models with both known."""
    by_task: dict[str, list[ParamPoint]] = {}
    missing: dict[str, list[str]] = {}
    for m in model_energies(source, selection, metric):
        if m.kwh is None or m.kwh <= 0:
            continue
        given = params.get(m.model) if params is not None else None
        n = given if given is not None else m.n_params
        if n is None or n <= 0:
            missing.setdefault(m.task, []).append(m.model)
            by_task.setdefault(m.task, [])
            continue
        by_task.setdefault(m.task, []).append(
            ParamPoint(model=m.model, n_params=int(n), kwh=m.kwh, params_source="given" if given else "run")
        )
    out = []
    for task in sorted(by_task):
        points = by_task[task]
        xs = [math.log10(p.n_params) for p in points]
        ys = [math.log10(p.kwh) for p in points]
        enough = len(points) >= MIN_FIT_MODELS
        slope, intercept = slope_intercept(xs, ys) if enough else (None, None)
        r = pearson(xs, ys) if enough else None
        out.append(
            ParamFit(
                task=task,
                n=len(points),
                slope=slope,
                intercept=intercept,
                r=r,
                r2=r * r if r is not None else None,
                spearman=spearman(xs, ys) if enough else None,
                points=points,
                missing_params=sorted(missing.get(task, [])),
                unit=metric.unit,
                note="" if enough else too_few(len(points)),
            )
        )
    return out


MIN_FIT_MODELS = 4
"""Models with a parameter count a task needs before a fit and correlations are given: with two, r is ±1
whatever the data; with three, one model decides it."""


def too_few(n: int) -> str:
    return (
        f"no fit: {n} model{'s' if n != 1 else ''} with a parameter count; at least {MIN_FIT_MODELS} are "
        "needed (with 2, r is ±1 whatever the data)"
    )
