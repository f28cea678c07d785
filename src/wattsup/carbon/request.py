"""The life cycle of one served request: energy, operational and embodied carbon and water, per request
and per 1,000 output tokens, under two boundaries.

* **active accelerator**: the measured GPU energy alone, as most published per-token figures count it;
* **comprehensive** (Google's methodology for Gemini, Elsworth et al., arXiv 2508.15734, 2025): the GPU,
  plus the host's CPU and memory, plus the idle capacity kept provisioned beside the serving machines,
  all times the data centre's PUE.

Idle capacity: a fleet whose accelerators serve a share ``U`` of their provisioned time (its utilisation)
keeps ``(1 - U) / U`` idle GPU-seconds beside every serving GPU-second. Each idle GPU draws its idle power
``P_idle``, so a load level that holds ``n`` GPUs for ``t`` seconds carries::

    E_idle = n x t x (1 - U) / U x P_idle

The assumptions: the idle machines are GPUs of the same model drawing their measured idle power (not
the serving power, and not zero); their hosts' idle power is not counted (a lower bound); ``U`` is the
fleet's, the same utilisation that amortises embodied carbon, so idle time is charged to the requests
once in energy and once in hardware. ``P_idle`` is measured (``gpu_idle_power_w``); without it the idle
capacity is unknown, the comprehensive figures leave it out and say so (``omitted``).

Embodied carbon follows :func:`wattsup.carbon.amortisation.amortised_embodied_kg`:
``C_emb x t / (lifetime x U)`` with ``t`` the request's share of the GPU-time of the window
(``n x duration / requests``); the active boundary counts the GPU, the comprehensive one the GPU and its
share of the host. Water follows :func:`wattsup.carbon.water.water_use`: ``E_IT x WUE`` on site and
``E_IT x PUE x EWIF`` off site (the active boundary has no PUE: its facility energy is its GPU energy).

Pure functions: the only I/O is reading the packaged tables (grid, PUE, water, hardware catalog).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wattsup.carbon._data import Bound
from wattsup.carbon.amortisation import (
    amortised_embodied_kg,
    default_lifetime_years,
    default_utilization,
    lifetime_source,
    utilization_source,
)
from wattsup.carbon.grid import grid_intensity
from wattsup.carbon.hardware import HardwareItem
from wattsup.carbon.hardware import gpu as find_gpu
from wattsup.carbon.hardware import host as find_host
from wattsup.carbon.operational import GRAMS_PER_KG, market_intensity, operational_kg
from wattsup.carbon.pue import default_pue
from wattsup.carbon.water import WaterSite, WaterUse, water_site, water_use
from wattsup.errors import InvalidInput, NotFound
from wattsup.meter.measurement import JOULES_PER_KWH, ComponentEnergy, Measurement

BoundaryName = Literal["active", "comprehensive"]
J_PER_WH = 3600.0
ML_PER_L = 1000.0
_GPU = re.compile(r"^gpu:\d+$")
HOST_COMPONENTS = ("cpu", "dram", "ram")
UNKNOWN_REGION = (
    "unknown: no region given, so the location-based carbon and the grid's water are unknown; "
    "give the region (e.g. --region FRA or gcp:europe-west1)"
)


class RequestInput(BaseModel):
    """One serving load level: what was measured over its steady-state window and where it ran.

    Build it with :meth:`checked` (or :func:`request_input_from_measurement`) to get one
    :class:`~wattsup.errors.InvalidInput` naming the bad field instead of pydantic's report.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    load: str = Field(default="", description="the load level, e.g. 'concurrency=8' or 'rate=4/s'")
    components: list[ComponentEnergy] = Field(
        description="energy over the steady-state window: gpu:N (one per GPU used), cpu, dram or ram; "
        "each with its method and error bound (J)"
    )
    duration_s: float = Field(gt=0, description="length of the steady-state window")
    requests: int = Field(ge=1, description="requests completed in the window")
    output_tokens: int = Field(ge=1, description="output tokens produced in the window")
    gpus: int = Field(ge=1, description="GPUs the server used")
    gpu_model: str = Field(min_length=1, description="the GPU's name (catalog lookup; NVML names work)")
    gpu_utilization: float | None = Field(
        default=None, ge=0, le=1, description="measured mean GPU utilisation over the window (0-1)"
    )
    gpu_idle_power_w: float | None = Field(
        default=None, ge=0, description="measured idle power of one GPU (for the idle capacity)"
    )
    host_cpu_model: str | None = Field(default=None, description="the host's CPU, for the record")
    region: str | None = Field(
        default=None,
        min_length=1,
        description="where it ran: grid intensity, PUE, WUE, water; None: unknown, so the location-based "
        "carbon and the grid's water are unknown (None, with the reason) while the energy is still given",
    )
    market_intensity_g_per_kwh: float | None = Field(
        default=None, ge=0, description="contractual (market-based) factor, gCO2e/kWh"
    )
    pue: float | None = Field(default=None, ge=1, description="default: the provider's, else 1.56")
    wue_l_per_kwh: float | None = Field(default=None, ge=0, description="on-site water per kWh of IT energy")
    water_intensity_l_per_kwh: float | None = Field(
        default=None, ge=0, description="off-site water per kWh of electricity (default: the grid's)"
    )
    lifetime_years: float | None = Field(default=None, gt=0, description="hardware lifetime (default 5)")
    fleet_utilization: float | None = Field(
        default=None,
        gt=0,
        le=1,
        description="share of the fleet's provisioned GPU time that serves load (default 0.85): sets the "
        "idle capacity and the embodied amortisation",
    )
    embodied_bound: Bound = "central"
    gpu_embodied_kg: float | None = Field(default=None, ge=0, description="override per GPU")
    host_embodied_kg: float | None = Field(default=None, ge=0, description="override per host")
    gpus_per_host: int | None = Field(default=None, ge=1, description="default: the catalog's")

    @field_validator("components")
    @classmethod
    def _components(cls, value: list[ComponentEnergy]) -> list[ComponentEnergy]:
        seen: set[str] = set()
        for c in value:
            if not _GPU.match(c.name) and c.name not in HOST_COMPONENTS:
                raise ValueError(
                    f"unknown component {c.name!r}; give gpu:N (one per GPU used), cpu, dram or ram"
                )
            if c.name in seen:
                raise ValueError(f"{c.name} is given twice; give each component once")
            seen.add(c.name)
            for what, v in (("energy_j", c.energy_j), ("error_bound_j", c.error_bound_j)):
                if not math.isfinite(v) or v < 0:
                    raise ValueError(f"{c.name} {what} must be a finite number >= 0, got {v!r}")
        if {"dram", "ram"} <= seen:
            raise ValueError("both dram and ram given: the host's memory would count twice; keep one")
        if not any(_GPU.match(n) for n in seen):
            raise ValueError("no GPU energy (gpu:N): the active-accelerator boundary needs it")
        return value

    @classmethod
    def checked(cls, **fields: Any) -> RequestInput:
        """Validate ``fields``; the first problem is one :class:`InvalidInput` naming its field."""
        try:
            inp = cls.model_validate(fields)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"]) or "input"
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "missing":
                msg = "required: give it"
            elif err["type"] == "extra_forbidden":
                msg = f"not a field of RequestInput; the fields are {', '.join(cls.model_fields)}"
            elif "input" in err and err["type"] != "value_error":
                msg += f", got {err['input']!r}"
            raise InvalidInput(loc, msg) from None
        _check_gpu_count(inp)
        return inp


def _check_gpu_count(inp: RequestInput) -> None:
    n_gpu = sum(1 for c in inp.components if _GPU.match(c.name))
    if n_gpu != inp.gpus:
        raise InvalidInput(
            "components",
            f"{n_gpu} GPU energies for gpus={inp.gpus}: give the energy of each GPU the server used",
        )


def request_input_from_measurement(measurement: Measurement, **fields: Any) -> RequestInput:
    """A :class:`RequestInput` from a metered steady-state window (its components and duration)."""
    return RequestInput.checked(
        components=list(measurement.components), duration_s=measurement.duration_s, **fields
    )


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


class RequestLifeCycle(BaseModel):
    """The life cycle of a request at one load level, under both boundaries, with every source."""

    model_config = ConfigDict(frozen=True)

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
    gpu_embodied_kg: float | None
    gpu_embodied_source: str
    host: str | None
    host_embodied_kg: float | None
    host_embodied_source: str
    gpus_per_host: int | None
    lifetime_years: float
    lifetime_source: str
    fleet_utilization: float
    fleet_utilization_source: str
    idle_power_w: float | None
    idle_power_source: str

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class _Embodied(BaseModel):
    gpu: HardwareItem | None
    gpu_kg: float | None
    gpu_source: str
    host: HardwareItem | None
    host_kg: float | None
    host_source: str
    per_host: int | None


def _embodied(inp: RequestInput) -> _Embodied:
    item: HardwareItem | None
    try:
        item = find_gpu(inp.gpu_model, flag="gpu_model")
    except NotFound as err:
        item = None
        close = f" (closest: {', '.join(err.suggestions)})" if err.suggestions else ""
        missing = f"GPU {inp.gpu_model!r} is not in the hardware catalog{close}"
    else:
        missing = ""
    bound = inp.embodied_bound
    gpu_kg: float | None
    if inp.gpu_embodied_kg is not None:
        gpu_kg, gpu_source = inp.gpu_embodied_kg, "given (gpu_embodied_kg)"
    elif item is not None and not item.embodied_known:
        gpu_kg, gpu_source = None, f"unknown: {item.unknown_error().reason}; give gpu_embodied_kg"
    elif item is not None:
        est = item.estimate(bound)
        gpu_kg = est.kgco2e
        gpu_source = f"{item.name}, {bound}: {est.source} ({est.year}; {est.method}; scope {est.scope})"
        if est.derived:
            gpu_source += " [derived by a documented wattsup rule, not published]"
    else:
        gpu_kg, gpu_source = None, f"unknown: {missing}; or give gpu_embodied_kg"
    host_item = find_host(item.default_host) if item is not None and item.default_host else None
    host_kg: float | None
    if inp.host_embodied_kg is not None:
        host_kg, host_source = inp.host_embodied_kg, "given (host_embodied_kg)"
    elif host_item is not None:
        est = host_item.estimate(bound)
        host_kg = est.kgco2e
        host_source = f"{host_item.name}, {bound}: {est.source} ({est.year}; {est.method})"
        if est.derived:
            host_source += " [derived by a documented wattsup rule, not published]"
    else:
        host_kg, host_source = None, "unknown: the GPU has no catalog host; give host_embodied_kg"
    per_host = inp.gpus_per_host
    if per_host is None:
        per_host = (host_item.gpus_per_host if host_item is not None else None) or (
            item.gpus_per_host if item is not None else None
        )
    if per_host is None and host_kg is not None:
        host_kg, host_source = None, "unknown: GPUs per host not known; give gpus_per_host"
    return _Embodied(
        gpu=item,
        gpu_kg=gpu_kg,
        gpu_source=gpu_source,
        host=host_item,
        host_kg=host_kg,
        host_source=host_source,
        per_host=per_host,
    )


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


def _boundary(
    boundary: BoundaryName,
    *,
    inp: RequestInput,
    it_j: float,
    pue: float,
    bound_j: float,
    includes: list[str],
    omitted: list[str],
    methods: list[str],
    intensity: float | None,
    market: float | None,
    market_basis: str,
    emb_gpu_kg: float | None,
    emb_host_kg: float | None,
    embodied_basis: str,
    site_water: WaterSite,
) -> BoundaryResult:
    it_kwh = it_j / JOULES_PER_KWH
    facility_j = it_j * pue
    water = water_use(it_kwh, pue, site_water)
    op_m = None if market is None else it_kwh * pue * market
    if boundary == "active":
        embodied = emb_gpu_kg
    else:
        embodied = None if emb_gpu_kg is None or emb_host_kg is None else emb_gpu_kg + emb_host_kg
    window = Figures(
        energy_wh=facility_j / J_PER_WH,
        energy_error_bound_wh=bound_j * pue / J_PER_WH,
        operational_location_g=None
        if intensity is None
        else operational_kg(it_kwh, intensity, pue) * GRAMS_PER_KG,
        operational_market_g=op_m,
        embodied_gpu_g=_g(emb_gpu_kg),
        embodied_host_g=_g(emb_host_kg) if boundary == "comprehensive" else None,
        embodied_g=_g(embodied),
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
        market_basis=market_basis,
        embodied_basis=embodied_basis,
        water_basis=_water_basis(water),
        window=window,
        per_request=_scaled(window, inp.requests),
        per_1k_output_tokens=_scaled(window, inp.output_tokens / 1000.0),
    )


def _sum(cs: Sequence[ComponentEnergy]) -> tuple[float, float]:
    return sum(c.energy_j for c in cs), sum(c.error_bound_j for c in cs)


def request_life_cycle(inp: RequestInput | Mapping[str, Any]) -> RequestLifeCycle:
    """Per request and per 1,000 output tokens: energy, carbon (location- and market-based, embodied)
    and water under the active-accelerator and comprehensive boundaries, with their ratio."""
    if isinstance(inp, RequestInput):
        _check_gpu_count(inp)
    else:
        inp = RequestInput.checked(**dict(inp))
    gpus = [c for c in inp.components if _GPU.match(c.name)]
    host = [c for c in inp.components if c.name in HOST_COMPONENTS]
    gpu_j, gpu_bound_j = _sum(gpus)
    host_j, host_bound_j = _sum(host)

    grid = grid_intensity(inp.region) if inp.region is not None else None
    intensity: float | None
    market: float | None
    if grid is None:
        intensity, intensity_source = None, UNKNOWN_REGION
        provider = None
        market = inp.market_intensity_g_per_kwh
    else:
        intensity = grid.intensity_g_per_kwh
        via = f" via {' > '.join(grid.via)}" if grid.via else ""
        intensity_source = f"{grid.code}: {grid.source} ({grid.year}, {grid.licence}){via}"
        provider = grid.provider
        market = market_intensity(
            intensity, cfe_fraction=grid.cfe_fraction, contractual_g_per_kwh=inp.market_intensity_g_per_kwh
        )
    if inp.pue is not None:
        pue, pue_source = inp.pue, "given (pue)"
    else:
        pv = default_pue(provider)
        pue, pue_source = pv.pue, f"{pv.key}: {pv.citation}"
    if inp.market_intensity_g_per_kwh is not None:
        market_basis = "contractual factor (market_intensity_g_per_kwh)"
    elif market is not None and grid is not None:
        market_basis = f"provider CFE share {grid.cfe_fraction:g}: {grid.cfe_source}"
    elif grid is None:
        market_basis = f"unknown: no market_intensity_g_per_kwh given and {UNKNOWN_REGION}"
    else:
        market_basis = (
            "unknown: no market_intensity_g_per_kwh given and the region publishes no carbon-free share"
        )
    site_water = water_site(inp.region, inp.wue_l_per_kwh, inp.water_intensity_l_per_kwh)

    # idle capacity: n x t x (1 - U) / U x P_idle
    if inp.fleet_utilization is not None:
        u_fleet, u_source = inp.fleet_utilization, "given (fleet_utilization)"
    else:
        u_fleet, u_source = default_utilization(), utilization_source()
    idle_share = (1.0 - u_fleet) / u_fleet
    idle_j: float | None
    if inp.gpu_idle_power_w is not None:
        idle_j = inp.gpus * inp.duration_s * idle_share * inp.gpu_idle_power_w
        idle_basis = (
            f"{inp.gpus} GPU x {inp.duration_s:g} s x (1 - {u_fleet:g}) / {u_fleet:g} x "
            f"{inp.gpu_idle_power_w:g} W measured idle power (the idle machines' hosts not counted)"
        )
        idle_power_source = "given (gpu_idle_power_w)"
    elif u_fleet == 1.0:
        idle_j = 0.0
        idle_basis = "none: the fleet is fully utilised (fleet_utilization = 1)"
        idle_power_source = "not needed (fleet_utilization = 1)"
    else:
        idle_j = None
        idle_basis = (
            "unknown: give gpu_idle_power_w, the GPU's measured idle power (e.g. metered before the load)"
        )
        idle_power_source = "not given"

    # embodied: C_emb x (n x t / requests) / (lifetime x U), GPU and host share
    emb = _embodied(inp)
    lifetime = inp.lifetime_years if inp.lifetime_years is not None else default_lifetime_years()
    life_source = "given (lifetime_years)" if inp.lifetime_years is not None else lifetime_source()
    gpu_hours = inp.gpus * inp.duration_s / 3600.0
    emb_gpu = None if emb.gpu_kg is None else amortised_embodied_kg(emb.gpu_kg, gpu_hours, lifetime, u_fleet)
    emb_host: float | None = None
    if emb.host_kg is not None and emb.per_host is not None:
        emb_host = amortised_embodied_kg(emb.host_kg / emb.per_host, gpu_hours, lifetime, u_fleet)
    amort = f"C_emb x GPU-hours / ({lifetime:g} y x {u_fleet:g})"

    gpu_methods = [f"{c.name}: {c.method}" for c in gpus]
    active = _boundary(
        "active",
        inp=inp,
        it_j=gpu_j,
        pue=1.0,
        bound_j=gpu_bound_j,
        includes=["accelerator"],
        omitted=[],
        methods=gpu_methods,
        intensity=intensity,
        market=market,
        market_basis=market_basis,
        emb_gpu_kg=emb_gpu,
        emb_host_kg=None,
        embodied_basis=f"GPU: {amort}; {emb.gpu_source}",
        site_water=site_water,
    )
    omitted: list[str] = []
    includes = ["accelerator"]
    if host:
        includes.append("host")
    else:
        omitted.append("host: no cpu, dram or ram energy measured; meter the host to include it")
    if idle_j is None:
        omitted.append(f"idle capacity: {idle_basis}")
    else:
        includes.append("idle capacity")
    includes.append("datacenter overhead")
    it_j = gpu_j + host_j + (idle_j or 0.0)
    comprehensive = _boundary(
        "comprehensive",
        inp=inp,
        it_j=it_j,
        pue=pue,
        bound_j=gpu_bound_j + host_bound_j,
        includes=includes,
        omitted=omitted,
        methods=gpu_methods + [f"{c.name}: {c.method}" for c in host],
        intensity=intensity,
        market=market,
        market_basis=market_basis,
        emb_gpu_kg=emb_gpu,
        emb_host_kg=emb_host,
        embodied_basis=f"GPU and host share: {amort}; GPU: {emb.gpu_source}; host: {emb.host_source}",
        site_water=site_water,
    )
    parts = [
        EnergyPart(
            part="accelerator",
            energy_wh=gpu_j / J_PER_WH,
            error_bound_wh=gpu_bound_j / J_PER_WH,
            basis="measured: " + ", ".join(gpu_methods),
        ),
        EnergyPart(
            part="host",
            energy_wh=host_j / J_PER_WH if host else None,
            error_bound_wh=host_bound_j / J_PER_WH if host else None,
            basis="measured: " + ", ".join(f"{c.name}: {c.method}" for c in host)
            if host
            else "unknown: no cpu, dram or ram energy measured",
        ),
        EnergyPart(
            part="idle capacity",
            energy_wh=None if idle_j is None else idle_j / J_PER_WH,
            error_bound_wh=None,
            basis=idle_basis,
        ),
        EnergyPart(
            part="datacenter overhead",
            energy_wh=it_j * (pue - 1.0) / J_PER_WH,
            error_bound_wh=None,
            basis=f"IT energy x (PUE - 1), PUE {pue:g}: {pue_source}",
        ),
    ]
    return RequestLifeCycle(
        load=inp.load,
        requests=inp.requests,
        output_tokens=inp.output_tokens,
        duration_s=inp.duration_s,
        gpus=inp.gpus,
        gpu_utilization=inp.gpu_utilization,
        host_cpu_model=inp.host_cpu_model,
        parts=parts,
        active=active,
        comprehensive=comprehensive,
        ratio=comprehensive.window.energy_wh / active.window.energy_wh if gpu_j > 0 else None,
        gpu_seconds_per_request=inp.gpus * inp.duration_s / inp.requests,
        region=grid.code if grid is not None else None,
        intensity_g_per_kwh=intensity,
        intensity_source=intensity_source,
        market_intensity_g_per_kwh=market,
        pue=pue,
        pue_source=pue_source,
        gpu=emb.gpu.name if emb.gpu is not None else None,
        gpu_embodied_kg=emb.gpu_kg,
        gpu_embodied_source=emb.gpu_source,
        host=emb.host.name if emb.host is not None else None,
        host_embodied_kg=emb.host_kg,
        host_embodied_source=emb.host_source,
        gpus_per_host=emb.per_host,
        lifetime_years=lifetime,
        lifetime_source=life_source,
        fleet_utilization=u_fleet,
        fleet_utilization_source=u_source,
        idle_power_w=inp.gpu_idle_power_w,
        idle_power_source=idle_power_source,
    )
