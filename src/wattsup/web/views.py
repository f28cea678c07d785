"""What the pages and the JSON API show, from the analysis, results, carbon and meter APIs.

This module only calls those APIs and shapes their results for display (a view's row filter and sort
order, a pivot of a comparison, a timeline's points): every figure comes from the layers to the left.
The API returns these models as JSON; the pages render the same models as HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wattsup import analysis
from wattsup.analysis.footprints import breakdown
from wattsup.analysis.types import (
    EnergyLabel,
    Facets,
    LeaderboardEntry,
    LifecycleBreakdown,
    Metric,
    ModelEnergy,
    Selection,
)
from wattsup.errors import InvalidInput, NotFound, WattsupError
from wattsup.params.carry import shared_fields
from wattsup.results import RunFilter, Store
from wattsup.web.params import SIZE_BUCKETS, LeaderboardView, LifecycleParams


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# ---------------------------------------------------------------- leaderboard


class Leaderboard(_Out):
    """A task's leaderboard as shown: the rows kept by the view's filters, in its sort order."""

    task: str
    unit: str
    hardware_class: str | None = Field(description="the hardware class shown, or None for all")
    size: str | None
    sensors: str | None
    sort: str
    order: str
    total: int = Field(description="rows before the view's size and sensor filters")
    entries: list[LeaderboardEntry]


def _size_matches(n_params: int | None, size: str) -> bool:
    if size == "unknown":
        return n_params is None
    _, low, high = SIZE_BUCKETS[size]
    return n_params is not None and low <= n_params < high


def _sort_key(key: str) -> Callable[[LeaderboardEntry], tuple[Any, ...]]:
    # Unknown values sort last in either order (the caller reverses known values only).
    getters: dict[str, Callable[[LeaderboardEntry], Any]] = {
        "rank": lambda e: e.rank,
        "model": lambda e: e.model.lower(),
        "kwh": lambda e: e.kwh,
        "params": lambda e: e.n_params,
        "stars": lambda e: e.stars,
        "runs": lambda e: e.runs,
        "hardware": lambda e: (e.hardware or "").lower() or None,
        "latest": lambda e: e.latest,
    }
    get = getters[key]
    return lambda e: (get(e) is None, get(e), e.rank)


def _sorted(entries: list[LeaderboardEntry], key: str, desc: bool) -> list[LeaderboardEntry]:
    keyed = _sort_key(key)
    known = [e for e in entries if keyed(e)[0] is False]
    unknown = [e for e in entries if keyed(e)[0] is True]
    known.sort(key=lambda e: keyed(e)[1:], reverse=desc)
    unknown.sort(key=lambda e: e.rank)
    return known + unknown


def default_task(facet: Facets, task: str | None) -> str:
    """The task asked for, else the first task in the store; :class:`NotFound` for an empty store."""
    if task is not None:
        return task
    if not facet.tasks:
        raise NotFound("task", "", [], hint="the store has no successful runs yet (run 'wattsup bench')")
    return facet.tasks[0]


def leaderboard(
    store: Store, selection: Selection, metric: Metric, view: LeaderboardView, task: str
) -> Leaderboard:
    """The task's leaderboard (ranks and stars from the analysis), filtered and sorted for display."""
    entries = analysis.leaderboard(store, task, selection, metric, hardware_class=view.hardware_class)
    total = len(entries)
    if view.size is not None:
        entries = [e for e in entries if _size_matches(e.n_params, view.size)]
    if view.sensors is not None:
        want_modeled = view.sensors == "modeled"
        entries = [e for e in entries if e.has_modeled is want_modeled]
    entries = _sorted(entries, view.sort, view.desc)
    if view.limit is not None:
        entries = entries[: view.limit]
    # the view's filters and sort key are shown as asked (hardware class, size, sensors, sort)
    shown = shared_fields(view, Leaderboard, but=("task",))
    order = "desc" if view.desc else "asc"
    return Leaderboard(**shown, task=task, unit=metric.unit, order=order, total=total, entries=entries)


# ---------------------------------------------------------------- runs


class RunList(_Out):
    total: int
    offset: int
    limit: int
    runs: list[dict[str, Any]] = Field(description="the runs table's rows (RunSummary), newest first")


def run_list(
    store: Store,
    *,
    task: Sequence[str] | None,
    model: Sequence[str] | None,
    hardware: Sequence[str] | None,
    status: Sequence[str] | None,
    limit: int,
    offset: int,
) -> RunList:
    filters = RunFilter(
        task=task or None, model=model or None, hardware=hardware or None, status=status or None
    )
    found = store.list_runs(filters, limit=limit, offset=offset)
    return RunList(total=store.count(filters), offset=offset, limit=limit, runs=[r.to_dict() for r in found])


class TimelineSeries(_Out):
    window: str = Field(description="'load' or 'rep N'")
    component: str
    t_s: list[float] = Field(description="seconds since the window started")
    power_w: list[float] = Field(description="mean power since the previous point")


class Timeline(_Out):
    run_id: str
    series: list[TimelineSeries]
    note: str = ""


def timeline(store: Store, run_id: str) -> Timeline:
    """The power timeline of every metered window of a run that kept one (``Meter(timeline=True)``)."""
    from wattsup.meter.export import timeline_rows

    full = store.resolve(run_id)
    record = store.get(full)
    windows = [("load", record.load)] if record.load is not None else []
    windows += [(f"rep {r.index}", r.measurement) for r in record.repetitions]
    series: list[TimelineSeries] = []
    for name, m in windows:
        if m is None or m.timeline is None:
            continue
        by_comp: dict[str, tuple[list[float], list[float]]] = {}
        for row in timeline_rows(m):
            power = row["power_w"]
            if isinstance(power, float | int):
                t, p = by_comp.setdefault(str(row["component"]), ([], []))
                t.append(float(row["t_s"]))
                p.append(float(power))
        series += [
            TimelineSeries(window=name, component=comp, t_s=t, power_w=p) for comp, (t, p) in by_comp.items()
        ]
    note = "" if series else "this run kept no power timeline (meter with Meter(timeline=True) to keep one)"
    return Timeline(run_id=full, series=series, note=note)


# ---------------------------------------------------------------- comparisons


class ModelRow(_Out):
    task: str
    energies: list[ModelEnergy | None] = Field(description="per model, in the order asked; None: not run")
    ratio_to_first: list[float | None] = Field(description="each model's figure / the first model's")


class ModelComparison(_Out):
    models: list[str]
    unit: str
    rows: list[ModelRow]
    missing: list[str] = Field(description="models asked for that have no runs in the selection")


def compare_models(
    store: Store, models: Sequence[str], selection: Selection, metric: Metric
) -> ModelComparison:
    """Side by side: each model's energy on each task (the analysis' per-model figures, pivoted)."""
    if len(models) < 2:
        raise InvalidInput("model", "give at least two models to compare (repeat the parameter)")
    wanted = list(dict.fromkeys(models))
    # the compared models are the selection's models; its exclusions and status are not applied
    sel = replace(selection, model=tuple(wanted), exclude_model=(), exclude_dataset=(), status="ok")
    found = analysis.model_energies(store, sel, metric)
    by_task: dict[str, dict[str, ModelEnergy]] = {}
    for m in found:
        by_task.setdefault(m.task, {})[m.model] = m
    rows = []
    for task in sorted(by_task):
        cells = [by_task[task].get(name) for name in wanted]
        first = cells[0].kwh if cells[0] is not None else None
        ratios = [c.kwh / first if c is not None and c.kwh is not None and first else None for c in cells]
        rows.append(ModelRow(task=task, energies=cells, ratio_to_first=ratios))
    seen = {m.model for m in found}
    return ModelComparison(
        models=wanted, unit=metric.unit, rows=rows, missing=[m for m in wanted if m not in seen]
    )


# ---------------------------------------------------------------- labels


class FeatureUnavailable(WattsupError):
    """Something the dashboard offers needs a package this installation lacks (the message says which)."""


def label_png(label: EnergyLabel) -> bytes:
    """The label as PNG (:func:`wattsup.analysis.write_label`, into a temporary file of our naming)."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="wattsup-label-") as tmp:
        try:
            written = analysis.write_label(label, Path(tmp) / "label.png")
        except ImportError as err:
            raise FeatureUnavailable(
                f"PNG labels need matplotlib ({err.name} is missing): pip install 'wattsup[analysis]', "
                "or download the SVG"
            ) from None
        return written.read_bytes()


# ---------------------------------------------------------------- carbon reference data


class Region(_Out):
    code: str
    name: str
    kind: str
    intensity_g_per_kwh: float
    year: int


class Gpu(_Out):
    name: str
    vendor: str
    tdp_w: float | None
    embodied_kg_central: float | None = None
    embodied_unknown: str | None = None


@cache
def regions() -> list[Region]:
    from wattsup.carbon import list_regions

    return [
        Region(code=r.code, name=r.name, kind=r.kind, intensity_g_per_kwh=r.intensity_g_per_kwh, year=r.year)
        for r in list_regions()
    ]


@cache
def gpus() -> list[Gpu]:
    from wattsup.carbon import list_hardware

    return [
        Gpu(
            name=g.name,
            vendor=g.vendor,
            tdp_w=g.tdp_w,
            embodied_kg_central=g.central_kg if g.embodied_known else None,
            embodied_unknown=g.embodied_unknown,
        )
        for g in list_hardware("gpu")
    ]


_SCENARIO_FIELDS = frozenset(analysis.Scenario.model_fields)
"""The calculator's inputs that :class:`~wattsup.analysis.Scenario` takes itself."""


def lifecycle(store: Store, p: LifecycleParams, selection: Selection, metric: Metric) -> LifecycleBreakdown:
    """The life-cycle breakdown of a deployment: :func:`wattsup.analysis.lifecycle` (energy per 1,000
    inferences and the GPU from the runs). Its :class:`~wattsup.analysis.Scenario` has no hardware
    lifetime, utilisation or any other footprint input, so when the calculator sets one of those, every input
    goes through :func:`wattsup.carbon.footprint` (as ``wattsup footprint --kwh-per-1k ...`` does) and its
    figures replace the breakdown's: a footprint field added to the model reaches the calculator."""
    scenario = analysis.Scenario.model_validate(p, from_attributes=True)
    base = analysis.lifecycle(store, scenario, selection, metric)
    from wattsup.carbon import FootprintInput, footprint

    beyond = [
        name
        for name, field in FootprintInput.model_fields.items()
        if name not in _SCENARIO_FIELDS and getattr(p, name) != field.get_default(call_default_factory=True)
    ]
    if not beyond:
        return base
    fp = footprint(p.footprint_input(gpu=base.gpu, kwh_per_1k=base.kwh_per_1k))
    assumed = base.footprint.get("assumptions")
    old_notes = assumed.get("notes", []) if isinstance(assumed, dict) else []
    notes = [n for n in base.notes if n not in old_notes]
    return breakdown(base.scenario, base.kwh_per_1k, base.kwh_source, base.gpu, fp, notes)
