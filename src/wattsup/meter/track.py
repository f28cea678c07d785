"""The base of every timeline track: a component's energy history, polled in the background, that answers
``energy(a, b)`` for any window inside its observed span with an error bound (see
:mod:`wattsup.meter.timeline`)."""

from __future__ import annotations

import bisect
import functools
import importlib.util
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from wattsup.meter.measurement import Method

T = TypeVar("T")


@dataclass
class Estimate:
    energy_j: float
    systematic_j: float
    random_j: float
    filled_s: float = 0.0
    """Seconds of the interval that no working sensor observed and a fallback filled (see meter/guard.py)."""
    fill_note: str = ""

    @property
    def bound_j(self) -> float:
        return self.systematic_j + self.random_j


@dataclass
class Total:
    """A track's estimates summed over a window's intervals: what a component's figure is made of."""

    energy_j: float = 0.0
    systematic_j: float = 0.0
    random_sq_j2: float = 0.0
    """The random parts' squares: independent errors of the intervals add in quadrature."""
    filled_s: float = 0.0
    fill_notes: set[str] = field(default_factory=set)

    def add(self, est: Estimate) -> None:
        self.energy_j += est.energy_j
        self.systematic_j += est.systematic_j
        self.random_sq_j2 += est.random_j**2
        self.filled_s += est.filled_s
        if est.fill_note:
            self.fill_notes.add(est.fill_note)

    @property
    def bound_j(self) -> float:
        return self.systematic_j + math.sqrt(self.random_sq_j2)


BATCH_MIN = 32
"""A window or phase of at least this many intervals (a phase per inference: thousands in a window) is
estimated in one vectorised pass where numpy is installed: the figures of one estimate per interval, without
several microseconds of Python for each (what the sampler spends at a window's end)."""


@functools.cache
def _numpy_installed() -> bool:
    return importlib.util.find_spec("numpy") is not None


def vectorised(n: int) -> bool:
    """Whether ``n`` intervals are estimated at once (``wattsup.meter.batch``): ``BATCH_MIN`` or more, and
    numpy installed (without it, one interval at a time, to the same figures)."""
    return n >= BATCH_MIN and _numpy_installed()


class SeriesMemo:
    """Figures a track derives from its readings alone, kept while the readings are as they were, so that a
    window with thousands of phase intervals does not derive them again for each. A track's series only
    grow at the end or lose their start, so their lengths and end points say whether they changed."""

    def __init__(self) -> None:
        self._state: tuple[object, ...] = ()
        self._values: dict[tuple[object, ...], object] = {}

    def check(self, *state: object) -> None:
        """Forget every figure if ``state`` (the series' lengths and end points) is not what it was."""
        if state != self._state:
            self._values.clear()
            self._state = state

    def get(self, key: tuple[object, ...], compute: Callable[[], T]) -> T:
        if key not in self._values:
            self._values[key] = compute()
        return cast(T, self._values[key])


class Track(ABC):
    """Base of every track. Subclasses implement ``poll``, ``covered_until`` and ``energy``."""

    name: str
    method: Method
    detail: str
    apportion: bool = False
    """A whole-package counter (RAPL): apportioned to the metered process tree on a busy host."""
    static_w: float = 0.0
    """Power of a model drawn whatever runs (CPU idle power, the RAM model): shared on a busy host."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.error: str | None = None

    def start(self, now: float) -> float:
        """Take the first reading; returns when to poll next."""
        return self.poll(now)

    @abstractmethod
    def poll(self, now: float) -> float:
        """Take a reading; returns the monotonic time at which to poll next."""

    @abstractmethod
    def covered_until(self) -> float:
        """Windows ending at or before this monotonic time can be finalised."""

    @abstractmethod
    def energy(self, a: float, b: float) -> Estimate:
        """Energy between monotonic times ``a`` and ``b``, with its error bound."""

    def total(self, starts: Sequence[float], ends: Sequence[float]) -> Total:
        """The estimates of the intervals ``[starts[i], ends[i]]`` summed. Tracks whose estimate can be
        vectorised do so from ``BATCH_MIN`` intervals (``wattsup.meter.batch``, where numpy is installed);
        the figures are those of ``energy`` for each."""
        return self.total_one_by_one(starts, ends)

    def total_one_by_one(self, starts: Sequence[float], ends: Sequence[float]) -> Total:
        """``total`` as the sum of ``energy`` for each interval."""
        tot = Total()
        for a, b in zip(starts, ends, strict=True):
            tot.add(self.energy(a, b))
        return tot

    @abstractmethod
    def points(self, a: float, b: float) -> list[tuple[float, float]]:
        """Timeline points (monotonic s, cumulative J from ``a``) between ``a`` and ``b``."""

    def close(self) -> None:  # noqa: B027 - optional hook: most tracks hold nothing to release
        """Release what the track holds (NVML references)."""

    def need_cover(self, t: float) -> None:  # noqa: B027 - optional hook: most tracks cover every poll
        """A window ending at ``t`` waits to be finalised: observe past ``t`` as soon as possible."""

    def estimator(self, a: float, b: float) -> str | None:
        """Which estimator a window [a, b] gets, where the track has several (None: just one)."""
        return None

    def observed_until(self) -> float:
        """The last time the track has a reading for (it may need more to finalise a window there)."""
        return self.covered_until()

    @abstractmethod
    def trim(self, before: float) -> None:
        """Forget what no window starting at or after ``before`` needs (bounded memory)."""

    @abstractmethod
    def last_change_t(self) -> float | None:
        """When the reading last moved (None before two readings): a counter that stops is a fault."""

    def quiet_s(self, now: float) -> float:
        """How long ``last_change_t`` may lag ``now`` without the reading having stopped: 0 for a track that
        sees every change, longer for one that looks at its sensor only now and then."""
        return 0.0


def _trim_index(ts: list[float], before: float) -> int:
    """How many leading entries of the sorted ``ts`` can go while one stays at or before ``before``."""
    return max(bisect.bisect_right(ts, before) - 1, 0)


def trim_series(before: float, times: list[float], *series: list[float]) -> None:
    """Drop the leading entries of the sorted ``times``, and of the ``series`` parallel to it, that no window
    starting at or after ``before`` needs (one entry at or before ``before`` stays)."""
    k = _trim_index(times, before)
    if k:
        for s in (times, *series):
            del s[:k]


def feasible_bound(e0: float, e1: float, t0: float, t1: float, t: float, p_lo: float, p_hi: float) -> float:
    """Largest error of linear interpolation at ``t`` in [t0, t1] when power stays within [p_lo, p_hi]."""
    de, span = e1 - e0, t1 - t0
    if span <= 0:
        return 0.0
    a, b = t - t0, t1 - t
    est = de * a / span
    lo = max(p_lo * a, de - p_hi * b, 0.0)
    hi = min(p_hi * a, de - p_lo * b, de)
    if lo > hi:  # the observed range does not explain this interval: fall back to monotonicity alone
        lo, hi = 0.0, de
    return max(est - lo, hi - est, 0.0)
