"""The life-cycle footprint of an AI system: operational (idle and infrastructure energy included when
given), embodied and construction carbon of training and inference on GPU or CPU-only servers, the water
consumed on site and off site, the cost-parity point, and what-if levers (region, time shifting,
utilisation, lifetime, PUE, hardware).

Everything here is a pure function of a :class:`FootprintInput`. Inputs are checked with errors that name
the command-line flag; an unknown figure is ``None`` and the assumptions say why.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wattsup.carbon._data import Bound, default_source, default_value
from wattsup.carbon.amortisation import (
    amortised_embodied_kg,
    check_lifetime,
    check_utilization,
    construction_kg,
    default_lifetime_years,
    default_utilization,
    lifetime_source,
    utilization_source,
)
from wattsup.carbon.grid import GridIntensity, grid_intensity
from wattsup.carbon.hardware import HardwareItem
from wattsup.carbon.hardware import cpu as find_cpu
from wattsup.carbon.hardware import gpu as find_gpu
from wattsup.carbon.hardware import host as find_host
from wattsup.carbon.operational import check_idle_share, idle_energy_kwh, market_intensity, operational_kg
from wattsup.carbon.profile import IntensityProfile, best_window
from wattsup.carbon.pue import default_pue
from wattsup.carbon.water import WaterSite, water_site, water_use
from wattsup.errors import InvalidInput, finite_number
from wattsup.meter.measurement import JOULES_PER_KWH, Measurement

DAYS_PER_YEAR = 365.0


class FootprintInput(BaseModel):
    """Everything a footprint depends on. Field docs name the matching ``wattsup footprint`` flag."""

    model_config = ConfigDict(frozen=True)

    # site
    region: str | None = Field(default=None, description="--region: where the work runs")
    intensity_g_per_kwh: float | None = Field(
        default=None, description="--intensity: location-based gCO2e/kWh"
    )
    pue: float | None = Field(
        default=None, description="--pue (default: the provider's published PUE, else 1.56)"
    )
    cfe_fraction: float | None = Field(
        default=None, description="--cfe: carbon-free share for the market-based figure"
    )
    market_intensity_g_per_kwh: float | None = Field(
        default=None, description="--market-intensity: contractual factor"
    )
    profile: IntensityProfile | None = Field(
        default=None, description="--profile: time-resolved intensity for training"
    )
    wue_l_per_kwh: float | None = Field(
        default=None, description="--wue: on-site water, L per kWh of IT energy (default: the provider's)"
    )
    water_intensity_l_per_kwh: float | None = Field(
        default=None,
        description="--water-intensity: off-site water, L per kWh of electricity (default: the grid's)",
    )
    start: datetime | None = Field(default=None, description="--start: when training starts (with --profile)")
    # hardware
    gpu: str | None = Field(default=None, description="--gpu: catalog GPU name")
    gpus: int = Field(default=1, description="--gpus: GPUs working at once")
    cpu: str | None = Field(
        default=None, description="--cpu: catalog server CPU, for a CPU-only server (instead of --gpu)"
    )
    cpus: int | None = Field(default=None, description="--cpus: CPU sockets working at once (default 1)")
    cpu_embodied_kg: float | None = Field(default=None, description="--cpu-embodied-kg: override per CPU")
    cpus_per_host: int | None = Field(default=None, description="--cpus-per-host: CPU sockets per server")
    cpu_hours: float | None = Field(
        default=None, description="--cpu-hours: training hardware time in CPU-socket-hours"
    )
    inference_cpu_hours: float | None = Field(
        default=None, description="--inference-cpu-hours (default: energy / power)"
    )
    power_w: float | None = Field(
        default=None, description="--power-w: mean power per GPU, or per CPU with --cpu (default: its TDP)"
    )
    embodied_bound: Bound = Field(default="central", description="--embodied-bound: low | central | high")
    gpu_embodied_kg: float | None = Field(default=None, description="--gpu-embodied-kg: override per GPU")
    host: str = Field(
        default="auto", description="--host: catalog host, 'auto' (the GPU's default) or 'none'"
    )
    host_embodied_kg: float | None = Field(default=None, description="--host-embodied-kg: override per host")
    gpus_per_host: int | None = Field(default=None, description="--gpus-per-host")
    lifetime_years: float | None = Field(default=None, description="--lifetime-years (default 5)")
    utilization: float | None = Field(default=None, description="--utilization in (0, 1] (default 0.85)")
    construction_share: float | None = Field(default=None, description="--construction-share (default 0.015)")
    end_of_life_kg_per_gpu: float | None = Field(
        default=None, description="--eol-kg-per-gpu: per GPU, or per CPU with --cpu (default: not included)"
    )
    # training
    training_kwh: float | None = Field(
        default=None, description="--training-kwh / --energy-kwh: measured energy"
    )
    training_gpu_hours: float | None = Field(default=None, description="--gpu-hours")
    training_hours: float | None = Field(default=None, description="--hours: wall-clock hours (x --gpus)")
    finetune_kwh: float = Field(
        default=0.0, description="--finetune-kwh: added to training, counted in parity"
    )
    idle_kwh: float | None = Field(
        default=None,
        description="--idle-kwh: idle and infrastructure IT energy of the training allocation (kWh)",
    )
    idle_share: float | None = Field(
        default=None,
        description="--idle-share: idle and infrastructure share of the allocation's IT energy, in [0, 1) "
        "(training and inference)",
    )
    # inference
    kwh_per_1k: float | None = Field(default=None, description="--kwh-per-1k: energy per 1,000 inferences")
    queries_per_day: float | None = Field(default=None, description="--queries-per-day")
    years: float | None = Field(default=None, description="--years: deployment duration")
    inference_gpu_hours: float | None = Field(
        default=None, description="--inference-gpu-hours (default: energy / power)"
    )

    @property
    def device(self) -> Literal["gpu", "cpu"]:
        """What does the work: GPUs (their host's CPUs are part of the host) or the CPUs of a CPU server."""
        return "cpu" if self.cpu is not None else "gpu"

    @property
    def devices(self) -> int:
        return (self.cpus or 1) if self.device == "cpu" else self.gpus

    @property
    def device_hours(self) -> float | None:
        return self.cpu_hours if self.device == "cpu" else self.training_gpu_hours

    @property
    def inference_device_hours(self) -> float | None:
        return self.inference_cpu_hours if self.device == "cpu" else self.inference_gpu_hours

    @property
    def has_training(self) -> bool:
        return any(
            v is not None
            for v in (self.training_kwh, self.training_gpu_hours, self.cpu_hours, self.training_hours)
        )

    @property
    def has_inference(self) -> bool:
        return any(
            v is not None
            for v in (
                self.kwh_per_1k,
                self.queries_per_day,
                self.years,
                self.inference_gpu_hours,
                self.inference_cpu_hours,
            )
        )


class PhaseFootprint(BaseModel):
    """Operational and embodied carbon of one phase (kgCO2e)."""

    model_config = ConfigDict(frozen=True)

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
    total_kgco2e: float | None = Field(description="operational + embodied + construction")
    total_excluding_embodied_kgco2e: float = Field(
        default=0.0, description="operational + construction: the known part when embodied is unknown"
    )
    water_onsite_l: float | None = Field(default=None, description="(IT energy + idle) x WUE; None: unknown")
    water_offsite_l: float | None = Field(
        default=None, description="(IT energy + idle) x PUE x grid water intensity; None: unknown"
    )
    water_l: float | None = Field(default=None, description="on site + off site; None when either is unknown")


class Assumptions(BaseModel):
    """What a footprint assumed, with sources: shown next to every figure."""

    model_config = ConfigDict(frozen=True)

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
    gpu_embodied_kg: float | None
    gpu_embodied_source: str
    host: str | None
    host_embodied_kg: float | None
    host_embodied_source: str
    gpus_per_host: int | None
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


class Footprint(BaseModel):
    """kgCO2e split operational/embodied x training/inference, with the assumptions used."""

    model_config = ConfigDict(frozen=True)

    operational_kgco2e: float
    operational_idle_kgco2e: float | None = Field(
        default=None, description="idle and infrastructure part of operational; None when not modelled"
    )
    operational_market_kgco2e: float | None
    embodied_kgco2e: float | None = Field(description="hardware (+ end of life when given)")
    construction_kgco2e: float = Field(description="data-centre construction, its own line")
    total_kgco2e: float | None = Field(description="operational + embodied + construction")
    total_excluding_embodied_kgco2e: float = Field(
        default=0.0, description="operational + construction: the known part when embodied is unknown"
    )
    water_onsite_l: float | None = Field(default=None, description="litres on site (cooling); None: unknown")
    water_offsite_l: float | None = Field(
        default=None, description="litres off site (electricity generation); None: unknown"
    )
    water_l: float | None = Field(default=None, description="on site + off site; None when either is unknown")
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


# ---------------------------------------------------------------- validation


def _check_optional(field: str, value: float | None, **bounds: Any) -> None:
    if value is not None:
        finite_number(field, value, **bounds)


def validate_input(inp: FootprintInput) -> None:
    """Raise :class:`InvalidInput` naming the flag of the first bad value."""
    _check_optional("--intensity", inp.intensity_g_per_kwh, minimum=0)
    _check_optional("--pue", inp.pue, minimum=1.0)
    _check_optional("--cfe", inp.cfe_fraction, minimum=0, maximum=1)
    _check_optional("--market-intensity", inp.market_intensity_g_per_kwh, minimum=0)
    _check_optional("--wue", inp.wue_l_per_kwh, minimum=0)
    _check_optional("--water-intensity", inp.water_intensity_l_per_kwh, minimum=0)
    _check_optional("--power-w", inp.power_w, minimum=0, strict_min=True)
    _check_optional("--gpu-embodied-kg", inp.gpu_embodied_kg, minimum=0)
    _check_optional("--host-embodied-kg", inp.host_embodied_kg, minimum=0)
    _check_optional("--construction-share", inp.construction_share, minimum=0, maximum=0.5)
    _check_optional("--eol-kg-per-gpu", inp.end_of_life_kg_per_gpu, minimum=0)
    _check_optional("--training-kwh", inp.training_kwh, minimum=0)
    _check_optional("--gpu-hours", inp.training_gpu_hours, minimum=0)
    _check_optional("--hours", inp.training_hours, minimum=0)
    finite_number("--finetune-kwh", inp.finetune_kwh, minimum=0)
    _check_optional("--idle-kwh", inp.idle_kwh, minimum=0)
    if inp.idle_share is not None:
        check_idle_share(inp.idle_share)
    if inp.idle_kwh is not None and inp.idle_share is not None:
        raise InvalidInput("--idle-share", "give --idle-kwh (measured) or --idle-share, not both")
    if inp.idle_kwh is not None and not inp.has_training:
        raise InvalidInput(
            "--idle-kwh",
            "is the training allocation's idle energy: give the training energy too "
            "(for a deployment use --idle-share)",
        )
    _check_optional("--kwh-per-1k", inp.kwh_per_1k, minimum=0)
    _check_optional("--queries-per-day", inp.queries_per_day, minimum=0)
    _check_optional("--years", inp.years, minimum=0, strict_min=True)
    _check_optional("--inference-gpu-hours", inp.inference_gpu_hours, minimum=0)
    if inp.lifetime_years is not None:
        check_lifetime(inp.lifetime_years)
    if inp.utilization is not None:
        check_utilization(inp.utilization)
    if inp.gpus < 1:
        raise InvalidInput("--gpus", f"must be at least 1, got {inp.gpus}")
    _validate_device(inp)
    if inp.gpus_per_host is not None and inp.gpus_per_host < 1:
        raise InvalidInput("--gpus-per-host", f"must be at least 1, got {inp.gpus_per_host}")
    if inp.region is not None and inp.intensity_g_per_kwh is not None:
        raise InvalidInput("--intensity", "give --region or --intensity, not both")
    if inp.device_hours is not None and inp.training_hours is not None:
        d = inp.device
        raise InvalidInput("--hours", f"give --{d}-hours or --hours (wall-clock, x --{d}s), not both")
    if not inp.has_training and not inp.has_inference:
        raise InvalidInput(
            "--energy-kwh",
            "nothing to assess: give training (--energy-kwh/--training-kwh or --gpu-hours) and/or inference "
            "(--kwh-per-1k with --queries-per-day and --years)",
        )
    if inp.has_inference:
        for flag, v in (
            ("--kwh-per-1k", inp.kwh_per_1k),
            ("--queries-per-day", inp.queries_per_day),
            ("--years", inp.years),
        ):
            if v is None:
                raise InvalidInput(
                    flag, "inference needs --kwh-per-1k, --queries-per-day and --years together"
                )
    if inp.finetune_kwh and not inp.has_training:
        raise InvalidInput(
            "--finetune-kwh", "fine-tuning is counted with training: give the training energy too"
        )
    if inp.profile is not None and inp.start is None:
        raise InvalidInput("--start", "an intensity profile needs the start time of the run (--start)")


def _validate_device(inp: FootprintInput) -> None:
    """GPU flags and CPU flags describe different servers: refuse a mix with a line that says which."""
    if inp.cpu is not None and inp.gpu is not None:
        raise InvalidInput(
            "--cpu",
            "give --gpu (a GPU server: its CPUs are part of the host) or --cpu (a CPU-only server), not both",
        )
    _check_optional("--cpu-embodied-kg", inp.cpu_embodied_kg, minimum=0)
    _check_optional("--cpu-hours", inp.cpu_hours, minimum=0)
    _check_optional("--inference-cpu-hours", inp.inference_cpu_hours, minimum=0)
    for flag, count in (("--cpus", inp.cpus), ("--cpus-per-host", inp.cpus_per_host)):
        if count is not None and count < 1:
            raise InvalidInput(flag, f"must be at least 1, got {count}")
    if inp.cpu is None:
        cpu_flags = {
            "--cpus": inp.cpus,
            "--cpu-embodied-kg": inp.cpu_embodied_kg,
            "--cpus-per-host": inp.cpus_per_host,
            "--cpu-hours": inp.cpu_hours,
            "--inference-cpu-hours": inp.inference_cpu_hours,
        }
        for flag, v in cpu_flags.items():
            if v is not None:
                raise InvalidInput(flag, "describes a CPU-only server: give --cpu NAME too")
        return
    gpu_flags = {
        "--gpus": None if inp.gpus == 1 else inp.gpus,
        "--gpu-embodied-kg": inp.gpu_embodied_kg,
        "--gpus-per-host": inp.gpus_per_host,
        "--gpu-hours": inp.training_gpu_hours,
        "--inference-gpu-hours": inp.inference_gpu_hours,
    }
    for flag, v in gpu_flags.items():
        if v is not None:
            cpu_flag = flag.replace("gpu", "cpu")
            raise InvalidInput(flag, f"describes GPUs; with --cpu use {cpu_flag}")


# ---------------------------------------------------------------- resolution


class _Site(BaseModel):
    grid: GridIntensity | None
    intensity: float | None
    intensity_source: str
    pue: float
    pue_source: str
    water: WaterSite


class _Hardware(BaseModel):
    """The device that does the work (a GPU, or a CPU of a CPU-only server) and its host."""

    device: Literal["gpu", "cpu"]
    item: HardwareItem | None
    power_w: float | None
    power_basis: str
    device_kg: float | None
    device_source: str
    host: HardwareItem | None
    host_kg: float | None
    host_source: str
    per_host: int | None
    per_device_kg: float | None
    lifetime_years: float
    utilization: float
    notes: list[str]

    @property
    def label(self) -> str:
        return "GPU" if self.device == "gpu" else "CPU"


def _site(inp: FootprintInput) -> _Site:
    grid = grid_intensity(inp.region) if inp.region is not None else None
    if inp.intensity_g_per_kwh is not None:
        intensity: float | None = inp.intensity_g_per_kwh
        source = "given (--intensity)"
    elif grid is not None:
        intensity = grid.intensity_g_per_kwh
        via = f" via {' > '.join(grid.via)}" if grid.via else ""
        source = f"{grid.source} ({grid.year}, {grid.licence}){via}"
    else:
        intensity, source = None, "none given"
    needs_annual = inp.has_inference or (inp.has_training and inp.profile is None)
    if intensity is None and needs_annual:
        raise InvalidInput("--region", "give --region CODE or --intensity G_PER_KWH (gCO2e/kWh) for the grid")
    if inp.pue is not None:
        pue, pue_source = inp.pue, "given (--pue)"
    else:
        pv = default_pue(grid.provider if grid is not None else None)
        pue, pue_source = pv.pue, f"{pv.key}: {pv.citation}"
    water = water_site(inp.region, inp.wue_l_per_kwh, inp.water_intensity_l_per_kwh)
    return _Site(
        grid=grid, intensity=intensity, intensity_source=source, pue=pue, pue_source=pue_source, water=water
    )


def _hardware(inp: FootprintInput) -> _Hardware:
    notes: list[str] = []
    device = inp.device
    flag = f"--{device}"
    label = device.upper()
    item: HardwareItem | None
    if device == "cpu":
        assert inp.cpu is not None
        item = find_cpu(inp.cpu)
    else:
        item = find_gpu(inp.gpu) if inp.gpu is not None else None
    if inp.power_w is not None:
        power, power_basis = inp.power_w, "given (--power-w)"
    elif item is not None and item.tdp_w is not None:
        power, power_basis = (
            item.tdp_w,
            f"TDP of {item.name} (an upper bound; pass --power-w for the measured mean)",
        )
    else:
        power, power_basis = None, f"unknown (no --power-w or {flag})"
    override = inp.cpu_embodied_kg if device == "cpu" else inp.gpu_embodied_kg
    device_kg: float | None
    if override is not None:
        device_kg, device_source = override, f"given ({flag}-embodied-kg)"
    elif item is not None and not item.embodied_known:
        err = item.unknown_error()
        device_kg, device_source = None, f"unknown: {err.reason}; {err.how}"
        notes.append(str(err))
    elif item is not None:
        est = item.estimate(inp.embodied_bound)
        device_kg = est.kgco2e
        device_source = f"{inp.embodied_bound}: {est.source} ({est.year}; {est.method}; scope {est.scope})"
        if est.derived:
            device_source += " [derived by a documented wattsup rule, not published]"
        if est.scope == "gpu+host-share":
            notes.append(
                f"the {inp.embodied_bound} {item.name} value already includes part of a host; the host "
                "share is added as well, so this case is conservative"
            )
    else:
        device_kg, device_source = None, f"unknown: give {flag} NAME or {flag}-embodied-kg"
    host_item: HardwareItem | None = None
    if inp.host == "none":
        host_kg: float | None = 0.0
        host_source = "excluded (--host none)"
    else:
        if inp.host == "auto":
            if item is not None and item.default_host is not None:
                host_item = find_host(item.default_host)
        else:
            host_item = find_host(inp.host)
        if inp.host_embodied_kg is not None:
            host_kg, host_source = inp.host_embodied_kg, "given (--host-embodied-kg)"
        elif host_item is not None:
            est = host_item.estimate(inp.embodied_bound)
            host_kg = est.kgco2e
            host_source = f"{host_item.name}, {inp.embodied_bound}: {est.source} ({est.year}; {est.method})"
            if est.derived:
                host_source += " [derived by a documented wattsup rule, not published]"
            if device == "cpu" and inp.embodied_bound == "high" and est.notes:
                notes.append(f"host {host_item.name} (high): {est.notes}")
        else:
            no_host = f"{item.name} has no catalog host: " if item is not None else ""
            host_kg, host_source = (
                None,
                f"unknown: {no_host}give --host NAME, --host-embodied-kg or --host none",
            )
    per_host = inp.cpus_per_host if device == "cpu" else inp.gpus_per_host
    if per_host is None:
        per_host = (host_item.gpus_per_host if host_item is not None else None) or (
            item.gpus_per_host if item is not None else None
        )
    if per_host is None and host_kg:
        per_host = 8 if device == "gpu" else 2
        notes.append(f"{per_host} {label}s per host assumed (pass {flag}s-per-host)")
    per_device: float | None = None
    if device_kg is not None and host_kg is not None:
        per_device = device_kg + (host_kg / per_host if host_kg and per_host else 0.0)
    lifetime = inp.lifetime_years if inp.lifetime_years is not None else default_lifetime_years()
    util = inp.utilization if inp.utilization is not None else default_utilization()
    return _Hardware(
        device=device,
        item=item,
        power_w=power,
        power_basis=power_basis,
        device_kg=device_kg,
        device_source=device_source,
        host=host_item,
        host_kg=host_kg,
        host_source=host_source,
        per_host=per_host,
        per_device_kg=per_device,
        lifetime_years=lifetime,
        utilization=util,
        notes=notes,
    )


def _market(intensity: float, inp: FootprintInput, site: _Site) -> tuple[float | None, str]:
    if inp.market_intensity_g_per_kwh is not None:
        return inp.market_intensity_g_per_kwh, "contractual factor (--market-intensity)"
    if inp.cfe_fraction is not None:
        return market_intensity(
            intensity, cfe_fraction=inp.cfe_fraction
        ), f"CFE share {inp.cfe_fraction:g} (--cfe)"
    g = site.grid
    if g is not None and g.cfe_fraction is not None and inp.intensity_g_per_kwh is None:
        return (
            market_intensity(intensity, cfe_fraction=g.cfe_fraction),
            f"provider CFE share {g.cfe_fraction:g}: {g.cfe_source}",
        )
    return None, "unknown: no --cfe or --market-intensity given (location-based only)"


def _phase(
    phase: Literal["training", "inference"],
    *,
    energy_kwh: float,
    energy_basis: str,
    hours: float | None,
    hours_basis: str,
    intensity: float,
    inp: FootprintInput,
    site: _Site,
    hw: _Hardware,
    share: float,
    inferences: float | None = None,
) -> PhaseFootprint:
    idle: float | None = None
    idle_basis = "not modelled (give --idle-kwh or --idle-share)"
    if inp.idle_kwh is not None and phase == "training":
        idle, idle_basis = inp.idle_kwh, "given (--idle-kwh)"
    elif inp.idle_share is not None:
        idle = idle_energy_kwh(energy_kwh, inp.idle_share)
        idle_basis = f"share {inp.idle_share:g} of the allocation's IT energy (--idle-share)"
    it_kwh = energy_kwh + (idle or 0.0)
    op = operational_kg(it_kwh, intensity, site.pue)
    op_idle = None if idle is None else operational_kg(idle, intensity, site.pue)
    m_int, _ = _market(intensity, inp, site)
    op_m = None if m_int is None else it_kwh * site.pue * m_int / 1000.0
    emb_hw = None
    eol = None
    if hw.per_device_kg is not None and hours is not None:
        emb_hw = amortised_embodied_kg(hw.per_device_kg, hours, hw.lifetime_years, hw.utilization)
    if inp.end_of_life_kg_per_gpu is not None and hours is not None:
        eol = amortised_embodied_kg(inp.end_of_life_kg_per_gpu, hours, hw.lifetime_years, hw.utilization)
    gpu = hw.device == "gpu"
    constr = construction_kg(op, share)
    embodied = None if emb_hw is None else emb_hw + (eol or 0.0)
    water = water_use(it_kwh, site.pue, site.water)
    return PhaseFootprint(
        phase=phase,
        energy_kwh=energy_kwh,
        energy_basis=energy_basis,
        idle_energy_kwh=idle,
        idle_basis=idle_basis,
        facility_energy_kwh=it_kwh * site.pue,
        device=hw.device,
        gpu_hours=hours if gpu else None,
        gpu_hours_basis=hours_basis if gpu else "not a GPU server (see cpu_hours)",
        cpu_hours=None if gpu else hours,
        cpu_hours_basis=None if gpu else hours_basis,
        intensity_g_per_kwh=intensity,
        inferences=inferences,
        operational_kgco2e=op,
        operational_idle_kgco2e=op_idle,
        operational_market_kgco2e=op_m,
        embodied_hardware_kgco2e=emb_hw,
        construction_kgco2e=constr,
        end_of_life_kgco2e=eol,
        embodied_kgco2e=embodied,
        total_kgco2e=None if embodied is None else op + embodied + constr,
        total_excluding_embodied_kgco2e=op + constr,
        water_onsite_l=water.onsite_l,
        water_offsite_l=water.offsite_l,
        water_l=water.total_l,
    )


def _hours_from_energy(energy_kwh: float, hw: _Hardware) -> tuple[float | None, str]:
    if hw.power_w is None:
        return None, f"unknown (no power to turn energy into {hw.label}-hours): embodied not computed"
    return energy_kwh / (hw.power_w / 1000.0), f"energy / {hw.power_w:g} W per {hw.label}"


def _training(
    inp: FootprintInput, site: _Site, hw: _Hardware, share: float, notes: list[str]
) -> PhaseFootprint:
    gpu_hours: float | None = None  # hardware hours of the device: GPU-hours, or CPU-socket-hours
    hours_basis = ""
    if inp.device_hours is not None:
        gpu_hours, hours_basis = inp.device_hours, f"given (--{inp.device}-hours)"
    elif inp.training_hours is not None:
        gpu_hours, hours_basis = (
            inp.devices * inp.training_hours,
            f"{inp.devices} {hw.label}s x {inp.training_hours:g} h (--hours)",
        )
    if inp.training_kwh is not None:
        energy, basis = inp.training_kwh, "given (measured)"
        if gpu_hours is None:
            gpu_hours, hours_basis = _hours_from_energy(energy, hw)
    else:
        if gpu_hours is None or hw.power_w is None:
            raise InvalidInput(
                "--power-w",
                f"turning --{inp.device}-hours into energy needs --power-w or a --{inp.device} with a TDP",
            )
        energy = gpu_hours * hw.power_w / 1000.0
        basis = f"{hw.label}-hours x {hw.power_w:g} W ({hw.power_basis})"
    if inp.finetune_kwh:
        energy += inp.finetune_kwh
        basis += f" + fine-tuning {inp.finetune_kwh:g} kWh"
        if gpu_hours is not None:
            extra, _ = _hours_from_energy(inp.finetune_kwh, hw)
            if extra is None:
                notes.append("fine-tuning hardware time unknown: its embodied share is not included")
            else:
                gpu_hours += extra
    intensity = site.intensity
    if inp.profile is not None and inp.start is not None:
        wall = (
            inp.training_hours
            if inp.training_hours is not None
            else (gpu_hours / inp.devices if gpu_hours is not None else None)
        )
        if wall is None or wall <= 0:
            raise InvalidInput(
                "--hours", f"a profile needs the run's duration: give --hours or --{inp.device}-hours"
            )
        intensity = inp.profile.mean_intensity(inp.start, inp.start + timedelta(hours=wall))
        notes.append(
            f"training intensity: mean of {inp.profile.source} over {wall:g} h from {inp.start.isoformat()}"
        )
    assert intensity is not None  # _site guarantees it when no profile is given
    return _phase(
        "training",
        energy_kwh=energy,
        energy_basis=basis,
        hours=gpu_hours,
        hours_basis=hours_basis or "unknown",
        intensity=intensity,
        inp=inp,
        site=site,
        hw=hw,
        share=share,
    )


def _inference(inp: FootprintInput, site: _Site, hw: _Hardware, share: float) -> PhaseFootprint:
    assert inp.kwh_per_1k is not None and inp.queries_per_day is not None and inp.years is not None
    assert site.intensity is not None
    inferences = inp.queries_per_day * DAYS_PER_YEAR * inp.years
    energy = inp.kwh_per_1k * inferences / 1000.0
    basis = f"{inp.kwh_per_1k:g} kWh/1k x {inp.queries_per_day:g}/day x {DAYS_PER_YEAR:g} d x {inp.years:g} y"
    if inp.inference_device_hours is not None:
        gpu_hours: float | None = inp.inference_device_hours
        hours_basis = f"given (--inference-{inp.device}-hours)"
    else:
        gpu_hours, hours_basis = _hours_from_energy(energy, hw)
    return _phase(
        "inference",
        energy_kwh=energy,
        energy_basis=basis,
        hours=gpu_hours,
        hours_basis=hours_basis,
        intensity=site.intensity,
        inp=inp,
        site=site,
        hw=hw,
        share=share,
        inferences=inferences,
    )


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def parity_inferences(
    training_kwh: float, kwh_per_inference: float, finetune_kwh: float = 0.0
) -> float | None:
    """Power Hungry Processing's cost parity: inferences whose energy equals training + fine-tuning.
    ``None`` when an inference costs nothing (parity is never reached)."""
    t = finite_number("--training-kwh", training_kwh, minimum=0)
    f = finite_number("--finetune-kwh", finetune_kwh, minimum=0)
    per = finite_number("--kwh-per-1k", kwh_per_inference, minimum=0)
    return None if per == 0 else (t + f) / per


def _idle_text(inp: FootprintInput) -> str:
    if inp.idle_kwh is not None:
        rest = " (not for inference: give --idle-share)" if inp.has_inference else ""
        return f"training: {inp.idle_kwh:g} kWh given (--idle-kwh){rest}"
    if inp.idle_share is not None:
        return f"share {inp.idle_share:g} of the allocation's IT energy (--idle-share), every phase"
    return (
        "not included: operational counts the work's energy only; give --idle-kwh (measured) or "
        "--idle-share for the idle and infrastructure energy of the allocation"
    )


def footprint(inp: FootprintInput) -> Footprint:
    """The life-cycle footprint of a training run and/or an inference deployment."""
    validate_input(inp)
    site = _site(inp)
    hw = _hardware(inp)
    share = (
        inp.construction_share if inp.construction_share is not None else default_value("construction_share")
    )
    notes = list(hw.notes)
    training = _training(inp, site, hw, share, notes) if inp.has_training else None
    inference = _inference(inp, site, hw, share) if inp.has_inference else None
    phases = [p for p in (training, inference) if p is not None]
    operational = sum(p.operational_kgco2e for p in phases)
    idle_ops = [p.operational_idle_kgco2e for p in phases if p.operational_idle_kgco2e is not None]
    operational_idle = sum(idle_ops) if idle_ops else None
    market = _sum([p.operational_market_kgco2e for p in phases])
    embodied = _sum([p.embodied_kgco2e for p in phases])
    construction = sum(p.construction_kgco2e for p in phases)
    if embodied is None:
        notes.append(
            "embodied carbon unknown (see the hardware and host sources): the total is not computed; "
            "total_excluding_embodied_kgco2e (operational + construction) excludes embodied"
        )
    missing = [
        flag
        for flag, v in (
            ("--wue", site.water.wue_l_per_kwh),
            ("--water-intensity", site.water.water_intensity_l_per_kwh),
        )
        if v is None
    ]
    if missing:
        notes.append(
            "water total unknown: no published "
            + " or ".join("on-site WUE" if f == "--wue" else "grid water intensity" for f in missing)
            + f" for this site (pass {' and '.join(missing)})"
        )
    parity = parity_days = parity_carbon = None
    if training is not None and inference is not None:
        assert inp.kwh_per_1k is not None and inp.queries_per_day is not None
        parity = parity_inferences(training.energy_kwh, inp.kwh_per_1k / 1000.0)
        if parity is not None and inp.queries_per_day > 0:
            parity_days = parity / inp.queries_per_day
        if training.total_kgco2e is not None and inference.total_kgco2e and inference.inferences:
            parity_carbon = training.total_kgco2e / (inference.total_kgco2e / inference.inferences)
    grid = site.grid
    gpu = hw.device == "gpu"
    m_int, m_basis = _market(site.intensity, inp, site) if site.intensity is not None else (None, "unknown")
    eol = (
        f"{inp.end_of_life_kg_per_gpu:g} kg per GPU (--eol-kg-per-gpu), amortised like embodied"
        if inp.end_of_life_kg_per_gpu is not None
        else "not included: none of the catalog's sources gives an end-of-life value"
    )
    assumptions = Assumptions(
        region=grid.code if grid is not None else None,
        region_name=grid.name if grid is not None else None,
        intensity_g_per_kwh=site.intensity,
        intensity_source=site.intensity_source,
        intensity_year=grid.year if grid is not None and inp.intensity_g_per_kwh is None else None,
        intensity_licence=grid.licence if grid is not None and inp.intensity_g_per_kwh is None else None,
        intensity_via=grid.via if grid is not None else [],
        market_intensity_g_per_kwh=m_int,
        market_basis=m_basis,
        pue=site.pue,
        pue_source=site.pue_source,
        wue_l_per_kwh=site.water.wue_l_per_kwh,
        wue_source=site.water.wue_source,
        water_intensity_l_per_kwh=site.water.water_intensity_l_per_kwh,
        water_intensity_source=site.water.water_intensity_source,
        device=hw.device,
        gpu=hw.item.name if hw.item is not None and gpu else None,
        gpus=inp.gpus if gpu else 0,
        cpu=hw.item.name if hw.item is not None and not gpu else None,
        cpus=None if gpu else inp.devices,
        cpu_embodied_kg=None if gpu else hw.device_kg,
        cpu_embodied_source=None if gpu else hw.device_source,
        cpus_per_host=None if gpu else hw.per_host,
        embodied_per_cpu_kg=None if gpu else hw.per_device_kg,
        power_w=hw.power_w,
        power_basis=hw.power_basis,
        embodied_bound=inp.embodied_bound,
        gpu_embodied_kg=hw.device_kg if gpu else None,
        gpu_embodied_source=hw.device_source if gpu else "not a GPU server (--cpu)",
        host=hw.host.name if hw.host is not None else ("none" if inp.host == "none" else None),
        host_embodied_kg=hw.host_kg,
        host_embodied_source=hw.host_source,
        gpus_per_host=hw.per_host if gpu else None,
        embodied_per_gpu_kg=hw.per_device_kg if gpu else None,
        lifetime_years=hw.lifetime_years,
        lifetime_source="given (--lifetime-years)" if inp.lifetime_years is not None else lifetime_source(),
        utilization=hw.utilization,
        utilization_source="given (--utilization)" if inp.utilization is not None else utilization_source(),
        construction_share=share,
        construction_source=(
            "given (--construction-share)"
            if inp.construction_share is not None
            else default_source("construction_share")
        ),
        idle=_idle_text(inp),
        end_of_life=eol,
        profile=inp.profile.source if inp.profile is not None else None,
        notes=notes,
    )
    return Footprint(
        operational_kgco2e=operational,
        operational_idle_kgco2e=operational_idle,
        operational_market_kgco2e=market,
        embodied_kgco2e=embodied,
        construction_kgco2e=construction,
        total_kgco2e=None if embodied is None else operational + embodied + construction,
        total_excluding_embodied_kgco2e=operational + construction,
        water_onsite_l=_sum([p.water_onsite_l for p in phases]),
        water_offsite_l=_sum([p.water_offsite_l for p in phases]),
        water_l=_sum([p.water_l for p in phases]),
        training=training,
        inference=inference,
        parity_inferences=parity,
        parity_days=parity_days,
        parity_inferences_carbon=parity_carbon,
        assumptions=assumptions,
    )


def footprint_from_measurement(measurement: Measurement, **kwargs: Any) -> Footprint:
    """The footprint of one metered job: its energy and wall time become the training phase."""
    return footprint(
        FootprintInput(
            training_kwh=measurement.total_energy_j / JOULES_PER_KWH,
            training_hours=measurement.duration_s / 3600.0,
            **kwargs,
        )
    )


def kwh_per_1k(measurement: Measurement, inferences: int) -> float:
    """kWh per 1,000 inferences from a metered window that ran ``inferences`` of them."""
    if inferences <= 0:
        raise InvalidInput("inferences", f"must be at least 1, got {inferences}")
    return measurement.total_energy_j / JOULES_PER_KWH / inferences * 1000.0


# ---------------------------------------------------------------- what-if levers

LEVERS = ("region", "intensity", "pue", "utilization", "lifetime", "gpu", "speedup", "deadline")


def scenario(
    inp: FootprintInput,
    *,
    region: str | None = None,
    intensity_g_per_kwh: float | None = None,
    pue: float | None = None,
    utilization: float | None = None,
    lifetime_years: float | None = None,
    gpu: str | None = None,
    speedup: float | None = None,
    deadline: datetime | None = None,
) -> tuple[FootprintInput, tuple[datetime, datetime] | None]:
    """The input of an alternative scenario (and the chosen run window when shifting in time)."""
    changes: dict[str, Any] = {}
    window: tuple[datetime, datetime] | None = None
    if region is not None or intensity_g_per_kwh is not None:
        if region is not None and intensity_g_per_kwh is not None:
            raise InvalidInput("--what-if", "change region or intensity, not both")
        changes.update(
            region=region,
            intensity_g_per_kwh=intensity_g_per_kwh,
            profile=None,
            start=None,
            cfe_fraction=inp.cfe_fraction,
            market_intensity_g_per_kwh=inp.market_intensity_g_per_kwh,
        )
    if pue is not None:
        changes["pue"] = finite_number("--what-if pue", pue, minimum=1.0)
    if utilization is not None:
        changes["utilization"] = check_utilization(utilization)
    if lifetime_years is not None:
        changes["lifetime_years"] = check_lifetime(lifetime_years)
    if gpu is not None or speedup is not None:
        changes.update(_hardware_change(inp, gpu, speedup))
    if deadline is not None:
        if inp.profile is None or inp.start is None:
            raise InvalidInput("--deadline", "shifting in time needs --profile and --start")
        base_hw = _hardware(inp)
        hours = inp.training_hours
        if hours is None:
            gh = inp.device_hours
            if gh is None and inp.training_kwh is not None and base_hw.power_w is not None:
                gh = inp.training_kwh / (base_hw.power_w / 1000.0)
            if gh is None:
                raise InvalidInput(
                    "--hours",
                    f"shifting in time needs the run's duration: give --hours or --{inp.device}-hours",
                )
            hours = gh / inp.devices
        w = best_window(inp.profile, hours, deadline=deadline, earliest=inp.start)
        changes["start"] = w.start
        window = (w.start, w.end)
    return inp.model_copy(update=changes), window


def _hardware_change(inp: FootprintInput, gpu: str | None, speedup: float | None) -> dict[str, Any]:
    s = 1.0 if speedup is None else finite_number("--what-if speedup", speedup, minimum=0, strict_min=True)
    if inp.cpu is not None and gpu is not None:
        raise InvalidInput(
            "--what-if", "gpu=... changes the GPU of a GPU server; this footprint is of a CPU server"
        )
    if inp.cpu is not None:
        return _cpu_speedup(inp, speedup)
    old = find_gpu(inp.gpu) if inp.gpu is not None else None
    new = find_gpu(gpu, "--what-if gpu") if gpu is not None else old
    p_old = inp.power_w if inp.power_w is not None else (old.tdp_w if old is not None else None)
    p_new = p_old
    if new is not None and new is not old and new.tdp_w is not None:
        p_new = new.tdp_w
        if inp.power_w is not None and old is not None and old.tdp_w:
            p_new = new.tdp_w * inp.power_w / old.tdp_w  # same load relative to the TDP
    if (p_old is None or p_new is None) and new is not old:
        raise InvalidInput("--what-if", "changing the GPU needs the current power: give --gpu or --power-w")
    energy_scale = (p_new / p_old if p_old and p_new else 1.0) / s

    def scaled(v: float | None, k: float) -> float | None:
        return None if v is None else v * k

    return {
        "gpu": new.name if new is not None else None,
        "gpu_embodied_kg": None if new is not old else inp.gpu_embodied_kg,
        "power_w": p_new if inp.power_w is not None else None,
        "training_kwh": scaled(inp.training_kwh, energy_scale),
        "training_gpu_hours": scaled(inp.training_gpu_hours, 1.0 / s),
        "training_hours": scaled(inp.training_hours, 1.0 / s),
        "finetune_kwh": inp.finetune_kwh * energy_scale,
        "kwh_per_1k": scaled(inp.kwh_per_1k, energy_scale),
        "inference_gpu_hours": scaled(inp.inference_gpu_hours, 1.0 / s),
    }


def _cpu_speedup(inp: FootprintInput, speedup: float | None) -> dict[str, Any]:
    s = 1.0 if speedup is None else finite_number("--what-if speedup", speedup, minimum=0, strict_min=True)

    def scaled(v: float | None) -> float | None:
        return None if v is None else v / s

    return {
        "training_kwh": scaled(inp.training_kwh),
        "cpu_hours": scaled(inp.cpu_hours),
        "training_hours": scaled(inp.training_hours),
        "finetune_kwh": inp.finetune_kwh / s,
        "kwh_per_1k": scaled(inp.kwh_per_1k),
        "inference_cpu_hours": scaled(inp.inference_cpu_hours),
    }


def what_if(
    inp: FootprintInput, base: Footprint | None = None, label: str | None = None, **changes: Any
) -> WhatIf:
    """Recompute the footprint with some levers changed (see :func:`scenario`) and compare with the base."""
    base = base or footprint(inp)
    alt_inp, window = scenario(inp, **changes)
    alt = footprint(alt_inp)
    delta = None
    frac = None
    basis: Literal["total", "operational", "none"] = "none"
    if alt.total_kgco2e is not None and base.total_kgco2e is not None:
        delta, basis = alt.total_kgco2e - base.total_kgco2e, "total"
        frac = delta / base.total_kgco2e if base.total_kgco2e else None
    elif alt.total_kgco2e is None and base.total_kgco2e is None:
        delta, basis = alt.operational_kgco2e - base.operational_kgco2e, "operational"
        frac = delta / base.operational_kgco2e if base.operational_kgco2e else None
    shown = {
        k: (v.isoformat() if isinstance(v, datetime) else str(v)) for k, v in changes.items() if v is not None
    }
    return WhatIf(
        label=label or ", ".join(f"{k}={v}" for k, v in shown.items()),
        changes=shown,
        footprint=alt,
        total_kgco2e=alt.total_kgco2e,
        delta_kgco2e=delta,
        delta_fraction=frac,
        basis=basis,
        window=window,
    )
