"""Summaries: per task over models (``wattsup summary --by task``), per model, a task's leaderboard, the
study's main figure, and the values present for filter menus. All aggregated in SQL."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from wattsup.analysis.query import (
    Rollup,
    Source,
    check_metric,
    clauses,
    fetch,
    mode_of,
    model_level,
    sample_std,
    std_from_sums,
    task_summary_stmt,
)
from wattsup.analysis.ratings import hardware_class, star_ratings
from wattsup.analysis.types import (
    DEFAULT_METRIC,
    LOAD_PHASE,
    Facets,
    LeaderboardEntry,
    Metric,
    ModelEnergy,
    PhaseEnergy,
    Selection,
    StudyTask,
    TaskPhases,
    TaskSummary,
)
from wattsup.errors import InvalidInput, NotFound
from wattsup.results.tables import phases, runs


def summary_by_task(
    source: Source, selection: Selection | None = None, metric: Metric = DEFAULT_METRIC
) -> list[TaskSummary]:
    """Per task: mean, standard deviation, median, minimum and maximum over models of each model's
    energy (each model first averaged over its runs per dataset, then over datasets), and the model
    count. One SQL statement; tasks in name order."""
    check_metric(metric)
    out = []
    for r in fetch(source, task_summary_stmt(selection, metric, source=source)):
        n = int(r["models"])
        out.append(
            TaskSummary(
                task=r["task"],
                mean_kwh=_f(r["mean_kwh"]),
                std_kwh=sample_std(_f(r["ss"]), n),
                median_kwh=_f(r["median_kwh"]),
                min_kwh=_f(r["min_kwh"]),
                max_kwh=_f(r["max_kwh"]),
                models=n,
                runs=int(r["runs"] or 0),
                unit=metric.unit,
                mixes_measured_and_modeled=None if r["mixed"] is None else bool(r["mixed"]),
            )
        )
    return out


def _f(v: Any) -> float | None:
    return None if v is None else float(v)


def _aware(v: Any) -> datetime | None:
    if v is None:
        return None
    if isinstance(v, str):  # an aggregate over SQLite's text timestamps
        v = datetime.fromisoformat(v)
    assert isinstance(v, datetime)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)


_EXTRA = ("n_params", "units_per_inference", "has_modeled", "started_at")


def _hardware_by_model(source: Source, selection: Selection | None) -> dict[tuple[str, str], list[str]]:
    stmt = (
        sa.select(runs.c.task, runs.c.model, runs.c.hardware)
        .where(*clauses(selection))
        .distinct()
        .order_by(runs.c.task, runs.c.model, runs.c.hardware)
    )
    out: dict[tuple[str, str], list[str]] = {}
    for r in fetch(source, stmt):
        hw = out.setdefault((r["task"], r["model"]), [])
        if r["hardware"] is not None:
            hw.append(r["hardware"])
    return out


def model_energies(
    source: Source, selection: Selection | None = None, metric: Metric = DEFAULT_METRIC
) -> list[ModelEnergy]:
    """Per (task, model): the mean energy over datasets (each dataset's runs averaged first), the
    spread over runs, parameter count, hardware and mean output units per inference. Sorted by task,
    then energy."""
    check_metric(metric)
    m = model_level(Rollup(selection, metric, extra=_EXTRA, source=source))
    rows = fetch(source, sa.select(m).order_by(m.c.task, m.c.kwh, m.c.model))
    hardware = _hardware_by_model(source, selection)
    out = []
    for r in rows:
        hw = hardware.get((r["task"], r["model"]), [])
        classes = sorted({hardware_class(h) for h in hw}) or ["unknown"]
        n = int(r["runs"])
        out.append(
            ModelEnergy(
                task=r["task"],
                model=r["model"],
                mode=mode_of(r["mode_min"], r["mode_max"]),
                kwh=_f(r["kwh"]),
                std_kwh=std_from_sums(_f(r["run_sum"]), _f(r["run_sumsq"]), n),
                min_kwh=_f(r["run_min"]),
                max_kwh=_f(r["run_max"]),
                runs=n,
                datasets=int(r["datasets"]),
                n_params=None if r["n_params"] is None else int(r["n_params"]),
                hardware=" | ".join(hw) if hw else None,
                hardware_class=classes[0] if len(classes) == 1 else "mixed",
                output_units=_f(r["units_per_inference"]),
                has_modeled=None if r["has_modeled"] is None else bool(r["has_modeled"]),
                latest=_aware(r["started_at"]),
                unit=metric.unit,
            )
        )
    return out


def leaderboard(
    source: Source,
    task: str,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
    *,
    hardware_class: str | None = None,
    limit: int | None = None,
) -> list[LeaderboardEntry]:
    """A task's models from least to most energy, one row per (model, hardware class), with star
    ratings (within the task and hardware class). ``hardware_class`` keeps one class (``A100``)."""
    if not task or not task.strip():
        raise InvalidInput("--task", "is empty; give a task such as 'text-classification'")
    if limit is not None and limit < 1:
        raise InvalidInput("--limit", f"must be at least 1, got {limit}")
    check_metric(metric)
    sel = _with_task(selection, task)
    known = _tasks(source, sel)
    if not known:
        raise NotFound("task", task, _tasks(source, _with_task(selection, None)), hint="in the selected runs")
    m = model_level(Rollup(sel, metric, by=("hardware",), extra=_EXTRA, source=source))
    rows = fetch(source, sa.select(m))
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["kwh"] is None:
            continue
        groups.setdefault((r["model"], _class(r["hardware"])), []).append(r)
    ratings = {(s.model, s.hardware_class): s for s in star_ratings(source, sel, metric) if s.task == task}
    entries: list[LeaderboardEntry] = []
    for (model, cls), rs in groups.items():
        if hardware_class is not None and cls.lower() != hardware_class.lower():
            continue
        kwhs = [float(r["kwh"]) for r in rs]
        n = sum(int(r["runs"]) for r in rs)
        rating = ratings.get((model, cls))
        latest = [d for d in (_aware(r["started_at"]) for r in rs) if d is not None]
        params = [int(r["n_params"]) for r in rs if r["n_params"] is not None]
        modeled = [bool(r["has_modeled"]) for r in rs if r["has_modeled"] is not None]
        hw = sorted({r["hardware"] for r in rs if r["hardware"] is not None})
        entries.append(
            LeaderboardEntry(
                rank=0,
                task=task,
                model=model,
                mode=mode_of(min(r["mode_min"] for r in rs), max(r["mode_max"] for r in rs)),
                kwh=sum(kwhs) / len(kwhs),
                std_kwh=std_from_sums(
                    sum(_f(r["run_sum"]) or 0.0 for r in rs), sum(_f(r["run_sumsq"]) or 0.0 for r in rs), n
                ),
                runs=n,
                datasets=max(int(r["datasets"]) for r in rs),
                n_params=max(params) if params else None,
                hardware=" | ".join(hw) if hw else None,
                hardware_class=cls,
                stars=rating.stars if rating else None,
                rating_note=rating.note if rating else "not rated",
                has_modeled=any(modeled) if modeled else None,
                latest=max(latest) if latest else None,
                unit=metric.unit,
            )
        )
    entries.sort(key=lambda e: (e.kwh if e.kwh is not None else math.inf, e.model, e.hardware_class))
    if limit is not None:
        entries = entries[:limit]
    return [e.model_copy(update={"rank": i}) for i, e in enumerate(entries, 1)]


def _class(hardware: str | None) -> str:
    return hardware_class(hardware)


def _with_task(selection: Selection | None, task: str | None) -> Selection:
    return replace(selection or Selection(), task=task)


def _tasks(source: Source, selection: Selection) -> list[str]:
    stmt = sa.select(runs.c.task).where(*clauses(selection)).distinct().order_by(runs.c.task)
    return [r["task"] for r in fetch(source, stmt)]


def study_figure(
    source: Source, selection: Selection | None = None, metric: Metric = DEFAULT_METRIC
) -> list[StudyTask]:
    """The data of the study's main figure: per task, one point per model, tasks ordered from least to
    most energy (by their mean over models)."""
    by_task: dict[str, list[ModelEnergy]] = {}
    for m in model_energies(source, selection, metric):
        if m.kwh is not None:
            by_task.setdefault(m.task, []).append(m)
    out = []
    for task, models in by_task.items():
        mean = sum(m.kwh for m in models if m.kwh is not None) / len(models)
        out.append(StudyTask(task=task, models=models, mean_kwh=mean, unit=metric.unit))
    out.sort(key=lambda t: (t.mean_kwh if t.mean_kwh is not None else float("inf"), t.task))
    return out


def facets(source: Source, selection: Selection | None = None) -> Facets:
    """The distinct tasks, models, datasets, hardware, modes and phase names of the selected runs."""
    where = clauses(selection)

    def distinct(col: sa.Column[Any]) -> list[str]:
        stmt = sa.select(col).where(*where, col.is_not(None)).distinct().order_by(col)
        return [str(r[col.name]) for r in fetch(source, stmt)]

    count = fetch(source, sa.select(sa.func.count().label("n")).select_from(runs).where(*where))[0]["n"]
    hardware = distinct(runs.c.hardware)
    phase_stmt = (
        sa.select(phases.c.phase)
        .where(phases.c.run_id.in_(sa.select(runs.c.run_id).where(*where)), phases.c.phase != "")
        .distinct()
        .order_by(phases.c.phase)
    )
    phase_names = [r["phase"] for r in fetch(source, phase_stmt)]
    has_load = fetch(
        source,
        sa.select(sa.func.count().label("n"))
        .select_from(runs)
        .where(*where, runs.c.load_energy_j.is_not(None)),
    )[0]["n"]
    return Facets(
        runs=int(count),
        tasks=distinct(runs.c.task),
        models=distinct(runs.c.model),
        datasets=distinct(runs.c.dataset),
        hardware=hardware,
        hardware_classes=sorted({hardware_class(h) for h in hardware}),
        modes=distinct(runs.c.mode),
        phases=([LOAD_PHASE] if has_load else []) + phase_names,
    )


def task_names(source: Source, selection: Selection | None = None) -> Sequence[str]:
    """The tasks of the selected runs, sorted."""
    return _tasks(source, selection or Selection())


def _over(mean: float | None, models: int, everyone: int) -> float | None:
    """A mean over ``models`` restated over ``everyone`` (the others counting zero)."""
    if mean is None or everyone <= 0:
        return mean
    return mean * models / max(everyone, models)


def phase_breakdown(
    source: Source, selection: Selection | None = None, metric: Metric = DEFAULT_METRIC
) -> list[TaskPhases]:
    """Per task: the whole window and each top-level phase of the repetitions (``load model``, ``query
    model``; ``generate``, ...), each as the mean over the task's models (``metric.component`` applies;
    its phase is ignored). A model without a phase (a classifier has no ``generate``) spent nothing in it:
    it counts as zero, so that a task's phases add up to at most its window, whatever its models mix."""
    where = clauses(selection)
    names_stmt = (
        sa.select(phases.c.phase)
        .where(
            phases.c.run_id.in_(sa.select(runs.c.run_id).where(*where)),
            phases.c.depth == 1,
            phases.c.rep.is_not(None),
        )
        .distinct()
        .order_by(phases.c.phase)
    )
    names = [r["phase"] for r in fetch(source, names_stmt)]
    window = {s.task: s for s in summary_by_task(source, selection, Metric(component=metric.component))}
    per_phase = {
        name: {
            s.task: s
            for s in summary_by_task(source, selection, Metric(phase=name, component=metric.component))
        }
        for name in names
    }
    out = []
    for task in sorted(window):
        everyone = window[task].models
        rows = [
            PhaseEnergy(
                phase=name,
                kwh=_over(per_phase[name][task].mean_kwh, per_phase[name][task].models, everyone),
                models=per_phase[name][task].models,
            )
            for name in names
            if task in per_phase[name]
        ]
        out.append(TaskPhases(task=task, window_kwh=window[task].mean_kwh, phases=rows))
    return out
