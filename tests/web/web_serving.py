"""Serving runs for the dashboard's tests, stored through the serving store's own API (``save_result``):
two models on the closed loop (one on two engines, one level re-run later), one on Poisson rates; the
newest level of the first model carries the GPU's mean power and a request life cycle computed by
:func:`wattsup.carbon.request.request_life_cycle`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from wattsup.carbon.request import RequestInput, request_life_cycle
from wattsup.meter.measurement import ComponentEnergy
from wattsup.records import Provenance
from wattsup.results.serving_store import save_result
from wattsup.serving.engines.base import EngineInfo
from wattsup.serving.load import LoadLevel
from wattsup.serving.results import Figure, LatencyStats, LevelResult, ServingResult

T0 = datetime(2026, 3, 1, tzinfo=UTC)
TOKENS = 1000.0
HOSTILE = "<img src=x onerror=alert(1)>"
"""A served model's name that must stay text."""


def life_cycle() -> dict[str, Any]:
    """A request life cycle of a 10 s window on one H100 in France: 2,000 J over 16 requests."""
    gpu = ComponentEnergy(name="gpu:0", energy_j=2000.0, method="counter", error_bound_j=5.0)
    inp = RequestInput.checked(
        load="concurrency=4",
        components=[gpu],
        duration_s=10.0,
        requests=16,
        output_tokens=int(TOKENS),
        gpus=1,
        gpu_model="NVIDIA H100 80GB HBM3",
        region="FRA",
    )
    return request_life_cycle(inp).to_dict()


def _latency(p50: float | None) -> LatencyStats:
    return LatencyStats(
        p50_s=p50, p99_s=None if p50 is None else 2 * p50, mean_s=p50, n=16, method="per-token"
    )


def level(
    kind: Literal["concurrency", "rate"],
    value: float,
    j_per_token: float | None,
    ttft_s: float | None,
    *,
    method: str = "counter",
    gpu_w: float | None = None,
    lc: dict[str, Any] | None = None,
) -> LevelResult:
    unknown = Figure(value=None, method="unavailable", note="not measured here")
    energy = None if j_per_token is None else j_per_token * TOKENS
    return LevelResult(
        level=LoadLevel(kind=kind, value=value),
        requests=20,
        completed=20,
        failed=0,
        window_s=10.0,
        window_output_tokens=TOKENS,
        window_requests_completed=16,
        energy_j=Figure(value=energy, error_bound=10.0, method=method),
        components={},
        j_per_output_token=Figure(value=j_per_token, error_bound=0.01, method=method),
        j_per_request=unknown,
        prefill_energy_j=unknown,
        decode_energy_j=unknown,
        output_tokens_per_request=50.0,
        tokens_per_s=100.0 * value,
        ttft=_latency(ttft_s),
        tpot=_latency(0.02),
        itl=_latency(0.02),
        mean_gpu_power_w=unknown if gpu_w is None else Figure(value=gpu_w, method="counter"),
        gpu_utilisation_pct=unknown,
        generator_cpu_s=0.01,
        generator_energy_j=Figure(value=0.1, method="modeled"),
        generator_share=0.001,
        life_cycle=lc,
        life_cycle_note="" if lc is not None else "no GPU is metered on this host",
    )


def result(
    model: str, engine: Literal["static", "continuous", "http"], levels: list[LevelResult], minutes: int
) -> ServingResult:
    return ServingResult(
        created_at=T0 + timedelta(minutes=minutes),
        engine=EngineInfo(engine=engine, model=model, weights_source="random (catalog config)"),
        profile="chat",
        profile_source="packaged",
        seed=0,
        requests_per_level=20,
        levels=levels,
        provenance=Provenance(hostname="test"),
        gpu_model="NVIDIA H100 80GB HBM3",
    )


def serving_results() -> list[ServingResult]:
    c = "concurrency"
    small = [level(c, 1, 0.5, 0.05), level(c, 4, 0.2, 0.08), level(c, 16, 0.3, 0.5)]
    rerun = [level(c, 4, 0.19, 0.07, gpu_w=250.0, lc=life_cycle())]  # newer than the first run's c=4
    large = [level(c, 1, 2.0, 0.2), level(c, 4, 1.1, 0.4), level(c, 64, None, None)]
    return [
        result("org/small", "static", small, 0),
        result("org/small", "continuous", [level(c, 4, 0.18, 0.06, method="counter+modeled")], 1),
        result("org/small", "static", rerun, 5),
        result(HOSTILE, "static", large, 2),
        result(HOSTILE, "http", [level("rate", 0.5, 1.5, 0.3), level("rate", 2, 0.9, 0.9)], 3),
    ]


def fill(db: Path) -> None:
    """Store :func:`serving_results` in the SQLite file ``db``."""
    for r in serving_results():
        save_result(r, str(db))
