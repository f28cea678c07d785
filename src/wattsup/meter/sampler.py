"""The background thread that polls every track when it asks to be polled, and finalises windows.

One daemon thread serves all tracks. It sleeps between polls on an Event, so ``poke`` (used when a
window is being finalised) and ``stop`` wake it at once. A track whose reads fail three times in a row
is taken out, and its error is reported with every window that needed it (tracks built by
:func:`wattsup.meter.sources.discover` are guarded: they fill what they miss instead, see ``guard.py``).

Memory stays bounded: every ``TRIM_EVERY_S`` the tracks forget what neither an open window (``pin``)
nor the last ``HISTORY_S`` seconds need.

The shared sampler of a process runs this class in a process of its own (``wattsup.meter.process``), so
the measured program's threads and GIL cannot delay it; ``Meter(sources=[...])`` runs it in a thread.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable, Sequence

from wattsup.meter.guard import GuardedTrack
from wattsup.meter.measurement import Measurement
from wattsup.meter.timeline import SPAN_S, HostLoadTrack, Track
from wattsup.meter.window import Node, build_measurement, busy_host_note

MAX_FAILURES = 3
FINALISE_TIMEOUT_S = 3.0
HISTORY_S = 120.0
"""Seconds of readings kept when no window is open (the timeline export and ``monitor`` need no more)."""
TRIM_EVERY_S = 10.0
_thread_cpu = time.thread_time
"""The CPU clock of the calling thread, for the sampler's own cost (bound here: tests drive ``time`` with
fake clocks, and a cost is real CPU time whatever the clock the readings use)."""


class Sampler:
    def __init__(self, tracks: Sequence[Track], host: HostLoadTrack | None = None) -> None:
        self.tracks = list(tracks)
        """The energy tracks, one per component."""
        self.host = host
        self._all: list[Track] = [*self.tracks, *([host] if host is not None else [])]
        self._next = [0.0] * len(self._all)
        self._fails = [0] * len(self._all)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._covered = threading.Condition()
        self._thread: threading.Thread | None = None
        self._pins: list[float] = []
        self._pins_lock = threading.Lock()
        self._trimmed_at = -math.inf
        self.cpu_s: dict[str, float] = {}
        """This sampler's own CPU seconds by what it spent them on (``poll <track>``, ``trim``, ``measure``),
        from the CPU clock of the thread doing it: where the sampler's cost goes on a host."""
        self.poll_count: dict[str, int] = {}

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        now = time.monotonic()
        for i, tr in enumerate(self._all):
            self._next[i] = self._safe_poll(i, tr, now, first=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wattsup-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        for tr in self._all:
            tr.close()

    def poke(self, t: float | None = None) -> None:
        """Poll every track now (a window ending at ``t`` is waiting to be finalised)."""
        now = time.monotonic()
        if t is not None:
            for tr in self._all:
                tr.need_cover(t)
        self._next = [min(n, now) for n in self._next]
        self._wake.set()

    # ------------------------------------------------------------ open windows
    def pin(self, t: float) -> None:
        """A window started at ``t``: keep the readings it needs until :meth:`unpin`."""
        with self._pins_lock:
            self._pins.append(t)

    def unpin(self, t: float) -> None:
        with self._pins_lock:
            if t in self._pins:
                self._pins.remove(t)

    def trim(self, now: float) -> None:
        with self._pins_lock:
            oldest = min(self._pins, default=math.inf)
        keep_from = min(oldest - SPAN_S - 1.0, now - HISTORY_S)
        for tr in self._all:
            tr.trim(keep_from)
        self._trimmed_at = now

    def measure_later(
        self, root: Node, end: float, keep_timeline: bool, notes: Sequence[str] = ()
    ) -> Callable[[], Measurement]:
        """Ask every track to observe past ``end`` now; the returned call measures the window ``root`` (a
        pinned window's readings stay until it is unpinned, so the call may come much later)."""
        self.poke(end)
        return functools.partial(self.measure, root, end, keep_timeline, list(notes))

    def measure(self, root: Node, end: float, keep_timeline: bool, notes: Sequence[str] = ()) -> Measurement:
        """Wait until every track has observed past ``end``, then the Measurement of the window ``root``."""
        late = self.wait_covered(end, FINALISE_TIMEOUT_S)
        c0 = _thread_cpu()
        try:
            return self._measure(root, late, keep_timeline, notes)
        finally:
            self._spent("measure", c0)

    def _measure(
        self, root: Node, late: list[Track], keep_timeline: bool, notes: Sequence[str]
    ) -> Measurement:
        out = list(notes)
        out += [
            f"{tr.name}: no reading past the window's end within {FINALISE_TIMEOUT_S:g} s; "
            "its last interval is extrapolated"
            for tr in late
        ]
        out += [tr.error for tr in self.tracks if tr.error]
        a, b = root.intervals[0][0], root.intervals[-1][1]
        for tr in self.tracks:
            if isinstance(tr, GuardedTrack):
                out += [e for e in tr.events_between(a, b) if e not in out]
        tracks = []
        for tr in self.tracks:
            if tr.error is None:
                try:
                    tr.energy(a, b)  # no usable reading yet: a counter that never stepped
                except ValueError as e:
                    out.append(f"{tr.name}: no estimate for this window ({e})")
                    continue
                tracks.append(tr)
        m = build_measurement(tracks, root, out, keep_timeline, self.host)
        extra = [
            f"{c.name}: partial figure: {c.filled_s:.2f} s of the window filled, not measured ({c.detail})"
            for c in m.components
            if c.partial
        ]
        busy = busy_host_note(m)
        if busy:
            extra.append(busy)
        if extra:
            m = m.model_copy(update={"warnings": [*m.warnings, *extra]})
        return m

    def _safe_poll(self, i: int, tr: Track, now: float, first: bool = False) -> float:
        if tr.error is not None:
            return math.inf
        try:
            nxt = tr.start(now) if first else tr.poll(now)
        except Exception as e:  # a sensor that stops answering must not kill the others
            self._fails[i] += 1
            if self._fails[i] >= MAX_FAILURES or first:
                tr.error = f"{tr.name}: reading failed ({type(e).__name__}: {e})"
                return math.inf
            return now + 0.05
        self._fails[i] = 0
        return nxt

    def thread_cpu_s(self) -> float | None:
        """CPU seconds of the sampling thread so far, where the OS tells another thread's (Linux)."""
        t = self._thread
        if t is None or t.ident is None:
            return None
        try:
            return time.clock_gettime(time.pthread_getcpuclockid(t.ident))
        except (AttributeError, OSError):  # no per-thread CPU clock here, or the thread has ended
            return None

    def _spent(self, key: str, since: float) -> None:
        self.cpu_s[key] = self.cpu_s.get(key, 0.0) + _thread_cpu() - since

    def _run(self) -> None:
        keys = [f"poll {tr.name}" for tr in self._all]
        while not self._stop.is_set():
            now = time.monotonic()
            due = [i for i, n in enumerate(self._next) if n <= now]
            for i in due:
                c0 = _thread_cpu()
                self._next[i] = self._safe_poll(i, self._all[i], time.monotonic())
                self._spent(keys[i], c0)
                self.poll_count[keys[i]] = self.poll_count.get(keys[i], 0) + 1
            if due:
                with self._covered:
                    self._covered.notify_all()
            if now - self._trimmed_at > TRIM_EVERY_S:
                c0 = _thread_cpu()
                self.trim(now)
                self._spent("trim", c0)
            nxt = min(self._next, default=math.inf)
            delay = min(max(nxt - time.monotonic(), 0.0), 0.5)
            if delay > 0:
                self._wake.wait(delay)
                self._wake.clear()

    def wait_covered(self, t: float, timeout_s: float) -> list[Track]:
        """Wait until every healthy track has observed past ``t``; returns the tracks that have not."""
        deadline = time.monotonic() + timeout_s
        self.poke(t)
        with self._covered:
            while True:
                late = [tr for tr in self._all if tr.error is None and tr.covered_until() < t]
                remaining = deadline - time.monotonic()
                if not late or remaining <= 0 or not self.running:
                    return late
                self._covered.wait(min(remaining, 0.05))
