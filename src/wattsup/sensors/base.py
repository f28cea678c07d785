"""Shared pieces of the sensors: the method vocabulary and wrap/reset-safe accumulation of raw counters."""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal

Method = Literal["counter", "sampled", "modeled"]
"""How a component's energy was obtained: a hardware energy counter, integrated power samples, or a model."""

__all__ = ["CounterAccumulator", "Method", "SensorStatus", "SharedLibrary"]


@dataclass
class SensorStatus:
    """What ``wattsup doctor`` reports for one energy source: usable or not, and why."""

    component: str
    source: str
    available: bool
    method: Method | None = None
    detail: str = ""
    reason: str = ""
    actionable: bool = False
    """The user can fix the reason (a permission), so every measurement repeats it as a warning."""
    extra: dict[str, str] = field(default_factory=dict)


class CounterAccumulator:
    """Turns successive raw readings of a hardware energy counter into monotonic cumulative joules.

    A counter may wrap (RAPL wraps at ``max_energy_range_uj``) or reset (a driver reload zeroes the NVML
    counter). A decrease is read as a wrap when the energy it implies since the last reading is
    plausible (at most ``max_power_w`` over the elapsed time); otherwise as a reset, after which the
    counter's new value is the energy since the reset. Poll often enough that at most one wrap can
    happen between two readings: the background timeline polls RAPL every 50 ms.
    """

    def __init__(self, scale_j: float, wrap_range_raw: float | None, max_power_w: float) -> None:
        self.scale_j = scale_j
        self.wrap_range_raw = wrap_range_raw
        self.max_power_w = max_power_w
        self._last_raw: float | None = None
        self._last_t: float | None = None
        self.total_j = 0.0
        self.wraps = 0
        self.resets = 0

    def update(self, raw: float, t_s: float) -> float:
        """Feed one raw reading taken at monotonic time ``t_s``; returns the cumulative joules."""
        if not math.isfinite(raw) or raw < 0:
            raise ValueError(f"counter reading must be a finite non-negative number, got {raw!r}")
        if self._last_raw is None or self._last_t is None:
            self._last_raw, self._last_t = raw, t_s
            return self.total_j
        dt = max(t_s - self._last_t, 0.0)
        delta = raw - self._last_raw
        if delta < 0:
            wrapped = None if self.wrap_range_raw is None else delta + self.wrap_range_raw
            # Slack of 1 s at full power covers a reading that was delayed after it was taken.
            plausible_j = self.max_power_w * (dt + 1.0)
            if wrapped is not None and 0 <= wrapped * self.scale_j <= plausible_j:
                delta = wrapped
                self.wraps += 1
            else:
                delta = raw  # reset: the new value counts from zero
                self.resets += 1
        self.total_j += delta * self.scale_j
        self._last_raw, self._last_t = raw, t_s
        return self.total_j


class SharedLibrary:
    """A vendor library (NVML, amdsmi) started lazily, once per process, and reference-counted: each
    :meth:`acquire` holds a reference, and the library shuts down with the last :meth:`release`. A start
    that fails holds nothing and is tried again by the next acquire; errors of the shutdown are swallowed.

    ``load`` returns the binding's module (raising the typed error where it is missing), ``start`` and
    ``stop`` initialise and shut it down, ``stop_errors`` names the binding's exception class."""

    def __init__(
        self,
        load: Callable[[], ModuleType],
        start: Callable[[ModuleType], None],
        stop: Callable[[ModuleType], None],
        stop_errors: Callable[[ModuleType], type[BaseException]],
    ) -> None:
        self._load, self._start, self._stop, self._stop_errors = load, start, stop, stop_errors
        self._lock = threading.Lock()
        self.refs = 0

    def acquire(self) -> ModuleType:
        lib = self._load()
        with self._lock:
            if self.refs == 0:
                self._start(lib)
            self.refs += 1
        return lib

    def release(self) -> None:
        lib = self._load()
        with self._lock:
            if self.refs <= 0:
                return
            self.refs -= 1
            if self.refs == 0:
                with contextlib.suppress(self._stop_errors(lib)):
                    self._stop(lib)
