"""Serving runs for the dashboard's tests, stored through the serving store's own API (``save_result``):
two models on the closed loop (one on two engines, one level re-run later), one on Poisson rates; the
newest level of the first model carries the GPU's mean power and a request life cycle computed by
:func:`wattsup.carbon.request.request_life_cycle`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from tests.support import serving_records as records
from wattsup.carbon.request import RequestInput, request_life_cycle
from wattsup.meter.measurement import ComponentEnergy
from wattsup.serving.results import LevelResult, ServingResult

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
    """A level of the shared serving records whose throughput grows with its load."""
    return records.level(
        kind, value, j_per_token, method=method, tokens_per_s=100.0 * value, ttft_s=ttft_s, gpu_w=gpu_w, lc=lc
    )


def result(
    model: str, engine: Literal["static", "continuous", "http"], levels: list[LevelResult], minutes: int
) -> ServingResult:
    return records.result(model, engine, levels, minutes=minutes)


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
    records.store_results(db, serving_results())
