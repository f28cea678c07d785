"""How a footprint's inputs resolve: the site (grid intensity, PUE, water) and the hardware (the device
that does the work, its host, embodied carbon per device, lifetime and utilisation), each with the source
of every value."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from wattsup.carbon.amortisation import default_lifetime_years, default_utilization
from wattsup.carbon.grid import GridIntensity, grid_intensity
from wattsup.carbon.hardware import HardwareItem
from wattsup.carbon.hardware import cpu as find_cpu
from wattsup.carbon.hardware import gpu as find_gpu
from wattsup.carbon.hardware import host as find_host
from wattsup.carbon.inputs import FootprintInput
from wattsup.carbon.operational import market_intensity
from wattsup.carbon.pue import default_pue
from wattsup.carbon.water import WaterSite, water_site
from wattsup.errors import InvalidInput


class Site(BaseModel):
    grid: GridIntensity | None
    intensity: float | None
    intensity_source: str
    pue: float
    pue_source: str
    water: WaterSite


class Hardware(BaseModel):
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


def site_of(inp: FootprintInput) -> Site:
    grid = grid_intensity(inp.region) if inp.region is not None else None
    if inp.intensity_g_per_kwh is not None:
        intensity: float | None = inp.intensity_g_per_kwh
        source = "given (--intensity)"
    elif grid is not None:
        intensity = grid.intensity_g_per_kwh
        source = grid.citation
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
    return Site(
        grid=grid, intensity=intensity, intensity_source=source, pue=pue, pue_source=pue_source, water=water
    )


def _device(
    inp: FootprintInput, notes: list[str]
) -> tuple[HardwareItem | None, float | None, str, float | None, str]:
    """The device's catalog item, its power (W, with its basis) and its embodied carbon (with the source)."""
    device = inp.device
    flag = f"--{device}"
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
        device_source = est.citation()
        if est.scope == "gpu+host-share":
            notes.append(
                f"the {inp.embodied_bound} {item.name} value already includes part of a host; the host "
                "share is added as well, so this case is conservative"
            )
    else:
        device_kg, device_source = None, f"unknown: give {flag} NAME or {flag}-embodied-kg"
    return item, power, power_basis, device_kg, device_source


def _host(
    inp: FootprintInput, item: HardwareItem | None, notes: list[str]
) -> tuple[HardwareItem | None, float | None, str]:
    """The host (server without its devices) and its embodied carbon, with the source."""
    if inp.host == "none":
        return None, 0.0, "excluded (--host none)"
    host_item: HardwareItem | None = None
    if inp.host == "auto":
        if item is not None and item.default_host is not None:
            host_item = find_host(item.default_host)
    else:
        host_item = find_host(inp.host)
    if inp.host_embodied_kg is not None:
        return host_item, inp.host_embodied_kg, "given (--host-embodied-kg)"
    if host_item is None:
        no_host = f"{item.name} has no catalog host: " if item is not None else ""
        return None, None, f"unknown: {no_host}give --host NAME, --host-embodied-kg or --host none"
    est = host_item.estimate(inp.embodied_bound)
    host_source = est.citation(host_item.name, scope=False)
    if inp.device == "cpu" and inp.embodied_bound == "high" and est.notes:
        notes.append(f"host {host_item.name} (high): {est.notes}")
    return host_item, est.kgco2e, host_source


def hardware_of(inp: FootprintInput) -> Hardware:
    notes: list[str] = []
    device = inp.device
    item, power, power_basis, device_kg, device_source = _device(inp, notes)
    host_item, host_kg, host_source = _host(inp, item, notes)
    per_host = inp.cpus_per_host if device == "cpu" else inp.gpus_per_host
    if per_host is None:
        per_host = (host_item.gpus_per_host if host_item is not None else None) or (
            item.gpus_per_host if item is not None else None
        )
    if per_host is None and host_kg:
        per_host = 8 if device == "gpu" else 2
        notes.append(f"{per_host} {device.upper()}s per host assumed (pass --{device}s-per-host)")
    per_device: float | None = None
    if device_kg is not None and host_kg is not None:
        per_device = device_kg + (host_kg / per_host if host_kg and per_host else 0.0)
    return Hardware(
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
        lifetime_years=inp.lifetime_years if inp.lifetime_years is not None else default_lifetime_years(),
        utilization=inp.utilization if inp.utilization is not None else default_utilization(),
        notes=notes,
    )


def market_of(intensity: float, inp: FootprintInput, site: Site) -> tuple[float | None, str]:
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
