"""The device protocol's own rules, on a minimal in-test device: readers refuse the wrong signal, garbage
readings are errors (never a figure), the bound follows the signal, and the status says what doctor shows."""

from __future__ import annotations

import math

import pytest

from tests.fakes.device_harness import install_clock
from tests.fakes.nvml import FakeClock
from wattsup.errors import DeviceNotSupported, SensorUnavailable
from wattsup.sensors.device import EnergyDevice, Identity, Signal


class Scripted(EnergyDevice):
    """Returns the next of ``values`` at each read."""

    def __init__(self, signal: Signal, values: list[float], **kw: object) -> None:
        self.values = list(values)
        method = {"energy_counter": "counter", "power": "sampled", "none": None}[signal.kind]
        super().__init__(Identity("x:0", "Test", "scripted", "test"), signal, method, "scripted", 100.0, **kw)  # type: ignore[arg-type]

    def _read_counter_raw(self) -> float:
        return self.values.pop(0)

    def _read_power_w(self) -> float:
        return self.values.pop(0)


COUNTER = Signal("energy_counter", unit_j=1e-3, wrap_range_raw=1000.0)
POWER = Signal("power", averaging_window_s=1.0, refresh_s=0.1)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return install_clock(monkeypatch, FakeClock())


def test_readers_refuse_the_wrong_signal() -> None:
    with pytest.raises(DeviceNotSupported, match="read its power"):
        Scripted(POWER, [1.0]).read_energy_j()
    with pytest.raises(DeviceNotSupported, match="read its energy"):
        Scripted(COUNTER, [1.0]).read_power_w()
    with pytest.raises(ValueError, match="method exactly when"):
        EnergyDevice(Identity("x", "T", "n", "s"), Signal("none"), "counter", "", 1.0)
    with pytest.raises(ValueError, match="positive unit"):
        EnergyDevice(Identity("x", "T", "n", "s"), Signal("energy_counter"), "counter", "", 1.0)


@pytest.mark.parametrize("bad", [math.nan, -1.0, math.inf])
def test_garbage_readings_are_errors_never_figures(clock: FakeClock, bad: float) -> None:
    with pytest.raises(SensorUnavailable, match="not a power"):
        Scripted(POWER, [bad]).read_power_w()
    dev = Scripted(COUNTER, [10.0, bad])
    dev.read_energy_j()
    with pytest.raises(SensorUnavailable, match="not an energy"):
        dev.read_energy_j()


def test_counter_wraps_in_raw_units(clock: FakeClock) -> None:
    dev = Scripted(COUNTER, [900.0, 950.0, 50.0])
    assert dev.read_energy_j() == 0.0
    clock.advance(0.1)
    assert dev.read_energy_j() == pytest.approx(0.05)
    clock.advance(0.1)
    assert dev.read_energy_j() == pytest.approx(0.15)  # 950 -> 1000 -> 50: 100 counts of 1 mJ
    assert dev.wraps == 1 and dev.resets == 0


def test_bound_follows_the_signal() -> None:
    counter = Scripted(COUNTER, [])
    assert counter.error_bound_j(1000.0) == pytest.approx(2e-3)  # one count at each end
    power = Scripted(POWER, [], relative_bound=0.05)
    # 5% of the energy, plus the window and refresh at full power at each end
    assert power.error_bound_j(1000.0) == pytest.approx(50.0 + 2 * 100.0 * 1.1)


def test_status_carries_identity_and_signal() -> None:
    st = Scripted(COUNTER, [], included_in="x:1").status()
    assert st.available and st.method == "counter" and st.component == "x:0"
    assert st.extra["vendor"] == "Test" and "wraps at 1000 counts" in st.extra["signal"]
    assert st.extra["included_in"] == "x:1"
    assert "averaged over 1 s, refreshed every 0.1 s" in POWER.describe()
    assert (
        Signal("power", averaging_window_s=None)
        .describe()
        .startswith("power reading (averaging window not stated")
    )
