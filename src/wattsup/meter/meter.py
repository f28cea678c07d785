"""The meter: windows over the background timeline, with nested named phases.

    with Meter() as m:
        with m.phase("load"):
            ...
        for x in inputs:
            with m.phase("forward"):   # re-entering a phase accumulates into it
                ...
    print(m.measurement.total_energy_j)

Edges are timestamps only: starting or ending a window or a phase costs two clock reads and the
optional device sync. Energy is worked out when the outermost window stops, once every sensor has
observed past its end (the NVML counter steps every ~100 ms, so ``stop`` waits about that long).

By default all meters of a process share one timeline that keeps running (see :func:`shared_sampler`),
so back-to-back windows cost no start-up and the counter calibration sees a long history.
"""

from __future__ import annotations

import atexit
import functools
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec, TypeVar

from wattsup.errors import WattsupError
from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.meter.sampler import Sampler
from wattsup.meter.sources import Sources, discover
from wattsup.meter.timeline import CounterTrack, Estimate, Track

P = ParamSpec("P")
R = TypeVar("R")
SyncArg = Callable[[], Any] | Literal["auto"] | None

FINALISE_TIMEOUT_S = 3.0
WARMUP_S = 0.25

_shared: Sampler | None = None
_shared_sources: Sources | None = None
_shared_lock = threading.Lock()
_shared_cpu_pid: int | None = None


def scope_cpu_to_process(pid: int | None = None) -> None:
    """Charge the shared timeline's modelled CPU with process ``pid``'s tree share of CPU time (default:
    this process) instead of the machine's utilisation. For a process that runs one job on a shared host
    (a sweep run); call it before the first Meter. Where RAPL is readable the counter is used as before
    (it is whole-socket)."""
    global _shared_cpu_pid
    with _shared_lock:
        if _shared is not None:
            raise WattsupError("the shared timeline is already running; scope the CPU before the first Meter")
        _shared_cpu_pid = os.getpid() if pid is None else pid


def shared_sampler() -> tuple[Sampler, Sources]:
    """The process-wide timeline over every source :func:`discover` finds, started on first use."""
    global _shared, _shared_sources
    with _shared_lock:
        if _shared is None:
            _shared_sources = discover(pid=_shared_cpu_pid)
            _shared = Sampler(_shared_sources.tracks)
            _shared.start()
            atexit.register(_shared.stop)
            time.sleep(WARMUP_S)  # a first counter tick and a few samples before the first window
        assert _shared_sources is not None
        return _shared, _shared_sources


def _auto_sync() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


@dataclass
class _Node:
    name: str
    intervals: list[tuple[float, float]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    open_since: float | None = None

    def child(self, name: str) -> _Node:
        for c in self.children:
            if c.name == name:
                return c
        c = _Node(name)
        self.children.append(c)
        return c


class Meter:
    """Meters a window of work, with nested named phases. Reusable: each start/stop is a new window.

    ``sources``: ``None`` uses the shared process-wide timeline over every sensor found here; a list of
    tracks (or a :class:`Sampler`) meters exactly those. ``sync``: called at every edge before the clock
    is read, so work queued on an accelerator is attributed to the right window; ``"auto"`` synchronises
    CUDA when torch has initialised it. ``sync_phase_enter=False`` skips the sync when a phase is entered
    (each exit still syncs): right when phases follow each other with no device work queued between
    them, as in the benchmark harness, and it saves a device round trip per phase. ``host_phases``: names
    of phases whose exit does not sync either — phases that queue no device work worth attributing
    (tokenising and copying inputs); whatever they do queue is charged to the phase after them. Each
    sync costs a 5 ms GPU inference about 0.5–1% of its time (benchmarks/RESULTS.md).
    ``timeline``: keep each component's cumulative-energy points.
    """

    def __init__(
        self,
        name: str = "window",
        sources: list[Track] | Sampler | None = None,
        sync: SyncArg = "auto",
        timeline: bool = False,
        sync_phase_enter: bool = True,
        host_phases: Collection[str] = (),
    ) -> None:
        self.name = name
        self.sync_phase_enter = sync_phase_enter
        self.host_phases = frozenset(host_phases)
        self._sync: Callable[[], Any] | None = _auto_sync if sync == "auto" else sync
        self.keep_timeline = timeline
        self._own_sampler = False
        self.warnings: list[str] = []
        if sources is None:
            self.sampler, found = shared_sampler()
            self.warnings += [
                f"{s.component}: {s.reason}" for s in found.statuses if not s.available and s.actionable
            ]
        elif isinstance(sources, Sampler):
            self.sampler = sources
        else:
            self.sampler = Sampler(sources)
            self._own_sampler = True
        self._root: _Node | None = None
        self._stack: list[_Node] = []
        self.measurement: Measurement | None = None

    # ------------------------------------------------------------------ edges
    def _now(self) -> float:
        if self._sync is not None:
            self._sync()
        return time.monotonic()

    def start(self) -> Meter:
        if self._root is not None:
            raise WattsupError("this meter is already running; stop() it before starting it again")
        if not self.sampler.running:
            self.sampler.start()
            if self._own_sampler:
                time.sleep(WARMUP_S)
        self._root = _Node(self.name, open_since=self._now())
        self._stack = [self._root]
        self.measurement = None
        return self

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """A named sub-window. Phases nest; entering the same name again under the same parent adds to it."""
        if self._root is None:
            raise WattsupError("start the meter before entering a phase (use 'with Meter() as m:')")
        node = self._stack[-1].child(name)
        if node.open_since is not None:
            raise WattsupError(f"phase {name!r} is already open; phases of the same name cannot overlap")
        node.open_since = self._now() if self.sync_phase_enter else time.monotonic()
        self._stack.append(node)
        try:
            yield
        finally:
            if self._stack[-1] is not node:
                raise WattsupError(
                    f"phase {name!r} closed while {self._stack[-1].name!r}, opened inside it, is still open; "
                    "phases must close in the reverse order they were opened"
                )
            end = time.monotonic() if name in self.host_phases else self._now()
            node.intervals.append((node.open_since, end))
            node.open_since = None
            self._stack.pop()

    def stop(self) -> Measurement:
        if self._root is None:
            raise WattsupError("the meter is not running; call start() first")
        if len(self._stack) > 1:
            raise WattsupError(f"phase {self._stack[-1].name!r} is still open; close it before stop()")
        root = self._root
        end = self._now()
        assert root.open_since is not None
        root.intervals.append((root.open_since, end))
        root.open_since = None
        self._root = None
        late = self.sampler.wait_covered(end, FINALISE_TIMEOUT_S)
        notes = list(self.warnings)
        notes += [
            f"{tr.name}: no reading past the window's end within {FINALISE_TIMEOUT_S:g} s; "
            "its last interval is extrapolated"
            for tr in late
        ]
        notes += [tr.error for tr in self.sampler.tracks if tr.error]
        tracks = []
        for tr in self.sampler.tracks:
            if tr.error is None:
                try:
                    tr.energy(*root.intervals[0])  # no usable reading yet: a counter that never stepped
                except ValueError as e:
                    notes.append(f"{tr.name}: no estimate for this window ({e})")
                    continue
                tracks.append(tr)
        self.measurement = self._build(root, notes, tracks)
        if self._own_sampler:
            self.sampler.stop()
        for n in notes:
            warnings.warn(n, RuntimeWarning, stacklevel=2)
        return self.measurement

    def __enter__(self) -> Meter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __call__(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Use a Meter as a decorator: each call is metered; the last Measurement is ``meter.measurement``."""

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with self:
                return fn(*args, **kwargs)

        return wrapper

    # ------------------------------------------------------------ finalising
    def _component(self, tr: Track, intervals: list[tuple[float, float]]) -> ComponentEnergy:
        ests: list[Estimate] = [tr.energy(a, b) for a, b in intervals]
        e = sum(x.energy_j for x in ests)
        bound = sum(x.systematic_j for x in ests) + math.sqrt(sum(x.random_j**2 for x in ests))
        detail = tr.detail
        if isinstance(tr, CounterTrack) and intervals:
            a, b = intervals[0]
            detail += f" [{tr.estimator(a, b)}]"
        return ComponentEnergy(name=tr.name, energy_j=e, method=tr.method, error_bound_j=bound, detail=detail)

    def _build(self, node: _Node, notes: list[str], tracks: list[Track]) -> Measurement:
        start = node.intervals[0][0]
        duration = sum(b - a for a, b in node.intervals)
        comps = [self._component(t, node.intervals) for t in tracks]
        timeline = None
        if self.keep_timeline and len(node.intervals) == 1:
            a, b = node.intervals[0]
            timeline = {t.name: t.points(a, b) for t in tracks}
        return Measurement(
            name=node.name,
            start_s=start,
            duration_s=duration,
            components=comps,
            phases=[self._build(c, [], tracks) for c in node.children],
            timeline=timeline,
            warnings=notes,
        )
