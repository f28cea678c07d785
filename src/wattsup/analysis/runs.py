"""One run in detail, and several runs side by side."""

from __future__ import annotations

from collections.abc import Sequence

from wattsup.analysis.query import Source, check_metric
from wattsup.analysis.types import (
    DEFAULT_METRIC,
    LOAD_PHASE,
    Comparison,
    ComparisonRow,
    Metric,
    PhaseComparison,
    RunDetails,
)
from wattsup.errors import InvalidInput
from wattsup.meter.measurement import JOULES_PER_KWH, Measurement
from wattsup.records import RunRecord
from wattsup.results.rows import RunSummary, component_class, phase_table, run_row
from wattsup.results.store import Store


def _store(source: Source) -> Store:
    if isinstance(source, Store):
        return source
    return Store(source, location=source.url.render_as_string(hide_password=True))


def _warnings(record: RunRecord) -> list[str]:
    out: list[str] = []
    if record.status != "ok":
        out.append(f"run failed: {record.error or 'no reason recorded'}")
    for rep in record.repetitions:
        m = rep.measurement
        if m.mixes_measured_and_modeled:
            modeled = sorted(c.name for c in m.components if c.method == "modeled")
            note = (
                f"the total adds measured and modelled energy ({', '.join(modeled)} modelled: an estimate, "
                "not a measurement)"
            )
            if note not in out:
                out.append(note)
        for w in (w for p in m.walk() for w in p.warnings):
            if w not in out:
                out.append(w)
    if not record.repetitions and record.status == "ok":
        out.append("no measured repetition: energy unknown")
    return out


def run_details(source: Source, run_id: str) -> RunDetails:
    """A run's headline row, per-phase table (averaged over repetitions), kWh per 1,000 inferences of
    each repetition, warnings and full record. ``run_id`` may be a unique prefix."""
    store = _store(source)
    record = store.get(store.resolve(run_id))
    row = run_row(record)
    row.pop("record_json", None)
    summary = RunSummary.from_row(row).to_dict()
    return RunDetails(
        run_id=record.run_id,
        summary=summary,
        phases=phase_table(record),
        kwh_per_1k_by_rep=record.kwh_per_1k(),
        warnings=_warnings(record),
        record=record.model_dump(mode="json"),
    )


def _rep_values(record: RunRecord, metric: Metric) -> list[tuple[float, float]]:
    """Per repetition (or the load window): (kWh per 1,000 inferences, or kWh for load; its error bound)."""
    check_metric(metric)

    def wanted(name: str) -> bool:
        return metric.component == "all" or component_class(name) == metric.component

    if metric.phase == LOAD_PHASE:
        if record.load is None:
            return []
        comps = [c for c in record.load.components if wanted(c.name)]
        if not comps:
            return []
        return [
            (
                sum(c.energy_j for c in comps) / JOULES_PER_KWH,
                sum(c.error_bound_j for c in comps) / JOULES_PER_KWH,
            )
        ]
    values = []
    for rep in record.repetitions:
        if rep.inferences <= 0:
            continue
        windows = [rep.measurement] if metric.phase is None else _phases(rep.measurement, metric.phase)
        comps = [c for w in windows for c in w.components if wanted(c.name)]
        if comps:
            scale = 1000.0 / JOULES_PER_KWH / rep.inferences
            values.append(
                (sum(c.energy_j for c in comps) * scale, sum(c.error_bound_j for c in comps) * scale)
            )
    return values


def figure(record: RunRecord, metric: Metric) -> float | None:
    """A record's figure for ``metric`` (mean over repetitions); ``None`` when it has none."""
    values = _rep_values(record, metric)
    return sum(v for v, _ in values) / len(values) if values else None


def figure_interval(record: RunRecord, metric: Metric) -> tuple[float, float] | None:
    """A 95% interval of the figure that never goes below zero: across repetitions where there are several
    (a t-interval on the logarithms, see :func:`wattsup.bench.stats.mean_ci`), widened by the meter's own
    error bound; from the error bound alone for a single window."""
    from wattsup.bench.stats import mean_ci

    values = _rep_values(record, metric)
    if not values:
        return None
    mean = sum(v for v, _ in values) / len(values)
    bound = sum(b for _, b in values) / len(values)
    est = mean_ci([v for v, _ in values])
    if est.ci95_low is None or est.ci95_high is None:
        return max(mean - bound, 0.0), mean + bound
    rel = bound / mean if mean > 0 else 0.0
    return max(est.ci95_low * (1 - rel), 0.0), est.ci95_high * (1 + rel)


def differs(a: tuple[float, float] | None, b: tuple[float, float] | None) -> bool | None:
    """Whether two intervals are apart (the figures differ beyond what the runs can tell); None if unknown."""
    if a is None or b is None:
        return None
    return a[1] < b[0] or b[1] < a[0]


def _phases(root: Measurement, path: str) -> list[Measurement]:
    found: list[Measurement] = []

    def walk(m: Measurement, prefix: str) -> None:
        for p in m.phases:
            name = f"{prefix}/{p.name}" if prefix else p.name
            if name == path:
                found.append(p)
            walk(p, name)

    walk(root, "")
    return found


def compare_runs(source: Source, run_ids: Sequence[str], metric: Metric = DEFAULT_METRIC) -> Comparison:
    """Runs side by side: each one's figure and its ratio to the first run's, and every phase's figure
    per run (``None`` where a run has no such phase)."""
    if len(run_ids) < 2:
        raise InvalidInput("RUN_ID", f"give at least two runs to compare, got {len(run_ids)}")
    store = _store(source)
    records = [store.get(store.resolve(r)) for r in run_ids]
    base = figure(records[0], metric)
    base_ci = figure_interval(records[0], metric)
    rows = []
    warnings: list[str] = []
    for rec in records:
        kwh = figure(rec, metric)
        ci = figure_interval(rec, metric)
        head = run_row(rec)
        rows.append(
            ComparisonRow(
                run_id=rec.run_id,
                task=rec.config.task,
                model=rec.config.model,
                dataset=rec.config.dataset,
                hardware=rec.hardware,
                kwh=kwh,
                ratio_to_first=(kwh / base) if kwh is not None and base else None,
                kwh_ci95=list(ci) if ci is not None else None,
                differs_from_first=differs(ci, base_ci) if rec is not records[0] else None,
                duration_s=head["duration_s"],
                inferences_per_s=head["inferences_per_s"],
                has_modeled=head["has_modeled"],
            )
        )
        warnings += [f"{rec.run_id[:12]}: {w}" for w in _warnings(rec)]
    if len({r.hardware for r in rows}) > 1:
        warnings.append("the runs ran on different hardware: energy differences include the hardware's")
    if len({r.task for r in rows}) > 1:
        warnings.append("the runs are of different tasks: their inferences are not the same work")
    names: list[str] = []
    for rec in records:
        for rep in rec.repetitions[:1]:
            for p in _paths(rep.measurement):
                if p not in names:
                    names.append(p)
    phase_rows = [
        PhaseComparison(
            phase=n, kwh=[figure(rec, Metric(phase=n, component=metric.component)) for rec in records]
        )
        for n in names
    ]
    return Comparison(runs=rows, phases=phase_rows, warnings=warnings, unit=metric.unit)


def _paths(root: Measurement) -> list[str]:
    out: list[str] = []

    def walk(m: Measurement, prefix: str) -> None:
        for p in m.phases:
            name = f"{prefix}/{p.name}" if prefix else p.name
            out.append(name)
            walk(p, name)

    walk(root, "")
    return out
