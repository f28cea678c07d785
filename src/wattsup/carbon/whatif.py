"""What-if levers on a footprint: another region or intensity, PUE, utilisation, lifetime, GPU, a speed-up,
or the best time window before a deadline; each scenario is recomputed and compared with the base."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from wattsup.carbon.footprint import footprint
from wattsup.carbon.hardware import gpu as find_gpu
from wattsup.carbon.inputs import FootprintInput
from wattsup.carbon.outputs import Footprint, WhatIf
from wattsup.carbon.profile import best_window
from wattsup.carbon.resolve import hardware_of
from wattsup.errors import InvalidInput, finite_number

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
    for name, value in (("pue", pue), ("utilization", utilization), ("lifetime_years", lifetime_years)):
        if value is not None:
            changes[name] = value
    if gpu is not None or speedup is not None:
        changes.update(_hardware_change(inp, gpu, speedup))
    if deadline is not None:
        if inp.profile is None or inp.start is None:
            raise InvalidInput("--deadline", "shifting in time needs --profile and --start")
        base_hw = hardware_of(inp)
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
    try:
        changed: FootprintInput = inp.replaced(**changes)
    except InvalidInput as err:  # the scenario's value, checked by the input's own constraints
        raise InvalidInput("--what-if", str(err)) from None
    return changed, window


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
