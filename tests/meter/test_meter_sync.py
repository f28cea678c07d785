"""The Meter's device synchronisation: at every window and phase edge before the clock is read, only on
exits or not at all where asked, host phases that leave queued work to the next phase, and ``sync="auto"``
that synchronises CUDA only where torch initialised it; on a fake clock with a sampler polled in the
test's thread."""

from __future__ import annotations

import sys
import types

import pytest

from tests.fakes.manual_sampler import ManualSampler, steady
from tests.fakes.nvml import FakeClock
from wattsup.errors import WattsupError
from wattsup.meter import Meter


def test_sync_is_called_at_every_edge_before_the_clock(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    synced: list[float] = []

    def sync() -> None:
        fake_clock.advance(0.001)  # waiting for the device takes time; the edge is after it
        synced.append(fake_clock.now)

    m = Meter(sources=s, sync=sync, sync_phases=True)
    with m:
        with m.phase("a"):
            s.advance(0.1)
        with m.phase("b"), m.phase("c"):
            s.advance(0.1)
    assert len(synced) == 2 + 2 * 3
    meas = m.measurement
    assert meas is not None
    assert meas.start_s == synced[0]
    assert meas.phases[0].start_s == synced[1]
    assert meas.duration_s == pytest.approx(synced[-1] - synced[0])


def test_phase_edges_are_timestamps_only_by_default(fake_clock: FakeClock) -> None:
    """The cheap default: the window's start and stop sync the device, phase edges only read the clock."""
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    synced: list[float] = []
    m = Meter(sources=s, sync=lambda: synced.append(fake_clock.now))
    with m:
        for _ in range(3):
            with m.phase("p"), m.phase("q"):
                s.advance(0.1)
    assert len(synced) == 2
    assert m.measurement is not None and m.measurement.phase("q").duration_s == pytest.approx(0.3)


def test_sync_phase_enter_false_syncs_only_on_exits(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    synced: list[float] = []
    m = Meter(sources=s, sync=lambda: synced.append(fake_clock.now), sync_phases=True, sync_phase_enter=False)
    with m:
        for _ in range(3):
            with m.phase("p"):
                s.advance(0.1)
    assert len(synced) == 2 + 3  # window start and stop, and each phase exit
    assert m.measurement is not None and m.measurement.phase("p").duration_s == pytest.approx(0.3)


def test_host_phases_do_not_sync_on_exit_and_leave_queued_work_to_the_next_phase(
    fake_clock: FakeClock,
) -> None:
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    queued = {"until": 0.0}  # a device queue: sync waits for it

    def sync() -> None:
        if queued["until"] > fake_clock.now:
            s.advance_to(queued["until"])

    m = Meter(sources=s, sync=sync, sync_phases=True, sync_phase_enter=False, host_phases=("preprocess",))
    with m:
        for _ in range(2):
            with m.phase("preprocess"):
                s.advance(0.01)
                queued["until"] = fake_clock.now + 0.002  # an input copy still in flight
            with m.phase("forward"):
                queued["until"] += 0.1  # the kernels, queued behind the copy
            with m.phase("postprocess"):
                s.advance(0.001)
    meas = m.measurement
    assert meas is not None
    assert meas.phase("preprocess").duration_s == pytest.approx(0.02)  # host time only
    assert meas.phase("forward").duration_s == pytest.approx(0.204)  # the copies and the kernels
    assert meas.phase("postprocess").duration_s == pytest.approx(0.002)
    assert meas.duration_s == pytest.approx(0.226)


def test_sync_settings_changed_after_phases_were_used_apply_to_later_edges(fake_clock: FakeClock) -> None:
    """A meter keeps one phase object per name: changing the settings must reach the phases already used."""
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    synced: list[str] = []
    m = Meter(sources=s, sync=lambda: synced.append("sync"))
    with m:
        with m.phase("p"):
            s.advance(0.1)
        assert synced == ["sync"]  # the window's start alone
        m.sync_phases = True
        with m.phase("p"):
            s.advance(0.1)
        assert len(synced) == 1 + 2
        m.host_phases = frozenset({"p"})
        with m.phase("p"):
            s.advance(0.1)
        assert len(synced) == 3 + 1  # the enter syncs, the exit of a host phase does not
        m.sync_phase_enter = False
        with m.phase("p"):
            s.advance(0.1)
        assert len(synced) == 4
    assert len(synced) == 5
    assert m.measurement is not None and m.measurement.phase("p").duration_s == pytest.approx(0.4)


def test_sync_phases_switched_while_a_phase_is_open_applies_from_the_next_edge(fake_clock: FakeClock) -> None:
    """The common edge does not read ``sync_phases`` (the setter unbinds the phases instead): switching it
    with a phase open must still sync that phase's exit, and switching it back must stop syncing."""
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    synced: list[float] = []
    m = Meter(sources=s, sync=lambda: synced.append(fake_clock.now))
    with m:
        for _ in range(2):  # the second entry takes the common edge
            with m.phase("p"):
                s.advance(0.1)
        assert len(synced) == 1
        with m.phase("p"):
            m.sync_phases = True
            s.advance(0.1)
        assert len(synced) == 2  # the exit synced
        with m.phase("p"):
            m.sync_phases = False
            s.advance(0.1)
        assert len(synced) == 3  # the enter synced, the exit did not
        for _ in range(2):
            with m.phase("p"):
                s.advance(0.1)
        assert len(synced) == 3
    assert m.measurement is not None
    p = m.measurement.phase("p")
    assert p.duration_s == pytest.approx(0.6)


def test_a_phase_closed_without_being_opened_is_refused(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 10.0)
    m = Meter(name="p", sources=ManualSampler([cpu], fake_clock), sync=None)
    m.start()
    with pytest.raises(WattsupError, match="'p' is not open"):
        m.phase("p").__exit__(None, None, None)  # not even a phase named like the window itself
    m.stop()
    assert m.measurement is not None and m.measurement.phases == []


def test_auto_sync_synchronises_cuda_only_when_torch_initialised_it(
    fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    initialised = {"yes": False}
    cuda = types.SimpleNamespace(
        is_available=lambda: True,
        is_initialized=lambda: initialised["yes"],
        synchronize=lambda: calls.append("sync"),
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    with Meter(sources=s):  # sync="auto" by default
        s.advance(0.1)
    assert calls == []
    initialised["yes"] = True
    with Meter(sources=s) as m, m.phase("x"):
        s.advance(0.1)
    assert calls == ["sync"] * 2  # the window's start and stop; phase edges do not sync by default
    monkeypatch.delitem(sys.modules, "torch")
    with Meter(sources=s):  # no torch imported: nothing to do
        s.advance(0.1)


# --------------------------------------------------------------------------- measurement and timeline
