"""The background thread that polls every track when it asks to be polled.

One daemon thread serves all tracks. It sleeps between polls on an Event, so ``poke`` (used when a
window is being finalised) and ``stop`` wake it at once. Reads of NVML release the GIL; between
polls the thread sleeps, so the measured program keeps the interpreter to itself. A track whose reads
fail three times in a row is taken out, and its error is reported with every window that needed it.
"""

from __future__ import annotations

import math
import threading
import time

from wattsup.meter.timeline import Track

MAX_FAILURES = 3


class Sampler:
    def __init__(self, tracks: list[Track]) -> None:
        self.tracks = list(tracks)
        self._next = [0.0] * len(self.tracks)
        self._fails = [0] * len(self.tracks)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._covered = threading.Condition()
        self._thread: threading.Thread | None = None
        self.polls = 0

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        now = time.monotonic()
        for i, tr in enumerate(self.tracks):
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
        for tr in self.tracks:
            tr.close()

    def poke(self) -> None:
        """Poll every track now (a window is waiting to be finalised)."""
        now = time.monotonic()
        self._next = [min(n, now) for n in self._next]
        self._wake.set()

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

    def _run(self) -> None:
        while not self._stop.is_set():
            now = time.monotonic()
            due = [i for i, n in enumerate(self._next) if n <= now]
            for i in due:
                self._next[i] = self._safe_poll(i, self.tracks[i], time.monotonic())
                self.polls += 1
            if due:
                with self._covered:
                    self._covered.notify_all()
            nxt = min(self._next, default=math.inf)
            delay = min(max(nxt - time.monotonic(), 0.0), 0.5)
            if delay > 0:
                self._wake.wait(delay)
                self._wake.clear()

    def wait_covered(self, t: float, timeout_s: float) -> list[Track]:
        """Wait until every healthy track has observed past ``t``; returns the tracks that have not."""
        deadline = time.monotonic() + timeout_s
        self.poke()
        with self._covered:
            while True:
                late = [tr for tr in self.tracks if tr.error is None and tr.covered_until() < t]
                remaining = deadline - time.monotonic()
                if not late or remaining <= 0 or not self.running:
                    return late
                self._covered.wait(min(remaining, 0.05))
