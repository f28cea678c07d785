"""The input of a served request's life cycle: one serving load level, what was measured over its
steady-state window and where it ran (see :mod:`wattsup.carbon.request`)."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from wattsup.carbon._data import Bound
from wattsup.errors import InvalidInput
from wattsup.meter.measurement import ComponentEnergy, Measurement

GPU_COMPONENT = re.compile(r"^gpu:\d+$")
HOST_COMPONENTS = ("cpu", "dram", "ram")


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
            if not GPU_COMPONENT.match(c.name) and c.name not in HOST_COMPONENTS:
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
        if not any(GPU_COMPONENT.match(n) for n in seen):
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
        check_gpu_count(inp)
        return inp


def check_gpu_count(inp: RequestInput) -> None:
    n_gpu = sum(1 for c in inp.components if GPU_COMPONENT.match(c.name))
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
