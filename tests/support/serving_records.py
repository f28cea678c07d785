"""Serving results with chosen figures, stored through the serving store's own API (``save_result``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from wattsup.records import Provenance
from wattsup.results.serving_store import save_result
from wattsup.serving.engines.base import EngineInfo
from wattsup.serving.load import LoadLevel
from wattsup.serving.results import Figure, LatencyStats, LevelResult, ServingResult

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _latency(p50: float | None) -> LatencyStats:
    return LatencyStats(
        p50_s=p50, p99_s=None if p50 is None else p50 * 2, mean_s=p50, n=10, method="per-token"
    )


def level(
    kind: Literal["concurrency", "rate"],
    value: float,
    j_per_token: float | None,
    *,
    bound: float | None = 0.01,
    method: str = "counter",
    tokens_per_s: float | None = 100.0,
    ttft_s: float | None = 0.1,
    tpot_s: float | None = 0.02,
    gpu_w: float | None = None,
    lc: dict[str, Any] | None = None,
) -> LevelResult:
    """One load level whose energy per output token is ``j_per_token`` (``None``: unknown), with its GPU's
    mean power and its request life cycle where given."""
    tokens = 1000.0
    energy = None if j_per_token is None else j_per_token * tokens
    unknown = Figure(value=None, method="unavailable", note="not measured here")
    return LevelResult(
        level=LoadLevel(kind=kind, value=value),
        requests=20,
        completed=20,
        failed=0,
        window_s=10.0,
        window_output_tokens=tokens,
        window_requests_completed=16,
        energy_j=Figure(value=energy, error_bound=None if bound is None else bound * tokens, method=method),
        components={},
        j_per_output_token=Figure(value=j_per_token, error_bound=bound, method=method),
        j_per_request=unknown,
        prefill_energy_j=unknown,
        decode_energy_j=unknown,
        output_tokens_per_request=50.0,
        tokens_per_s=tokens_per_s,
        ttft=_latency(ttft_s),
        tpot=_latency(tpot_s),
        itl=_latency(tpot_s),
        mean_gpu_power_w=unknown if gpu_w is None else Figure(value=gpu_w, method="counter"),
        gpu_utilisation_pct=unknown,
        generator_cpu_s=0.01,
        generator_energy_j=Figure(value=0.1, method="modeled"),
        generator_share=0.001,
        life_cycle=lc,
        life_cycle_note="" if lc is not None else "no GPU is metered on this host",
    )


def result(
    model: str,
    engine: Literal["static", "continuous", "http"],
    levels: list[LevelResult],
    *,
    minutes: int = 0,
    id: str | None = None,
) -> ServingResult:
    """A serving run of ``model`` on ``engine``, created ``minutes`` after T0."""
    extra = {"id": id} if id is not None else {}
    return ServingResult(
        **extra,
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


def store_results(db: Path, results: Iterable[ServingResult]) -> str:
    """Store ``results`` in the SQLite file ``db``; returns its location."""
    where = ""
    for r in results:
        where = save_result(r, str(db))
    return where


def two_models() -> list[ServingResult]:
    """Two models: concurrency sweeps on two engines for one, a rate sweep, and a re-run of one level."""
    c = "concurrency"
    return [
        result(
            "org/small",
            "static",
            [
                level(c, 1, 0.50, ttft_s=0.05),
                level(c, 4, 0.20, ttft_s=0.08),
                level(c, 16, 0.12, ttft_s=0.30),
                level(c, 32, 0.15, ttft_s=0.50),  # slower and costlier than c=16: dominated
            ],
            minutes=0,
        ),
        result(
            "org/small", "continuous", [level(c, 4, 0.18, ttft_s=0.06, method="counter+modeled")], minutes=1
        ),
        result("org/small", "static", [level(c, 1, 0.40, ttft_s=0.05)], minutes=5),  # newer run of c=1
        result(
            "org/large",
            "static",
            [level(c, 1, 2.0, ttft_s=0.2), level(c, 4, 1.1, ttft_s=0.4), level(c, 64, None, ttft_s=None)],
            minutes=2,
        ),
        result(
            "org/large",
            "http",
            [level("rate", 0.5, 1.5, ttft_s=0.3), level("rate", 2, 0.9, ttft_s=0.9)],
            minutes=3,
        ),
    ]
