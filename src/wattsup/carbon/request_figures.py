"""The figures of a served request's life cycle: each boundary's energy, carbon and water for the window,
per request and per 1,000 output tokens, and the record that holds both boundaries with every source
(see :mod:`wattsup.carbon.request`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon.operational import GRAMS_PER_KG, operational_kg
from wattsup.carbon.outputs import EmbodiedHardware
from wattsup.carbon.request_sources import Location
from wattsup.carbon.water import WaterUse, water_use
from wattsup.meter.measurement import JOULES_PER_KWH

BoundaryName = Literal["active", "comprehensive"]
J_PER_WH = 3600.0
ML_PER_L = 1000.0


class EnergyPart(BaseModel):
    """One part of the comprehensive energy over the window, with how it was obtained."""

    model_config = ConfigDict(frozen=True)

    part: Literal["accelerator", "host", "idle capacity", "datacenter overhead"]
    energy_wh: float | None = Field(description="over the window; None: unknown (basis says why)")
    error_bound_wh: float | None = Field(description="from the measured components; None when modelled")
    basis: str


class Figures(BaseModel):
    """The figures of one boundary for one unit (the window, one request, or 1,000 output tokens)."""

    model_config = ConfigDict(frozen=True)

    energy_wh: float
    energy_error_bound_wh: float = Field(description="the measured energies' bound, carried through")
    operational_location_g: float | None = Field(description="gCO2e, location-based; None: no region")
    operational_market_g: float | None = Field(description="gCO2e, market-based; None: unknown")
    embodied_gpu_g: float | None
    embodied_host_g: float | None = Field(description="None under the active boundary or when unknown")
    embodied_g: float | None = Field(description="amortised hardware carbon; None when unknown")
    water_onsite_ml: float | None
    water_offsite_ml: float | None
    water_ml: float | None = Field(description="on site + off site; None when either is unknown")


class BoundaryResult(BaseModel):
    """One boundary's figures for the window, per request and per 1,000 output tokens."""

    model_config = ConfigDict(frozen=True)

    boundary: BoundaryName
    includes: list[str]
    omitted: list[str] = Field(description="parts left out because unknown, each with why: a lower bound")
    energy_relative_bound: float | None = Field(
        description="relative error bound of the energy (and of operational carbon and water, linear in it)"
    )
    methods: list[str] = Field(description="component: method of each measured energy inside")
    market_basis: str
    embodied_basis: str
    water_basis: str
    window: Figures
    per_request: Figures
    per_1k_output_tokens: Figures


class RequestLifeCycle(EmbodiedHardware):
    """The life cycle of a request at one load level, under both boundaries, with every source."""

    load: str
    requests: int
    output_tokens: int
    duration_s: float
    gpus: int
    gpu_utilization: float | None
    host_cpu_model: str | None
    parts: list[EnergyPart]
    active: BoundaryResult
    comprehensive: BoundaryResult
    ratio: float | None = Field(description="comprehensive / active energy; None when the GPU energy is 0")
    gpu_seconds_per_request: float
    region: str | None = Field(description="the grid's code; None: no region given")
    intensity_g_per_kwh: float | None = Field(description="location-based; None: no region given")
    intensity_source: str
    market_intensity_g_per_kwh: float | None
    pue: float
    pue_source: str
    gpu: str | None = Field(description="catalog GPU; None when the name is not in the catalog")
    lifetime_years: float
    lifetime_source: str
    fleet_utilization: float
    fleet_utilization_source: str
    idle_power_w: float | None
    idle_power_source: str

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


def _g(kg: float | None) -> float | None:
    return None if kg is None else kg * GRAMS_PER_KG


def _ml(litres: float | None) -> float | None:
    return None if litres is None else litres * ML_PER_L


def _scaled(f: Figures, divisor: float) -> Figures:
    def d(v: float | None) -> float | None:
        return None if v is None else v / divisor

    return Figures(
        energy_wh=f.energy_wh / divisor,
        energy_error_bound_wh=f.energy_error_bound_wh / divisor,
        operational_location_g=d(f.operational_location_g),
        operational_market_g=d(f.operational_market_g),
        embodied_gpu_g=d(f.embodied_gpu_g),
        embodied_host_g=d(f.embodied_host_g),
        embodied_g=d(f.embodied_g),
        water_onsite_ml=d(f.water_onsite_ml),
        water_offsite_ml=d(f.water_offsite_ml),
        water_ml=d(f.water_ml),
    )


def _water_basis(w: WaterUse) -> str:
    return f"on site: {w.wue_source}; off site: {w.water_intensity_source}"


def boundary_result(
    boundary: BoundaryName,
    *,
    loc: Location,
    it_j: float,
    bound_j: float,
    includes: list[str],
    omitted: list[str],
    methods: list[str],
    embodied_kg: tuple[float | None, float | None],
    embodied_basis: str,
    requests: int,
    output_tokens: int,
) -> BoundaryResult:
    """One boundary's figures from its IT energy ``it_j`` (J, bound ``bound_j``) and its amortised embodied
    carbon ``(GPU, host)`` in kg; the active boundary has no PUE and counts the GPU's embodied carbon only."""
    pue = 1.0 if boundary == "active" else loc.pue
    emb_gpu_kg, emb_host_kg = embodied_kg if boundary == "comprehensive" else (embodied_kg[0], None)
    it_kwh = it_j / JOULES_PER_KWH
    water = water_use(it_kwh, pue, loc.water)
    market, intensity = loc.market_intensity_g_per_kwh, loc.intensity_g_per_kwh
    if boundary == "active":
        emb = emb_gpu_kg
    else:
        emb = None if emb_gpu_kg is None or emb_host_kg is None else emb_gpu_kg + emb_host_kg
    window = Figures(
        energy_wh=it_j * pue / J_PER_WH,
        energy_error_bound_wh=bound_j * pue / J_PER_WH,
        operational_location_g=None
        if intensity is None
        else operational_kg(it_kwh, intensity, pue) * GRAMS_PER_KG,
        operational_market_g=None if market is None else it_kwh * pue * market,
        embodied_gpu_g=_g(emb_gpu_kg),
        embodied_host_g=_g(emb_host_kg),
        embodied_g=_g(emb),
        water_onsite_ml=_ml(water.onsite_l),
        water_offsite_ml=_ml(water.offsite_l),
        water_ml=_ml(water.total_l),
    )
    return BoundaryResult(
        boundary=boundary,
        includes=includes,
        omitted=omitted,
        energy_relative_bound=bound_j / it_j if it_j > 0 else None,
        methods=methods,
        market_basis=loc.market_basis,
        embodied_basis=embodied_basis,
        water_basis=_water_basis(water),
        window=window,
        per_request=_scaled(window, requests),
        per_1k_output_tokens=_scaled(window, output_tokens / 1000.0),
    )
