"""The GPU counter track: an energy counter that only steps every ~100 ms (NVML), optionally shaped by the
driver's ~20 ms power samples (see :mod:`wattsup.meter.timeline`).

Its ticks are found by reading the counter just before and after each predicted step. Where the driver
keeps power samples, a window's energy is the samples' integral over the window, scaled so that the
samples integrate to what the counter says over the surrounding ticks (``counter+samples``). Otherwise,
linear interpolation between bracketed ticks.
"""

from __future__ import annotations

import bisect
import itertools
import math
import os
import statistics
import time
from collections.abc import Callable, Sequence

from wattsup.errors import WattsupError
from wattsup.meter.measurement import Method
from wattsup.meter.track import Estimate, SeriesMemo, Total, Track, feasible_bound, trim_series, vectorised

ALIGN_S = 0.02
"""Uncertainty of the alignment between the driver's sample timestamps and the counter (one sample)."""
SPAN_S = 5.0
"""How far around a window the counter ticks that calibrate the samples are taken from."""
LOCAL_SPAN_S = 1.0
"""The shorter span whose calibration, compared with the wide one, shows drift of the samples' scale."""
MIN_SPAN_S = 0.5
SAMPLES_EVERY_S = 0.5
"""How often the driver's buffer of power samples is drained; a window waiting to be finalised drains it at
once. The buffer holds 119 samples 20 ms apart, 2.36 s (H100, driver 580, idle and at 700 W), so a drain
every 0.5 s leaves 4.7× margin; each drain costs ~0.6-0.7 ms of CPU there (benchmarks/nvml_call_cost.py,
RESULTS.md ninth session), 0.13% of a core at this rate against 0.26% at 0.25 s. Where a drain finds that
the buffer overflowed since the last one (its oldest new sample is several sample periods after the last
one kept: a GPU whose buffer holds less), the interval halves, down to ``MIN_SAMPLES_EVERY_S``."""
MIN_SAMPLES_EVERY_S = 0.125
"""The shortest interval between drains (8 a second: ~0.5% of a core on the H100's driver)."""
DRAIN_ENV = "WATTSUP_SAMPLE_DRAIN_S"
"""Seconds between drains instead of ``SAMPLES_EVERY_S`` (for a GPU whose buffer is known, or an A/B)."""


def drain_interval_s() -> float:
    """``SAMPLES_EVERY_S``, or what ``WATTSUP_SAMPLE_DRAIN_S`` says (0.02 to 2 s)."""
    v = os.environ.get(DRAIN_ENV, "").strip()
    if not v:
        return SAMPLES_EVERY_S
    try:
        s = float(v)
    except ValueError:
        s = math.nan
    if not 0.02 <= s <= 2.0:
        raise WattsupError(
            f"{DRAIN_ENV}={v!r}: give the seconds between drains of the GPU's power-sample buffer, from 0.02 "
            f"to 2 (default {SAMPLES_EVERY_S:g}; the buffer holds ~2.4 s on an H100), or unset it"
        )
    return s


BRACKET_EVERY = 10
"""Where power samples shape the windows, at most every this many counter ticks is bracketed by reads: the
calibration needs ticks seconds apart, not every one."""
BRACKET_CPU_SHARE = 0.01
"""And the reads may take at most this share of a core (an NVML counter read busy-waits ~4 ms on an
H100/H200): the brackets are spaced further apart by what they were seen to cost."""
MAX_BRACKET_SPACING_S = 2.5
"""However costly the reads, a tick is bracketed at least this often (every window's calibration span,
``SPAN_S`` either side, then holds several)."""
READ_EVERY_S = 0.01
"""With power samples, the reads waiting for a step come this far apart (brackets ~14 ms wide: the
calibration spans seconds); without samples every step is interpolated from, so they come every 2 ms."""


class CounterTrack(Track):
    """A stepping energy counter (NVML), optionally shaped by timestamped power samples.

    ``read_counter_j`` returns cumulative joules (already wrap/reset corrected); ``read_samples``
    returns new (monotonic s, W) samples since the last call, or is ``None`` where there are none.
    """

    method: Method = "counter"

    def __init__(
        self,
        name: str,
        read_counter_j: Callable[[], float],
        read_samples: Callable[[], list[tuple[float, float]]] | None,
        detail: str,
        period_s: float = 0.1,
        max_power_w: float | None = None,
        bracket_every: int = BRACKET_EVERY,
        resets: Callable[[], int] | None = None,
        clock_jitter: Callable[[], float] | None = None,
    ) -> None:
        super().__init__()
        self.name, self.detail = name, detail
        self.read_counter_j = read_counter_j
        self.clock_jitter = clock_jitter
        self.resets = resets
        """How many resets the counter's accumulator has seen: the energy between the last read before a
        reset and the reset is lost to the counter, so no calibration span may cross one."""
        self._resets_seen = 0
        self.breaks: list[float] = []
        """Times of the ticks first read after a counter reset."""
        self.read_samples = read_samples
        self.max_power_w = max_power_w
        self.period_s = period_s
        self.bracket_every = bracket_every if read_samples is not None else 1
        # every counter read: start, end, value
        self._last_read: tuple[float, float, float] | None = None
        self._attempt_since: float | None = None  # reading until the counter steps, since then
        self._need_after: float | None = None  # a window ending then waits for a tick bracketed after it
        # ticks: bracket [lo, hi] within which the counter stepped to value
        self.tick_lo: list[float] = []
        self.tick_hi: list[float] = []
        self.tick_e: list[float] = []
        self.tick_m: list[float] = []  # bracket midpoints: the tick time estimates
        # power samples and their running trapezoid integral
        self.s_t: list[float] = []
        self.s_p: list[float] = []
        self.s_cum: list[float] = [0.0]
        self._next_samples = 0.0
        self.samples_every_s = drain_interval_s()
        """The interval between drains of the sample buffer, halved where a drain finds it overflowed."""
        self.reads = 0
        self.read_s = 0.0
        """Seconds spent in counter reads: what the brackets cost (a read busy-waits)."""
        self.brackets = 0
        """Counter steps bracketed by reads (``reads / brackets``: the reads each one took)."""
        self.drains = 0
        """Reads of the power-sample buffer."""
        self._attempt_read_s = 0.0  # read seconds of the bracket under way
        self._bracket_cost_s: float | None = None  # read seconds a bracket takes (running mean)
        self._memo = SeriesMemo()  # calibration spans, noise and sample period, shared by many intervals

    # ----------------------------------------------------------------- polling
    def _tick_mid(self, i: int) -> float:
        return self.tick_m[i]

    def _period(self) -> float | None:
        """The counter's update period from the bracketed ticks (which may be several periods apart)."""
        n = len(self.tick_m)
        if n < 3:
            return None
        per = []
        for i in range(max(0, n - 9), n - 1):
            d = self.tick_m[i + 1] - self.tick_m[i]
            per.append(d / max(1, round(d / self.period_s)))
        period = statistics.median(per)
        if 0.005 < period < 2.0:
            self.period_s = period
        return self.period_s

    def _predicted_next_tick(self) -> float | None:
        period = self._period()
        return None if period is None else self.tick_m[-1] + period

    def spacing(self) -> int:
        """How many counter periods apart the brackets come: ``bracket_every``, or more where the reads cost
        more than ``BRACKET_CPU_SHARE`` of a core at that spacing (never over ``MAX_BRACKET_SPACING_S``)."""
        k = self.bracket_every
        cost = self._bracket_cost_s
        if self.read_samples is None or cost is None:
            return k
        by_cost = math.ceil(cost / (BRACKET_CPU_SHARE * self.period_s))
        return max(k, min(by_cost, math.floor(MAX_BRACKET_SPACING_S / self.period_s)))

    def _guard(self) -> float:
        """How long before a predicted tick the reads start. Under load the steps come 60 to 140 ms apart
        (H200, 2026-11-27): where brackets are ticks apart, a margin of 40% of a period catches most."""
        if self.read_samples is None:
            return max(0.01, 0.15 * self.period_s)
        return max(0.01, 0.4 * self.period_s)

    def _target(self, now: float, guard: float) -> float | None:
        """When the next tick worth bracketing is due: ``spacing()`` periods after the last one (the power
        samples carry the shape in between), or the first one after a window waiting to be finalised."""
        period = self._period()
        if period is None:
            return None
        last = self.tick_m[-1]
        k = self.spacing()
        need = self._need_t()
        if need is not None and self.tick_lo[-1] < need:
            k = max(1, math.ceil((need + guard - last) / period - 1e-6))
        # not a tick already past: late polls (a busy host) bracket the next one instead
        return last + max(k, math.ceil((now - last) / period - 1e-6)) * period

    def _need_t(self) -> float | None:
        """Past when a bracketed step is needed for the window waiting to be finalised (lock held): its end,
        and, where samples are scaled, no earlier than ``MIN_SPAN_S`` after the first tick, so that there is
        a span to calibrate them on (a meter started just before a short window)."""
        need = self._need_after
        if need is None or self.read_samples is None or not self.tick_m:
            return need
        return max(need, self.tick_m[0] + MIN_SPAN_S)

    def _settle_need(self) -> None:
        """Forget a waiting window's end once a bracketed step and a sample lie past it (lock held)."""
        need = self._need_t()
        if need is None or not self.tick_lo or self.tick_lo[-1] < need:
            return
        if self.read_samples is None or (self.s_t and self.s_t[-1] >= need):
            self._need_after = None

    def need_cover(self, t: float) -> None:
        with self.lock:
            self._need_after = t if self._need_after is None else max(self._need_after, t)
        self._next_samples = 0.0  # and the samples past it, now

    def _read(self) -> tuple[float, float, float]:
        t0 = time.monotonic()
        e = self.read_counter_j()
        t1 = time.monotonic()
        self.reads += 1
        self.read_s += t1 - t0
        self._attempt_read_s += t1 - t0
        return t0, t1, e

    def _bracketed(self) -> None:
        """A bracket is complete: what its reads cost goes into the running mean that spaces them."""
        cost, self._attempt_read_s = self._attempt_read_s, 0.0
        prev = self._bracket_cost_s
        self._bracket_cost_s = cost if prev is None else 0.7 * prev + 0.3 * cost

    def poll(self, now: float) -> float:
        if self.read_samples is not None and now >= self._next_samples:
            new = self.read_samples()
            self.drains += 1
            with self.lock:
                self._check_overflow(new)
                for t, p in new:
                    if self.s_t and t <= self.s_t[-1]:
                        continue
                    if self.s_t:
                        self.s_cum.append(self.s_cum[-1] + (self.s_p[-1] + p) / 2 * (t - self.s_t[-1]))
                    self.s_t.append(t)
                    self.s_p.append(p)
            with self.lock:
                self._settle_need()
                need = self._need_t()
                waiting = need is not None and (not self.s_t or self.s_t[-1] < need)
            # a window waiting to be finalised needs a sample past its end: look again soon
            self._next_samples = now + (0.02 if waiting else self.samples_every_s)
        next_samples = self._next_samples if self.read_samples is not None else math.inf
        guard = self._guard()
        read_every = READ_EVERY_S if self.read_samples is not None else 0.002
        if self._attempt_since is None:
            with self.lock:
                target = self._target(now, guard)
            if target is not None and now < target - guard:
                return min(target - guard, next_samples)
            # a baseline read just before the tick: the bracket's low end is the last read without a step
            t0, t1, e = self._read()
            with self.lock:
                self._last_read = (t0, t1, e)
            self._attempt_since = t0
            return t1 + read_every
        t0, t1, e = self._read()
        with self.lock:
            last = self._last_read
            assert last is not None
            self._last_read = (t0, t1, e)
            if e != last[2]:
                self.brackets += 1
                self.tick_lo.append(last[0])
                self.tick_hi.append(t1)
                self.tick_e.append(e)
                self.tick_m.append((last[0] + t1) / 2)
                n_resets = self.resets() if self.resets is not None else 0
                if n_resets != self._resets_seen:
                    self._resets_seen = n_resets
                    self.breaks.append(self.tick_m[-1])
                self._settle_need()
                self._attempt_since = None
                if len(self.tick_m) > 3:  # the first ones, read without pause to learn the period, are not
                    self._bracketed()  # what a bracket costs
                else:
                    self._attempt_read_s = 0.0
                target = self._target(t1, guard)
                return t1 + read_every if target is None else min(target - guard, next_samples)
        waited = t1 - self._attempt_since
        if waited > 3 * self.period_s:  # no step: a stalled counter; keep watching without burning a core
            return t1 + min(self.period_s / 2, 0.05)
        return t1 + read_every  # waiting for the step: read again soon

    def _check_overflow(self, new: Sequence[tuple[float, float]]) -> None:
        """A drain whose oldest new sample comes more than three sample periods after the last one kept lost
        samples (the buffer overflowed between drains): drain twice as often from now on (lock held)."""
        if not new or len(self.s_t) < 3 or new[0][0] <= self.s_t[-1]:
            return
        recent = [*self.s_t[-20:], *(t for t, _ in new)]
        spacing = statistics.median(b - a for a, b in itertools.pairwise(recent))
        if new[0][0] - self.s_t[-1] > 3 * spacing:
            self.samples_every_s = max(
                self.samples_every_s / 2, min(MIN_SAMPLES_EVERY_S, self.samples_every_s)
            )

    def quiet_s(self, now: float) -> float:
        """Where samples shape the windows, steps are bracketed ``spacing()`` periods apart, so the last seen
        step may be three spacings old; unless the counter is being read right now and has not stepped for
        three periods (a stall seen, not presumed)."""
        if self.read_samples is None:
            return 0.0
        if self._attempt_since is not None and now - self._attempt_since > 3 * self.period_s:
            return 0.0
        return 3 * self.spacing() * self.period_s

    def last_change_t(self) -> float | None:
        with self.lock:
            if self._last_read is None or not self.tick_hi:
                return None
            return self.tick_hi[-1]

    def observed_until(self) -> float:
        return self._end(observed=True)

    def trim(self, before: float) -> None:
        with self.lock:
            trim_series(before, self.tick_m, self.tick_lo, self.tick_hi, self.tick_e)
            trim_series(before, self.s_t, self.s_p, self.s_cum)

    def covered_until(self) -> float:
        return self._end(observed=False)

    def _end(self, observed: bool) -> float:
        """Where the record ends: the latest reading seen (``observed``: the counter's last step or the last
        power sample), else the time up to which energy is known (the earlier of the two)."""
        with self.lock:
            if not self.tick_e:
                return -math.inf
            if self.read_samples is not None and self.s_t:
                if observed:
                    return max(self.tick_hi[-1], self.s_t[-1])
                j = bisect.bisect_right(self.tick_m, self.s_t[-1]) - 1
                if j < 0 or self.tick_m[j] - self.tick_m[0] < MIN_SPAN_S:
                    return -math.inf  # no span of ticks under the samples yet to scale them on
                return min(self.tick_lo[-1], self.s_t[-1])
            if observed:
                return self.tick_hi[-1]
            # interpolation: the interval that holds a window's end needs a neighbour after it, so that
            # the power range of the bound sees the power after a step in it
            return self.tick_lo[-2] if len(self.tick_lo) >= 2 else -math.inf

    # -------------------------------------------------------------- estimators
    def _s_at(self, t: float) -> float:
        i = bisect.bisect_right(self.s_t, t) - 1
        if i < 0:
            return self.s_cum[0] - self.s_p[0] * (self.s_t[0] - t)
        if i >= len(self.s_t) - 1:
            return self.s_cum[-1] + self.s_p[-1] * (t - self.s_t[-1])
        t0, t1 = self.s_t[i], self.s_t[i + 1]
        p0, p1 = self.s_p[i], self.s_p[i + 1]
        x = t - t0
        return self.s_cum[i] + p0 * x + (p1 - p0) * x * x / (2 * (t1 - t0))

    def sample_period_s(self) -> float:
        """The driver's sample period, from the last samples (0.02 s where there are too few)."""
        gaps = [y - x for x, y in itertools.pairwise(self.s_t[-50:])]
        return statistics.median(gaps) if gaps else 0.02

    def clock_jitter_s(self) -> float:
        """How far the samples' clock offset was seen to move between reads (0 where it is not known)."""
        return self.clock_jitter() if self.clock_jitter is not None else 0.0

    def _p_at(self, t: float) -> float:
        i = min(max(bisect.bisect_right(self.s_t, t) - 1, 0), len(self.s_t) - 1)
        return self.s_p[i]

    def _scale(self, a: float, b: float, around_s: float) -> tuple[float, float, float] | None:
        """Counter joules per sample joule over the outermost ticks within ``around_s`` of [a, b] that the
        samples cover: (k, counter joules over the span, anchor-timing uncertainty in joules)."""
        mids = self.tick_m
        lo, hi = max(a - around_s, self.s_t[0]), min(b + around_s, self.s_t[-1])
        for br in self.breaks:  # stay on one side of a counter reset: the window's, or after it
            if br <= b:  # (the scale is the samples', the same either side; the span must not cross it)
                lo = max(lo, br)
            else:
                hi = min(hi, br - 1e-9)
        i0 = bisect.bisect_left(mids, lo)
        i1 = bisect.bisect_right(mids, hi) - 1
        return self.scale_between(i0, i1)

    def local_span_s(self) -> float:
        """How far around a window the local calibration (compared with the wide one) reaches: a second, or
        a little more than the brackets' spacing."""
        return max(LOCAL_SPAN_S, 1.25 * self.spacing() * self.period_s)

    def scale_between(self, i0: int, i1: int) -> tuple[float, float, float] | None:
        """``_scale`` over the ticks ``i0`` to ``i1`` (memoised while the readings are unchanged)."""
        return self._memo.get(("scale", i0, i1), lambda: self._scale_between(i0, i1))

    def _scale_between(self, i0: int, i1: int) -> tuple[float, float, float] | None:
        mids = self.tick_m
        if i0 >= len(mids) or i1 < 0 or i1 <= i0 or mids[i1] - mids[i0] < MIN_SPAN_S:
            return None
        s_span = self._s_at(mids[i1]) - self._s_at(mids[i0])
        e_span = self.tick_e[i1] - self.tick_e[i0]
        if s_span <= 0 or e_span <= 0:
            return None
        anchor_j = sum(self._p_at(mids[i]) * (self.tick_hi[i] - self.tick_lo[i]) / 2 for i in (i0, i1))
        return e_span / s_span, e_span, anchor_j

    def check_memo(self) -> None:
        """Forget the figures derived from the readings if they changed (lock held; readings present)."""
        ticks, samples = self.tick_m, self.s_t
        self._memo.check(
            len(ticks), ticks[0], ticks[-1], len(samples), samples[0], samples[-1], len(self.breaks)
        )

    def _shaped(self, a: float, b: float) -> Estimate | None:
        if len(self.s_t) < 3 or len(self.tick_e) < 2 or self.s_t[0] > a or self.s_t[-1] < b:
            return None
        self.check_memo()
        wide = self._scale(a, b, SPAN_S)
        if wide is None:
            return None
        k, e_span, anchor_j = wide
        s_ab = self._s_at(b) - self._s_at(a)
        e = k * s_ab
        # systematic: where in its bracket each calibrating tick fell, and drift of the samples' scale
        sys_j = abs(e) * anchor_j / e_span
        local = self._scale(a, b, self.local_span_s())
        if local is not None:
            sys_j += abs(local[0] - k) * abs(s_ab)
        # random: what the samples cannot see between them, and the clock alignment
        j0 = bisect.bisect_right(self.s_t, a)
        j1 = bisect.bisect_left(self.s_t, b)
        sigma, cap = self.noise_and_cap(j0, j1)
        n_in = max(1, j1 - j0)
        noise_j = 2 * sigma * (b - a) / math.sqrt(n_in)
        step = self.sample_step_s()
        trap_sq, gap_j = self.trap_gap(a, b, j0, j1, step, cap)
        # the samples' place on this clock: one sample period, or more where the offset was seen to move
        align_j = max(ALIGN_S, self.clock_jitter_s()) * abs(self._p_at(b) - self._p_at(a))
        sys_j += gap_j
        rand_j = k * (math.hypot(noise_j, math.sqrt(trap_sq)) + align_j)
        return Estimate(max(e, 0.0), sys_j, rand_j)

    def noise_and_cap(self, j0: int, j1: int) -> tuple[float, float]:
        """For a window whose inner samples are ``s_t[j0:j1]``: the samples' noise there (a dozen samples
        either side included) and the power a lost sample may have had (the device's maximum, or 1.5× the
        highest sample near the window); memoised while the readings are unchanged."""

        def compute() -> tuple[float, float]:
            near = self.s_p[max(j0 - 12, 0) : j1 + 12]
            return _noise_sigma(near), self.max_power_w or (max(near) * 1.5 if near else 0.0)

        return self._memo.get(("noise", j0, j1), compute)

    def sample_step_s(self) -> float:
        """``sample_period_s``, memoised while the readings are unchanged."""
        return self._memo.get(("period",), self.sample_period_s)

    def trap_gap(self, a: float, b: float, j0: int, j1: int, step: float, cap: float) -> tuple[float, float]:
        """Over [a, b], whose inner samples are ``s_t[j0:j1]``: the trapezoid's squared error (a step anywhere
        between two samples puts it off by up to |Δp|·Δt/2 in each interval) and the energy of samples the
        driver's buffer lost (the sampler held up longer than the buffer lasts: the power in such a gap is
        unseen, anywhere up to ``cap``, the device's maximum)."""
        trap_sq = gap_j = 0.0
        for t0, t1 in itertools.pairwise([a, *self.s_t[j0:j1], b]):
            i = min(max(bisect.bisect_right(self.s_t, t0) - 1, 0), len(self.s_t) - 2)
            dp = abs(self.s_p[i + 1] - self.s_p[i])
            trap_sq += (dp * (t1 - t0) / 2) ** 2
            if self.s_t[i + 1] - self.s_t[i] > 3 * step:
                gap_j += max(cap - min(self.s_p[i], self.s_p[i + 1]), 0.0) * (t1 - t0)
        return trap_sq, gap_j

    def _interp_at(self, t: float) -> tuple[float, float]:
        mids = self.tick_m
        n = len(mids)
        if n == 1:
            return self.tick_e[0], (self.max_power_w or 0.0) * abs(t - mids[0])
        i = min(max(bisect.bisect_right(mids, t) - 1, 0), n - 2)
        t0, t1, e0, e1 = mids[i], mids[i + 1], self.tick_e[i], self.tick_e[i + 1]
        p_mean = [
            (self.tick_e[j + 1] - self.tick_e[j]) / (mids[j + 1] - mids[j])
            for j in range(max(i - 1, 0), min(i + 2, n - 1))
        ]
        if self.s_t:
            j0 = bisect.bisect_left(self.s_t, t0 - 0.03)
            j1 = bisect.bisect_right(self.s_t, t1 + 0.03)
            p_mean += self.s_p[j0:j1]
        p_lo, p_hi = min(p_mean) * 0.9, max(p_mean) * 1.1
        if self.max_power_w:
            p_hi = min(p_hi, self.max_power_w * 1.1)
        half = max(self.tick_hi[i] - self.tick_lo[i], self.tick_hi[i + 1] - self.tick_lo[i + 1]) / 2
        if t < t0 or t > t1:
            edge, base = (t0, e0) if t < t0 else (t1, e1)
            p = (e1 - e0) / (t1 - t0)
            return base + p * (t - edge), abs(t - edge) * p_hi + p_hi * half
        est = e0 + (e1 - e0) * (t - t0) / (t1 - t0)
        return est, feasible_bound(e0, e1, t0, t1, t, p_lo, p_hi) + p_hi * half

    def _interpolated(self, a: float, b: float) -> Estimate:
        if not self.tick_e:
            raise ValueError(f"{self.name}: the energy counter has not stepped yet")
        ea, ba = self._interp_at(a)
        eb, bb = self._interp_at(b)
        return Estimate(max(eb - ea, 0.0), 0.0, ba + bb)

    def energy(self, a: float, b: float) -> Estimate:
        with self.lock:
            shaped = self._shaped(a, b) if self.read_samples is not None else None
            return shaped if shaped is not None else self._interpolated(a, b)

    def total(self, starts: Sequence[float], ends: Sequence[float]) -> Total:
        if self.read_samples is None or not vectorised(len(starts)):
            return self.total_one_by_one(starts, ends)
        from wattsup.meter.batch import counter_total

        with self.lock:
            tot, rest = counter_total(self, starts, ends)
        for i in rest:  # outside the samples or their calibration: interpolated between ticks
            tot.add(self.energy(starts[i], ends[i]))
        return tot

    def estimator(self, a: float, b: float) -> str | None:
        with self.lock:
            return "counter+samples" if self.read_samples is not None and self._shaped(a, b) else "counter"

    def points(self, a: float, b: float) -> list[tuple[float, float]]:
        with self.lock:
            if self.read_samples is not None and len(self.s_t) >= 2:
                est = self._shaped(a, b)
                if est is not None:
                    s_ab = self._s_at(b) - self._s_at(a)
                    k = est.energy_j / s_ab if s_ab > 0 else 1.0
                    s_a = self._s_at(a)
                    return [(t, k * (self._s_at(t) - s_a)) for t in self.s_t if a <= t <= b]
            base = self._interp_at(a)[0] if self.tick_e else 0.0
            return [
                (self._tick_mid(i), e - base)
                for i, e in enumerate(self.tick_e)
                if a <= self._tick_mid(i) <= b
            ]


def _noise_sigma(powers: list[float]) -> float:
    """The samples' white noise (robust: the median step between neighbours), 0 where there are too few."""
    diffs = [y - x for x, y in itertools.pairwise(powers)]
    return (statistics.median(abs(d) for d in diffs) * 1.4826 / math.sqrt(2)) if diffs else 0.0
