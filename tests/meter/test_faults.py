"""Sensors that fail mid-window (issue 13): a stuck counter, a RAPL zone that vanishes, a GPU lost, a
counter reset. Each gives a labelled partial figure close to the truth, never 0 J, never a dropped
component; driven through the real sources (fake NVML, fake powercap trees) and the real Meter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fakes.gpu_sim import T0, gpu_simulation
from tests.fakes.manual_sampler import ManualSampler
from tests.fakes.nvml import FakeClock, FakeGpu
from tests.fakes.powercap import server_tree
from wattsup.meter import Meter, sources
from wattsup.meter.guard import GuardedTrack
from wattsup.meter.timeline import SAMPLES_EVERY_S, CounterTrack
from wattsup.sensors import models

PACKAGE_W = 80.0
DRAM_W = 12.0
MODEL_TDP_W = 200.0
MODEL_UTIL = 0.5  # the CPU model then draws 200 × 0.75 = 150 W


@pytest.fixture
def rapl_rig(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> tuple[ManualSampler, dict[str, float | None]]:
    """A one-socket RAPL tree whose counters follow the fake clock (package 80 W, DRAM 12 W) until the
    test freezes them (``state['stuck_at']``) or removes the zone (``state['gone_at']``); the CPU model is
    fixed."""
    monkeypatch.setenv("WATTSUP_CPU_TDP_W", str(MODEL_TDP_W))
    monkeypatch.setattr(models.CpuUtilisation, "sample", lambda self: MODEL_UTIL)
    tree = server_tree(tmp_path / "powercap", sockets=1)
    state: dict[str, float | None] = {"stuck_at": None, "gone_at": None}

    def drive(t: float) -> None:
        gone = state["gone_at"]
        if gone is not None and t >= gone:
            shutil.rmtree(tree.root / "intel-rapl:0", ignore_errors=True)
            return
        stuck = state["stuck_at"]
        tt = t if stuck is None else min(t, stuck)
        tree.set("intel-rapl:0", 1_000_000 + round(PACKAGE_W * (tt - T0) * 1e6))
        tree.set("intel-rapl:0:1", 100_000 + round(DRAM_W * (tt - T0) * 1e6))

    drive(fake_clock.now)
    found = sources.discover(gpu=False, powercap_root=str(tree.root))
    assert all(isinstance(t, GuardedTrack) for t in found.tracks)
    s = ManualSampler(found.tracks, fake_clock, before_poll=drive)
    return s, state


def _check_partial(comp_energy: float, truth: float, bound: float, filled_s: float) -> None:
    assert comp_energy > 0
    assert filled_s > 0
    assert abs(comp_energy - truth) <= bound


def test_rapl_counter_that_stops_moving_is_filled_from_the_cpu_model(
    rapl_rig: tuple[ManualSampler, dict[str, float | None]], fake_clock: FakeClock
) -> None:
    s, state = rapl_rig
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning, match="stopped moving"):
        m.start()
        s.advance(2.0)
        state["stuck_at"] = fake_clock.now  # the counter freezes; the package still draws 80 W
        s.advance(3.0)
        meas = m.stop()
    cpu = meas.component("cpu")
    assert cpu.method == "counter" and cpu.partial and meas.partial
    # 2 s measured at 80 W, then ~3 s filled by the model at 150 W (the first ~1 s of the stall at the
    # stall's start is detected late but still filled: the span starts where the counter last moved)
    assert cpu.filled_s == pytest.approx(3.0, abs=0.1)
    assert cpu.energy_j == pytest.approx(2 * PACKAGE_W + 3 * 150.0, rel=0.05)
    assert "filled from modelled" in cpu.detail
    assert any("stopped moving" in w for w in meas.warnings)
    assert any("partial figure" in w for w in meas.warnings)
    dram = meas.component("dram")  # the DRAM zone also froze: filled from the RAM model
    assert dram.partial and dram.energy_j > 2 * DRAM_W


def test_rapl_zone_that_vanishes_keeps_what_it_measured(
    rapl_rig: tuple[ManualSampler, dict[str, float | None]], fake_clock: FakeClock
) -> None:
    s, state = rapl_rig
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning, match="reading failed"):
        m.start()
        s.advance(1.5)
        state["gone_at"] = fake_clock.now + 0.01
        s.advance(2.5)
        meas = m.stop()
    cpu = meas.component("cpu")
    assert cpu.partial and cpu.filled_s == pytest.approx(2.5, abs=0.1)
    truth = 1.5 * PACKAGE_W + 2.5 * 150.0  # what was measured, and the model's figure for the rest
    _check_partial(cpu.energy_j, truth, cpu.error_bound_j + 0.05 * truth, cpu.filled_s)
    assert {c.name for c in meas.components} == {"cpu", "dram"}  # nothing dropped


def test_a_window_after_the_loss_is_all_filled_and_still_not_zero(
    rapl_rig: tuple[ManualSampler, dict[str, float | None]], fake_clock: FakeClock
) -> None:
    s, state = rapl_rig
    s.start()
    s.advance(1.0)
    state["gone_at"] = fake_clock.now
    s.advance(1.0)
    m = Meter(sources=s, sync=None)
    with pytest.warns(RuntimeWarning):
        m.start()
        s.advance(1.0)
        meas = m.stop()
    cpu = meas.component("cpu")
    assert cpu.filled_s == pytest.approx(meas.duration_s)
    assert cpu.energy_j == pytest.approx(150.0, rel=0.05)


def test_gpu_counter_that_stops_is_filled_from_the_power_readings() -> None:
    gpu = FakeGpu(power=400.0, stuck_at=T0 + 8.0)
    with gpu_simulation(gpu, guarded=True) as sim:
        sim.run_to(T0 + 6.0)
        tr = sim.tracks[0]
        assert isinstance(tr, GuardedTrack)
        sim.run_to(T0 + 12.0)
        est = tr.energy(T0 + 7.0, T0 + 11.0)
        truth = sim.fake.true_joules(0, T0 + 7.0, T0 + 11.0)
        # filled from the last counter step bracketed before the stall: where samples shape the windows,
        # steps are bracketed spacing() periods apart, so up to that long before 8 s
        assert isinstance(tr.primary, CounterTrack)
        assert 3.0 <= est.filled_s <= 3.0 + tr.primary.spacing() * tr.primary.period_s + 0.1
        assert "NVML power readings" in est.fill_note
        assert abs(est.energy_j - truth) <= est.bound_j
        assert any("stopped moving" in msg for _, msg in tr.events)


def test_gpu_lost_mid_window_keeps_what_was_measured_and_holds_the_last_power() -> None:
    gpu = FakeGpu(power=300.0, lost_at=T0 + 9.0)
    with gpu_simulation(gpu, guarded=True) as sim:
        sim.run_to(T0 + 12.0)
        tr = sim.tracks[0]
        assert isinstance(tr, GuardedTrack) and tr.failed and tr.error is None
        est = tr.energy(T0 + 7.0, T0 + 11.0)
        truth = sim.fake.true_joules(0, T0 + 7.0, T0 + 11.0)  # the fake keeps drawing 300 W
        # measured by the samples up to the loss (they are read every SAMPLES_EVERY_S)
        assert est.energy_j > 0 and 1.9 <= est.filled_s <= 2.0 + SAMPLES_EVERY_S + 0.05
        assert "held at the last measured power" in est.fill_note
        assert abs(est.energy_j - truth) <= est.bound_j
        assert est.energy_j == pytest.approx(truth, rel=0.05)
        assert any("GpuIsLost" in msg or "reading failed" in msg for _, msg in tr.events)


def test_gpu_counter_reset_is_no_fault() -> None:
    """A driver reload zeroes the counter: the accumulator counts on, nothing is filled."""
    gpu = FakeGpu(power=250.0, reset_at=T0 + 7.05)
    with gpu_simulation(gpu, guarded=True) as sim:
        sim.run_to(T0 + 12.0)
        tr = sim.tracks[0]
        est = tr.energy(T0 + 8.0, T0 + 11.0)
        assert est.filled_s == 0
        assert est.energy_j == pytest.approx(sim.fake.true_joules(0, T0 + 8.0, T0 + 11.0), rel=0.02)
