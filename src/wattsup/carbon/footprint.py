"""The life-cycle footprint of an AI system: operational (idle and infrastructure energy included when
given), embodied and construction carbon of training and inference on GPU or CPU-only servers, the water
consumed on site and off site and the cost-parity point (what-if levers: :mod:`wattsup.carbon.whatif`).

Everything here is a pure function of a :class:`FootprintInput` (checked when it is made, with errors that
name the command-line flag); an unknown figure is ``None`` and the assumptions say why.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal, NamedTuple

from wattsup.carbon._data import default_source, default_value
from wattsup.carbon.amortisation import (
    amortised_embodied_kg,
    construction_kg,
    lifetime_source,
    utilization_source,
)
from wattsup.carbon.inputs import FootprintInput, validate_input
from wattsup.carbon.operational import idle_energy_kwh, operational_kg
from wattsup.carbon.outputs import Assumptions, Footprint, PhaseFootprint, WhatIf
from wattsup.carbon.resolve import Hardware, Site, hardware_of, market_of, site_of
from wattsup.carbon.water import water_use
from wattsup.errors import InvalidInput, finite_number
from wattsup.meter.measurement import JOULES_PER_KWH, Measurement

__all__ = [
    "Assumptions",
    "Footprint",
    "FootprintInput",
    "PhaseFootprint",
    "WhatIf",
    "footprint",
    "footprint_from_measurement",
    "kwh_per_1k",
    "parity_inferences",
    "validate_input",
]

DAYS_PER_YEAR = 365.0


class _Work(NamedTuple):
    """What a phase did: its IT energy, the hardware time it held and the grid intensity it ran at."""

    phase: Literal["training", "inference"]
    energy_kwh: float
    energy_basis: str
    hours: float | None
    hours_basis: str
    intensity: float
    inferences: float | None = None


def _phase(work: _Work, inp: FootprintInput, site: Site, hw: Hardware, share: float) -> PhaseFootprint:
    """The footprint of ``work`` on the site and hardware: operational, embodied, construction, water."""
    phase, energy_kwh, energy_basis, hours, hours_basis, intensity, inferences = work
    idle: float | None = None
    idle_basis = "not modelled (give --idle-kwh or --idle-share)"
    if inp.idle_kwh is not None and phase == "training":
        idle, idle_basis = inp.idle_kwh, "given (--idle-kwh)"
    elif inp.idle_share is not None:
        idle = idle_energy_kwh(energy_kwh, inp.idle_share)
        idle_basis = f"share {inp.idle_share:g} of the allocation's IT energy (--idle-share)"
    it_kwh = (energy_kwh + (idle or 0.0)) * (1.0 + (inp.network_share or 0.0))
    op = operational_kg(it_kwh, intensity, site.pue)
    op_idle = None if idle is None else operational_kg(idle, intensity, site.pue)
    m_int, _ = market_of(intensity, inp, site)
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


def _hours_from_energy(energy_kwh: float, hw: Hardware) -> tuple[float | None, str]:
    if hw.power_w is None:
        return None, f"unknown (no power to turn energy into {hw.label}-hours): embodied not computed"
    return energy_kwh / (hw.power_w / 1000.0), f"energy / {hw.power_w:g} W per {hw.label}"


def _training(inp: FootprintInput, site: Site, hw: Hardware, notes: list[str]) -> _Work:
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
    return _Work("training", energy, basis, gpu_hours, hours_basis or "unknown", intensity)


def _inference(inp: FootprintInput, site: Site, hw: Hardware) -> _Work:
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
    return _Work("inference", energy, basis, gpu_hours, hours_basis, site.intensity, inferences)


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


def _water_notes(site: Site) -> list[str]:
    missing = [
        flag
        for flag, v in (
            ("--wue", site.water.wue_l_per_kwh),
            ("--water-intensity", site.water.water_intensity_l_per_kwh),
        )
        if v is None
    ]
    if not missing:
        return []
    return [
        "water total unknown: no published "
        + " or ".join("on-site WUE" if f == "--wue" else "grid water intensity" for f in missing)
        + f" for this site (pass {' and '.join(missing)})"
    ]


def _parity(
    inp: FootprintInput, training: PhaseFootprint | None, inference: PhaseFootprint | None
) -> tuple[float | None, float | None, float | None]:
    """Inferences (and days) whose energy equals training's, and the same parity on total carbon."""
    if training is None or inference is None:
        return None, None, None
    assert inp.kwh_per_1k is not None and inp.queries_per_day is not None
    parity = parity_inferences(training.energy_kwh, inp.kwh_per_1k / 1000.0)
    days = parity / inp.queries_per_day if parity is not None and inp.queries_per_day > 0 else None
    carbon = None
    if training.total_kgco2e is not None and inference.total_kgco2e and inference.inferences:
        carbon = training.total_kgco2e / (inference.total_kgco2e / inference.inferences)
    return parity, days, carbon


def _site_assumptions(inp: FootprintInput, site: Site) -> dict[str, Any]:
    grid = site.grid
    given = inp.intensity_g_per_kwh is not None
    m_int, m_basis = market_of(site.intensity, inp, site) if site.intensity is not None else (None, "unknown")
    return {
        "region": grid.code if grid is not None else None,
        "region_name": grid.name if grid is not None else None,
        "intensity_g_per_kwh": site.intensity,
        "intensity_source": site.intensity_source,
        "intensity_year": grid.year if grid is not None and not given else None,
        "intensity_licence": grid.licence if grid is not None and not given else None,
        "intensity_via": grid.via if grid is not None else [],
        "market_intensity_g_per_kwh": m_int,
        "market_basis": m_basis,
        "pue": site.pue,
        "pue_source": site.pue_source,
        "wue_l_per_kwh": site.water.wue_l_per_kwh,
        "wue_source": site.water.wue_source,
        "water_intensity_l_per_kwh": site.water.water_intensity_l_per_kwh,
        "water_intensity_source": site.water.water_intensity_source,
    }


def _hardware_assumptions(inp: FootprintInput, hw: Hardware) -> dict[str, Any]:
    gpu = hw.device == "gpu"
    name = hw.item.name if hw.item is not None else None
    return {
        "device": hw.device,
        "gpu": name if gpu else None,
        "gpus": inp.gpus if gpu else 0,
        "cpu": None if gpu else name,
        "cpus": None if gpu else inp.devices,
        "cpu_embodied_kg": None if gpu else hw.device_kg,
        "cpu_embodied_source": None if gpu else hw.device_source,
        "cpus_per_host": None if gpu else hw.per_host,
        "embodied_per_cpu_kg": None if gpu else hw.per_device_kg,
        "power_w": hw.power_w,
        "power_basis": hw.power_basis,
        "embodied_bound": inp.embodied_bound,
        "gpu_embodied_kg": hw.device_kg if gpu else None,
        "gpu_embodied_source": hw.device_source if gpu else "not a GPU server (--cpu)",
        "host": hw.host.name if hw.host is not None else ("none" if inp.host == "none" else None),
        "host_embodied_kg": hw.host_kg,
        "host_embodied_source": hw.host_source,
        "gpus_per_host": hw.per_host if gpu else None,
        "embodied_per_gpu_kg": hw.per_device_kg if gpu else None,
        "lifetime_years": hw.lifetime_years,
        "lifetime_source": "given (--lifetime-years)"
        if inp.lifetime_years is not None
        else lifetime_source(),
        "utilization": hw.utilization,
        "utilization_source": (
            "given (--utilization)" if inp.utilization is not None else utilization_source()
        ),
    }


def _assumptions(
    inp: FootprintInput, site: Site, hw: Hardware, share: float, notes: list[str]
) -> Assumptions:
    eol = (
        f"{inp.end_of_life_kg_per_gpu:g} kg per GPU (--eol-kg-per-gpu), amortised like embodied"
        if inp.end_of_life_kg_per_gpu is not None
        else "not included: none of the catalog's sources gives an end-of-life value"
    )
    return Assumptions(
        **_site_assumptions(inp, site),
        **_hardware_assumptions(inp, hw),
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


def footprint(inp: FootprintInput) -> Footprint:
    """The life-cycle footprint of a training run and/or an inference deployment."""
    validate_input(inp)  # an input copied with ``model_copy(update=...)`` skipped the model's checks
    site = site_of(inp)
    hw = hardware_of(inp)
    share = (
        inp.construction_share if inp.construction_share is not None else default_value("construction_share")
    )
    notes = list(hw.notes)
    if inp.network_share:
        notes.append(
            f"network equipment: {inp.network_share:g} of the servers' IT energy added (--network-share)"
        )
    training = _phase(_training(inp, site, hw, notes), inp, site, hw, share) if inp.has_training else None
    inference = _phase(_inference(inp, site, hw), inp, site, hw, share) if inp.has_inference else None
    phases = [p for p in (training, inference) if p is not None]
    operational = sum(p.operational_kgco2e for p in phases)
    idle_ops = [p.operational_idle_kgco2e for p in phases if p.operational_idle_kgco2e is not None]
    embodied = _sum([p.embodied_kgco2e for p in phases])
    construction = sum(p.construction_kgco2e for p in phases)
    if embodied is None:
        notes.append(
            "embodied carbon unknown (see the hardware and host sources): the total is not computed; "
            "total_excluding_embodied_kgco2e (operational + construction) excludes embodied"
        )
    notes.extend(_water_notes(site))
    parity, parity_days, parity_carbon = _parity(inp, training, inference)
    return Footprint(
        operational_kgco2e=operational,
        operational_idle_kgco2e=sum(idle_ops) if idle_ops else None,
        operational_market_kgco2e=_sum([p.operational_market_kgco2e for p in phases]),
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
        assumptions=_assumptions(inp, site, hw, share, notes),
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
