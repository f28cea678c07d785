"""The device protocol: one small surface for every energy source (a GPU, an SoC rail, a CPU package).

A device says who it is (:class:`Identity`), the best signal it offers (:class:`Signal`: a cumulative
energy counter with its unit and wrap, a power reading with its averaging window, or none), how its
figure is obtained (``method``: ``counter``, ``sampled`` or ``modeled``) and how far it can be off
(``relative_bound``), and it is read through two plain callables:

* :meth:`EnergyDevice.read_energy_j` for counter devices: cumulative joules since the first read,
  corrected for wraps and resets by :class:`~wattsup.sensors.base.CounterAccumulator`;
* :meth:`EnergyDevice.read_power_w` for the others: watts now (integrate them over time).

Failures are typed (:mod:`wattsup.errors`): :class:`DeviceNotFound`, :class:`DevicePermissionDenied`,
:class:`DeviceNotSupported`, :class:`DriverNotLoaded`, :class:`DeviceLost` and :class:`SensorStuck`,
each with a message that says what to do. A device never reports 0 W for "unknown".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

from wattsup.errors import DeviceNotSupported, SensorStuck, SensorUnavailable
from wattsup.sensors.base import CounterAccumulator, Method, SensorStatus

SignalKind = Literal["energy_counter", "power", "none"]

DEFAULT_STALL_LIMIT_S = 5.0
"""A counter of a powered device that has not moved for this long is stuck (counters step every
~1-100 ms; the slowest we read, NVML's, every ~100 ms)."""
UNKNOWN_WINDOW_S = 1.0
"""Edge allowance used in :meth:`EnergyDevice.error_bound_j` where a power reading's window is unknown."""

__all__ = [
    "DEFAULT_STALL_LIMIT_S",
    "EnergyDevice",
    "Identity",
    "Probe",
    "Signal",
    "SignalKind",
]


@dataclass(frozen=True)
class Identity:
    """Who a device is. ``component`` is the name measurements carry (``gpu:0``, ``cpu``, ``soc:gpu``)."""

    component: str
    vendor: str
    """The maker as shown: ``NVIDIA``, ``AMD``, ``Intel``, ``Apple``, ``AWS``."""
    name: str
    """The model or rail as shown to people: the driver's model name where it gives one (``NVIDIA H100 80GB
    HBM3``), else a description (``Jetson rail VDD_IN``, ``AMD CPU sockets``)."""
    source: str
    """The library or driver read: ``nvml``, ``amdsmi``, ``rapl``, ``amd_energy``, ``i915``, ``xe``, ..."""
    index: int | None = None
    """The device's number in the library that reads it (NVML's, amdsmi's, the DRM card's, Neuron's);
    None for devices it does not number (CPU packages, SoC rails)."""
    uuid: str | None = None
    """A stable id of the device: NVML's or amdsmi's UUID, an Intel GPU's PCI slot, a Jetson rail's sensor
    path; None where there is none."""


@dataclass(frozen=True)
class Signal:
    """The best signal a device offers.

    ``energy_counter``: ``unit_j`` joules per raw count; the raw value wraps at ``wrap_range_raw``
    (``None``: a 64-bit counter that does not wrap in practice, so a decrease is a reset).
    ``power``: watts averaged over ``averaging_window_s`` (0 for an instantaneous value, ``None`` where the
    vendor does not say), a new value every ``refresh_s``.
    ``none``: the device draws power but reports none of its own (see ``EnergyDevice.included_in``).
    """

    kind: SignalKind
    unit_j: float | None = None
    wrap_range_raw: float | None = None
    width_bits: int | None = None
    averaging_window_s: float | None = None
    refresh_s: float | None = None

    def describe(self) -> str:
        if self.kind == "energy_counter":
            unit = f"{self.unit_j:g} J per count" if self.unit_j is not None else "unknown unit"
            if self.wrap_range_raw is not None:
                wrap = f"wraps at {self.wrap_range_raw:.0f} counts"
            elif self.width_bits is not None:
                wrap = f"{self.width_bits}-bit, no wrap in practice"
            else:
                wrap = "no known wrap"
            return f"energy counter ({unit}, {wrap})"
        if self.kind == "power":
            if self.averaging_window_s is None:
                window = "averaging window not stated by the vendor"
            elif self.averaging_window_s == 0:
                window = "instantaneous"
            else:
                window = f"averaged over {self.averaging_window_s:g} s"
            refresh = f", refreshed every {self.refresh_s:g} s" if self.refresh_s is not None else ""
            return f"power reading ({window}{refresh})"
        return "no energy or power signal of its own"


class EnergyDevice:
    """One energy source behind the common surface. Vendors subclass it and implement
    ``_read_counter_raw`` (counter devices) or ``_read_power_w`` (power devices); both may raise the
    typed errors of :mod:`wattsup.errors` and nothing else on purpose."""

    def __init__(
        self,
        identity: Identity,
        signal: Signal,
        method: Method | None,
        detail: str,
        max_power_w: float,
        *,
        relative_bound: float = 0.0,
        included_in: str | None = None,
        includes: tuple[str, ...] = (),
        stall_limit_s: float | None = DEFAULT_STALL_LIMIT_S,
        extra: dict[str, str] | None = None,
    ) -> None:
        if (signal.kind == "none") != (method is None):
            raise ValueError("a device has a method exactly when it has a signal")
        if signal.kind == "energy_counter" and (signal.unit_j is None or signal.unit_j <= 0):
            raise ValueError("an energy counter needs a positive unit")
        self.identity = identity
        self.signal = signal
        self.method = method
        self.detail = detail
        self.max_power_w = max_power_w
        self.relative_bound = relative_bound
        """Systematic error of this device's figures, as a fraction of them (0 for a counter)."""
        self.included_in = included_in
        """Component whose figure already contains this device's energy: never add the two."""
        self.includes = includes
        """Components whose energy this device's figure also contains."""
        self.stall_limit_s = stall_limit_s
        """A counter that has not moved for this long raises :class:`SensorStuck` (``None``: the device
        can legitimately draw nothing, so no check)."""
        self.extra = dict(extra or {})
        self._accs: list[CounterAccumulator] | None = None
        self._last_raw: tuple[float, ...] | None = None
        self._moved_at: float | None = None

    # ------------------------------------------------------------------ identity
    @property
    def component(self) -> str:
        return self.identity.component

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.component} {self.identity.name!r} {self.signal.kind}>"

    # ------------------------------------------------------------------ readers
    def read_energy_j(self) -> float:
        """Cumulative joules since this device's first read (counter devices only), wrap/reset corrected.

        Raises :class:`SensorStuck` when the counter has not moved for ``stall_limit_s``; the energy up
        to its last movement stays counted."""
        if self.signal.kind != "energy_counter":
            raise DeviceNotSupported(
                f"{self.component} ({self.identity.name}) has no energy counter: read its power instead"
            )
        raws = tuple(float(r) for r in self._read_counter_raws())
        now = time.monotonic()
        for raw in raws:
            if not math.isfinite(raw) or raw < 0:
                raise SensorUnavailable(
                    f"{self.component}: the {self.identity.source} energy counter read {raw!r}, not an "
                    "energy; the driver returned garbage: reload it or measure without this device"
                )
        if self._accs is None or len(self._accs) != len(raws):
            self._accs = self._accumulators(len(raws))
        total = sum(acc.update(raw, now) for acc, raw in zip(self._accs, raws, strict=True))
        if self._last_raw is None or raws != self._last_raw:
            self._last_raw, self._moved_at = raws, now
        elif (
            self.stall_limit_s is not None
            and self._moved_at is not None
            and now - self._moved_at > self.stall_limit_s
        ):
            raise SensorStuck(
                f"{self.component}: the {self.identity.source} energy counter has not moved for "
                f"{now - self._moved_at:.1f} s although the device is powered; energy after "
                f"{total:.3f} J is unknown. Reload the driver, or measure without this device"
            )
        return total

    def read_power_w(self) -> float:
        """Watts now (power devices only), as the signal describes them; never 0 for unknown."""
        if self.signal.kind != "power":
            kind = "an energy counter: read its energy" if self.signal.kind == "energy_counter" else "none"
            raise DeviceNotSupported(f"{self.component} offers no power reading (its signal is {kind})")
        w = float(self._read_power_w())
        if not math.isfinite(w) or w < 0:
            raise SensorUnavailable(
                f"{self.component}: the {self.identity.source} power reading was {w!r}, not a power; "
                "reload the driver or measure without this device"
            )
        return w

    def _read_counter_raw(self) -> float:
        raise DeviceNotSupported(f"{self.component} has no energy counter")

    def _read_counter_raws(self) -> tuple[float, ...]:
        """The raw counters whose sum is this device's energy (one, or one per zone of a group)."""
        return (self._read_counter_raw(),)

    def _accumulators(self, n: int) -> list[CounterAccumulator]:
        """One accumulator per raw counter (a group whose zones wrap at different ranges overrides it)."""
        assert self.signal.unit_j is not None
        return [
            CounterAccumulator(self.signal.unit_j, self.signal.wrap_range_raw, self.max_power_w)
            for _ in range(n)
        ]

    def _read_power_w(self) -> float:
        raise DeviceNotSupported(f"{self.component} has no power reading")

    @property
    def wraps(self) -> int:
        return sum(a.wraps for a in self._accs or ())

    @property
    def resets(self) -> int:
        return sum(a.resets for a in self._accs or ())

    # ------------------------------------------------------------------ bounds and status
    def error_bound_j(self, energy_j: float) -> float:
        """The bound on a window's energy from this device alone: the systematic part
        (``relative_bound`` × energy) plus what the signal's granularity leaves open at the window's two
        edges (one count of a counter; the averaging window and refresh period of a power reading at full
        power)."""
        edge = 0.0
        if self.signal.kind == "energy_counter":
            edge = 2 * (self.signal.unit_j or 0.0)
        elif self.signal.kind == "power":
            window = (
                self.signal.averaging_window_s
                if self.signal.averaging_window_s is not None
                else UNKNOWN_WINDOW_S
            )
            edge = 2 * self.max_power_w * (window + (self.signal.refresh_s or 0.0))
        return self.relative_bound * abs(energy_j) + edge

    def status(self) -> SensorStatus:
        """What ``wattsup doctor`` shows for this device."""
        extra = {
            "vendor": self.identity.vendor,
            "name": self.identity.name,
            "signal": self.signal.describe(),
            **self.extra,
        }
        if self.identity.uuid:
            extra["uuid"] = self.identity.uuid
        if self.included_in:
            extra["included_in"] = self.included_in
        if self.includes:
            extra["includes"] = ", ".join(self.includes)
        return SensorStatus(
            self.component,
            self.identity.source,
            self.signal.kind != "none",
            self.method,
            self.detail,
            reason="" if self.signal.kind != "none" else self.detail,
            extra=extra,
        )

    def close(self) -> None:
        """Release what the device holds (a library reference)."""


@dataclass
class Probe:
    """What one vendor's discovery found: usable devices, devices with no signal of their own, and the
    devices it saw but could not use (component, why)."""

    devices: list[EnergyDevice] = field(default_factory=list)
    unmeasured: list[EnergyDevice] = field(default_factory=list)
    problems: list[tuple[str, SensorUnavailable]] = field(default_factory=list)
