"""Background-polled timelines of cumulative energy, and the estimators that turn them into windows.

A *track* owns one component (``gpu:0``, ``cpu``, ``dram``, ``ram``). The sampler thread calls
``poll`` when the track asks to be polled; the meter later asks ``energy(a, b)`` for any window inside
the observed span. Estimators return the energy with an error bound split in a systematic part (adds
up over the pieces of an accumulated phase) and a random part (adds in quadrature).

Two kinds of track:

* :class:`PolledEnergyTrack`: a cumulative-energy reading that is fresh at every poll (RAPL, modelled
  CPU/RAM, integrated power readings). Linear interpolation between polls; the bound is what any power
  history within the observed power range could give.
* :class:`CounterTrack` (:mod:`wattsup.meter.counter_track`): a counter that only steps every ~100 ms
  (NVML). Its ticks are found by reading it just before and after each predicted step. Where the driver
  keeps ~20 ms power samples, a window's energy is the samples' integral over the window, scaled so that
  the samples integrate to what the counter says over the surrounding ticks (``counter+samples``).
  Otherwise, linear interpolation between bracketed ticks.

Besides, :class:`HostLoadTrack` follows the host's and the metered process tree's busy CPU time, and
:class:`PowerIntegrator` turns power readings into cumulative joules. The base, :class:`Track` and its
:class:`Estimate`, is :mod:`wattsup.meter.track`; this module is where every track is imported from.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence

from wattsup.meter.counter_track import (
    ALIGN_S,
    BRACKET_EVERY,
    LOCAL_SPAN_S,
    MIN_SPAN_S,
    SAMPLES_EVERY_S,
    SPAN_S,
    CounterTrack,
)
from wattsup.meter.measurement import Method
from wattsup.meter.track import Estimate, SeriesMemo, Total, Track, feasible_bound, trim_series, vectorised

__all__ = [
    "ALIGN_S",
    "BRACKET_EVERY",
    "LOCAL_SPAN_S",
    "MIN_SPAN_S",
    "SAMPLES_EVERY_S",
    "SPAN_S",
    "CounterTrack",
    "Estimate",
    "HostLoadTrack",
    "PolledEnergyTrack",
    "PowerIntegrator",
    "Total",
    "Track",
]


class PolledEnergyTrack(Track):
    """A cumulative-joules reading that is current whenever it is read (RAPL, models, power integrals)."""

    def __init__(
        self,
        name: str,
        read_j: Callable[[float], float],
        interval_s: float,
        method: Method,
        detail: str,
        relative_bound: float = 0.0,
    ) -> None:
        super().__init__()
        self.name, self.method, self.detail = name, method, detail
        self.read_j = read_j
        self.interval_s = interval_s
        self.relative_bound = relative_bound
        self.t: list[float] = []
        self.e: list[float] = []
        self.half: list[float] = []
        self._memo = SeriesMemo()  # each reading interval's power range and timing

    def poll(self, now: float) -> float:
        t0 = time.monotonic()
        e = self.read_j(t0)
        t1 = time.monotonic()
        with self.lock:
            if self.t and (t0 + t1) / 2 <= self.t[-1]:
                return now + self.interval_s
            self.t.append((t0 + t1) / 2)
            self.e.append(e)
            self.half.append((t1 - t0) / 2)
        return now + self.interval_s

    def covered_until(self) -> float:
        with self.lock:
            return self.t[-1] if self.t else -math.inf

    def trim(self, before: float) -> None:
        with self.lock:
            trim_series(before, self.t, self.e, self.half)

    def last_change_t(self) -> float | None:
        with self.lock:
            n = len(self.e)
            if n < 2:
                return None
            last = self.e[-1]
            for i in range(n - 2, -1, -1):
                if self.e[i] != last:
                    return self.t[i + 1]
            return self.t[0]

    def _power(self, i: int) -> float:
        return (self.e[i + 1] - self.e[i]) / (self.t[i + 1] - self.t[i])

    def _at(self, t: float) -> tuple[float, float]:
        n = len(self.t)
        if n == 0:
            raise ValueError(f"{self.name}: no reading yet")
        if n == 1:
            return self.e[0], 0.0
        i = min(max(bisect.bisect_right(self.t, t) - 1, 0), n - 2)
        t0, t1, e0, e1 = self.t[i], self.t[i + 1], self.e[i], self.e[i + 1]
        p_lo, p_hi, half = self._range(i)
        if t < t0 or t > t1:  # outside the observed span: extrapolate with the edge interval's power
            p = self._power(i)
            edge = t0 if t < t0 else t1
            base = e0 if t < t0 else e1
            return base + p * (t - edge), abs(t - edge) * p_hi
        est = e0 + (e1 - e0) * (t - t0) / (t1 - t0)
        bound = feasible_bound(e0, e1, t0, t1, t, p_lo, p_hi)
        bound += p_hi * half
        return est, bound

    def _range(self, i: int) -> tuple[float, float, float]:
        """Reading interval ``i``'s power range (its neighbours' powers −10%/+10%) and its readings' larger
        half-duration (lock held)."""
        self._memo.check(len(self.t), self.t[0], self.t[-1])
        return self._memo.get((i,), lambda: self._derive_range(i))

    def _derive_range(self, i: int) -> tuple[float, float, float]:
        neighbours = [self._power(j) for j in range(max(i - 1, 0), min(i + 2, len(self.t) - 1))]
        return min(neighbours) * 0.9, max(neighbours) * 1.1, max(self.half[i], self.half[i + 1])

    def energy(self, a: float, b: float) -> Estimate:
        with self.lock:
            ea, ba = self._at(a)
            eb, bb = self._at(b)
        e = max(eb - ea, 0.0)
        return Estimate(e, self.relative_bound * e, math.hypot(ba, bb))

    def total(self, starts: Sequence[float], ends: Sequence[float]) -> Total:
        if vectorised(len(starts)):
            from wattsup.meter.batch import polled_total

            with self.lock:
                if len(self.t) >= 2:
                    return polled_total(self, starts, ends)
        return self.total_one_by_one(starts, ends)

    def points(self, a: float, b: float) -> list[tuple[float, float]]:
        with self.lock:
            if not self.t:
                return []
            base, _ = self._at(a)
            return [(t, e - base) for t, e in zip(self.t, self.e, strict=True) if a <= t <= b]


class PowerIntegrator:
    """Turns instantaneous power readings (W) into cumulative joules by the trapezoid rule."""

    def __init__(self, read_w: Callable[[], float]) -> None:
        self.read_w = read_w
        self.total_j = 0.0
        self._last: tuple[float, float] | None = None

    def __call__(self, t: float) -> float:
        p = self.read_w()
        if self._last is not None:
            t0, p0 = self._last
            self.total_j += (p0 + p) / 2 * max(t - t0, 0.0)
        self._last = (t, p)
        return self.total_j


class HostLoadTrack(Track):
    """Busy CPU time of the whole host and of the metered process tree (cumulative CPU seconds), so a window
    knows how busy the rest of the host was and what share of the busy time was its own. Not an energy."""

    method: Method = "modeled"

    def __init__(self, read: Callable[[], tuple[float, float]], ncpu: int, interval_s: float = 0.25) -> None:
        super().__init__()
        self.name, self.detail = "host", "host and process-tree CPU time (psutil)"
        self.read = read
        self.ncpu = max(ncpu, 1)
        self.interval_s = interval_s
        self.t: list[float] = []
        self.host_s: list[float] = []
        self.tree_s: list[float] = []

    def poll(self, now: float) -> float:
        host_s, tree_s = self.read()
        t = time.monotonic()
        with self.lock:
            if not self.t or t > self.t[-1]:
                self.t.append(t)
                self.host_s.append(host_s)
                # a process tree's CPU time can only grow (a child that exited may take its time along)
                self.tree_s.append(max(tree_s, self.tree_s[-1]) if self.tree_s else tree_s)
        return now + self.interval_s

    def _place(self, t: float) -> tuple[int, float]:
        """The reading interval ``t`` falls in and how far into it (0–1; held at the ends)."""
        i = min(max(bisect.bisect_right(self.t, t) - 1, 0), len(self.t) - 2)
        t0, t1 = self.t[i], self.t[i + 1]
        return i, min(max((t - t0) / (t1 - t0), 0.0), 1.0)

    def busy_s(self, starts: Sequence[float], ends: Sequence[float]) -> tuple[float, float] | None:
        """Busy CPU seconds of the host and of the process tree during the intervals (None before two
        readings); one pass for both series, vectorised for a window of many phases."""
        if vectorised(len(starts)):
            from wattsup.meter.batch import host_totals

            with self.lock:
                return host_totals(self, starts, ends) if len(self.t) >= 2 else None
        with self.lock:
            if len(self.t) < 2:
                return None
            hs, ts = self.host_s, self.tree_s
            host = tree = 0.0
            for a, b in zip(starts, ends, strict=True):
                ia, xa = self._place(a)
                ib, xb = self._place(b)
                host += (hs[ib] + (hs[ib + 1] - hs[ib]) * xb) - (hs[ia] + (hs[ia + 1] - hs[ia]) * xa)
                tree += (ts[ib] + (ts[ib + 1] - ts[ib]) * xb) - (ts[ia] + (ts[ia + 1] - ts[ia]) * xa)
            return host, tree

    def shares(self, starts: Sequence[float], ends: Sequence[float]) -> tuple[float | None, float | None]:
        """During the intervals: (the process tree's share of the host's busy CPU time, other processes'
        busy CPU time over all CPUs' time), each 0–1, or None where not known."""
        busy = self.busy_s(starts, ends)
        if busy is None:
            return None, None
        host, tree = max(busy[0], 0.0), max(busy[1], 0.0)
        wall = sum(b - a for a, b in zip(starts, ends, strict=True))
        frac = min(tree / host, 1.0) if host > 0 else None
        background = min(max((host - tree) / (wall * self.ncpu), 0.0), 1.0) if wall > 0 else None
        return frac, background

    def covered_until(self) -> float:
        with self.lock:
            return self.t[-1] if self.t else -math.inf

    def energy(self, a: float, b: float) -> Estimate:
        raise ValueError("the host track measures CPU time, not energy")

    def points(self, a: float, b: float) -> list[tuple[float, float]]:
        return []

    def trim(self, before: float) -> None:
        with self.lock:
            trim_series(before, self.t, self.host_s, self.tree_s)

    def last_change_t(self) -> float | None:
        return None
