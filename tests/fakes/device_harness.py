"""Drives a device through a synthetic power trace on the fake clock, the way the sampler reads it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fakes.nvml import FakeClock
from wattsup.sensors import apple, device, neuron


def install_clock(monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> FakeClock:
    for mod in (device, neuron, apple):
        monkeypatch.setattr(mod, "time", clock)
    return clock


def measure(
    dev: device.EnergyDevice,
    clock: FakeClock,
    duration_s: float,
    interval_s: float = 0.05,
    update: Callable[[], None] = lambda: None,
) -> tuple[float, float, float]:
    """(energy J the device reports over the run, start time, end time): counter devices by the
    difference of cumulative joules, power devices by trapezoid integration of their readings."""
    update()
    t0 = clock.monotonic()
    if dev.signal.kind == "energy_counter":
        e0 = dev.read_energy_j()
        e = e0
        while clock.monotonic() < t0 + duration_s - 1e-9:
            clock.advance(interval_s)
            update()
            e = dev.read_energy_j()
        return e - e0, t0, clock.monotonic()
    total = 0.0
    last = dev.read_power_w()
    while clock.monotonic() < t0 + duration_s - 1e-9:
        clock.advance(interval_s)
        update()
        w = dev.read_power_w()
        total += (last + w) / 2 * interval_s
        last = w
    return total, t0, clock.monotonic()
