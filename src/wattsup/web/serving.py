"""The serving view: every load level of the stored serving runs (``wattsup serve``), as the serving page
and ``/api/serving`` show it.

The levels, their J/output token, latencies and Pareto fronts come from
:func:`wattsup.analysis.serving.serving_analysis`; the figures it does not carry (the GPU's mean power and
the request's life cycle under its two boundaries) are read from the same stored results, level by level.
Unknown figures are ``None``, never 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from wattsup.analysis.serving import ServingAnalysis, ServingPoint, serving_analysis, serving_points
from wattsup.results import Store

if TYPE_CHECKING:
    from wattsup.serving.results import LevelResult


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ServingLevel(_Out):
    """One load level of one stored serving run (the newest run of its model, engine and level)."""

    run_id: str
    model: str
    engine: str
    kind: str = Field(description="'concurrency' (closed loop) or 'rate' (Poisson arrivals)")
    value: float
    level: str = Field(description="the level as shown: c=4, 2/s ...")
    j_per_token: float | None = Field(description="energy per output token (J), every metered component")
    j_per_token_bound: float | None = Field(description="its error bound (J)")
    method: str = Field(description="how the energy was obtained: counter, sampled, modeled ...")
    modelled: bool = Field(description="whether the figure includes energy estimated from a power model")
    tokens_per_s: float | None
    ttft_p50_ms: float | None
    tpot_p50_ms: float | None
    gpu_power_w: float | None = Field(description="the GPUs' mean power over the steady window (W)")
    wh_per_request_active: float | None = Field(description="Wh per request, active-accelerator boundary")
    wh_per_request_comprehensive: float | None = Field(description="Wh per request, comprehensive boundary")
    boundary_ratio: float | None = Field(description="comprehensive / active")
    on_front: bool = Field(description="on its model's latency–energy Pareto front")


class ServingTable(_Out):
    runs: int = Field(description="stored serving runs shown")
    latency: str = Field(description="the Pareto front's latency: ttft or tpot")
    models: list[str] = Field(description="every model with stored serving runs")
    levels: list[ServingLevel] = Field(description="by model, engine, kind of load and load")


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _per_request_wh(life_cycle: Mapping[str, Any] | None, boundary: str) -> float | None:
    if life_cycle is None:
        return None
    part = life_cycle.get(boundary)
    per_request = part.get("per_request") if isinstance(part, dict) else None
    return _number(per_request.get("energy_wh")) if isinstance(per_request, dict) else None


def _levels_of(store: Store, run_ids: Iterable[str]) -> dict[tuple[str, str], LevelResult]:
    """The stored levels of these runs, by run id and level label."""
    from wattsup.results.serving_table import get_serving
    from wattsup.serving.results import ServingResult

    out: dict[tuple[str, str], LevelResult] = {}
    for run_id in run_ids:
        result = ServingResult.model_validate_json(get_serving(store, run_id).result_json)
        out.update({(run_id, lv.level.label): lv for lv in result.levels})
    return out


_AS_STORED = {"run_id", "model", "engine", "kind", "value", "j_per_token", "j_per_token_bound", "method"}
"""The fields a table row takes from the analysis's point as they are."""


def _row(p: ServingPoint, stored: LevelResult | None, on_front: bool) -> ServingLevel:
    life_cycle = stored.life_cycle if stored is not None else None
    return ServingLevel(
        **p.model_dump(include=_AS_STORED),
        level=p.label,
        modelled=p.modelled,
        tokens_per_s=p.tokens_per_s,
        ttft_p50_ms=_ms(p.ttft_p50_s),
        tpot_p50_ms=_ms(p.tpot_p50_s),
        gpu_power_w=stored.mean_gpu_power_w.value if stored is not None else None,
        wh_per_request_active=_per_request_wh(life_cycle, "active"),
        wh_per_request_comprehensive=_per_request_wh(life_cycle, "comprehensive"),
        boundary_ratio=_number(life_cycle.get("ratio")) if life_cycle is not None else None,
        on_front=on_front,
    )


def serving_table(store: Store, model: str | None, latency: str) -> ServingTable:
    """The serving runs' levels (of ``model``, else of every model), with the Pareto front of ``latency``."""
    a: ServingAnalysis = serving_analysis(store, model=model, latency=latency)
    fronts = {f.model: f for f in a.fronts}
    stored = _levels_of(store, {p.run_id for p in a.points})
    rows = []
    for p in sorted(a.points, key=lambda p: (p.model, p.engine, p.kind, p.value)):
        front = fronts.get(p.model)
        rows.append(_row(p, stored.get((p.run_id, p.label)), front is not None and front.on_front(p)))
    models = sorted({p.model for p in serving_points(store)}) if model is not None else None
    return ServingTable(
        runs=a.runs,
        latency=a.latency,
        models=models if models is not None else sorted({p.model for p in a.points}),
        levels=rows,
    )
