"""Many intervals at once (``wattsup.meter.batch``): a window with a phase per inference is estimated in one
vectorised pass, and every figure is the sum of the track's own estimates of each interval."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fakes.gpu_sim import T0, gpu_simulation
from tests.fakes.nvml import FakeGpu, Power
from wattsup.meter import track
from wattsup.meter.counter_track import CounterTrack
from wattsup.meter.guard import GuardedTrack
from wattsup.meter.timeline import HostLoadTrack, PolledEnergyTrack, Total, Track
from wattsup.meter.track import BATCH_MIN
from wattsup.meter.window import Node, build_measurement

PROPS = settings(deadline=None, derandomize=True, max_examples=25)


def same_total(got: Total, want: Total) -> None:
    assert got.energy_j == pytest.approx(want.energy_j, rel=1e-9, abs=1e-12)
    assert got.systematic_j == pytest.approx(want.systematic_j, rel=1e-9, abs=1e-12)
    assert got.random_sq_j2 == pytest.approx(want.random_sq_j2, rel=1e-9, abs=1e-18)
    assert got.filled_s == pytest.approx(want.filled_s, rel=1e-9, abs=1e-12)
    assert got.fill_notes == want.fill_notes


def phases(start: float, n: int, length: float, gap: float) -> tuple[list[float], list[float]]:
    starts = [start + i * (length + gap) for i in range(n)]
    return starts, [a + length for a in starts]


def check(tr: Track, starts: Sequence[float], ends: Sequence[float]) -> Total:
    """The vectorised total against one estimate per interval (and a track whose batch path is used)."""
    assert len(starts) >= BATCH_MIN
    got = tr.total(starts, ends)
    same_total(got, tr.total_one_by_one(starts, ends))
    return got


# --------------------------------------------------------------------------- the GPU counter track


def noisy_steps(seed: int) -> Power:
    rng = random.Random(seed)
    t, steps = T0 - 5.0, []
    while t < T0 + 30.0:
        steps.append((t, rng.choice([90.0, 250.0, 420.0, 690.0])))
        t += rng.expovariate(6.0)
    return Power.steps(steps)


@PROPS
@given(
    seed=st.integers(0, 3),
    at=st.floats(min_value=3.0, max_value=9.0),
    length=st.sampled_from([1e-5, 170e-6, 0.004, 0.013, 0.05, 0.3]),
    gap=st.sampled_from([0.0, 12e-6, 0.002, 0.021]),
    n=st.integers(BATCH_MIN, 400),
)
def test_counter_track_phases_are_the_sum_of_their_estimates(
    seed: int, at: float, length: float, gap: float, n: int
) -> None:
    """Phases short and long (inside one sample interval or across many), back to back or apart, over a
    power that jumps several times a second with sample noise."""
    with gpu_simulation(FakeGpu(power=noisy_steps(seed), sample_noise_w=8.0)) as sim:
        starts, ends = phases(T0 + at, n, length, gap)
        sim.run_to(ends[-1] + 2.0)
        tr = sim.tracks[0]
        assert isinstance(tr, CounterTrack) and tr.read_samples is not None
        assert tr.estimator(starts[0], ends[0]) == "counter+samples"
        got = check(tr, starts, ends)
        assert got.energy_j > 0 and got.bound_j > 0


def test_counter_track_intervals_the_samples_do_not_cover_are_interpolated() -> None:
    """Intervals before the first sample (or whose calibration cannot be found) take the interpolated
    estimate, as ``energy`` gives them, and the others the shaped one, in the same total."""
    with gpu_simulation(FakeGpu(power=300.0, sample_noise_w=3.0)) as sim:
        sim.run_to(T0 + 8.0)
        tr = sim.tracks[0]
        assert isinstance(tr, CounterTrack)
        first = tr.s_t[0]
        starts, ends = phases(first - 0.2, 200, 0.003, 0.001)
        assert starts[0] < first < ends[-1]
        assert tr.estimator(starts[0], ends[0]) == "counter"
        assert tr.estimator(starts[-1], ends[-1]) == "counter+samples"
        check(tr, starts, ends)


def test_counter_track_without_a_calibration_span_interpolates_every_interval() -> None:
    """Two ticks 0.3 s apart calibrate nothing (the span is too short): every interval is interpolated,
    as ``energy`` does it."""
    tr = CounterTrack("gpu:0", lambda: 0.0, lambda: [], "synthetic", period_s=0.1, max_power_w=700.0)
    for k in range(30):
        t = k * 0.02
        tr.s_t.append(t)
        tr.s_p.append(200.0)
        if k:
            tr.s_cum.append(tr.s_cum[-1] + 200.0 * 0.02)
    for m in (0.05, 0.35):
        tr.tick_lo.append(m - 0.007)
        tr.tick_hi.append(m + 0.007)
        tr.tick_m.append(m)
        tr.tick_e.append(200.0 * m)
    starts, ends = phases(0.1, 100, 0.001, 0.0005)
    assert tr.estimator(starts[0], ends[0]) == "counter"
    assert check(tr, starts, ends).energy_j == pytest.approx(200.0 * 0.1, rel=1e-6)


def test_counter_track_across_a_counter_reset() -> None:
    with gpu_simulation(FakeGpu(power=200.0, reset_at=T0 + 2.05, sample_noise_w=2.0)) as sim:
        sim.run_to(T0 + 9.0)
        tr = sim.tracks[0]
        assert isinstance(tr, CounterTrack) and tr.breaks
        check(tr, *phases(T0 + 1.0, 3000, 0.0009, 0.0002))


def test_counter_track_with_samples_lost_while_the_sampler_stalled() -> None:
    power = Power.steps([(0.0, 100.0), (T0 + 10.0, 600.0), (T0 + 10.5, 100.0)])
    with gpu_simulation(FakeGpu(power=power, buffer_s=1.0)) as sim:
        sim.run_to(T0 + 9.5)
        sim.clock.advance_to(T0 + 11.8)  # no poll in 2.3 s: the samples before ~10.8 s are gone
        sim.run_to(T0 + 17.0)
        short = check(sim.tracks[0], *phases(T0 + 9.0, 2000, 0.0015, 0.0005))
        spanning = check(sim.tracks[0], *phases(T0 + 9.0, 40, 0.09, 0.01))
        assert spanning.systematic_j > short.systematic_j > 0  # the unseen span widens both


def test_counter_track_without_samples_interpolates_every_interval() -> None:
    with gpu_simulation(FakeGpu(power=250.0, samples=False)) as sim:
        sim.run_to(T0 + 6.0)
        check(sim.tracks[0], *phases(T0 + 2.0, 500, 0.002, 0.0001))


# --------------------------------------------------------------------------- polled and host tracks


@PROPS
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=500.0),  # e0
            st.floats(min_value=0.0, max_value=500.0),  # e1 - e0
            st.floats(min_value=0.0, max_value=10.0),  # span (0: no span)
            st.floats(min_value=0.0, max_value=1.0),  # where t lies in it
            st.floats(min_value=0.0, max_value=900.0),  # p_lo
            st.floats(min_value=0.0, max_value=900.0),  # p_hi - p_lo
        ),
        min_size=1,
        max_size=50,
    )
)
def test_feasible_bounds_are_the_scalar_bound(cases: list[tuple[float, ...]]) -> None:
    """Including ranges that do not explain the interval (the bound falls back to monotonicity)."""
    import numpy as np

    from wattsup.meter.batch import feasible_bounds
    from wattsup.meter.track import feasible_bound

    e0 = np.array([c[0] for c in cases])
    e1 = e0 + np.array([c[1] for c in cases])
    t0 = np.full(len(cases), 3.0)
    t1 = t0 + np.array([c[2] for c in cases])
    t = t0 + (t1 - t0) * np.array([c[3] for c in cases])
    p_lo = np.array([c[4] for c in cases])
    p_hi = p_lo + np.array([c[5] for c in cases])
    got = feasible_bounds(e0, e1, t0, t1, t, p_lo, p_hi)
    want = [feasible_bound(*map(float, x)) for x in zip(e0, e1, t0, t1, t, p_lo, p_hi, strict=True)]
    assert got.tolist() == pytest.approx(want, rel=1e-12, abs=1e-9)


def polled(seed: int, relative_bound: float = 0.0) -> PolledEnergyTrack:
    rng = random.Random(seed)
    tr = PolledEnergyTrack("cpu", lambda t: 0.0, 0.1, "modeled", "synthetic", relative_bound)
    t = e = 0.0
    while t < 20.0:
        tr.t.append(t)
        tr.e.append(e)
        tr.half.append(rng.uniform(0.0, 1e-3))
        dt = rng.uniform(0.05, 0.15)
        t += dt
        e += rng.choice([5.0, 40.0, 90.0]) * dt
    return tr


@PROPS
@given(
    seed=st.integers(0, 5),
    at=st.floats(min_value=-1.0, max_value=19.0),  # from before the first reading to after the last
    length=st.sampled_from([1e-5, 170e-6, 0.004, 0.05, 0.3]),
    gap=st.sampled_from([0.0, 12e-6, 0.002, 0.04]),
    n=st.integers(BATCH_MIN, 300),
)
def test_polled_track_phases_are_the_sum_of_their_estimates(
    seed: int, at: float, length: float, gap: float, n: int
) -> None:
    tr = polled(seed, relative_bound=0.05)
    starts, ends = phases(at, n, length, gap)
    check(tr, starts, ends)


def test_polled_track_with_two_readings_and_with_one() -> None:
    tr = PolledEnergyTrack("ram", lambda t: 0.0, 0.1, "modeled", "synthetic")
    tr.t += [1.0, 1.1]
    tr.e += [0.0, 0.5]
    tr.half += [0.0, 1e-4]
    check(tr, *phases(0.9, 100, 0.001, 0.001))
    one = PolledEnergyTrack("ram", lambda t: 0.0, 0.1, "modeled", "synthetic")
    one.t.append(1.0)
    one.e.append(0.0)
    one.half.append(0.0)
    assert one.total(*phases(0.9, 100, 0.001, 0.001)).energy_j == 0.0


def host_track(seed: int) -> HostLoadTrack:
    rng = random.Random(seed)
    h = HostLoadTrack(lambda: (0.0, 0.0), ncpu=16)
    t = hs = ts = 0.0
    while t < 30.0:
        h.t.append(t)
        h.host_s.append(hs)
        h.tree_s.append(ts)
        t += rng.uniform(0.9, 1.1)
        hs += rng.uniform(1.2, 9.0)
        ts += rng.uniform(0.5, 1.1)
    return h


@pytest.mark.parametrize("at", [-0.5, 4.2, 29.7])  # before the readings, among them, past them (held)
def test_host_track_busy_time_of_many_intervals(at: float) -> None:
    h = host_track(3)
    starts, ends = phases(at, 3000, 170e-6, 12e-6)
    got = h.busy_s(starts, ends)
    each = [h.busy_s([a], [b]) for a, b in zip(starts, ends, strict=True)]
    assert got is not None and all(x is not None for x in each)
    assert got[0] == pytest.approx(sum(x[0] for x in each if x), rel=1e-9, abs=1e-12)
    assert got[1] == pytest.approx(sum(x[1] for x in each if x), rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------- a guarded track, a window


def test_a_guarded_track_with_a_filled_span_estimates_one_interval_at_a_time() -> None:
    """A span the guard filled lies among the phases: those intervals are split and filled as ``energy``
    does, the others keep the primary's estimate, and the fill is noted once."""
    with gpu_simulation(FakeGpu(power=300.0, sample_noise_w=3.0), guarded=True) as sim:
        sim.run_to(T0 + 9.0)
        tr = sim.tracks[0]
        assert isinstance(tr, GuardedTrack)
        clean = check(tr, *phases(T0 + 3.0, 500, 0.002, 0.0005))
        tr.bad.append((T0 + 3.4, T0 + 3.6))
        faulty = check(tr, *phases(T0 + 3.0, 500, 0.002, 0.0005))
        assert faulty.filled_s > 0 and len(faulty.fill_notes) == 1 and clean.filled_s == 0


def window_with_phases(n: int) -> Node:
    root = Node("window", [(T0 + 2.0, T0 + 6.0)])
    fwd = root.child("forward")
    for a, b in zip(*phases(T0 + 2.0, n, 170e-6, 12e-6), strict=True):
        fwd.add(a, b)
    return root


def measure(root: Node) -> dict[str, tuple[float, float]]:
    with gpu_simulation(FakeGpu(power=noisy_steps(1), sample_noise_w=8.0), guarded=True) as sim:
        sim.run_to(T0 + 9.0)
        m = build_measurement([*sim.tracks, polled(2, 0.05)], root, [], False, host_track(4))
    return {
        f"{who.name}/{c.name}": (c.energy_j, c.error_bound_j)
        for who in (m, *m.phases)
        for c in who.components
    }


def test_a_window_measures_the_same_with_and_without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    root = window_with_phases(5000)
    batched = measure(root)
    assert track.vectorised(5000)
    monkeypatch.setattr(track, "_numpy_installed", lambda: False)  # as on a host without numpy
    assert not track.vectorised(5000)
    one_by_one = measure(root)
    assert (
        batched.keys() == one_by_one.keys() == {"window/gpu:0", "window/cpu", "forward/gpu:0", "forward/cpu"}
    )
    for k, (e, bound) in batched.items():
        assert e == pytest.approx(one_by_one[k][0], rel=1e-9) and e > 0
        assert bound == pytest.approx(one_by_one[k][1], rel=1e-9) and bound > 0
