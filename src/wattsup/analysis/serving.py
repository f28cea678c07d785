"""Analyses of the stored serving runs (``wattsup serve``, the store's ``serving_runs`` table): energy per
output token against the load (batch size / concurrency, and arrival rate) per model and engine, the
latency–energy Pareto front per model, and models compared at equal load.

Each point is one load level of one run. Where several runs measured the same model, engine and level, the
newest run's figure is used (runs are read newest first). Unknown figures are ``None``, never 0: a level
without a J/token figure is shown on no curve and on no front, but is listed at its load.

    serving_points(source) -> list[ServingPoint]
    serving_analysis(source, *, model=None, latency="ttft") -> ServingAnalysis
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from wattsup.analysis.query import Source, fetch
from wattsup.errors import InvalidInput
from wattsup.results.serving_table import serving_runs

__all__ = [
    "LATENCIES",
    "EqualLoad",
    "ParetoFront",
    "ServingAnalysis",
    "ServingCurve",
    "ServingPoint",
    "check_latency",
    "pareto_front",
    "serving_analysis",
    "serving_points",
]

LoadKind = Literal["concurrency", "rate"]
Latency = Literal["ttft", "tpot"]
LATENCIES: dict[str, str] = {"ttft": "time to first token, p50", "tpot": "time per output token, p50"}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServingPoint(_Frozen):
    """One load level of one stored serving run."""

    run_id: str
    created_at: datetime
    model: str
    engine: str
    profile: str
    gpu: str | None
    kind: LoadKind
    value: float
    """The batch size / concurrency (requests in flight), or the arrival rate (requests per second)."""
    label: str
    j_per_token: float | None
    j_per_token_bound: float | None
    method: str
    """How the J/token figure was obtained (the meter's methods: counter, sampled, modeled ...)."""
    tokens_per_s: float | None
    ttft_p50_s: float | None
    tpot_p50_s: float | None

    @property
    def modelled(self) -> bool:
        """Whether the J/token figure includes modelled (estimated) energy."""
        return "model" in self.method

    def latency_s(self, latency: Latency) -> float | None:
        return self.ttft_p50_s if latency == "ttft" else self.tpot_p50_s


class ServingCurve(_Frozen):
    """Energy per output token of one model on one engine against one kind of load, by increasing load."""

    model: str
    engine: str
    kind: LoadKind
    points: list[ServingPoint]


class ParetoFront(_Frozen):
    """The levels of one model (any engine, any load) that no other level beats on both latency and J/token.
    ``points``: every level with both figures known; ``front``: the non-dominated ones, by latency."""

    model: str
    latency: Latency
    points: list[ServingPoint]
    front: list[ServingPoint]

    def on_front(self, point: ServingPoint) -> bool:
        return any(p.run_id == point.run_id and p.label == point.label for p in self.front)


class EqualLoad(_Frozen):
    """Models measured at the same load level, least energy per output token first (unknown last)."""

    kind: LoadKind
    value: float
    label: str
    rows: list[ServingPoint]


class ServingAnalysis(_Frozen):
    runs: int
    points: list[ServingPoint]
    curves: list[ServingCurve]
    fronts: list[ParetoFront]
    equal_load: list[EqualLoad]
    latency: Latency


def _points_of(result_json: str) -> list[ServingPoint]:
    from wattsup.serving.results import ServingResult

    r = ServingResult.model_validate_json(result_json)
    return [
        ServingPoint(
            run_id=r.id,
            created_at=r.created_at,
            model=r.engine.model,
            engine=r.engine.engine,
            profile=r.profile,
            gpu=r.gpu_model,
            kind=lv.level.kind,
            value=lv.level.value,
            label=lv.level.label,
            j_per_token=lv.j_per_output_token.value,
            j_per_token_bound=lv.j_per_output_token.error_bound,
            method=lv.j_per_output_token.method,
            tokens_per_s=lv.tokens_per_s,
            ttft_p50_s=lv.ttft.p50_s,
            tpot_p50_s=lv.tpot.p50_s,
        )
        for lv in r.levels
    ]


def serving_points(source: Source, *, model: str | None = None) -> list[ServingPoint]:
    """Every level of every stored serving run (of ``model`` if given), newest run first; for a model,
    engine and level measured by several runs, only the newest run's level."""
    stmt = sa.select(serving_runs.c.result_json).order_by(serving_runs.c.created_at.desc())
    if model is not None:
        stmt = stmt.where(serving_runs.c.model == model)
    seen: set[tuple[str, str, str, float]] = set()
    out: list[ServingPoint] = []
    for row in fetch(source, stmt):
        for p in _points_of(row["result_json"]):
            key = (p.model, p.engine, p.kind, p.value)
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def _curves(points: Sequence[ServingPoint]) -> list[ServingCurve]:
    groups: dict[tuple[str, str, LoadKind], list[ServingPoint]] = {}
    for p in points:
        if p.j_per_token is not None:
            groups.setdefault((p.model, p.engine, p.kind), []).append(p)
    return [
        ServingCurve(model=m, engine=e, kind=k, points=sorted(ps, key=lambda p: p.value))
        for (m, e, k), ps in sorted(groups.items())
    ]


def pareto_front(points: Iterable[ServingPoint], latency: Latency) -> list[ServingPoint]:
    """The points no other point beats on both ``latency`` and J/token (≤ on both, < on one), by latency."""
    known = [p for p in points if p.j_per_token is not None and p.latency_s(latency) is not None]

    def key(p: ServingPoint) -> tuple[float, float]:
        lat, j = p.latency_s(latency), p.j_per_token
        assert lat is not None and j is not None
        return lat, j

    front: list[ServingPoint] = []
    best_j = float("inf")
    for p in sorted(known, key=key):  # by latency, then energy: a point is on the front if it saves energy
        if key(p)[1] < best_j:
            front.append(p)
            best_j = key(p)[1]
    return front


def _fronts(points: Sequence[ServingPoint], latency: Latency) -> list[ParetoFront]:
    models = sorted({p.model for p in points})
    out = []
    for m in models:
        mine = [p for p in points if p.model == m]
        known = [p for p in mine if p.j_per_token is not None and p.latency_s(latency) is not None]
        if known:
            out.append(
                ParetoFront(model=m, latency=latency, points=known, front=pareto_front(known, latency))
            )
    return out


def _equal_load(points: Sequence[ServingPoint]) -> list[EqualLoad]:
    levels: dict[tuple[LoadKind, float], list[ServingPoint]] = {}
    for p in points:
        levels.setdefault((p.kind, p.value), []).append(p)
    out = []
    for (kind, value), ps in sorted(levels.items()):
        if len({p.model for p in ps}) < 2:
            continue
        rows = sorted(ps, key=lambda p: (p.j_per_token is None, p.j_per_token or 0.0, p.model, p.engine))
        out.append(EqualLoad(kind=kind, value=value, label=ps[0].label, rows=rows))
    return out


def check_latency(latency: str) -> Latency:
    """``latency`` if it names a latency of the Pareto front, else :class:`InvalidInput`."""
    if latency not in LATENCIES:
        raise InvalidInput("--latency", f"must be one of {', '.join(LATENCIES)}, got {latency!r}")
    return "ttft" if latency == "ttft" else "tpot"


def serving_analysis(source: Source, *, model: str | None = None, latency: str = "ttft") -> ServingAnalysis:
    """The three serving analyses over the stored serving runs (of ``model`` if given). ``latency`` picks
    the Pareto front's latency: ``ttft`` (time to first token) or ``tpot`` (time per output token)."""
    lat = check_latency(latency)
    points = serving_points(source, model=model)
    return ServingAnalysis(
        runs=len({p.run_id for p in points}),
        points=points,
        curves=_curves(points),
        fronts=_fronts(points, lat),
        equal_load=_equal_load(points),
        latency=lat,
    )
