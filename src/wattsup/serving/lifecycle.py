"""Each load level's request life cycle: the steady-state window's measured components and duration, its
completed requests and output tokens, the GPUs with their catalog model and the idle power the run metered
before the load, fed to :func:`wattsup.carbon.request.request_life_cycle` (both boundaries, their ratio,
carbon, embodied, water). Where it cannot be computed the level says why instead."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import TypeAdapter
from pydantic.dataclasses import dataclass as pydantic_dataclass

from wattsup.carbon.grid import grid_intensity
from wattsup.carbon.request import RequestInput, request_life_cycle
from wattsup.errors import SensorUnavailable, WattsupError
from wattsup.meter import Measurement, Meter
from wattsup.params import checked, param
from wattsup.serving.results import Figure

__all__ = ["CarbonOptions", "IdleGpu", "level_life_cycle", "measure_gpu_idle"]

_GPU = re.compile(r"^gpu:\d+$")
IDLE_METHOD = "mean GPU power over a metered idle window before the load"


@checked
@pydantic_dataclass(frozen=True)
class CarbonOptions:
    """Where the serving ran and the assumptions of its life cycle (``wattsup serve`` options), each
    checked by its declaration; an error names the flag and the range allowed."""

    range_errors: ClassVar[bool] = True

    region: str | None = param(
        None, "Where it ran (e.g. FRA, gcp:europe-west1); default unknown: carbon unknown."
    )
    market_intensity: float | None = param(
        None, "Contractual factor.", unit="gCO2e/kWh", ge=0, serialization_alias="market_intensity_g_per_kwh"
    )
    pue: float | None = param(None, "Data centre PUE (default: provider's).", ge=1)
    wue: float | None = param(
        None, "On-site water per kWh of IT energy.", unit="L/kWh", ge=0, serialization_alias="wue_l_per_kwh"
    )
    water_intensity: float | None = param(
        None,
        "Off-site water per kWh of electricity.",
        unit="L/kWh",
        ge=0,
        serialization_alias="water_intensity_l_per_kwh",
    )
    lifetime_years: float | None = param(None, "Hardware lifetime for embodied carbon.", unit="years", gt=0)
    fleet_utilisation: float | None = param(
        None,
        "Share (0-1] of the fleet's GPU time that serves load.",
        gt=0,
        le=1,
        serialization_alias="fleet_utilization",
    )

    def validate(self) -> None:
        """The region is known (else :class:`~wattsup.errors.NotFound` with the closest codes); the
        numbers were checked when the options were made."""
        if self.region is not None:
            grid_intensity(self.region)

    def as_inputs(self) -> dict[str, Any]:
        """The options under the names of :class:`~wattsup.carbon.request.RequestInput`, which takes them
        (each field's ``serialization_alias``)."""
        return dict(_OPTIONS.dump_python(self, by_alias=True))

    def as_dict(self) -> dict[str, Any]:
        """As a serving result keeps them (``carbon_options``): the input names, fleet utilisation spelt as
        the option is."""
        kept = self.as_inputs()
        kept["fleet_utilisation"] = kept.pop("fleet_utilization")
        return kept


_OPTIONS = TypeAdapter(CarbonOptions)


@dataclass(frozen=True)
class IdleGpu:
    """The GPUs seen before the load: their NVML name and mean idle power per GPU (W), or why unknown."""

    name: str | None
    power: Figure


def measure_gpu_idle(seconds: float, make_meter: Callable[[], Meter] | None = None) -> IdleGpu:
    """Meter ``seconds`` of idle time (with ``make_meter()``'s Meter) and return each visible GPU's mean
    power; on a host with no NVIDIA GPU return at once with the reason (no idle window is spent there)."""
    try:
        from wattsup.sensors import nvml

        nv = nvml.acquire()
    except SensorUnavailable as e:
        return IdleGpu(None, Figure(value=None, method="unavailable", note=f"no GPU: {e}"))
    try:
        indices = nvml.visible_indices(nv)
        names = []
        for i in indices:
            raw = nv.nvmlDeviceGetName(nv.nvmlDeviceGetHandleByIndex(i))
            names.append(raw.decode() if isinstance(raw, bytes) else str(raw))
    except Exception as e:  # a driver fault: say it, keep serving
        return IdleGpu(None, Figure(value=None, method="unavailable", note=f"NVML gave no GPU name ({e})"))
    finally:
        nvml.release()
    if not names:
        return IdleGpu(None, Figure(value=None, method="unavailable", note="no NVIDIA GPU is visible"))
    name = names[0] if len(set(names)) == 1 else None
    if seconds <= 0:
        return IdleGpu(name, Figure(value=None, method="not measured", note="--idle-seconds 0"))
    m = make_meter() if make_meter is not None else Meter(name="idle")
    with m:
        time.sleep(seconds)
    assert m.measurement is not None
    gpus = [c for c in m.measurement.components if _GPU.match(c.name)]
    if not gpus or m.measurement.duration_s <= 0:
        return IdleGpu(name, Figure(value=None, method="unavailable", note="no GPU energy was metered"))
    d = m.measurement.duration_s
    return IdleGpu(
        name,
        Figure(
            value=sum(c.energy_j for c in gpus) / d / len(gpus),
            error_bound=sum(c.error_bound_j for c in gpus) / d / len(gpus),
            method=IDLE_METHOD,
            note=f"{len(gpus)} GPU(s) over {d:.3g} s, before the first level ("
            + "+".join(sorted({c.method for c in gpus}))
            + ")",
        ),
    )


def level_life_cycle(
    steady: Measurement | None,
    *,
    load: str,
    requests_completed: int,
    output_tokens: float,
    gpu_utilisation_pct: float | None,
    idle: IdleGpu,
    host_cpu_model: str | None,
    options: CarbonOptions,
) -> tuple[dict[str, Any] | None, str]:
    """The level's :class:`~wattsup.carbon.request.RequestLifeCycle` as a dict and a note, or None and why."""
    if steady is None or steady.duration_s <= 0:
        return None, "no steady-state window formed"
    gpus = [c for c in steady.components if _GPU.match(c.name)]
    if not gpus:
        return None, (
            "no GPU is metered on this host: both boundaries start from the accelerator's energy, so the "
            "life cycle (and its ratio) is not computed; the window's CPU and memory energy is in energy_j"
        )
    if requests_completed < 1:
        return None, "no request completed inside the steady-state window; give more --requests"
    tokens = round(output_tokens)
    if tokens < 1:
        return None, "no output token inside the steady-state window; give more --requests"
    host = [c for c in steady.components if c.name in ("cpu", "dram", "ram")]
    try:
        inp = RequestInput.checked(
            load=load,
            components=[*gpus, *host],
            duration_s=steady.duration_s,
            requests=requests_completed,
            output_tokens=tokens,
            gpus=len(gpus),
            gpu_model=idle.name or "unknown GPU",
            gpu_utilization=None if gpu_utilisation_pct is None else min(1.0, gpu_utilisation_pct / 100),
            gpu_idle_power_w=idle.power.value,
            host_cpu_model=host_cpu_model,
            **options.as_inputs(),
        )
        lc = request_life_cycle(inp)
    except WattsupError as e:
        return None, f"not computed: {e}"
    notes = [f"{len(gpus)} metered GPU(s) counted as the server's; {tokens} output tokens in the window"]
    if tokens != output_tokens:
        notes.append(f"rounded from {output_tokens:.2f} (chunks weighted by their tokens)")
    if lc.region is None:
        notes.append("region unknown: carbon and grid water are None; give --region")
    return lc.to_dict(), "; ".join(notes)
