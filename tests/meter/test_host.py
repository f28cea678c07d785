"""A busy host: the background CPU share recorded with every window, a whole-package counter apportioned
to the metered process tree, a warning; and memory that stays bounded however long the sampler runs."""

from __future__ import annotations

import pytest

from tests.fakes.gpu_sim import T0
from tests.fakes.manual_sampler import FunctionTrack, ManualSampler
from tests.fakes.nvml import FakeClock
from wattsup.meter import Meter
from wattsup.meter.sampler import HISTORY_S, TRIM_EVERY_S, Sampler
from wattsup.meter.timeline import HostLoadTrack, PolledEnergyTrack
from wattsup.meter.window import APPORTION_ABOVE, BUSY_HOST_SHARE

NCPU = 8


def host_track(clock: FakeClock, host_cores: float, tree_cores: float) -> HostLoadTrack:
    """The host keeps ``host_cores`` cores busy, of which the metered tree ``tree_cores``."""

    def read() -> tuple[float, float]:
        t = clock.now - T0
        return host_cores * t, tree_cores * t

    return HostLoadTrack(read, NCPU, 0.25)


def rapl(watts: float) -> PolledEnergyTrack:
    tr = PolledEnergyTrack("cpu", FunctionTrack(lambda t: watts * (t - T0)), 0.05, "counter", "RAPL cpu")
    tr.apportion = True
    return tr


def test_quiet_host_charges_the_whole_package_and_records_a_small_share(fake_clock: FakeClock) -> None:
    host = host_track(fake_clock, host_cores=1.0, tree_cores=1.0)
    s = ManualSampler([rapl(60.0)], fake_clock, host=host)
    with Meter(sources=s, sync=None) as m:
        s.advance(2.0)
    meas = m.measurement
    assert meas is not None
    assert meas.background_cpu_share == pytest.approx(0.0, abs=1e-9)
    assert meas.component("cpu").energy_j == pytest.approx(120.0)
    assert "apportioned" not in meas.component("cpu").detail
    assert not [w for w in meas.warnings if w.startswith("busy host")]


def test_busy_host_apportions_the_package_and_warns(fake_clock: FakeClock) -> None:
    # the tree keeps 1 core busy, other processes 5 more: background 5/8 of the host's CPU time
    host = host_track(fake_clock, host_cores=6.0, tree_cores=1.0)
    s = ManualSampler([rapl(150.0)], fake_clock, host=host)
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning, match="busy host"):
        m.start()
        s.advance(2.0)
        meas = m.stop()
    assert meas.background_cpu_share == pytest.approx(5 / 8)
    assert meas.background_cpu_share > BUSY_HOST_SHARE > APPORTION_ABOVE
    cpu = meas.component("cpu")
    assert cpu.energy_j == pytest.approx(300.0 / 6)  # its share (1/6) of the package's 300 J
    assert cpu.error_bound_j >= 0.25 * 250.0  # what was taken away is uncertain, and said to be
    assert "whole-package counter apportioned to this process tree" in cpu.detail
    assert "250.0 J left to the other processes" in cpu.detail
    assert any(w.startswith("busy host: other processes used 62%") for w in meas.warnings)


def test_memory_is_bounded_without_windows_and_kept_for_open_ones(fake_clock: FakeClock) -> None:
    tr = PolledEnergyTrack("ram", FunctionTrack(lambda t: 5.0 * (t - T0)), 0.05, "modeled", "ram")
    s = ManualSampler([tr], fake_clock)
    s.start()
    for _ in range(int(3 * HISTORY_S / TRIM_EVERY_S)):
        s.advance(TRIM_EVERY_S)
        s.trim(fake_clock.now)
    per_s = 1 / 0.05
    assert len(tr.t) <= (HISTORY_S + TRIM_EVERY_S) * per_s + 2  # a bounded recent history only
    # a window opened now keeps everything it needs, however long it stays open
    m = Meter(sources=s, sync=None)
    m.start()
    opened = fake_clock.now
    for _ in range(int(2 * HISTORY_S / TRIM_EVERY_S)):
        s.advance(TRIM_EVERY_S)
        s.trim(fake_clock.now)
    assert tr.t[0] <= opened
    meas = m.stop()
    assert meas.component("ram").energy_j == pytest.approx(5.0 * meas.duration_s)
    s.advance(TRIM_EVERY_S)
    s.trim(fake_clock.now)  # the window closed: its readings go
    assert len(tr.t) <= (HISTORY_S + TRIM_EVERY_S) * per_s + 2


def test_the_sampler_thread_trims_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real thread calls trim every TRIM_EVERY_S (shortened here) and keeps HISTORY_S of readings."""
    import time

    from wattsup.meter import sampler as sampler_mod

    monkeypatch.setattr(sampler_mod, "TRIM_EVERY_S", 0.05)
    monkeypatch.setattr(sampler_mod, "HISTORY_S", 0.2)
    tr = PolledEnergyTrack("ram", lambda t: 5.0 * t, 0.005, "modeled", "ram")
    s = Sampler([tr])
    s.start()
    try:
        time.sleep(1.0)
        assert tr.t[-1] - tr.t[0] < 0.2 + 0.05 + 0.2  # history, a trim period, scheduling slack
    finally:
        s.stop()


def test_busy_host_shares_the_models_static_power(fake_clock: FakeClock) -> None:
    """A modelled CPU's idle power and the RAM model are drawn whatever runs: on a busy host the metered
    tree is charged its CPU-time share of them, and its own dynamic power in full."""
    host = host_track(fake_clock, host_cores=4.0, tree_cores=1.0)  # background 3/8 of the CPUs
    cpu = PolledEnergyTrack("cpu", FunctionTrack(lambda t: 30.0 * (t - T0)), 0.05, "modeled", "cpu model")
    cpu.static_w = 10.0  # 10 W idle, 20 W of this tree's own work
    ram = PolledEnergyTrack("ram", FunctionTrack(lambda t: 8.0 * (t - T0)), 0.05, "modeled", "ram model")
    ram.static_w = 8.0
    s = ManualSampler([cpu, ram], fake_clock, host=host)
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning, match="busy host"):
        m.start()
        s.advance(2.0)
        meas = m.stop()
    share = 1 / 4  # the tree's share of the host's busy CPU time
    assert meas.component("cpu").energy_j == pytest.approx(2 * 20.0 + 2 * 10.0 * share)
    assert meas.component("ram").energy_j == pytest.approx(2 * 8.0 * share)
    assert "idle (static) power apportioned" in meas.component("ram").detail
    # on a quiet host nothing is taken away
    quiet = ManualSampler([cpu, ram], fake_clock, host=host_track(fake_clock, 1.0, 1.0))
    with Meter(sources=quiet, sync=None) as m2:
        quiet.advance(2.0)
    assert m2.measurement is not None
    assert m2.measurement.component("ram").energy_j == pytest.approx(16.0)


def test_a_short_phase_is_apportioned_as_the_window_it_lies_in(fake_clock: FakeClock) -> None:
    """A phase shorter than the host-load reading interval cannot tell its own share; it takes its window's,
    so that phases and windows add up (a window minus its phase is never negative: the separate prefill pass
    subtracted from a repetition once gave -2.7 J of modelled RAM on a busy host)."""
    host = host_track(fake_clock, host_cores=4.0, tree_cores=1.0)
    ram = PolledEnergyTrack("ram", FunctionTrack(lambda t: 8.0 * (t - T0)), 0.05, "modeled", "ram model")
    ram.static_w = 8.0
    s = ManualSampler([ram], fake_clock, host=host)
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning, match="busy host"):
        m.start()
        s.advance(1.5)
        with m.phase("short"):
            s.advance(0.4)
        s.advance(0.1)
        meas = m.stop()
    share = 1 / 4
    window, phase = meas.component("ram"), meas.phase("short").component("ram")
    assert window.energy_j == pytest.approx(2 * 8.0 * share)
    assert phase.energy_j == pytest.approx(0.4 * 8.0 * share)
    assert "apportioned" in phase.detail
    assert window.energy_j - phase.energy_j > 0
