"""Uncertainty: bootstrap intervals of task means, and warnings where a figure adds measured and modelled
components (a counter-measured GPU plus a modelled CPU is part measurement, part estimate)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from wattsup.analysis.query import (
    Rollup,
    Source,
    check_metric,
    clauses,
    fetch,
    methods_mix,
    model_level,
    parse_methods,
)
from wattsup.analysis.stats import bootstrap_ci
from wattsup.analysis.types import DEFAULT_METRIC, Metric, MixWarning, Selection, TaskInterval
from wattsup.results.rows import component_class
from wattsup.results.tables import runs

__all__ = ["bootstrap_ci", "mixed_method_warnings", "task_intervals"]


MIN_INTERVAL_MODELS = 5


def task_intervals(
    source: Source,
    selection: Selection | None = None,
    metric: Metric = DEFAULT_METRIC,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> list[TaskInterval]:
    """Per task, a percentile bootstrap interval of the mean over models (models resampled: the spread
    is between models, as in the summary's standard deviation). ``None`` below ``MIN_INTERVAL_MODELS``
    models: a bootstrap of two models' mean is exactly their min–max, which is no 95% interval."""
    check_metric(metric)
    m = model_level(Rollup(selection, metric))
    rows = fetch(source, sa.select(m.c.task, m.c.model, m.c.kwh).order_by(m.c.task, m.c.model))
    by_task: dict[str, list[float]] = {}
    for r in rows:
        if r["kwh"] is not None:
            by_task.setdefault(r["task"], []).append(float(r["kwh"]))
    out = []
    for task in sorted(by_task):
        values = by_task[task]
        ci = (
            bootstrap_ci(values, confidence=confidence, resamples=resamples, seed=seed)
            if len(values) >= MIN_INTERVAL_MODELS
            else None
        )
        out.append(TaskInterval(task=task, models=len(values), interval=ci, unit=metric.unit))
    return out


def mixed_method_warnings(source: Source, selection: Selection | None = None) -> list[MixWarning]:
    """One warning per (task, model) whose runs add measured (``counter``/``sampled``) and modelled
    components into their total; the message names the components and methods."""
    stmt = (
        sa.select(runs.c.task, runs.c.model, runs.c.sensor_methods, sa.func.count().label("runs"))
        .where(*clauses(selection), runs.c.has_modeled.is_(True))
        .group_by(runs.c.task, runs.c.model, runs.c.sensor_methods)
        .order_by(runs.c.task, runs.c.model)
    )
    merged: dict[tuple[str, str], tuple[int, set[str]]] = {}
    for r in fetch(source, stmt):
        methods = r["sensor_methods"] or ""
        if not methods_mix(methods):
            continue
        n, seen = merged.get((r["task"], r["model"]), (0, set()))
        seen.add(methods)
        merged[(r["task"], r["model"])] = (n + int(r["runs"]), seen)
    out = []
    for (task, model), (n, seen) in merged.items():
        methods = "; ".join(sorted(seen))
        modeled = sorted(
            {item.rpartition("=")[0] for s in seen for item in s.split() if item.endswith("modeled")}
        )
        out.append(
            MixWarning(
                task=task,
                model=model,
                runs=n,
                methods=methods,
                message=(
                    f"{model} on {task}: {n} run(s) add measured and modelled energy "
                    f"({', '.join(modeled)} modelled: an estimate, not a measurement); compare "
                    "--component gpu for measured figures only"
                ),
            )
        )
    return out


@dataclass(frozen=True)
class ModelledShare:
    """How many of the selected runs' figures include modelled (estimated) energy, and which components."""

    modelled_runs: int
    runs: int
    components: tuple[str, ...]

    def note(self) -> str | None:
        """The label people read under a table: None where no figure includes a modelled component."""
        if not self.modelled_runs:
            return None
        share = "all" if self.modelled_runs == self.runs else f"{self.modelled_runs} of {self.runs}"
        what = ", ".join(self.components) or "some components"
        return (
            f"modelled: {share} runs' figures include modelled energy ({what}: estimated from a power "
            "model, not read from a hardware counter); read them as estimates"
        )


def modelled_share(
    source: Source, selection: Selection | None = None, metric: Metric = DEFAULT_METRIC
) -> ModelledShare:
    """Count the selected runs whose figure for ``metric`` (its component class) includes a modelled
    component; one statement grouped by the stored sensor methods."""
    stmt = (
        sa.select(runs.c.sensor_methods, runs.c.has_modeled, sa.func.count().label("runs"))
        .where(*clauses(selection))
        .group_by(runs.c.sensor_methods, runs.c.has_modeled)
    )
    total = modelled = 0
    names: set[str] = set()
    for r in fetch(source, stmt):
        n = int(r["runs"])
        total += n
        found = {
            name
            for name, methods in parse_methods(r["sensor_methods"] or "").items()
            if "modeled" in methods
            and (metric.component == "all" or component_class(name) == metric.component)
        }
        if found or (r["has_modeled"] and not r["sensor_methods"] and metric.component == "all"):
            modelled += n
            names |= found
    return ModelledShare(modelled, total, tuple(sorted(names)))
