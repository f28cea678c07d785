"""What ``wattsup serve`` reports: per load level, energy per output token and per request with their
methods and bounds, the prefill/decode split where it exists, throughput, latency percentiles, GPU power and
utilisation, and the load generator's own cost; and the run's provenance."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wattsup.records import Provenance
from wattsup.serving.engines.base import EngineInfo
from wattsup.serving.load import LoadLevel

__all__ = ["ComponentFigure", "Figure", "LatencyStats", "LevelResult", "ServingResult", "WindowFigures"]


class Figure(BaseModel):
    """A figure with its method. ``value`` is ``None`` when it is unknown here (``note`` says why): never a
    silent zero. ``error_bound`` is ± in the same unit (the meter's bound, ≥95% of windows)."""

    model_config = ConfigDict(frozen=True)

    value: float | None
    error_bound: float | None = None
    method: str
    note: str = ""


class ComponentFigure(BaseModel):
    model_config = ConfigDict(frozen=True)

    energy_j: float
    error_bound_j: float
    method: str
    partial: bool = False
    detail: str = ""


class LatencyStats(BaseModel):
    """Percentiles (seconds) over the steady window's requests; ``method`` says where the times came from."""

    model_config = ConfigDict(frozen=True)

    p50_s: float | None
    p99_s: float | None
    mean_s: float | None
    n: int
    method: str


class WindowFigures(BaseModel):
    """What the steady-state window gives: its energy and the figures derived from it (unknown without)."""

    window_s: float | None = Field(description="steady-state window length; None when no window formed")
    window_output_tokens: float
    window_requests_completed: int
    energy_j: Figure = Field(description="the steady-state window's energy over every component")
    components: dict[str, ComponentFigure]
    j_per_output_token: Figure
    j_per_request: Figure
    tokens_per_s: float | None
    mean_gpu_power_w: Figure
    generator_energy_j: Figure
    generator_share: float | None = Field(description="generator energy / window energy (target ≤ 1%)")
    background_cpu_share: float | None = None

    @classmethod
    def unknown(cls) -> WindowFigures:
        """No steady-state window formed: every figure of it unknown, none zero but the counts."""
        unknown = Figure(value=None, method="unavailable", note="no steady-state window formed")
        return cls(
            window_s=None,
            window_output_tokens=0.0,
            window_requests_completed=0,
            energy_j=unknown,
            components={},
            j_per_output_token=unknown,
            j_per_request=unknown,
            tokens_per_s=None,
            mean_gpu_power_w=unknown,
            generator_energy_j=unknown,
            generator_share=None,
        )


class LevelResult(WindowFigures):
    """One load level: its requests, the steady-state window's figures (:class:`WindowFigures`), the
    prefill/decode split, latencies and warnings."""

    level: LoadLevel
    requests: int
    completed: int
    failed: int
    errors: list[str] = Field(default_factory=list, description="distinct error messages, first ten")
    prefill_energy_j: Figure
    decode_energy_j: Figure
    output_tokens_per_request: float | None
    ttft: LatencyStats
    tpot: LatencyStats
    itl: LatencyStats
    gpu_utilisation_pct: Figure
    generator_cpu_s: float = Field(description="the load generator's own CPU time inside the window")
    life_cycle: dict[str, Any] | None = Field(
        default=None,
        description="the steady window's RequestLifeCycle (wattsup.carbon.request) as a dict: per request "
        "and per 1,000 output tokens under the active-accelerator and comprehensive boundaries; None: "
        "life_cycle_note says why",
    )
    life_cycle_note: str = ""
    warnings: list[str] = Field(default_factory=list)


class ServingResult(BaseModel):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16])
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    engine: EngineInfo
    profile: str = Field(
        description="the prompt profile the requests were drawn from: chat, summarisation, ..."
    )
    profile_source: str = Field(description="where the profile's length distributions come from (a citation)")
    seed: int = Field(description="seed of the drawn prompts (lengths and words) and of open-loop arrivals")
    requests_per_level: int
    max_input_tokens: int | None = Field(
        default=None, description="cap on each drawn prompt length (tokens); None: the profile's own bound"
    )
    max_output_tokens: int | None = Field(
        default=None, description="cap on each drawn output length (tokens); None: the profile's own bound"
    )
    levels: list[LevelResult]
    provenance: Provenance
    gpu_model: str | None = Field(default=None, description="NVML's name of the GPUs; None: no GPU seen")
    gpu_idle_power_w: Figure | None = Field(
        default=None, description="each GPU's mean power over a metered idle window before the load"
    )
    carbon_options: dict[str, Any] = Field(
        default_factory=dict, description="region, PUE, WUE ... given to wattsup serve (None: default)"
    )
