"""The SQL under every analysis: which runs (a :class:`Selection`), what energy figure per run (a
:class:`Metric`), and the levels of aggregation (runs → dataset → model → task).

Per run, the figure is the mean over its repetitions (the store's headline columns, or a phase summed
over its components from the ``phases`` table). A run without the figure (no such phase, an unknown
component) drops out: unknown is never counted as zero.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement

from wattsup.analysis.types import COMPONENTS, LOAD_PHASE, Metric, Selection, Values
from wattsup.errors import InvalidInput
from wattsup.meter.measurement import JOULES_PER_KWH
from wattsup.results.rows import COMPONENT_CLASSES, component_class
from wattsup.results.store import RunFilter, Store, match
from wattsup.results.tables import phases, runs

Source: TypeAlias = Store | Engine
"""Where runs are read from: a :class:`~wattsup.results.Store` or a SQLAlchemy engine on one."""

_HEADLINE = {
    "all": runs.c.energy_kwh_per_1k,
    "gpu": runs.c.gpu_energy_kwh_per_1k,
    "cpu": runs.c.cpu_energy_kwh_per_1k,
    "ram": runs.c.ram_energy_kwh_per_1k,
}
_NULL_INT: ColumnElement[Any] = sa.cast(sa.null(), sa.Integer)
_NULL_STR: ColumnElement[Any] = sa.cast(sa.null(), sa.String)
_AVERAGED = ("output_units", "units_per_inference")


def engine_of(source: Source) -> Engine:
    if isinstance(source, Store):
        return source.engine
    if isinstance(source, Engine):
        return source
    raise TypeError(f"expected a wattsup Store or a SQLAlchemy Engine, got {type(source).__name__}")


def fetch(source: Source, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    """Run a read-only statement and return its rows as dicts."""
    with engine_of(source).connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def check_metric(metric: Metric) -> Metric:
    if metric.component not in COMPONENTS:
        raise InvalidInput("--component", f"must be one of {', '.join(COMPONENTS)}, got {metric.component!r}")
    if metric.phase is not None and not metric.phase.strip():
        raise InvalidInput("--phase", "is empty; give a phase name such as 'query model' or 'load'")
    return metric


def _items(values: Values | Sequence[str]) -> list[str]:
    if values is None:
        return []
    return [values] if isinstance(values, str) else [v for v in values if v is not None]


def clauses(selection: Selection | None) -> list[ColumnElement[bool]]:
    """The WHERE clauses on ``runs`` for a selection."""
    sel = selection or Selection()
    base = RunFilter(
        task=_items(sel.task) or None,
        model=_items(sel.model) or None,
        dataset=_items(sel.dataset) or None,
        status=_items(sel.status) or None,
        hardware=_items(sel.hardware) or None,
        device=_items(sel.device) or None,
        since=sel.since,
        until=sel.until,
    )
    out = base.clauses()
    for name, values in (("mode", sel.mode), ("weights", sel.weights)):
        items = _items(values)
        if items:
            out.append(match(runs.c[name], items))
    for name, values in (("model", sel.exclude_model), ("dataset", sel.exclude_dataset)):
        items = _items(values)
        if items:
            out.append(sa.not_(match(runs.c[name], items)))
    return out


def _component_clause(component: str) -> ColumnElement[bool] | None:
    if component == "all":
        return None
    parts: list[ColumnElement[bool]] = []
    for prefix in COMPONENT_CLASSES[component]:
        parts.append(sa.func.lower(phases.c.component) == prefix)
        parts.append(sa.func.lower(phases.c.component).like(prefix + ":%"))
    return sa.or_(*parts)


def _phase_energy(selection: Selection | None, metric: Metric) -> sa.Subquery:
    """Per run: mean over repetitions of the phase's energy (components summed), in the metric's unit."""
    assert metric.phase is not None
    where: list[ColumnElement[bool]] = []
    if metric.phase == LOAD_PHASE:
        where += [phases.c.rep.is_(None), phases.c.phase == ""]
    else:
        where += [phases.c.rep.is_not(None), phases.c.phase == metric.phase]
    comp = _component_clause(metric.component)
    if comp is not None:
        where.append(comp)
    selected = sa.select(runs.c.run_id).where(*clauses(selection))
    where.append(phases.c.run_id.in_(selected))
    per_rep = (
        sa.select(
            phases.c.run_id,
            phases.c.rep,
            sa.func.sum(phases.c.energy_j).label("energy_j"),
            sa.func.max(phases.c.inferences).label("inferences"),
            sa.func.max(sa.case((phases.c.method == "modeled", 1), else_=0)).label("modeled"),
            sa.func.max(sa.case((phases.c.method != "modeled", 1), else_=0)).label("measured"),
        )
        .where(*where)
        .group_by(phases.c.run_id, phases.c.rep)
        .subquery("per_rep")
    )
    if metric.phase == LOAD_PHASE:
        figure: ColumnElement[Any] = per_rep.c.energy_j / JOULES_PER_KWH
    else:
        figure = sa.case(
            (per_rep.c.inferences > 0, per_rep.c.energy_j * (1000.0 / JOULES_PER_KWH) / per_rep.c.inferences),
            else_=None,
        )
    return (
        sa.select(
            per_rep.c.run_id,
            sa.func.avg(figure).label("kwh"),
            sa.func.max(per_rep.c.modeled).label("modeled"),
            sa.func.max(per_rep.c.measured).label("measured"),
        )
        .group_by(per_rep.c.run_id)
        .subquery("phase_energy")
    )


def _flags_headline(
    source: Source | None, selection: Selection | None, component: str
) -> tuple[ColumnElement[Any], ColumnElement[Any], ColumnElement[Any]]:
    """``(modeled, measured, methods)`` columns of a headline figure (see :func:`run_energy`)."""
    if component == "all":
        modeled = sa.case((runs.c.has_modeled.is_(None), None), (runs.c.has_modeled, 1), else_=0)
        return modeled, _NULL_INT, runs.c.sensor_methods
    if source is None:
        return _NULL_INT, _NULL_INT, _NULL_STR
    stmt = sa.select(runs.c.sensor_methods).where(*clauses(selection)).distinct()
    mixed = [
        r["sensor_methods"]
        for r in fetch(source, stmt)
        if r["sensor_methods"] and methods_mix(r["sensor_methods"], component)
    ]
    flag = (
        sa.case((runs.c.sensor_methods.in_(mixed), 1), (runs.c.sensor_methods.is_(None), None), else_=0)
        if mixed
        else sa.case((runs.c.sensor_methods.is_(None), None), else_=0)
    )
    return flag, flag, _NULL_STR


def parse_methods(sensor_methods: str) -> dict[str, set[str]]:
    """``"cpu=modeled gpu:0=counter|sampled"`` → ``{"cpu": {"modeled"}, "gpu:0": {"counter", "sampled"}}``."""
    out: dict[str, set[str]] = {}
    for item in sensor_methods.split():
        name, _, methods = item.rpartition("=")
        if name:
            out.setdefault(name, set()).update(m for m in methods.split("|") if m)
    return out


def methods_mix(sensor_methods: str, component: str = "all") -> bool:
    """Whether the components of ``component`` (a class, or all) include modelled and measured ones."""
    found: set[str] = set()
    for name, methods in parse_methods(sensor_methods).items():
        if component == "all" or component_class(name) == component:
            found |= methods
    return "modeled" in found and bool(found - {"modeled"})


def run_energy(
    selection: Selection | None,
    metric: Metric,
    *,
    extra: Sequence[str] = (),
    source: Source | None = None,
) -> sa.Subquery:
    """One row per selected run with a known figure: run_id, task, model, dataset, mode, hardware, kwh,
    and what the figure is made of: ``modeled`` (1 if it includes a modelled component), ``measured``
    (1 if it includes a measured one; NULL when only ``methods``, the run's sensor methods, tells),
    plus the ``runs`` columns named in ``extra``. ``source`` is needed only for a per-class headline
    figure's flags."""
    check_metric(metric)
    cols: list[Any] = [
        runs.c.run_id,
        runs.c.config_hash,
        runs.c.task,
        runs.c.model,
        runs.c.dataset,
        runs.c.mode,
        runs.c.hardware,
    ]
    for c in extra:
        if c == "units_per_inference":
            cols.append(
                sa.case((runs.c.n > 0, runs.c.output_units / sa.cast(runs.c.n, sa.Float)), else_=None).label(
                    c
                )
            )
        elif c not in {"run_id", "config_hash", "task", "model", "dataset", "mode", "hardware"}:
            cols.append(runs.c[c])
    if metric.phase is None:
        kwh = _HEADLINE[metric.component]
        modeled, measured, methods = _flags_headline(source, selection, metric.component)
        return (
            sa.select(
                *cols,
                kwh.label("kwh"),
                modeled.label("modeled"),
                measured.label("measured"),
                methods.label("methods"),
            )
            .where(*clauses(selection), kwh.is_not(None))
            .subquery("run_energy")
        )
    pe = _phase_energy(selection, metric)
    return (
        sa.select(*cols, pe.c.kwh, pe.c.modeled, pe.c.measured, _NULL_STR.label("methods"))
        .select_from(runs.join(pe, pe.c.run_id == runs.c.run_id))
        .where(*clauses(selection), pe.c.kwh.is_not(None))
        .subquery("run_energy")
    )


def _mixed(modeled: Any, measured: Any, methods: Any) -> ColumnElement[Any]:
    """Whether a group's figures add or average measured and modelled components: 1, 0 or NULL
    (unknown). Evaluated once per group: per-run methods are summarised by their min and max."""
    return _mixed_from(
        sa.func.max(modeled),
        sa.func.min(modeled),
        sa.func.max(measured),
        sa.func.min(methods),
        sa.func.max(methods),
    )


def _mixed_from(
    any_modeled: Any, min_modeled: Any, any_measured: Any, lo_methods: Any, hi_methods: Any
) -> ColumnElement[Any]:
    def has_measured(col: ColumnElement[Any]) -> ColumnElement[bool]:
        return sa.or_(col.like("%counter%"), col.like("%sampled%"))

    return sa.case(
        (any_modeled.is_(None), None),
        (
            sa.and_(
                any_modeled == 1,
                sa.or_(
                    min_modeled == 0, any_measured == 1, has_measured(lo_methods), has_measured(hi_methods)
                ),
            ),
            1,
        ),
        else_=0,
    )


def _lean_dataset_level(selection: Selection | None, metric: Metric, source: Source | None) -> sa.Subquery:
    """:func:`dataset_level` without details, fast on big stores. Runs are first summed per configuration
    (``config_hash``: a short sort key carrying only numbers), then each configuration's task, model,
    dataset and sensor methods are read from one of its runs through the ``config_hash`` index (they are
    the same for all its runs), then configurations are summed per dataset."""
    r = run_energy(selection, metric, source=source)
    conf = (
        sa.select(
            r.c.config_hash,
            sa.func.sum(r.c.kwh).label("kwh_sum"),
            sa.func.count().label("runs"),
            sa.func.max(r.c.modeled).label("any_modeled"),
            sa.func.min(r.c.modeled).label("min_modeled"),
            sa.func.max(r.c.measured).label("any_measured"),
        )
        .group_by(r.c.config_hash)
        .subquery("config_sums")
    )
    rep = runs.alias("representative")

    def one(column: str) -> Any:
        return (
            sa.select(rep.c[column]).where(rep.c.config_hash == conf.c.config_hash).limit(1).scalar_subquery()
        )

    # MATERIALIZED: each configuration's lookups run once, not once per reference (SQLite would inline
    # the subquery into the aggregate and repeat them); SQLite ≥ 3.35 and PostgreSQL ≥ 12 read the hint.
    named = (
        sa.select(
            conf,
            one("task").label("task"),
            one("model").label("model"),
            one("dataset").label("dataset"),
            (
                one("sensor_methods") if metric.phase is None and metric.component == "all" else _NULL_STR
            ).label("methods"),
        )
        .cte("config_level")
        .prefix_with("MATERIALIZED")
    )
    keys = [named.c.task, named.c.model, named.c.dataset]
    mixed = _mixed_from(
        sa.func.max(named.c.any_modeled),
        sa.func.min(named.c.min_modeled),
        sa.func.max(named.c.any_measured),
        sa.func.min(named.c.methods),
        sa.func.max(named.c.methods),
    )
    return (
        sa.select(
            *keys,
            (sa.func.sum(named.c.kwh_sum) / sa.func.sum(named.c.runs)).label("kwh"),
            sa.func.sum(named.c.runs).label("runs"),
            mixed.label("mixed"),
        )
        .group_by(*keys)
        .subquery("dataset_level")
    )


def _spread(mode_low: Any, mode_high: Any, low: Any, high: Any, squares: Any) -> list[Any]:
    """The detail columns rolled up one level: modes seen, lowest and highest run, Σkwh² over runs."""
    return [
        sa.func.min(mode_low).label("mode_min"),
        sa.func.max(mode_high).label("mode_max"),
        sa.func.min(low).label("run_min"),
        sa.func.max(high).label("run_max"),
        sa.func.sum(squares).label("run_sumsq"),
    ]


@dataclass(frozen=True)
class Rollup:
    """What one level of aggregation reads: the runs (``selection``), their figure (``metric``), the
    run columns it groups ``by`` beside (task, model), the ``extra`` run columns it carries as
    aggregates (avg for output units, max otherwise), and whether it keeps the ``detail`` columns
    (modes, min, max and Σkwh² over runs). ``source`` lets the store's dialect shape the SQL."""

    selection: Selection | None
    metric: Metric
    by: Sequence[str] = ()
    extra: Sequence[str] = ()
    source: Source | None = None
    detail: bool = True


def dataset_level(q: Rollup) -> sa.Subquery:
    """Per (task, model, [by...], dataset): mean over runs, run count and the ``mixed`` flag, and what
    ``q`` asks for besides."""
    by, extra = q.by, q.extra
    if not q.detail and not by and not extra:
        return _lean_dataset_level(q.selection, q.metric, q.source)
    r = run_energy(q.selection, q.metric, extra=(*by, *extra), source=q.source)
    keys = [r.c.task, r.c.model, *(r.c[b] for b in by), r.c.dataset]
    aggs: list[Any] = [
        sa.func.avg(r.c.kwh).label("kwh"),
        sa.func.count().label("runs"),
        _mixed(r.c.modeled, r.c.measured, r.c.methods).label("mixed"),
    ]
    if q.detail:
        aggs += _spread(r.c.mode, r.c.mode, r.c.kwh, r.c.kwh, r.c.kwh * r.c.kwh)
    for c in extra:
        if c in _AVERAGED:
            aggs.append(sa.func.avg(r.c[c]).label(c))
        elif c == "has_modeled":
            aggs.append(sa.func.max(sa.case((r.c[c], 1), (sa.not_(r.c[c]), 0), else_=None)).label(c))
        else:
            aggs.append(sa.func.max(r.c[c]).label(c))
    return sa.select(*keys, *aggs).group_by(*keys).subquery("dataset_level")


def model_level(q: Rollup) -> sa.Subquery:
    """Per (task, model, [by...]): mean over datasets of the dataset means."""
    by, extra = q.by, q.extra
    d = dataset_level(q)
    keys = [d.c.task, d.c.model, *(d.c[b] for b in by)]
    aggs: list[Any] = [
        sa.func.avg(d.c.kwh).label("kwh"),
        sa.func.sum(d.c.runs).label("runs"),
        sa.func.count().label("datasets"),
        sa.func.max(d.c.mixed).label("mixed"),
    ]
    if q.detail:
        aggs += _spread(d.c.mode_min, d.c.mode_max, d.c.run_min, d.c.run_max, d.c.run_sumsq)
        aggs.append(sa.func.sum(d.c.kwh * d.c.runs).label("run_sum"))
    for c in extra:
        aggs.append((sa.func.avg if c in _AVERAGED else sa.func.max)(d.c[c]).label(c))
    return sa.select(*keys, *aggs).group_by(*keys).subquery("model_level")


def task_summary_stmt(
    selection: Selection | None, metric: Metric, *, source: Source | None = None
) -> sa.Select[Any]:
    """Per task: mean, sum of squared deviations, median, min, max and count over the models' means."""
    m = model_level(Rollup(selection, metric, source=source, detail=False))
    ranked = sa.select(
        m.c.task,
        m.c.kwh,
        m.c.runs,
        m.c.mixed,
        sa.func.row_number().over(partition_by=m.c.task, order_by=m.c.kwh).label("rn"),
        sa.func.count().over(partition_by=m.c.task).label("cnt"),
        sa.func.avg(m.c.kwh).over(partition_by=m.c.task).label("task_mean"),
    ).subquery("ranked")
    # the middle one or two of cnt sorted values: 2·rn ∈ {cnt, cnt + 1, cnt + 2} (integers only)
    middle = sa.or_(
        2 * ranked.c.rn == ranked.c.cnt,
        2 * ranked.c.rn == ranked.c.cnt + 1,
        2 * ranked.c.rn == ranked.c.cnt + 2,
    )
    deviation = ranked.c.kwh - ranked.c.task_mean
    return (
        sa.select(
            ranked.c.task,
            sa.func.avg(ranked.c.kwh).label("mean_kwh"),
            sa.func.sum(deviation * deviation).label("ss"),
            sa.func.avg(sa.case((middle, ranked.c.kwh), else_=None)).label("median_kwh"),
            sa.func.min(ranked.c.kwh).label("min_kwh"),
            sa.func.max(ranked.c.kwh).label("max_kwh"),
            sa.func.count().label("models"),
            sa.func.sum(ranked.c.runs).label("runs"),
            sa.func.max(ranked.c.mixed).label("mixed"),
        )
        .group_by(ranked.c.task)
        .order_by(ranked.c.task)
    )


def sample_std(sum_sq_dev: float | None, n: int) -> float | None:
    """Sample standard deviation from the sum of squared deviations (``None`` below two values)."""
    if sum_sq_dev is None or n < 2:
        return None
    return math.sqrt(max(float(sum_sq_dev), 0.0) / (n - 1))


def std_from_sums(total: float | None, sum_sq: float | None, n: int) -> float | None:
    """Sample standard deviation from Σx and Σx² (``None`` below two values)."""
    if total is None or sum_sq is None or n < 2:
        return None
    var = (sum_sq - total * total / n) / (n - 1)
    return math.sqrt(max(float(var), 0.0))


def mode_of(mode_min: str | None, mode_max: str | None) -> str:
    if mode_min is None:
        return "unknown"
    return mode_min if mode_min == mode_max else "mixed"
