"""The result of metering a window: energy per component with its method and error bound, and phases."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from wattsup.sensors.base import Method

__all__ = ["JOULES_PER_KWH", "ComponentEnergy", "Measurement", "Method"]

JOULES_PER_KWH = 3.6e6


class ComponentEnergy(BaseModel):
    """Energy of one component (``gpu:0``, ``cpu``, ``dram``, ``ram``) over a window."""

    model_config = ConfigDict(frozen=True)

    name: str
    energy_j: float
    method: Method
    error_bound_j: float = Field(ge=0, description="the true value lies within ±bound (≥95% of windows)")
    detail: str = Field(default="", description="which sensor and estimator produced the figure")
    filled_s: float = Field(
        default=0.0,
        ge=0,
        description="seconds of the window no working sensor observed, filled by a fallback (see detail)",
    )

    @property
    def partial(self) -> bool:
        """Part of the window was filled because the sensor stalled or was lost: an estimate there."""
        return self.filled_s > 0


class Measurement(BaseModel):
    """One metered window. Energies are joules; ``phases`` are the named sub-windows, in order."""

    model_config = ConfigDict(frozen=True)

    name: str = "window"
    start_s: float = Field(description="monotonic clock (time.monotonic) at the window's start")
    duration_s: float
    components: list[ComponentEnergy]
    phases: list[Measurement] = Field(default_factory=list)
    timeline: dict[str, list[tuple[float, float]]] | None = Field(
        default=None, description="per component: (monotonic time s, cumulative J) points, if kept"
    )
    warnings: list[str] = Field(default_factory=list, description="missing sensors, late readings, ...")
    background_cpu_share: float | None = Field(
        default=None,
        description="other processes' share of the host's CPU time during the window (0-1), if known",
    )

    @property
    def partial(self) -> bool:
        """Some component was filled over part of the window (a sensor stalled or was lost)."""
        return any(c.partial for c in self.components)

    @property
    def total_energy_j(self) -> float:
        return sum(c.energy_j for c in self.components)

    @property
    def total_error_bound_j(self) -> float:
        # Component errors come from independent sensors; a plain sum is a safe (conservative) bound.
        return sum(c.error_bound_j for c in self.components)

    @property
    def energy_j(self) -> float:
        """The window's energy over every component, J (the same as :attr:`total_energy_j`; a float, as a
        component's ``energy_j`` is)."""
        return self.total_energy_j

    @property
    def energy_by_component_j(self) -> dict[str, float]:
        """Component name → joules."""
        return {c.name: c.energy_j for c in self.components}

    def component(self, name: str) -> ComponentEnergy:
        for c in self.components:
            if c.name == name:
                return c
        raise KeyError(f"no component {name!r} in this measurement; have {[c.name for c in self.components]}")

    def mean_power_w(self, name: str | None = None) -> float:
        e = self.total_energy_j if name is None else self.component(name).energy_j
        return e / self.duration_s if self.duration_s > 0 else float("nan")

    @property
    def methods(self) -> set[str]:
        return {c.method for c in self.components}

    @property
    def mixes_measured_and_modeled(self) -> bool:
        return "modeled" in self.methods and bool(self.methods - {"modeled"})

    def phase(self, name: str) -> Measurement:
        """The first phase of that name, searching the tree depth-first."""
        for p in self.walk():
            if p is not self and p.name == name:
                return p
        raise KeyError(f"no phase {name!r}; have {[p.name for p in self.walk() if p is not self]}")

    def walk(self) -> Iterator[Measurement]:
        yield self
        for p in self.phases:
            yield from p.walk()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict with derived totals included."""
        d = self.model_dump(exclude={"timeline", "phases"})
        d["total_energy_j"] = self.total_energy_j
        d["total_error_bound_j"] = self.total_error_bound_j
        d["phases"] = [p.to_dict() for p in self.phases]
        if self.timeline is not None:
            d["timeline"] = self.timeline
        return d
