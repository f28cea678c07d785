"""A sensor that fails keeps what it measured: spans it did not observe are filled, and said so.

:class:`GuardedTrack` wraps the track of one component (``primary``) with an optional ``fallback`` track
(NVML power readings for a GPU's counter, the CPU model for a RAPL package, the RAM model for DRAM). Two
faults are caught:

* the primary's reading **stops moving** (a counter that stalls while the device draws power: every real
  device draws some, so a counter that stands still for ``stuck_after_s`` is a fault);
* the primary **fails** (``MAX_FAILURES`` reads in a row raise: a RAPL zone that vanished, a GPU lost).

Energy over a window is the primary's over the spans it observed plus a fill over the others: the
fallback where it has readings, else the primary's last measured mean power held (±100%). A filled
figure is marked partial (``filled_s``) with a note naming what filled it; nothing becomes zero and no
component is dropped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from wattsup.meter.timeline import Estimate, Total, Track

MAX_FAILURES = 3
HOLD_LOOKBACK_S = 2.0


class GuardedTrack(Track):
    def __init__(self, primary: Track, fallback: Track | None = None, stuck_after_s: float = 1.0) -> None:
        super().__init__()
        self.primary = primary
        self.fallback = fallback
        self.name, self.method, self.detail = primary.name, primary.method, primary.detail
        self.apportion = primary.apportion
        self.stuck_after_s = stuck_after_s
        self.bad: list[list[float]] = []
        """Spans [start, end] the primary did not observe; the last one's end is inf while it lasts."""
        self.events: list[tuple[float, str]] = []
        """(monotonic time, what happened): faults and recoveries, for the windows they touch."""
        self._fails = 0
        self.failed = False
        self._fallback_ok = fallback is not None
        self._next_primary = -math.inf
        self._next_fallback = -math.inf

    # ----------------------------------------------------------------- polling
    def start(self, now: float) -> float:
        self._next_primary = self.primary.start(now)
        if self.fallback is not None:
            self._poll_fallback(now, first=True)
        return self._next()

    def _next(self) -> float:
        nxt = math.inf if self.failed else self._next_primary
        if self._fallback_ok:
            nxt = min(nxt, self._next_fallback)
        return nxt

    def _poll_fallback(self, now: float, first: bool = False) -> None:
        assert self.fallback is not None
        try:
            self._next_fallback = self.fallback.start(now) if first else self.fallback.poll(now)
        except Exception as e:  # the fallback is best effort: a dead one leaves the hold fill
            self._fallback_ok = False
            self.events.append((now, f"{self.name}: its fallback ({self.fallback.detail}) failed too ({e})"))

    def poll(self, now: float) -> float:
        if not self.failed and now >= self._next_primary:
            try:
                self._next_primary = self.primary.poll(now)
                self._fails = 0
            except Exception as e:  # a sensor that stops answering must not end the measurement
                self._fails += 1
                if self._fails >= MAX_FAILURES:
                    self._fail(f"reading failed ({type(e).__name__}: {e})")
                else:
                    self._next_primary = now + 0.05
            else:
                if not math.isinf(self.stuck_after_s):
                    self._check_stuck(now)
        if self._fallback_ok and now >= self._next_fallback:
            self._poll_fallback(now)
        return self._next()

    def _fail(self, why: str) -> None:
        self.failed = True
        now = time.monotonic()
        last = self.primary.observed_until()
        with self.lock:
            if self.bad and math.isinf(self.bad[-1][1]):
                pass  # already in a stalled span: it now lasts to the end
            else:
                self.bad.append([last, math.inf])
        self.events.append(
            (now, f"{self.name}: {why}; measured until then, filled after ({self._fill_source()})")
        )
        self.primary.close()

    def _check_stuck(self, now: float) -> None:
        moved = self.primary.last_change_t()
        if moved is None:
            return
        with self.lock:
            open_span = bool(self.bad) and math.isinf(self.bad[-1][1])
            if open_span and moved > self.bad[-1][0]:
                self.bad[-1][1] = moved  # it moves again: the stalled span ends where it did
                self.events.append(
                    (now, f"{self.name}: the reading moves again after {moved - self.bad[-1][0]:.2f} s")
                )
            elif not open_span and now - moved > self._stuck_limit_s():
                self.bad.append([moved, math.inf])
                self.events.append(
                    (
                        now,
                        f"{self.name}: its reading stopped moving for over {self._stuck_limit_s():.3g} s "
                        f"while a device always draws power; filled from then on ({self._fill_source()})",
                    )
                )

    def _stuck_limit_s(self) -> float:
        """``stuck_after_s``, or longer where the primary looks at its sensor only now and then."""
        return max(self.stuck_after_s, self.primary.quiet_s(time.monotonic()))

    def _fill_source(self) -> str:
        if self._fallback_ok and self.fallback is not None:
            return f"from {self.fallback.detail}"
        return "at the last measured power, ±100%"

    def covered_until(self) -> float:
        with self.lock:
            in_bad = bool(self.bad) and math.isinf(self.bad[-1][1])
        if not in_bad:
            return self.primary.covered_until()
        if self._fallback_ok and self.fallback is not None:
            return self.fallback.covered_until()
        return math.inf  # the hold fill needs nothing more

    def need_cover(self, t: float) -> None:
        self.primary.need_cover(t)
        if self.fallback is not None:
            self.fallback.need_cover(t)

    def close(self) -> None:
        self.primary.close()
        if self.fallback is not None:
            self.fallback.close()

    def trim(self, before: float) -> None:
        self.primary.trim(before - HOLD_LOOKBACK_S)
        if self.fallback is not None:
            self.fallback.trim(before)
        with self.lock:
            self.bad = [s for s in self.bad if s[1] >= before - HOLD_LOOKBACK_S]

    def last_change_t(self) -> float | None:
        return self.primary.last_change_t()

    def estimator(self, a: float, b: float) -> str | None:
        return self.primary.estimator(a, b)

    # -------------------------------------------------------------- estimates
    def _fill(self, a: float, b: float, bad_start: float) -> Estimate:
        fb = self.fallback
        if fb is not None and fb.covered_until() >= b:
            try:
                est = fb.energy(a, b)
            except ValueError:
                pass
            else:
                return Estimate(
                    est.energy_j, est.systematic_j, est.random_j, b - a, f"filled from {fb.detail}"
                )
        t0 = bad_start - HOLD_LOOKBACK_S
        # raises ValueError where the sensor never gave a reading: then the figure is unknown, not zero
        p = self.primary.energy(t0, bad_start).energy_j / HOLD_LOOKBACK_S
        e = p * (b - a)
        note = f"{b - a:.2f} s held at the last measured power ({p:,.1f} W, ±100%)"
        return Estimate(e, e, 0.0, b - a, note)

    def energy(self, a: float, b: float) -> Estimate:
        with self.lock:
            bad = [(s0, s1) for s0, s1 in self.bad if s1 > a and s0 < b]
        if not bad:
            return self.primary.energy(a, b)
        parts: list[Estimate] = []
        cursor = a
        for s0, s1 in bad:
            if s0 > cursor:
                parts.append(self.primary.energy(cursor, s0))
            lo, hi = max(s0, a), min(s1, b)
            parts.append(self._fill(lo, hi, s0))
            cursor = hi
        if cursor < b:
            parts.append(self.primary.energy(cursor, b))
        return Estimate(
            sum(x.energy_j for x in parts),
            sum(x.systematic_j for x in parts),
            math.sqrt(sum(x.random_j**2 for x in parts)),
            sum(x.filled_s for x in parts),
            "; ".join(sorted({x.fill_note for x in parts if x.fill_note})),
        )

    def total(self, starts: Sequence[float], ends: Sequence[float]) -> Total:
        if starts:
            lo, hi = min(starts), max(ends)
            with self.lock:
                faulty = any(s1 > lo and s0 < hi for s0, s1 in self.bad)
            if not faulty:  # the primary's own (vectorised) estimate; spans filled go one at a time
                return self.primary.total(starts, ends)
        return self.total_one_by_one(starts, ends)

    def points(self, a: float, b: float) -> list[tuple[float, float]]:
        return self.primary.points(a, b)

    def events_between(self, a: float, b: float) -> list[str]:
        """What happened to this sensor during [a, b] (and the fault a span filled there began with)."""
        with self.lock:
            starts = [s0 for s0, s1 in self.bad if s1 > a and s0 < b]
        first = min(starts, default=a)
        return [msg for t, msg in self.events if min(first, a) <= t <= b + self.stuck_after_s]
