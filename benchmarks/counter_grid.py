"""The NVML energy counter as an oracle for short windows: its steps, timed on their own grid.

A reader that polls ``nvmlDeviceGetTotalEnergyConsumption`` without pause sees each counter step inside a
bracket (the start of the read before it to the end of the read that saw it). Each read busy-waits
~3.3 ms on an H100, so a bracket is ~6.6 ms wide, and a step's time taken as its bracket's midpoint is off by
~1.4 ms (sd): 1.4% of a 0.1 s window at each edge, too coarse for an oracle of 0.1 s windows.

The steps themselves are regular: on the H100s measured (sessions 5 and 9 of issue 13) every step came
100.000 ms after the last (100.0002 ms against the host's monotonic clock; the fitted grid's residuals
average within ±0.25 ms over every 200 steps, over minutes). So each step's time is taken from a straight
line fitted to the step numbers and bracket midpoints of the steps around it (±``HALF_STEPS``, outliers
— a reader held up by the scheduler — left out of the fit), which is good to ~0.1 ms, and the energy at
any instant is the counter interpolated linearly between the two grid-timed steps around it. What is left
is the power's variation inside the partial steps at a window's edges: its bound at each edge is the part
of the step on the nearer side × the step's length × the largest change of mean power between that step
and its neighbours (``energy`` returns it with the value).

Where the steps are not on a grid (a fit's residuals above ``MAX_RESIDUAL_S``: a device whose counter
moves irregularly), the midpoints are used as they are, and ``summary()["grid"]`` is false.

Used by ``gpu_inprocess_bench.py`` (its primary oracle) and ``rescore_inprocess.py``; no wattsup import.
"""

from __future__ import annotations

import bisect
import itertools
import math
import statistics
from collections.abc import Sequence

HALF_STEPS = 50
"""Steps either side of a step whose bracket midpoints its grid time is fitted to (±5 s at 100 ms)."""
MAX_RESIDUAL_S = 0.003
"""Above this residual (sd) of the fit the steps are taken not to be on a grid."""


class CounterGrid:
    """Counter steps ``(lo, hi, joules)``: each step's value and the bracket of the reads around it (``lo ==
    hi`` where only a time is known), in time order."""

    def __init__(self, steps: Sequence[tuple[float, float, float]]) -> None:
        if len(steps) < 3:
            raise ValueError(f"{len(steps)} counter steps: at least 3 are needed for an oracle")
        self.mid = [(lo + hi) / 2 for lo, hi, _ in steps]
        self.e = [float(j) for _, _, j in steps]
        gaps = [b - a for a, b in itertools.pairwise(self.mid)]
        if min(gaps) <= 0:
            raise ValueError("counter steps must be in strictly increasing time order")
        self.period_s = statistics.median(gaps)
        self.fitted_period_s = self.period_s
        # step numbers: a step the reader missed (a gap of two periods) still counts
        k = [0]
        for g in gaps:
            k.append(k[-1] + max(1, round(g / self.period_s)))
        self.k = k
        self.t, self.residual_sd_s, self.outliers = self._fit()
        self.grid = self.residual_sd_s <= MAX_RESIDUAL_S
        if not self.grid:
            self.t = list(self.mid)
        self.p = [
            (e1 - e0) / (t1 - t0)
            for (t0, e0), (t1, e1) in itertools.pairwise(zip(self.t, self.e, strict=True))
        ]

    def _fit(self) -> tuple[list[float], float, int]:
        """Each step's time on a straight line fitted to the midpoints of the steps within ``HALF_STEPS`` of
        it; a second pass leaves out midpoints more than max(4 sd, 1 ms) off the first."""
        n = len(self.mid)
        use = [True] * n
        t = list(self.mid)
        for _ in range(2):
            t = [self._local(i, use) for i in range(n)]
            resid = [m - g for m, g in zip(self.mid, t, strict=True)]
            sd = math.sqrt(statistics.fmean([r * r for r, u in zip(resid, use, strict=True) if u]))
            use = [abs(r) <= max(4 * sd, 1e-3) for r in resid]
        kept = [r for r, u in zip(resid, use, strict=True) if u]
        ks = [k for k, u in zip(self.k, use, strict=True) if u]
        if len(ks) >= 3:  # the period over the whole run, for the record
            self.fitted_period_s = statistics.linear_regression(
                ks, [m for m, u in zip(self.mid, use, strict=True) if u]
            )[0]
        return t, math.sqrt(statistics.fmean([r * r for r in kept])) if kept else math.inf, use.count(False)

    def _local(self, i: int, use: list[bool]) -> float:
        lo, hi = max(0, i - HALF_STEPS), min(len(self.mid), i + HALF_STEPS + 1)
        ks = [self.k[j] for j in range(lo, hi) if use[j]]
        ts = [self.mid[j] for j in range(lo, hi) if use[j]]
        if len(ks) < 3:
            return self.mid[i]
        slope, intercept = statistics.linear_regression(ks, ts)
        return slope * self.k[i] + intercept

    def _at(self, x: float) -> tuple[float, float]:
        """(joules at time ``x``, the bound on that from the power's variation inside its step)."""
        if not self.t[0] <= x <= self.t[-1]:
            raise ValueError(
                f"t={x:.3f} is outside the counter steps seen ({self.t[0]:.3f}..{self.t[-1]:.3f})"
            )
        i = min(bisect.bisect_right(self.t, x) - 1, len(self.t) - 2)
        t0, t1 = self.t[i], self.t[i + 1]
        f = (x - t0) / (t1 - t0)
        dp = max(
            abs(self.p[i] - self.p[i - 1]) if i > 0 else 0.0,
            abs(self.p[i + 1] - self.p[i]) if i + 1 < len(self.p) else 0.0,
        )
        return self.e[i] + (self.e[i + 1] - self.e[i]) * f, min(f, 1 - f) * (t1 - t0) * dp

    def energy(self, a: float, b: float) -> tuple[float, float]:
        """(joules over [a, b], the oracle's own bound on them)."""
        (ea, ua), (eb, ub) = self._at(a), self._at(b)
        return eb - ea, ua + ub

    def step_spread(self, lo: float, hi: float) -> dict[str, float] | None:
        """How far the power moves from one 100 ms step to the next over [lo, hi], from the counter alone:
        the steps' mean powers' relative sd, and how far each is from the mean over the 2 s around it
        (median, 90th percentile). The ±1 s oracle takes that movement as zero for a short window."""
        idx = [i for i in range(10, len(self.p) - 10) if lo <= self.t[i] <= hi]
        if len(idx) < 3:
            return None
        ps = [self.p[i] for i in idx]
        mean = statistics.fmean(ps)
        dev = sorted(
            abs(self.p[i] / ((self.e[i + 10] - self.e[i - 10]) / (self.t[i + 10] - self.t[i - 10])) - 1)
            for i in idx
        )
        return {
            "step_power_sd_pct": 100 * statistics.pstdev(ps) / mean,
            "step_vs_2s_median_pct": 100 * statistics.median(dev),
            "step_vs_2s_p90_pct": 100 * dev[int(0.9 * (len(dev) - 1))],
        }

    def summary(self) -> dict[str, object]:
        return {
            "grid": self.grid,
            "steps": len(self.t),
            "period_s": self.fitted_period_s,
            "median_gap_s": self.period_s,
            "residual_sd_ms": round(1e3 * self.residual_sd_s, 3),
            "outliers_left_out": self.outliers,
            "missed_steps": self.k[-1] + 1 - len(self.k),
        }
