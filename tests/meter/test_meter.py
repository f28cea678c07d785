"""The Meter: windows, nested phases, edges, sync, failing tracks, finalisation; on a fake clock with a
sampler that polls in the test's thread, so every duration and energy is exact."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes.manual_sampler import ManualSampler, steady
from tests.fakes.nvml import FakeClock
from tests.fakes.powercap import server_tree
from wattsup.errors import WattsupError
from wattsup.meter import Measurement, Meter, sources
from wattsup.meter.timeline import CounterTrack

T0 = 1000.0


@pytest.fixture
def rig(fake_clock: FakeClock) -> tuple[ManualSampler, Callable[..., Meter]]:
    """A sampler over cpu (50 W) and ram (5 W, modelled), and a maker of meters over it (no sync)."""
    cpu, _ = steady("cpu", 50.0)
    ram, _ = steady("ram", 5.0, "modeled")
    s = ManualSampler([cpu, ram], fake_clock)

    def make(**kw: object) -> Meter:
        kw.setdefault("sync", None)
        return Meter(sources=s, **kw)  # type: ignore[arg-type]

    return s, make


# --------------------------------------------------------------------------- windows and phases


def test_window_energy_and_duration(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make(name="infer") as m:
        s.advance(1.25)
    meas = m.measurement
    assert meas is not None and meas.name == "infer"
    assert meas.duration_s == pytest.approx(1.25)
    assert meas.energy_by_component_j == pytest.approx({"cpu": 62.5, "ram": 6.25})
    assert meas.energy_j == meas.total_energy_j  # a float, as a component's energy_j is
    assert meas.total_energy_j == pytest.approx(68.75)
    assert meas.component("ram").method == "modeled" and meas.component("cpu").method == "counter"
    assert meas.mixes_measured_and_modeled
    assert meas.mean_power_w("cpu") == pytest.approx(50.0)
    assert meas.warnings == [] and meas.phases == [] and meas.timeline is None
    assert all(c.error_bound_j >= 0 for c in meas.components)


def test_phases_nest_and_accumulate(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make() as m:
        s.advance(0.1)
        with m.phase("load"):
            s.advance(0.2)
        for _ in range(3):
            with m.phase("forward"):
                s.advance(0.1)
                with m.phase("attention"):
                    s.advance(0.05)
            s.advance(0.01)
        with m.phase("load"):  # re-entered after other phases: still one "load"
            s.advance(0.3)
    meas = m.measurement
    assert meas is not None
    assert [p.name for p in meas.phases] == ["load", "forward"]
    load, forward = meas.phases
    assert load.duration_s == pytest.approx(0.5)
    assert forward.duration_s == pytest.approx(0.45)
    assert [p.name for p in forward.phases] == ["attention"]
    attention = meas.phase("attention")
    assert attention.duration_s == pytest.approx(0.15)
    assert attention.energy_by_component_j["cpu"] == pytest.approx(50 * 0.15)
    assert forward.energy_by_component_j["cpu"] == pytest.approx(50 * 0.45)
    assert load.start_s == pytest.approx(T0 + 0.1)
    assert forward.start_s == pytest.approx(T0 + 0.3)
    # durations add up: the window is its phases plus the time between them
    assert meas.duration_s == pytest.approx(0.1 + 0.5 + 0.45 + 3 * 0.01)
    assert sum(p.duration_s for p in meas.phases) <= meas.duration_s
    assert sum(p.total_energy_j for p in meas.phases) <= meas.total_energy_j
    assert [p.name for p in meas.walk()] == ["window", "load", "forward", "attention"]
    assert load.warnings == [] and load.phases == []


def test_same_name_inside_itself_is_a_child(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make() as m, m.phase("step"):
        s.advance(0.1)
        with m.phase("step"):
            s.advance(0.2)
    meas = m.measurement
    assert meas is not None
    outer = meas.phases[0]
    assert outer.name == "step" and outer.duration_s == pytest.approx(0.3)
    assert [p.name for p in outer.phases] == ["step"] and outer.phases[0].duration_s == pytest.approx(0.2)


def test_same_phase_under_different_parents(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make() as m:
        for parent in ("encode", "decode"):
            with m.phase(parent), m.phase("matmul"):
                s.advance(0.1)
    meas = m.measurement
    assert meas is not None
    assert [[c.name for c in p.phases] for p in meas.phases] == [["matmul"], ["matmul"]]


def test_a_phase_object_follows_its_parent_and_its_window(
    rig: tuple[ManualSampler, Callable[..., Meter]],
) -> None:
    """A phase keeps the node it last recorded into: entered under another parent, within itself, in the
    next window or after the window stopped, it records where it is, or says why it cannot."""
    s, make = rig
    m = make()
    fwd = m.phase("fwd")
    for window in (1, 2):
        m.start()
        for i in range(6):
            parent = ("prefill", "decode")[i % 3 == 2]
            with m.phase(parent), fwd:
                s.advance(0.1)
                with fwd:  # the same name within itself: a phase of its own
                    s.advance(0.05)
            with fwd:  # and at the top
                s.advance(0.01)
        meas = m.stop()
        by_name = {p.name: p for p in meas.phases}
        assert set(by_name) == {"prefill", "decode", "fwd"}
        assert by_name["prefill"].phase("fwd").duration_s == pytest.approx(4 * 0.15), window
        assert by_name["decode"].phase("fwd").duration_s == pytest.approx(2 * 0.15)
        assert by_name["decode"].phase("fwd").phase("fwd").duration_s == pytest.approx(2 * 0.05)
        assert by_name["fwd"].duration_s == pytest.approx(6 * 0.01)
        assert by_name["fwd"].phases == []
    with pytest.raises(WattsupError, match="start the meter"), fwd:
        pass
    with pytest.raises(WattsupError, match="'fwd' is not open"):
        fwd.__exit__(None, None, None)


def test_start_stop_and_reuse(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make()
    assert m.start() is m
    s.advance(0.4)
    first = m.stop()
    assert m.measurement is first and first.duration_s == pytest.approx(0.4)
    s.advance(1.0)  # between windows: not metered
    m.start()
    assert m.measurement is None
    s.advance(0.2)
    second = m.stop()
    assert second.duration_s == pytest.approx(0.2)
    assert second.start_s == pytest.approx(first.start_s + 1.4)
    assert second.energy_by_component_j["cpu"] == pytest.approx(10.0)
    assert s.stops == 0  # a sampler given to the meter keeps running


def test_stop_later_lets_the_next_window_run_before_the_first_is_measured(
    rig: tuple[ManualSampler, Callable[..., Meter]],
) -> None:
    s, make = rig
    first, second = make(name="first"), make(name="second")
    first.start()
    s.advance(0.4)
    with first.phase("p"):
        s.advance(0.1)
    pending = first.stop_later()
    assert first.measurement is None  # nothing worked out yet
    second.start()  # the next window runs while the first waits for its result
    s.advance(0.2)
    later = second.stop_later()
    s.advance(200.0)  # far past the sampler's history: the first window's readings stay while it waits
    s.trim(s.clock.now)
    got2 = later.result()  # in any order
    got1 = pending.result()
    assert pending.result() is got1 and first.measurement is got1 and second.measurement is got2
    assert got1.name == "first" and got1.duration_s == pytest.approx(0.5)
    assert got1.energy_by_component_j == pytest.approx({"cpu": 25.0, "ram": 2.5})
    assert got1.phase("p").energy_by_component_j["cpu"] == pytest.approx(5.0)
    assert got2.duration_s == pytest.approx(0.2) and got2.start_s == pytest.approx(T0 + 0.5)
    assert got2.energy_by_component_j["cpu"] == pytest.approx(10.0)
    assert s._pins == []  # both windows' readings may go now


def test_a_cancelled_window_lets_its_readings_go(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make()
    m.start()
    s.advance(0.2)
    pending = m.stop_later()
    assert s._pins != []
    pending.cancel()
    assert s._pins == [] and m.measurement is None
    pending.cancel()  # again: nothing more to give up
    with pytest.raises(WattsupError, match="cancelled"):
        pending.result()
    m.start()
    s.advance(0.1)
    taken = m.stop_later()
    got = taken.result()
    taken.cancel()  # once the result is taken, cancelling changes nothing
    assert taken.result() is got and got.duration_s == pytest.approx(0.1) and s._pins == []


def test_stop_later_gives_what_stop_gives(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make()
    got = []
    for later in (False, True):
        m.start()
        for _ in range(3):
            with m.phase("forward"):
                s.advance(0.05)
            s.advance(0.01)
        got.append(m.stop_later().result() if later else m.stop())
        s.advance(1.0)
    a, b = got  # the same windows a second apart: the same figures (to float rounding)

    def figures(m: Measurement) -> list[object]:
        return [
            (x.name, x.duration_s, [(c.name, c.method, c.energy_j, c.error_bound_j) for c in x.components])
            for x in m.walk()
        ]

    fa, fb = figures(a), figures(b)
    assert [f[0] for f in fa] == [f[0] for f in fb] == ["window", "forward"]
    for (_, da, ca), (_, db, cb) in zip(fa, fb, strict=True):  # type: ignore[misc]
        assert da == pytest.approx(db)
        for (na, ma, ea, ba), (nb, mb, eb, bb) in zip(ca, cb, strict=True):
            assert (na, ma) == (nb, mb) and ea == pytest.approx(eb) and ba == pytest.approx(bb, abs=1e-9)


def test_stop_later_refuses_what_stop_refuses(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    _, make = rig
    m = make()
    with pytest.raises(WattsupError, match="not running"):
        m.stop_later()
    m.start()
    m.phase("open").__enter__()
    with pytest.raises(WattsupError, match="still open"):
        m.stop_later()


def test_decorator(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make(name="work")

    @m
    def work(x: int, *, pause: float) -> int:
        """Doubles."""
        s.advance(pause)
        return 2 * x

    assert work(3, pause=0.2) == 6
    assert m.measurement is not None and m.measurement.duration_s == pytest.approx(0.2)
    assert work(4, pause=0.5) == 8
    assert m.measurement.duration_s == pytest.approx(0.5)
    assert m.measurement.name == "work"
    assert work.__name__ == "work" and work.__doc__ == "Doubles."


def test_errors_in_the_body_still_finalise(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make()
    with pytest.raises(KeyError), m, m.phase("p"):
        s.advance(0.1)
        raise KeyError("boom")
    assert m.measurement is not None
    assert m.measurement.phase("p").duration_s == pytest.approx(0.1)
    with m:  # usable again
        s.advance(0.1)


# --------------------------------------------------------------------------- misuse


def test_stop_before_start(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    _, make = rig
    m = make()
    with pytest.raises(WattsupError, match="not running"):
        m.stop()


def test_phase_before_start(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    _, make = rig
    m = make()
    with pytest.raises(WattsupError, match="start the meter"), m.phase("x"):
        pass


def test_start_twice(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    _, make = rig
    m = make()
    m.start()
    with pytest.raises(WattsupError, match="already running"):
        m.start()
    m.stop()


def test_overlapping_same_phase(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    """Phase "b" opened twice while it is open (phases interleaved, not nested) is refused."""
    _, make = rig
    m = make()
    m.start()
    a, b = m.phase("a"), m.phase("b")
    # today the second "b" is refused ("already open"); refusing the out-of-order exit of "a" is as good
    with pytest.raises(WattsupError, match=r"already open|order"):
        a.__enter__()
        b.__enter__()
        a.__exit__(None, None, None)  # "a" ends while "b", opened inside it, is still open
        m.phase("b").__enter__()


def test_phases_closed_out_of_order_are_refused(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    _, make = rig
    m = make()
    m.start()
    a, b = m.phase("a"), m.phase("b")
    a.__enter__()
    b.__enter__()
    with pytest.raises(WattsupError):
        a.__exit__(None, None, None)


def test_stop_inside_an_open_phase(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    m = make()
    m.start()
    with m.phase("a"):
        s.advance(0.1)
        try:
            meas = m.stop()
        except WattsupError:
            return  # refusing is fine
    assert meas.phase("a").duration_s == pytest.approx(0.1)  # so is closing the phase at the window's end


# --------------------------------------------------------------------------- sync


def test_to_dict_is_json(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make(timeline=True) as m:
        with m.phase("a"):
            s.advance(0.3)
        s.advance(0.2)
    meas = m.measurement
    assert meas is not None
    d = json.loads(json.dumps(meas.to_dict()))
    assert d["total_energy_j"] == pytest.approx(meas.total_energy_j)
    assert d["total_error_bound_j"] == pytest.approx(meas.total_error_bound_j)
    assert d["phases"][0]["name"] == "a" and d["phases"][0]["total_energy_j"] == pytest.approx(55 * 0.3)
    assert {c["name"] for c in d["components"]} == {"cpu", "ram"}
    assert set(d["timeline"]) == {"cpu", "ram"}
    assert d["warnings"] == []


def test_timeline_points(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make(timeline=True) as m:
        s.advance(0.5)
    meas = m.measurement
    assert meas is not None and meas.timeline is not None
    pts = meas.timeline["cpu"]
    assert len(pts) >= 10
    assert all(meas.start_s <= t <= meas.start_s + meas.duration_s for t, _ in pts)
    for t, e in pts:
        assert e == pytest.approx(50.0 * (t - meas.start_s), abs=1e-9)


def test_timeline_needs_a_single_interval(rig: tuple[ManualSampler, Callable[..., Meter]]) -> None:
    s, make = rig
    with make(timeline=True) as m:
        for _ in range(2):
            with m.phase("p"):
                s.advance(0.1)
    meas = m.measurement
    assert meas is not None
    assert meas.timeline is not None and meas.phase("p").timeline is None


# --------------------------------------------------------------------------- failing sensors


def test_a_track_failing_from_the_start_is_dropped(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 20.0)
    gpu, gpu_fn = steady("gpu:0", 300.0)
    gpu_fn.fail_from = -math.inf
    s = ManualSampler([cpu, gpu], fake_clock)
    with (
        pytest.warns(RuntimeWarning, match=r"gpu:0: reading failed \(OSError: .*Input/output error"),
        Meter(sources=s, sync=None) as m,
    ):
        s.advance(0.5)
    meas = m.measurement
    assert meas is not None
    assert [c.name for c in meas.components] == ["cpu"]
    assert meas.energy_by_component_j["cpu"] == pytest.approx(10.0)
    assert len(meas.warnings) == 1 and meas.warnings[0].startswith("gpu:0: reading failed (OSError")


def test_a_track_failing_mid_window_is_dropped_after_three_failures(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 20.0)
    gpu, gpu_fn = steady("gpu:0", 300.0)
    s = ManualSampler([cpu, gpu], fake_clock)
    with pytest.warns(RuntimeWarning, match="gpu:0: reading failed"), Meter(sources=s, sync=None) as m:
        s.advance(0.2)
        gpu_fn.fail_from = fake_clock.now
        s.advance(0.3)
    meas = m.measurement
    assert meas is not None
    assert gpu.error is not None and "gpu:0" in gpu.error
    assert [c.name for c in meas.components] == ["cpu"]
    assert meas.warnings == [gpu.error]


def test_transient_failures_are_tolerated(fake_clock: FakeClock, recwarn: pytest.WarningsRecorder) -> None:
    gpu, gpu_fn = steady("gpu:0", 300.0)
    gpu_fn.fail_reads = {3, 4, 7}  # never three in a row
    s = ManualSampler([gpu], fake_clock)
    with Meter(sources=s, sync=None) as m:
        s.advance(0.5)
    assert gpu.error is None
    assert m.measurement is not None and m.measurement.warnings == []
    assert m.measurement.energy_by_component_j["gpu:0"] == pytest.approx(150.0)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_a_track_that_never_catches_up_is_extrapolated_with_a_warning(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 20.0)
    s = ManualSampler([cpu], fake_clock)
    m = Meter(sources=s, sync=None)
    m.start()
    s.advance(0.5)
    cpu.poll = lambda now: now + 10.0  # type: ignore[method-assign]  # stops reading, without failing
    s.poke()
    with pytest.warns(RuntimeWarning, match="no reading past the window's end within 3 s"):
        meas = m.stop()
    assert meas.energy_by_component_j["cpu"] == pytest.approx(10.0, rel=0.2)
    assert "extrapolated" in meas.warnings[0]


def test_a_counter_that_never_steps_does_not_break_the_window(fake_clock: FakeClock) -> None:
    cpu, _ = steady("cpu", 20.0)
    stuck = CounterTrack("gpu:0", lambda: 5.0, None, "a counter stuck at one value")
    s = ManualSampler([cpu, stuck], fake_clock)
    with pytest.warns(RuntimeWarning), Meter(sources=s, sync=None) as m:
        s.advance(0.5)
    assert m.measurement is not None and m.measurement.energy_by_component_j["cpu"] == pytest.approx(10.0)
    assert any("gpu:0" in w for w in m.measurement.warnings)


# --------------------------------------------------------------------------- a RAPL window over many wraps


def test_rapl_window_spanning_several_wraps(fake_clock: FakeClock, tmp_path: Path) -> None:
    """Two packages whose counters (range 2 J) wrap every ~0.1-0.2 s, polled every 50 ms: the window's
    energy is the true energy, through every wrap."""
    tree = server_tree(tmp_path, sockets=2, dram=False, package_range_uj=2_000_000)
    watts = {"intel-rapl:0": 15.0, "intel-rapl:1": 9.0}
    start = {d: 1_234_567 for d in watts}
    last = dict(start)
    wraps = dict.fromkeys(watts, 0)

    def before_poll(t: float) -> None:  # the hardware counts on, whoever reads it
        for d, w in watts.items():
            raw = round(start[d] + w * (t - T0) * 1e6) % 2_000_000
            wraps[d] += raw < last[d]
            last[d] = raw
            tree.set(d, raw)

    found = sources.discover(gpu=False, ram=False, powercap_root=str(tmp_path))
    (cpu,) = found.tracks
    assert cpu.method == "counter"
    s = ManualSampler(found.tracks, fake_clock, before_poll=before_poll)
    with Meter(sources=s, sync=None) as m:
        s.advance(0.2)
        with m.phase("inner"):
            s.advance(1.0)  # ~7 wraps of socket 0, ~4 of socket 1
        s.advance(0.3)
    assert wraps["intel-rapl:0"] >= 10 and wraps["intel-rapl:1"] >= 6
    meas = m.measurement
    assert meas is not None
    assert meas.energy_by_component_j["cpu"] == pytest.approx(24.0 * 1.5, rel=1e-6)
    assert meas.phase("inner").energy_by_component_j["cpu"] == pytest.approx(24.0, rel=1e-6)
    c = meas.component("cpu")
    assert abs(c.energy_j - 36.0) <= c.error_bound_j + 1e-6


# --------------------------------------------------------------------------- measurement helpers


def test_measurement_lookups() -> None:
    meas = Measurement(
        start_s=0.0,
        duration_s=0.0,
        components=[],
        phases=[Measurement(name="a", start_s=0.0, duration_s=1.0, components=[])],
    )
    assert math.isnan(meas.mean_power_w())
    with pytest.raises(KeyError, match="no component 'gpu:0'"):
        meas.component("gpu:0")
    with pytest.raises(KeyError, match="no phase 'b'; have \\['a'\\]"):
        meas.phase("b")
    assert not meas.mixes_measured_and_modeled
