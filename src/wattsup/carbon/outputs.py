"""What a life-cycle footprint gives: per phase (training, inference) and in total, operational, embodied
and construction carbon, water, the cost-parity point and the assumptions used; and a what-if scenario's
comparison with its base."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon._data import Bound


class Totals(BaseModel):
    """The totals of a footprint or of one of its phases: carbon, and water on and off site."""

    model_config = ConfigDict(frozen=True)

    total_kgco2e: float | None = Field(description="operational + embodied + construction")
    total_excluding_embodied_kgco2e: float = Field(
        default=0.0, description="operational + construction: the known part when embodied is unknown"
    )
    water_onsite_l: float | None = Field(
        default=None, description="litres on site (cooling): (IT energy + idle) x WUE; None: unknown"
    )
    water_offsite_l: float | None = Field(
        default=None,
        description="litres off site (electricity generation): (IT energy + idle) x PUE x grid water "
        "intensity; None: unknown",
    )
    water_l: float | None = Field(default=None, description="on site + off site; None when either is unknown")


class EmbodiedHardware(BaseModel):
    """The GPU and host whose embodied carbon is amortised, with the sources of their figures."""

    model_config = ConfigDict(frozen=True)

    gpu_embodied_kg: float | None
    gpu_embodied_source: str
    host: str | None
    host_embodied_kg: float | None
    host_embodied_source: str
    gpus_per_host: int | None


class PhaseFootprint(Totals):
    """Operational and embodied carbon of one phase (kgCO2e)."""

    phase: Literal["training", "inference"]
    energy_kwh: float = Field(description="IT energy of the work itself (dynamic)")
    energy_basis: str
    idle_energy_kwh: float | None = Field(
        default=None,
        description="idle and infrastructure IT energy of the allocation; None when not modelled",
    )
    idle_basis: str = "not modelled (give --idle-kwh or --idle-share)"
    facility_energy_kwh: float = Field(description="(IT energy + idle) x PUE")
    device: Literal["gpu", "cpu"] = Field(default="gpu", description="what does the work")
    gpu_hours: float | None = Field(description="GPU-hours; None for a CPU-only server (see cpu_hours)")
    gpu_hours_basis: str
    cpu_hours: float | None = Field(default=None, description="CPU-socket-hours of a CPU-only server")
    cpu_hours_basis: str | None = None
    intensity_g_per_kwh: float = Field(description="effective location-based intensity (profile mean if any)")
    inferences: float | None = None
    operational_kgco2e: float = Field(description="location-based, idle and infrastructure included")
    operational_idle_kgco2e: float | None = Field(
        default=None, description="the idle and infrastructure part of operational_kgco2e"
    )
    operational_market_kgco2e: float | None = Field(
        description="market-based; None when no CFE or contract given"
    )
    embodied_hardware_kgco2e: float | None
    construction_kgco2e: float = Field(description="data-centre construction: its own line, not in embodied")
    end_of_life_kgco2e: float | None
    embodied_kgco2e: float | None = Field(
        description="hardware (+ end of life when given); None if hardware unknown. Construction is apart"
    )


class Assumptions(EmbodiedHardware):
    """What a footprint assumed, with sources: shown next to every figure."""

    region: str | None
    region_name: str | None
    intensity_g_per_kwh: float | None
    intensity_source: str
    intensity_year: int | None
    intensity_licence: str | None
    intensity_via: list[str] = Field(default_factory=list)
    market_intensity_g_per_kwh: float | None
    market_basis: str
    pue: float
    pue_source: str
    wue_l_per_kwh: float | None = Field(default=None, description="on-site water, L/kWh of IT energy")
    wue_source: str = ""
    water_intensity_l_per_kwh: float | None = Field(
        default=None, description="off-site water, L/kWh of electricity"
    )
    water_intensity_source: str = ""
    device: Literal["gpu", "cpu"] = "gpu"
    gpu: str | None
    gpus: int = Field(description="GPUs working at once; 0 for a CPU-only server")
    cpu: str | None = None
    cpus: int | None = Field(default=None, description="CPU sockets working at once (CPU-only server)")
    cpu_embodied_kg: float | None = None
    cpu_embodied_source: str | None = None
    cpus_per_host: int | None = None
    embodied_per_cpu_kg: float | None = Field(default=None, description="CPU + its share of the host")
    power_w: float | None
    power_basis: str
    embodied_bound: Bound
    embodied_per_gpu_kg: float | None
    lifetime_years: float
    lifetime_source: str
    utilization: float
    utilization_source: str
    construction_share: float
    construction_source: str
    idle: str = Field(description="how idle and infrastructure energy was counted, or that it was not")
    end_of_life: str
    profile: str | None
    notes: list[str] = Field(default_factory=list)


class Footprint(Totals):
    """kgCO2e split operational/embodied x training/inference, with the assumptions used."""

    operational_kgco2e: float
    operational_idle_kgco2e: float | None = Field(
        default=None, description="idle and infrastructure part of operational; None when not modelled"
    )
    operational_market_kgco2e: float | None
    embodied_kgco2e: float | None = Field(description="hardware (+ end of life when given)")
    construction_kgco2e: float = Field(description="data-centre construction, its own line")
    training: PhaseFootprint | None
    inference: PhaseFootprint | None
    parity_inferences: float | None = Field(
        default=None,
        description="(training + fine-tuning energy) / energy per inference (Power Hungry Processing)",
    )
    parity_days: float | None = None
    parity_inferences_carbon: float | None = Field(default=None, description="same parity on total carbon")
    assumptions: Assumptions

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class WhatIf(BaseModel):
    """One alternative scenario and how it compares with the base footprint."""

    model_config = ConfigDict(frozen=True)

    label: str
    changes: dict[str, str]
    footprint: Footprint
    total_kgco2e: float | None
    delta_kgco2e: float | None
    delta_fraction: float | None
    basis: Literal["total", "operational", "none"] = Field(
        default="total",
        description="what the delta compares: totals, or operational when embodied is unknown in both",
    )
    window: tuple[datetime, datetime] | None = None
