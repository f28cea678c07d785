"""The tracks' estimators over many intervals at once (numpy): a window with a phase per inference holds
thousands of intervals, and the sampler turns them into figures at the window's end.

Each function gives what the track's scalar estimator gives for every interval, summed (the unit tests
compare the two on the same readings), computed over arrays instead of one Python call per interval. The
tracks call these from ``Track.total`` when a window has ``BATCH_MIN`` intervals or more and numpy is
installed; otherwise they estimate one interval at a time. Every function here runs with the track's lock
held.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from wattsup.meter.counter_track import ALIGN_S, SPAN_S
from wattsup.meter.track import Total

if TYPE_CHECKING:
    from wattsup.meter.counter_track import CounterTrack
    from wattsup.meter.timeline import HostLoadTrack, PolledEnergyTrack

Array = np.ndarray[Any, np.dtype[np.float64]]
Index = np.ndarray[Any, np.dtype[np.intp]]


def feasible_bounds(e0: Array, e1: Array, t0: Array, t1: Array, t: Array, p_lo: Array, p_hi: Array) -> Array:
    """``track.feasible_bound`` for arrays of points."""
    de, span = e1 - e0, t1 - t0
    safe = np.where(span > 0, span, 1.0)
    a, b = t - t0, t1 - t
    est = de * a / safe
    lo = np.maximum(np.maximum(p_lo * a, de - p_hi * b), 0.0)
    hi = np.minimum(np.minimum(p_hi * a, de - p_lo * b), de)
    swap = lo > hi  # the observed range does not explain the interval: monotonicity alone
    lo, hi = np.where(swap, 0.0, lo), np.where(swap, de, hi)
    return np.where(span > 0, np.maximum(np.maximum(est - lo, hi - est), 0.0), 0.0)


def _reading_slice(t: list[float], ts: Array) -> tuple[int, int]:
    """The readings ``t[lo:hi]`` that the estimates at ``ts`` look at: each point's reading interval, its
    neighbours on either side (their powers bound it) and the reading after it."""
    n = len(t)
    i_min = min(max(bisect.bisect_right(t, float(ts.min())) - 1, 0), n - 2)
    i_max = min(max(bisect.bisect_right(t, float(ts.max())) - 1, 0), n - 2)
    return max(i_min - 1, 0), min(i_max + 3, n)


def polled_at(tr: PolledEnergyTrack, ts: Array) -> tuple[Array, Array]:
    """``PolledEnergyTrack._at`` for an array of times (two readings or more): (energy, bound) arrays."""
    lo, hi = _reading_slice(tr.t, ts)
    t, e = np.asarray(tr.t[lo:hi]), np.asarray(tr.e[lo:hi])
    half = np.asarray(tr.half[lo:hi])
    m = len(t)
    i: Index = np.clip(np.searchsorted(t, ts, side="right") - 1, 0, m - 2)
    p = np.diff(e) / np.diff(t)
    # each reading interval's power range: its neighbours' powers (the edges' own), −10% / +10%
    prev, nxt = np.concatenate([p[:1], p[:-1]]), np.concatenate([p[1:], p[-1:]])
    p_lo = np.minimum(np.minimum(prev, p), nxt)[i] * 0.9
    p_hi = np.maximum(np.maximum(prev, p), nxt)[i] * 1.1
    half_i = np.maximum(half[i], half[i + 1])
    t0, t1, e0, e1 = t[i], t[i + 1], e[i], e[i + 1]
    inside = (ts >= t0) & (ts <= t1)
    est_in = e0 + (e1 - e0) * (ts - t0) / (t1 - t0)
    bound_in = feasible_bounds(e0, e1, t0, t1, ts, p_lo, p_hi) + p_hi * half_i
    # outside the observed span: extrapolated with the edge interval's power
    before = ts < t0
    edge, base = np.where(before, t0, t1), np.where(before, e0, e1)
    est_out = base + p[i] * (ts - edge)
    bound_out = np.abs(ts - edge) * p_hi
    return np.where(inside, est_in, est_out), np.where(inside, bound_in, bound_out)


def polled_total(tr: PolledEnergyTrack, starts: Sequence[float], ends: Sequence[float]) -> Total:
    """``PolledEnergyTrack.energy`` over every interval, summed (two readings or more)."""
    a, b = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
    ea, ba = polled_at(tr, a)
    eb, bb = polled_at(tr, b)
    e = np.maximum(eb - ea, 0.0)
    energy = float(e.sum())
    return Total(energy, float((tr.relative_bound * e).sum()), float((ba**2 + bb**2).sum()))


def host_totals(tr: HostLoadTrack, starts: Sequence[float], ends: Sequence[float]) -> tuple[float, float]:
    """``HostLoadTrack``'s busy CPU seconds of the host and of the process tree over every interval, summed
    (two readings or more)."""
    a, b = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
    lo, hi = _reading_slice(tr.t, np.concatenate([a, b]))
    t = np.asarray(tr.t[lo:hi])
    series = np.asarray(tr.host_s[lo:hi]), np.asarray(tr.tree_s[lo:hi])

    def at(ts: Array) -> tuple[Array, Array]:
        i: Index = np.clip(np.searchsorted(t, ts, side="right") - 1, 0, len(t) - 2)
        x = np.clip((ts - t[i]) / (t[i + 1] - t[i]), 0.0, 1.0)
        host, tree = (s[i] + (s[i + 1] - s[i]) * x for s in series)
        return host, tree

    (ha, ta), (hb, tb) = at(a), at(b)
    return float((hb - ha).sum()), float((tb - ta).sum())


def _runs(i0: Index, i1: Index) -> tuple[Index, Index, Index]:
    """The distinct (i0, i1) pairs of consecutive intervals and, for each interval, its pair's place: the
    intervals come in time order, so equal pairs are neighbours (a pair seen again later is only looked up
    again, from the track's memo)."""
    change = np.ones(len(i0), dtype=bool)
    change[1:] = (i0[1:] != i0[:-1]) | (i1[1:] != i1[:-1])
    firsts = np.flatnonzero(change)
    return i0[firsts], i1[firsts], np.cumsum(change) - 1


def _s_at(t: Array, p: Array, cum: Array, ts: Array) -> Array:
    """``CounterTrack._s_at``: the samples' trapezoid integral at each of ``ts``."""
    n = len(t)
    raw = np.searchsorted(t, ts, side="right") - 1
    i: Index = np.clip(raw, 0, n - 2)
    t0, t1, p0, p1 = t[i], t[i + 1], p[i], p[i + 1]
    x = ts - t0
    mid = cum[i] + p0 * x + (p1 - p0) * x * x / (2 * (t1 - t0))
    below = cum[0] - p[0] * (t[0] - ts)
    above = cum[-1] + p[-1] * (ts - t[-1])
    return np.where(raw < 0, below, np.where(raw >= n - 1, above, mid))


def _scales(tr: CounterTrack, a: Array, b: Array, around_s: float) -> tuple[Array, Array, Array, Array]:
    """``CounterTrack._scale`` for every interval: (k, counter joules of the span, anchor joules, found)."""
    mids = np.asarray(tr.tick_m)
    lo = np.maximum(a - around_s, tr.s_t[0])
    hi = np.minimum(b + around_s, tr.s_t[-1])
    for br in tr.breaks:  # stay on one side of a counter reset, as the scalar estimate does
        mine = br <= b
        lo = np.where(mine, np.maximum(lo, br), lo)
        hi = np.where(mine, hi, np.minimum(hi, br - 1e-9))
    i0 = np.searchsorted(mids, lo, side="left")
    i1 = np.searchsorted(mids, hi, side="right") - 1
    x0, x1, place = _runs(i0, i1)
    found = [tr.scale_between(int(x), int(y)) for x, y in zip(x0, x1, strict=True)]
    table = np.array([f if f is not None else (np.nan, np.nan, np.nan) for f in found], dtype=float)
    rows = table[place]
    return rows[:, 0], rows[:, 1], rows[:, 2], ~np.isnan(rows[:, 0])


def counter_total(
    tr: CounterTrack, starts: Sequence[float], ends: Sequence[float]
) -> tuple[Total, Sequence[int]]:
    """``CounterTrack``'s shaped estimate (counter+samples) of every interval it applies to, summed, and the
    indices of the intervals it does not apply to (left to the track's ``energy``, which interpolates)."""
    a_all, b_all = np.asarray(starts, dtype=float), np.asarray(ends, dtype=float)
    everything = range(len(a_all))
    if len(tr.s_t) < 3 or len(tr.tick_e) < 2:
        return Total(), everything
    tr.check_memo()
    ok = (a_all >= tr.s_t[0]) & (b_all <= tr.s_t[-1])
    if not ok.any():
        return Total(), everything
    k, e_span, anchor_j, found = _scales(tr, a_all[ok], b_all[ok], SPAN_S)
    shaped = np.flatnonzero(ok)[found]
    if not len(shaped):
        return Total(), everything
    ok[ok] = found
    rest = np.flatnonzero(~ok).tolist()
    a, b = a_all[shaped], b_all[shaped]
    k, e_span, anchor_j = k[found], e_span[found], anchor_j[found]
    t, p, cum = np.asarray(tr.s_t), np.asarray(tr.s_p), np.asarray(tr.s_cum)
    s_ab = _s_at(t, p, cum, b) - _s_at(t, p, cum, a)
    e = k * s_ab
    # systematic: where in its bracket each calibrating tick fell, and drift of the samples' scale
    sys_j = np.abs(e) * anchor_j / e_span
    k_local, _, _, local = _scales(tr, a, b, tr.local_span_s())
    sys_j += np.where(local, np.abs(np.where(local, k_local, k) - k) * np.abs(s_ab), 0.0)
    # random: the samples' noise, the trapezoid's error and lost samples (see CounterTrack._shaped)
    j0 = np.searchsorted(t, a, side="right")
    j1 = np.searchsorted(t, b, side="left")
    x0, x1, place = _runs(j0, j1)
    noise = np.array([tr.noise_and_cap(int(x), int(y)) for x, y in zip(x0, x1, strict=True)], dtype=float)[
        place
    ]
    sigma, cap = noise[:, 0], noise[:, 1]
    noise_j = 2 * sigma * (b - a) / np.sqrt(np.maximum(1, j1 - j0))
    step = tr.sample_step_s()
    i: Index = np.clip(j0 - 1, 0, len(t) - 2)  # one trapezoid piece where no sample falls inside
    trap_sq = (np.abs(p[i + 1] - p[i]) * (b - a) / 2) ** 2
    gap_j = np.where(
        t[i + 1] - t[i] > 3 * step, np.maximum(cap - np.minimum(p[i], p[i + 1]), 0.0) * (b - a), 0.0
    )
    for x in np.flatnonzero(j1 > j0):  # intervals with samples inside: piece by piece
        trap_sq[x], gap_j[x] = tr.trap_gap(
            float(a[x]), float(b[x]), int(j0[x]), int(j1[x]), step, float(cap[x])
        )

    def p_at(ts: Array) -> Array:
        return p[np.clip(np.searchsorted(t, ts, side="right") - 1, 0, len(t) - 1)]

    # the samples' place on this clock: one sample period, or more where the offset was seen to move
    align_j = max(ALIGN_S, tr.clock_jitter_s()) * np.abs(p_at(b) - p_at(a))
    rand_j = k * (np.hypot(noise_j, np.sqrt(trap_sq)) + align_j)
    tot = Total(float(np.maximum(e, 0.0).sum()), float((sys_j + gap_j).sum()), float((rand_j**2).sum()))
    return tot, rest
