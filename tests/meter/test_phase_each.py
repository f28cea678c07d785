"""``meter.phase(name).each(items)``: a phase around each body of a loop, the cheap form of a ``with``
inside it; on a fake clock with a sampler polled in the test's thread, so every duration is exact."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.fakes.manual_sampler import ManualSampler, steady
from tests.fakes.nvml import FakeClock
from wattsup.errors import WattsupError
from wattsup.meter import Meter

T0 = 1000.0


@pytest.fixture
def rig(fake_clock: FakeClock) -> tuple[ManualSampler, Callable[..., Meter]]:
    cpu, _ = steady("cpu", 50.0)
    s = ManualSampler([cpu], fake_clock)

    def make(**kw: object) -> Meter:
        kw.setdefault("sync", None)
        return Meter(sources=s, **kw)  # type: ignore[arg-type]

    return s, make


def slow_items(s: ManualSampler, n: int, fetch_s: float) -> Iterator[int]:
    """Items that take ``fetch_s`` each to produce (a data loader): that time is not the phase's."""
    for i in range(n):
        s.advance(fetch_s)
        yield i


def test_the_same_figures_as_a_with_inside_the_loop(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    figures = []
    for form in ("with", "each"):
        m = make()
        m.start()
        seen = []
        if form == "with":
            for x in slow_items(s, 4, 0.05):
                with m.phase("forward"):
                    seen.append(x)
                    s.advance(0.1)
                    with m.phase("attention"):
                        s.advance(0.02)
        else:
            for x in m.phase("forward").each(slow_items(s, 4, 0.05)):
                seen.append(x)
                s.advance(0.1)
                with m.phase("attention"):
                    s.advance(0.02)
        meas = m.stop()
        assert seen == [0, 1, 2, 3]
        fwd = meas.phase("forward")
        figures.append(
            (meas.duration_s, fwd.duration_s, fwd.start_s - meas.start_s, fwd.phase("attention").duration_s)
        )
    assert figures[0] == pytest.approx(figures[1])
    assert figures[1] == pytest.approx((4 * 0.17, 4 * 0.12, 0.05, 4 * 0.02))


def test_break_closes_the_phase_where_the_loop_is_left(
    rig: tuple[ManualSampler, Callable[..., Meter]],
) -> None:
    s, make = rig
    with make() as m:
        for x in m.phase("forward").each(range(10)):
            s.advance(0.1)
            if x == 2:
                break
        s.advance(1.0)  # after the loop: not in the phase
        for _ in m.phase("forward").each(range(2)):  # and it opens again
            s.advance(0.1)
    meas = m.measurement
    assert meas is not None
    assert meas.phase("forward").duration_s == pytest.approx(0.5)
    assert meas.duration_s == pytest.approx(1.5)


def test_an_exception_from_the_body_closes_the_phase_and_goes_on(
    rig: tuple[ManualSampler, Callable[..., Meter]],
) -> None:
    s, make = rig
    m = make()
    m.start()
    with pytest.raises(RuntimeError, match="out of memory"):
        for x in m.phase("forward").each(range(10)):
            s.advance(0.1)
            if x == 1:
                raise RuntimeError("out of memory")
    s.advance(0.5)
    with m.phase("cleanup"):  # the phase is closed: others open, and the window stops
        s.advance(0.1)
    meas = m.stop()
    assert meas.phase("forward").duration_s == pytest.approx(0.2)
    assert meas.phase("cleanup").duration_s == pytest.approx(0.1)


def test_an_empty_loop_records_nothing(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make() as m:
        assert list(m.phase("forward").each([])) == []
        s.advance(0.1)
    assert m.measurement is not None and m.measurement.phases == []


def test_under_each_parent_it_records_where_it_is(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make() as m:
        fwd = m.phase("fwd")
        for parent in ("prefill", "decode", "prefill"):
            with m.phase(parent):
                for _ in fwd.each(range(3)):
                    s.advance(0.1)
        for _ in fwd.each(range(2)):
            s.advance(0.01)
    meas = m.measurement
    assert meas is not None
    assert meas.phase("prefill").phase("fwd").duration_s == pytest.approx(0.6)
    assert meas.phase("decode").phase("fwd").duration_s == pytest.approx(0.3)
    assert [p.name for p in meas.phases] == ["prefill", "decode", "fwd"]
    assert meas.phases[2].duration_s == pytest.approx(0.02)


def test_syncs_at_every_edge_where_asked_and_from_the_next_edge_when_switched(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 10.0)
    s = ManualSampler([cpu], fake_clock)
    synced: list[float] = []
    m = Meter(sources=s, sync=lambda: synced.append(fake_clock.now), sync_phases=True)
    with m:
        for _ in m.phase("p").each(range(3)):
            s.advance(0.1)
        assert len(synced) == 1 + 2 * 3
        m.sync_phases = False
        for _ in m.phase("p").each(range(3)):
            s.advance(0.1)
        assert len(synced) == 7  # timestamps only
        for i in m.phase("p").each(range(3)):
            if i == 1:
                m.sync_phases = True  # switched inside the body: this item's exit syncs, and every edge after
            s.advance(0.1)
        assert len(synced) == 7 + 1 + 2
    assert m.measurement is not None and m.measurement.phase("p").duration_s == pytest.approx(0.9)


def test_misuse_is_refused_as_with_a_with(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make()
    with pytest.raises(WattsupError, match="start the meter"):
        next(iter(m.phase("forward").each(range(3))))
    m.start()
    with pytest.raises(WattsupError, match="reverse order"):
        for _ in m.phase("forward").each(range(3)):
            m.phase("inner").__enter__()  # left open: the item's exit finds it innermost
            s.advance(0.1)
