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

Pure functions: the only I/O is reading the packaged tables (grid, PUE, water, hardware catalog). The
input is :mod:`~wattsup.carbon.request_input`, where each factor comes from
:mod:`~wattsup.carbon.request_sources`, the figures of a boundary :mod:`~wattsup.carbon.request_figures`;
this module puts them together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wattsup.carbon.request_figures import (
    J_PER_WH,
    BoundaryName,
    BoundaryResult,
    EnergyPart,
    Figures,
    RequestLifeCycle,
    boundary_result,
)
from wattsup.carbon.request_input import (
    GPU_COMPONENT,
    HOST_COMPONENTS,
    RequestInput,
    check_gpu_count,
    request_input_from_measurement,
)
from wattsup.carbon.request_sources import (
    UNKNOWN_REGION,
    Location,
    embodied,
    idle_capacity,
    location,
)
from wattsup.meter.measurement import ComponentEnergy
from wattsup.params.carry import shared_fields

__all__ = [
    "HOST_COMPONENTS",
    "UNKNOWN_REGION",
    "BoundaryName",
    "BoundaryResult",
    "EnergyPart",
    "Figures",
    "RequestInput",
    "RequestLifeCycle",
    "request_input_from_measurement",
    "request_life_cycle",
]


_ECHOED = {"load", "requests", "output_tokens", "duration_s", "gpus", "gpu_utilization", "host_cpu_model"}
"""The input's figures a life cycle repeats as they were given."""


def _sum(cs: Sequence[ComponentEnergy]) -> tuple[float, float]:
    return sum(c.energy_j for c in cs), sum(c.error_bound_j for c in cs)


def _methods(cs: Sequence[ComponentEnergy]) -> list[str]:
    return [f"{c.name}: {c.method}" for c in cs]


def _parts(
    gpus: Sequence[ComponentEnergy],
    host: Sequence[ComponentEnergy],
    idle_j: float | None,
    idle_basis: str,
    loc: Location,
) -> list[EnergyPart]:
    """The comprehensive energy's four parts over the window, each with how it was obtained."""
    gpu_j, gpu_bound_j = _sum(gpus)
    host_j, host_bound_j = _sum(host)
    it_j = gpu_j + host_j + (idle_j or 0.0)
    return [
        EnergyPart(
            part="accelerator",
            energy_wh=gpu_j / J_PER_WH,
            error_bound_wh=gpu_bound_j / J_PER_WH,
            basis="measured: " + ", ".join(_methods(gpus)),
        ),
        EnergyPart(
            part="host",
            energy_wh=host_j / J_PER_WH if host else None,
            error_bound_wh=host_bound_j / J_PER_WH if host else None,
            basis="measured: " + ", ".join(_methods(host))
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
            energy_wh=it_j * (loc.pue - 1.0) / J_PER_WH,
            error_bound_wh=None,
            basis=f"IT energy x (PUE - 1), PUE {loc.pue:g}: {loc.pue_source}",
        ),
    ]


def _scope(
    host: Sequence[ComponentEnergy], idle_j: float | None, idle_basis: str
) -> tuple[list[str], list[str]]:
    """What the comprehensive boundary includes, and what it leaves out (unknown) with why."""
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
    return includes, omitted


def request_life_cycle(inp: RequestInput | Mapping[str, Any]) -> RequestLifeCycle:
    """Per request and per 1,000 output tokens: energy, carbon (location- and market-based, embodied)
    and water under the active-accelerator and comprehensive boundaries, with their ratio."""
    if isinstance(inp, RequestInput):
        check_gpu_count(inp)
    else:
        inp = RequestInput.checked(**dict(inp))
    gpus = [c for c in inp.components if GPU_COMPONENT.match(c.name)]
    host = [c for c in inp.components if c.name in HOST_COMPONENTS]
    gpu_j, gpu_bound_j = _sum(gpus)
    host_j, host_bound_j = _sum(host)
    loc = location(inp)
    idle = idle_capacity(inp)
    emb = embodied(inp, idle.fleet_utilization)
    embodied_kg = (emb.amortised_gpu_kg, emb.amortised_host_kg)
    active = boundary_result(
        "active",
        it_j=gpu_j,
        bound_j=gpu_bound_j,
        includes=["accelerator"],
        omitted=[],
        methods=_methods(gpus),
        embodied_kg=embodied_kg,
        embodied_basis=f"GPU: {emb.formula}; {emb.gpu_embodied_source}",
        loc=loc,
        requests=inp.requests,
        output_tokens=inp.output_tokens,
    )
    includes, omitted = _scope(host, idle.energy_j, idle.basis)
    comprehensive = boundary_result(
        "comprehensive",
        it_j=gpu_j + host_j + (idle.energy_j or 0.0),
        bound_j=gpu_bound_j + host_bound_j,
        includes=includes,
        omitted=omitted,
        methods=_methods(gpus) + _methods(host),
        embodied_kg=embodied_kg,
        embodied_basis=f"GPU and host share: {emb.formula}; "
        f"GPU: {emb.gpu_embodied_source}; host: {emb.host_embodied_source}",
        loc=loc,
        requests=inp.requests,
        output_tokens=inp.output_tokens,
    )
    return RequestLifeCycle(
        **inp.model_dump(include=_ECHOED),
        **shared_fields(loc, RequestLifeCycle),
        **shared_fields(emb, RequestLifeCycle),
        **shared_fields(idle, RequestLifeCycle),
        parts=_parts(gpus, host, idle.energy_j, idle.basis, loc),
        active=active,
        comprehensive=comprehensive,
        ratio=comprehensive.window.energy_wh / active.window.energy_wh if gpu_j > 0 else None,
        gpu_seconds_per_request=inp.gpus * inp.duration_s / inp.requests,
        gpu=emb.gpu_item.name if emb.gpu_item is not None else None,
        host=emb.host_item.name if emb.host_item is not None else None,
        idle_power_w=inp.gpu_idle_power_w,
    )
