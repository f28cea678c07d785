"""Multi-purpose against task-specific models (the study's Table 4 / Figure 6): per task, the mean over
multi-purpose models (runs in ``zero-shot`` mode: a general model prompted for the task) divided by
the mean over task-specific models; per dataset too. Means are over models, each model averaged over
its runs (and, for the task figure, over its datasets first)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from wattsup.analysis.query import Rollup, Source, check_metric, dataset_level, fetch, model_level
from wattsup.analysis.types import (
    DEFAULT_METRIC,
    DatasetComparison,
    Metric,
    ModeComparison,
    Selection,
)

MULTI_PURPOSE = "zero-shot"
TASK_SPECIFIC = "task-specific"


def _ratio(mp: float | None, ts: float | None) -> float | None:
    if mp is None or ts is None or ts == 0:
        return None
    return mp / ts


def multi_vs_task(
    source: Source, selection: Selection | None = None, metric: Metric = DEFAULT_METRIC
) -> list[ModeComparison]:
    """Tasks that have both task-specific and multi-purpose runs, with the ratio of their means
    (multi-purpose / task-specific), overall and per dataset (datasets measured in one mode only show
    ``None`` for the other)."""
    check_metric(metric)
    m = model_level(Rollup(selection, metric, by=("mode",)))
    per_task = fetch(
        source,
        sa.select(
            m.c.task, m.c.mode, sa.func.avg(m.c.kwh).label("kwh"), sa.func.count().label("models")
        ).group_by(m.c.task, m.c.mode),
    )
    d = dataset_level(Rollup(selection, metric, by=("mode",)))
    per_dataset = fetch(
        source,
        sa.select(
            d.c.task,
            d.c.mode,
            d.c.dataset,
            sa.func.avg(d.c.kwh).label("kwh"),
            sa.func.count().label("models"),
        ).group_by(d.c.task, d.c.mode, d.c.dataset),
    )
    tasks: dict[str, dict[str, dict[str, Any]]] = {}
    for r in per_task:
        tasks.setdefault(r["task"], {})[r["mode"]] = r
    datasets: dict[str, dict[str, dict[str, dict[str, Any]]]] = {}
    for r in per_dataset:
        datasets.setdefault(r["task"], {}).setdefault(r["dataset"], {})[r["mode"]] = r
    out = []
    for task in sorted(tasks):
        modes = tasks[task]
        if MULTI_PURPOSE not in modes or TASK_SPECIFIC not in modes:
            continue
        ts, mp = modes[TASK_SPECIFIC], modes[MULTI_PURPOSE]
        rows = []
        for ds in sorted(datasets.get(task, {})):
            by_mode = datasets[task][ds]
            t = by_mode.get(TASK_SPECIFIC)
            p = by_mode.get(MULTI_PURPOSE)
            t_kwh = None if t is None else float(t["kwh"])
            p_kwh = None if p is None else float(p["kwh"])
            rows.append(
                DatasetComparison(
                    dataset=ds,
                    task_specific_kwh=t_kwh,
                    multi_purpose_kwh=p_kwh,
                    ratio=_ratio(p_kwh, t_kwh),
                    task_specific_models=0 if t is None else int(t["models"]),
                    multi_purpose_models=0 if p is None else int(p["models"]),
                )
            )
        out.append(
            ModeComparison(
                task=task,
                task_specific_kwh=float(ts["kwh"]),
                multi_purpose_kwh=float(mp["kwh"]),
                ratio=_ratio(float(mp["kwh"]), float(ts["kwh"])),
                task_specific_models=int(ts["models"]),
                multi_purpose_models=int(mp["models"]),
                per_dataset=rows,
                unit=metric.unit,
            )
        )
    return out
