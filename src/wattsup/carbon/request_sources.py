"""Where each factor of a served request's life cycle comes from: the grid and the facility (carbon
intensity, market factor, PUE, water), the idle capacity kept beside the serving GPUs, and the embodied
carbon of the GPU and its host, each with the source it was taken from (see :mod:`wattsup.carbon.request`)."""

from __future__ import annotations

from dataclasses import dataclass

from wattsup.carbon._data import Bound
from wattsup.carbon.amortisation import (
    amortised_embodied_kg,
    default_lifetime_years,
    default_utilization,
    lifetime_source,
    utilization_source,
)
from wattsup.carbon.grid import GridIntensity, grid_intensity
from wattsup.carbon.hardware import HardwareItem
from wattsup.carbon.hardware import gpu as find_gpu
from wattsup.carbon.hardware import host as find_host
from wattsup.carbon.operational import market_intensity
from wattsup.carbon.pue import default_pue
from wattsup.carbon.request_input import RequestInput
from wattsup.carbon.water import WaterSite, water_site
from wattsup.errors import NotFound

UNKNOWN_REGION = (
    "unknown: no region given, so the location-based carbon and the grid's water are unknown; "
    "give the region (e.g. --region FRA or gcp:europe-west1)"
)


@dataclass(frozen=True)
class Location:
    """The grid and the facility the level ran in, with the source of each factor."""

    region: str | None
    intensity_g_per_kwh: float | None
    intensity_source: str
    market_intensity_g_per_kwh: float | None
    market_basis: str
    pue: float
    pue_source: str
    water: WaterSite


def _market_basis(inp: RequestInput, grid: GridIntensity | None, market: float | None) -> str:
    if inp.market_intensity_g_per_kwh is not None:
        return "contractual factor (market_intensity_g_per_kwh)"
    if market is not None and grid is not None:
        return f"provider CFE share {grid.cfe_fraction:g}: {grid.cfe_source}"
    if grid is None:
        return f"unknown: no market_intensity_g_per_kwh given and {UNKNOWN_REGION}"
    return "unknown: no market_intensity_g_per_kwh given and the region publishes no carbon-free share"


def location(inp: RequestInput) -> Location:
    """Grid intensity (location- and market-based), PUE and water factors of ``inp``'s region."""
    grid = grid_intensity(inp.region) if inp.region is not None else None
    intensity: float | None
    market: float | None
    if grid is None:
        intensity, intensity_source = None, UNKNOWN_REGION
        provider = None
        market = inp.market_intensity_g_per_kwh
    else:
        intensity = grid.intensity_g_per_kwh
        intensity_source = f"{grid.code}: {grid.citation}"
        provider = grid.provider
        market = market_intensity(
            intensity, cfe_fraction=grid.cfe_fraction, contractual_g_per_kwh=inp.market_intensity_g_per_kwh
        )
    if inp.pue is not None:
        pue, pue_source = inp.pue, "given (pue)"
    else:
        pv = default_pue(provider)
        pue, pue_source = pv.pue, f"{pv.key}: {pv.citation}"
    return Location(
        region=grid.code if grid is not None else None,
        intensity_g_per_kwh=intensity,
        intensity_source=intensity_source,
        market_intensity_g_per_kwh=market,
        market_basis=_market_basis(inp, grid, market),
        pue=pue,
        pue_source=pue_source,
        water=water_site(inp.region, inp.wue_l_per_kwh, inp.water_intensity_l_per_kwh),
    )


@dataclass(frozen=True)
class IdleCapacity:
    """The idle GPUs kept provisioned beside the serving ones: ``n x t x (1 - U) / U x P_idle``."""

    fleet_utilization: float
    fleet_utilization_source: str
    energy_j: float | None
    basis: str
    idle_power_source: str


def idle_capacity(inp: RequestInput) -> IdleCapacity:
    """The idle capacity's energy over the window, or None (unknown, with why) without an idle power."""
    if inp.fleet_utilization is not None:
        u_fleet, u_source = inp.fleet_utilization, "given (fleet_utilization)"
    else:
        u_fleet, u_source = default_utilization(), utilization_source()
    idle_share = (1.0 - u_fleet) / u_fleet
    idle_j: float | None
    if inp.gpu_idle_power_w is not None:
        idle_j = inp.gpus * inp.duration_s * idle_share * inp.gpu_idle_power_w
        basis = (
            f"{inp.gpus} GPU x {inp.duration_s:g} s x (1 - {u_fleet:g}) / {u_fleet:g} x "
            f"{inp.gpu_idle_power_w:g} W measured idle power (the idle machines' hosts not counted)"
        )
        power_source = "given (gpu_idle_power_w)"
    elif u_fleet == 1.0:
        idle_j = 0.0
        basis = "none: the fleet is fully utilised (fleet_utilization = 1)"
        power_source = "not needed (fleet_utilization = 1)"
    else:
        idle_j = None
        basis = "unknown: give gpu_idle_power_w, the GPU's measured idle power (e.g. metered before the load)"
        power_source = "not given"
    return IdleCapacity(u_fleet, u_source, idle_j, basis, power_source)


@dataclass(frozen=True)
class Embodied:
    """The catalog's (or the given) embodied carbon of the GPU and its host, and its amortised share."""

    gpu_item: HardwareItem | None
    gpu_embodied_kg: float | None
    gpu_embodied_source: str
    host_item: HardwareItem | None
    host_embodied_kg: float | None
    host_embodied_source: str
    gpus_per_host: int | None
    lifetime_years: float
    lifetime_source: str
    amortised_gpu_kg: float | None
    """The window's share of one GPU's embodied carbon for every GPU used."""
    amortised_host_kg: float | None
    """The window's share of the hosts' embodied carbon (per GPU: host / GPUs per host)."""
    formula: str


def _estimate(item: HardwareItem, bound: Bound, *, scope: bool) -> tuple[float, str]:
    est = item.estimate(bound)
    return est.kgco2e, est.citation(item.name, scope=scope)


def _catalog_gpu(inp: RequestInput) -> tuple[HardwareItem | None, float | None, str]:
    try:
        item = find_gpu(inp.gpu_model, flag="gpu_model")
    except NotFound as err:
        close = f" (closest: {', '.join(err.suggestions)})" if err.suggestions else ""
        missing = f"GPU {inp.gpu_model!r} is not in the hardware catalog{close}"
        if inp.gpu_embodied_kg is not None:
            return None, inp.gpu_embodied_kg, "given (gpu_embodied_kg)"
        return None, None, f"unknown: {missing}; or give gpu_embodied_kg"
    if inp.gpu_embodied_kg is not None:
        return item, inp.gpu_embodied_kg, "given (gpu_embodied_kg)"
    if not item.embodied_known:
        return item, None, f"unknown: {item.unknown_error().reason}; give gpu_embodied_kg"
    kg, source = _estimate(item, inp.embodied_bound, scope=True)
    return item, kg, source


def embodied(inp: RequestInput, fleet_utilization: float) -> Embodied:
    """``C_emb x (n x t / requests) / (lifetime x U)``: the GPU's and the host's share of the window."""
    item, gpu_kg, gpu_source = _catalog_gpu(inp)
    host_item = find_host(item.default_host) if item is not None and item.default_host else None
    host_kg: float | None
    if inp.host_embodied_kg is not None:
        host_kg, host_source = inp.host_embodied_kg, "given (host_embodied_kg)"
    elif host_item is not None:
        host_kg, host_source = _estimate(host_item, inp.embodied_bound, scope=False)
    else:
        host_kg, host_source = None, "unknown: the GPU has no catalog host; give host_embodied_kg"
    per_host = inp.gpus_per_host
    if per_host is None:
        per_host = (host_item.gpus_per_host if host_item is not None else None) or (
            item.gpus_per_host if item is not None else None
        )
    if per_host is None and host_kg is not None:
        host_kg, host_source = None, "unknown: GPUs per host not known; give gpus_per_host"
    lifetime = inp.lifetime_years if inp.lifetime_years is not None else default_lifetime_years()
    gpu_hours = inp.gpus * inp.duration_s / 3600.0
    u = fleet_utilization
    return Embodied(
        gpu_item=item,
        gpu_embodied_kg=gpu_kg,
        gpu_embodied_source=gpu_source,
        host_item=host_item,
        host_embodied_kg=host_kg,
        host_embodied_source=host_source,
        gpus_per_host=per_host,
        lifetime_years=lifetime,
        lifetime_source="given (lifetime_years)" if inp.lifetime_years is not None else lifetime_source(),
        amortised_gpu_kg=None if gpu_kg is None else amortised_embodied_kg(gpu_kg, gpu_hours, lifetime, u),
        amortised_host_kg=None
        if host_kg is None or per_host is None
        else amortised_embodied_kg(host_kg / per_host, gpu_hours, lifetime, u),
        formula=f"C_emb x GPU-hours / ({lifetime:g} y x {u:g})",
    )
