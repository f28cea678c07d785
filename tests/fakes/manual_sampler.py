"""A Sampler that polls in the test's own thread, on the fake clock: deterministic timelines without threads.

It keeps the real Sampler's bookkeeping (``_safe_poll``: failure counting, dropping a track after three
failures in a row) and its scheduling rule (poll a track when the time it asked for has come), but time
moves only when the test says so: ``advance(dt)`` runs every poll due until then, in time order.
``Meter(sources=ManualSampler(...))`` then meters windows whose every edge the test controls.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tests.fakes.nvml import FakeClock
from wattsup.meter.sampler import Sampler
from wattsup.meter.timeline import HostLoadTrack, PolledEnergyTrack, Track

MIN_LOOP_S = 1e-4
"""A poll that asks to run again at once, without its reads moving the clock, runs again this much later."""


class ManualSampler(Sampler):
    def __init__(
        self,
        tracks: list[Track],
        clock: FakeClock,
        before_poll: Callable[[float], None] | None = None,
        host: HostLoadTrack | None = None,
    ) -> None:
        super().__init__(tracks, host)
        self.clock = clock
        self.before_poll = before_poll
        self._on = False
        self.stops = 0

    @property
    def running(self) -> bool:
        return self._on

    def start(self) -> None:
        if self._on:
            return
        for i, tr in enumerate(self._all):
            if self.before_poll is not None:
                self.before_poll(self.clock.now)
            self._next[i] = self._safe_poll(i, tr, self.clock.now, first=True)
        self._on = True

    def stop(self) -> None:
        self._on = False
        self.stops += 1
        for tr in self.tracks:
            tr.close()

    def _step(self, until: float) -> bool:
        """Runs the earliest poll due by ``until``; False when there is none."""
        due = [(n, i) for i, n in enumerate(self._next) if n <= until]
        if not due:
            return False
        n, i = min(due)
        self.clock.advance_to(n)
        before = self.clock.now
        if self.before_poll is not None:
            self.before_poll(before)
        nxt = self._safe_poll(i, self._all[i], before)
        if nxt <= before and self.clock.now == before:
            nxt = before + MIN_LOOP_S
        self._next[i] = nxt
        return True

    def advance(self, dt: float) -> None:
        self.advance_to(self.clock.now + dt)

    def advance_to(self, t: float) -> None:
        while self._step(t):
            pass
        self.clock.advance_to(t)

    def poke(self, t: float | None = None) -> None:
        now = self.clock.now
        if t is not None:
            for tr in self._all:
                tr.need_cover(t)
        self._next = [min(n, now) for n in self._next]

    def wait_covered(self, t: float, timeout_s: float) -> list[Track]:
        deadline = self.clock.now + timeout_s
        self.poke(t)
        while True:
            late = [tr for tr in self.tracks if tr.error is None and tr.covered_until() < t]
            if not late or self.clock.now >= deadline or not self.running:
                return late
            if not self._step(deadline):
                self.clock.advance_to(deadline)


class FunctionTrack:
    """Cumulative joules as a function of (fake) time, for PolledEnergyTrack's ``read_j``; it can be told
    to fail (``fail_from``: every read from then on raises; ``fail_reads``: these read numbers raise)."""

    def __init__(self, joules: Callable[[float], float]) -> None:
        self.joules = joules
        self.reads = 0
        self.fail_from: float = math.inf
        self.fail_reads: set[int] = set()

    def __call__(self, t: float) -> float:
        self.reads += 1
        if t >= self.fail_from or self.reads in self.fail_reads:
            raise OSError(5, "Input/output error")
        return self.joules(t)


def steady(
    name: str, watts: float, method: str = "counter", t0: float = 1000.0
) -> tuple[PolledEnergyTrack, FunctionTrack]:
    """A counter track of a constant ``watts`` since ``t0`` (the fake clock's start), polled every 50 ms,
    and the function it reads."""
    fn = FunctionTrack(lambda t: watts * (t - t0))
    return PolledEnergyTrack(name, fn, 0.05, method, f"{name} at {watts} W"), fn  # type: ignore[arg-type]
