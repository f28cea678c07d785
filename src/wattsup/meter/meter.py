"""The meter: windows over the background timeline, with nested named phases.

    with Meter() as m:
        with m.phase("load"):
            ...
        for x in inputs:
            with m.phase("forward"):   # re-entering a phase accumulates into it
                ...
    print(m.measurement.total_energy_j)

Edges are timestamps only: a phase edge costs two clock reads; a window's start and stop also
synchronise the device (``sync``) and tell the sampler (a pipe write). Energy is worked out when the
outermost window stops, once every sensor has observed past its end (the NVML counter steps every
~100 ms, so ``stop`` waits about that long); ``stop_later`` closes the window without waiting, and its
``result()`` waits later, so back-to-back windows do not idle between them.

By default all meters of a process share one sampler that keeps running in a process of its own
(:mod:`wattsup.meter.process`): the measured program's threads and GIL cannot delay its readings, and
back-to-back windows cost no start-up. ``WATTSUP_SAMPLER=thread`` runs it in a thread of this process
instead (where no child process may be started).
"""

from __future__ import annotations

import atexit
import functools
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

from wattsup.errors import WattsupError
from wattsup.meter.measurement import Measurement
from wattsup.meter.process import ProcessSampler, SamplerProcessError
from wattsup.meter.sampler import Sampler
from wattsup.meter.sources import Sources, discover
from wattsup.meter.timeline import Track
from wattsup.meter.window import Node

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
SyncArg = Callable[[], Any] | Literal["auto"] | None

WARMUP_S = 0.25

_shared: WindowSampler | None = None
_shared_scope: int | None = None
"""The process whose tree the running shared sampler's CPU figure charges (None: the machine)."""
_shared_sources: Sources | None = None
_shared_lock = threading.Lock()
_shared_cpu_pid: int | None = None
_shared_cpu_machine = False


class WindowSampler(Protocol):
    """What a Meter needs of a sampler: the in-process :class:`Sampler` and :class:`ProcessSampler`."""

    @property
    def running(self) -> bool: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def pin(self, t: float) -> None: ...

    def unpin(self, t: float) -> None: ...

    def measure(
        self, root: Node, end: float, keep_timeline: bool, notes: Sequence[str] = ()
    ) -> Measurement: ...

    def measure_later(
        self, root: Node, end: float, keep_timeline: bool, notes: Sequence[str] = ()
    ) -> Callable[[], Measurement]: ...


def scope_cpu_to_process(pid: int | None = None) -> None:
    """Charge the shared sampler's CPU figure to process ``pid``'s tree (default: this process), which is
    already the default for this process; call it before the first Meter."""
    global _shared_cpu_pid, _shared_cpu_machine
    target = os.getpid() if pid is None else pid
    with _shared_lock:
        if _shared is not None:
            if _shared_scope == target:  # already so (a worker started ahead of its run)
                return
            raise WattsupError("the shared sampler is already running; scope the CPU before the first Meter")
        _shared_cpu_pid = target
        _shared_cpu_machine = False


def scope_cpu_to_machine() -> None:
    """Charge the whole machine's CPU (every process) to the shared sampler's windows, as CodeCarbon's
    machine mode does; the figure is labelled machine-wide. Call it before the first Meter."""
    global _shared_cpu_machine
    with _shared_lock:
        if _shared is not None:
            raise WattsupError("the shared sampler is already running; scope the CPU before the first Meter")
        _shared_cpu_machine = True


def _forget_shared_after_fork() -> None:
    global _shared, _shared_sources
    _shared, _shared_sources = None, None


os.register_at_fork(after_in_child=_forget_shared_after_fork)


def _start_shared() -> tuple[WindowSampler, Sources]:
    scope = os.environ.get("WATTSUP_CPU_SCOPE", "process")
    if scope not in ("process", "machine"):
        raise WattsupError(f"WATTSUP_CPU_SCOPE must be 'process' or 'machine', got {scope!r}")
    global _shared_scope
    machine = _shared_cpu_machine or scope == "machine"
    pid = None if machine else (_shared_cpu_pid or os.getpid())
    _shared_scope = pid
    mode = os.environ.get("WATTSUP_SAMPLER", "process")
    if mode not in ("process", "thread"):
        raise WattsupError(f"WATTSUP_SAMPLER must be 'process' or 'thread', got {mode!r}")
    if mode == "process":
        proc = ProcessSampler(cpu_pid=pid)
        try:
            proc.start()
        except SamplerProcessError as e:
            warnings.warn(
                f"{e}; metering from a thread of this process instead", RuntimeWarning, stacklevel=3
            )
        else:
            atexit.register(proc.stop)
            return proc, Sources(statuses=proc.statuses)
    found = discover(pid=pid)
    sampler = Sampler(found.tracks, found.host)
    sampler.start()
    atexit.register(sampler.stop)
    time.sleep(WARMUP_S)  # a first counter tick and a few samples before the first window
    return sampler, found


def shared_sampler() -> tuple[WindowSampler, Sources]:
    """The process-wide sampler over every source :func:`discover` finds, started on first use (in a
    process of its own unless ``WATTSUP_SAMPLER=thread``). Its CPU figure is this process tree's own CPU
    time unless :func:`scope_cpu_to_machine` was called or ``WATTSUP_CPU_SCOPE=machine`` is set."""
    global _shared, _shared_sources
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared, _shared_sources = _start_shared()
        assert _shared_sources is not None
        return _shared, _shared_sources


def _auto_sync() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


class Meter:
    """Meters a window of work, with nested named phases. Reusable: each start/stop is a new window.

    ``sources``: ``None`` uses the shared process-wide sampler over every sensor found here; a list of
    tracks (or a :class:`Sampler`) meters exactly those, from a thread of this process. ``sync``: called
    at the window's start and stop before the clock is read, so work queued on an accelerator is
    attributed to the window; ``"auto"`` synchronises CUDA when torch has initialised it.

    Phase edges are timestamps only: no device sync unless ``sync_phases=True``. Without it, device work
    queued in one phase and run during the next is charged to the next (right for host-bound phases and
    for totals; sync when each phase's own device energy matters, at ~0.5–1% of a 5 ms GPU inference per
    sync, benchmarks/RESULTS.md). With ``sync_phases``: ``sync_phase_enter=False`` skips the sync when a
    phase is entered (each exit still syncs), right when phases follow each other with no device work
    queued between them, as in the benchmark harness; ``host_phases`` names phases whose exit does not
    sync either (tokenising and copying inputs). ``timeline``: keep each component's cumulative-energy
    points.
    """

    def __init__(
        self,
        name: str = "window",
        sources: list[Track] | Sources | Sampler | None = None,
        sync: SyncArg = "auto",
        timeline: bool = False,
        sync_phases: bool = False,
        sync_phase_enter: bool = True,
        host_phases: Collection[str] = (),
    ) -> None:
        self.name = name
        self._sync: Callable[[], Any] | None = _auto_sync if sync == "auto" else sync
        self._phases = _Phases(self)
        self.phase = self._phases.__getitem__  # type: ignore[method-assign,assignment]
        # (the method below, for its signature and docs; per meter, the lookup is the dict's own, in C: a
        # phase around every inference pays no Python frame for it)
        self._sync_phases = sync_phases
        self.sync_phase_enter = sync_phase_enter
        self.host_phases = frozenset(host_phases)
        self.keep_timeline = timeline
        self._own_sampler = False
        self.warnings: list[str] = []
        self.sampler: WindowSampler
        if sources is None:
            self.sampler, found = shared_sampler()
            self.warnings += [
                f"{s.component}: {s.reason}" for s in found.statuses if not s.available and s.actionable
            ]
        elif isinstance(sources, Sampler):
            self.sampler = sources
        elif isinstance(sources, Sources):
            self.sampler = Sampler(sources.tracks, sources.host)
            self._own_sampler = True
        else:
            self.sampler = Sampler(sources)
            self._own_sampler = True
        self._root: Node | None = None
        self._top: Node | None = None
        """The innermost open phase (the root while none is), None while the meter is stopped."""
        self._outstanding = 0
        self.measurement: Measurement | None = None

    @property
    def sync_phases(self) -> bool:
        """Whether phase edges synchronise the device (see the class's docs); may change between windows."""
        return self._sync_phases

    @sync_phases.setter
    def sync_phases(self, on: bool) -> None:
        self._sync_phases = on
        for p in self._phases.values():  # their next edges take the full path, which reads this flag
            p._unbind()

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
        t = self._now()
        self.sampler.pin(t)
        self._root = Node(self.name, open_since=t)
        self._top = self._root
        self.measurement = None
        return self

    def phase(self, name: str) -> _Phase:
        """A named sub-window. Phases nest; entering the same name again under the same parent adds to it."""
        return self._phases[name]

    def stop(self) -> Measurement:
        """Close the window and wait for its Measurement (once every sensor has observed past its end)."""
        return self.stop_later()._take(stacklevel=3)

    def stop_later(self) -> PendingMeasurement:
        """Close the window now and work its Measurement out later: ``.result()`` waits for it then. The next
        window can start meanwhile, so the wait for the sensors to observe past this window's end (the NVML
        counter's next step, ~0.1-0.5 s) overlaps the work that follows instead of idling it. The readings
        the window needs are kept until its result is taken."""
        if self._root is None:
            raise WattsupError("the meter is not running; call start() first")
        top = self._top
        if top is not None and top.parent is not None:
            raise WattsupError(f"phase {top.name!r} is still open; close it before stop()")
        root = self._root
        end = self._now()
        assert root.open_since is not None
        start = root.open_since
        root.add(start, end)
        root.open_since = None
        self._root = None
        self._top = None
        self._outstanding += 1
        try:
            resolve = self.sampler.measure_later(root, end, self.keep_timeline, self.warnings)
        except BaseException:
            self._release(start)
            raise
        return PendingMeasurement(self, start, resolve)

    def _release(self, start: float) -> None:
        """A window's result is taken (or failed): its readings may go, and a sampler of the meter's own stops
        once no window of it is open or waiting."""
        self._outstanding -= 1
        self.sampler.unpin(start)
        if self._own_sampler and self._root is None and self._outstanding == 0:
            self.sampler.stop()

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


class PendingMeasurement:
    """A stopped window whose Measurement is still being worked out (:meth:`Meter.stop_later`)."""

    __slots__ = ("_meter", "_resolve", "_result", "_start")

    def __init__(self, meter: Meter, start: float, resolve: Callable[[], Measurement]) -> None:
        self._meter = meter
        self._start = start
        self._resolve: Callable[[], Measurement] | None = resolve
        self._result: Measurement | None = None

    def result(self) -> Measurement:
        """The window's Measurement, waiting for it the first time (its warnings are issued then)."""
        return self._take(stacklevel=3)

    def _take(self, stacklevel: int) -> Measurement:
        """``result()``; ``stacklevel`` points the warnings at the caller of ``result()`` or ``stop()``."""
        if self._result is not None:
            return self._result
        if self._resolve is None:
            raise WattsupError(
                "this window's measurement failed (raised by the first result()) or was cancelled"
            )
        resolve, self._resolve = self._resolve, None
        try:
            m = resolve()
        finally:
            self._meter._release(self._start)
        self._result = self._meter.measurement = m
        for n in m.warnings:
            warnings.warn(n, RuntimeWarning, stacklevel=stacklevel)
        return m

    def cancel(self) -> None:
        """Give the window up without its Measurement (its readings may go): for a caller that will not
        take the result, as when the work after it failed. Nothing happens once the result is taken."""
        if self._resolve is not None:
            self._resolve = None
            self._meter._release(self._start)


_UNBOUND = Node("")
"""The node of a phase not yet entered: never a meter's innermost node."""


class _Phases(dict[str, "_Phase"]):
    """A meter's phase objects by name, each made on its first use."""

    __slots__ = ("meter",)

    def __init__(self, meter: Meter) -> None:
        super().__init__()
        self.meter = meter

    def __missing__(self, name: str) -> _Phase:
        p = self[name] = _Phase(self.meter, name)
        return p


class _Phase:
    """``with meter.phase(name):`` — a class, not a generator, one object per name and meter (no allocation
    per edge). A phase around every inference is the common case: entered under the same parent as last
    time, the meter not syncing at phase edges, an edge is a clock read, an append to the node's starts
    or ends and a move of the meter's innermost open node, touching as few objects as it can (after a
    heavy inference the caches are cold, and each object touched costs a miss). Everything else (first
    use, another parent, syncs, misuse) takes the full path, which binds the fields the next common edge
    reads, and leaves them unbound while the meter syncs at phase edges (so the common edge need not read
    that flag). A phase is open while its starts outnumber its ends."""

    __slots__ = ("_end", "_node", "_parent", "_start", "meter", "name")

    def __init__(self, meter: Meter, name: str) -> None:
        self.meter = meter
        self.name = name
        self._unbind()

    def _unbind(self) -> None:
        """The next edge takes the full path (``_UNBOUND`` is never a meter's innermost node)."""
        self._parent = self._node = _UNBOUND
        self._start = self._end = _UNBOUND.starts.append

    def __enter__(self) -> None:
        m = self.meter
        # (the node cannot be open here: it would be the innermost, or inside it, not its parent)
        if m._top is self._parent:
            self._start(time.monotonic())
            m._top = self._node
        else:
            self._enter(m)

    def _enter(self, m: Meter) -> None:
        top = m._top
        if top is None:
            raise WattsupError("start the meter before entering a phase (use 'with Meter() as m:')")
        node = top.child(self.name)
        if len(node.starts) != len(node.ends):
            raise WattsupError(f"phase {self.name!r} is already open; phases of the same name cannot overlap")
        if m.sync_phases:  # the phase stays unbound (the setter unbound it): every edge comes here
            node.starts.append(m._now() if m.sync_phase_enter else time.monotonic())
        else:
            self._parent, self._node = top, node
            self._start, self._end = node.starts.append, node.ends.append
            node.starts.append(time.monotonic())
        m._top = node

    def __exit__(self, typ: object, value: object, tb: object) -> None:
        end = time.monotonic()
        m = self.meter
        if m._top is self._node:
            self._end(end)
            m._top = self._parent
        else:
            self._exit(m, end)

    def each(self, items: Iterable[T]) -> Iterator[T]:
        """``for x in meter.phase("forward").each(inputs): model(x)`` — each item handed to the loop's body
        with the phase open around that body (not around fetching the next item): the figures of a ``with``
        inside the loop, for less than it costs (one resume of this generator instead of two method calls:
        1.4–1.8 µs per item against 1.9–2.5 µs on H100 hosts; ``benchmarks/RESULTS.md``, tenth session).
        Leaving the loop, by ``break`` or by an exception from its body, closes the phase there (CPython
        closes the generator as the loop is left; elsewhere, close it yourself). Every edge that is not the
        common one takes the ``with`` path, and the common one is the phase's binding that ``with`` uses
        (unbound while the meter syncs at phase edges), so syncs, nesting and misuse behave the same."""
        m = self.meter
        mono = time.monotonic  # (looked up once per loop, not per edge)
        parent = node = _UNBOUND
        start = end = _UNBOUND.starts.append
        for x in items:
            if m._top is parent and self._parent is parent:  # bound as last time, not unbound since
                start(mono())
                m._top = node
            else:
                self.__enter__()
                parent, node, start, end = self._parent, self._node, self._start, self._end
            try:
                yield x
            except BaseException:  # GeneratorExit where the loop was left; whatever was thrown in
                self.__exit__(None, None, None)
                raise
            t = mono()
            if m._top is self._node:
                end(t)
                m._top = parent
            else:
                self._exit(m, t)

    def _exit(self, m: Meter, end: float) -> None:
        if m.sync_phases and self.name not in m.host_phases:
            end = m._now()
        top = m._top
        if top is None or top.parent is None:  # stopped, or only the window itself is open
            raise WattsupError(f"phase {self.name!r} is not open")
        if top.name != self.name:
            raise WattsupError(
                f"phase {self.name!r} closed while {top.name!r}, opened inside it, is still open; "
                "phases must close in the reverse order they were opened"
            )
        top.ends.append(end)
        m._top = top.parent
