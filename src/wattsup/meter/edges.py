"""Phase edges that do not stop the device.

A phase edge must say when the work issued before it *finished*, or an accelerator's energy lands in
the wrong phase (a CUDA kernel launch returns long before the kernel ends). Synchronising the device at
every edge says it exactly, but it blocks the host: the work issued next cannot queue up behind the
running kernels, and a benchmark loop with a few phases per 5 ms inference slows by ~3% (see
benchmarks/RESULTS.md, "Harness overhead per inference, block-interleaved, on a GPU").

Device markers say it without blocking: each edge records a marker in the device's queue (a CUDA event
with timing) next to the host's clock, and when the window ends, after one synchronisation, each
marker's device time is put on the host's clock and the edge becomes

    edge = max(host time of the edge, time the device reached the marker)

which is what a synchronise-then-read-the-clock edge gives, without the wait. Device times are put on
the host clock through *anchors*: a marker recorded on an idle device right after a synchronisation,
whose device time equals the host time read beside it. A fresh anchor is taken every
:data:`ANCHOR_EVERY_S` seconds (one synchronisation), so the drift between the two clocks never adds up.

Limits: a CUDA event sees the work of the stream it is recorded on (the current stream, where PyTorch
models run unless they make streams of their own) on the current device. Work on other streams or
devices needs ``Meter(phase_edges="sync")``, which synchronises the whole current device.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

ANCHOR_EVERY_S = 5.0
"""Seconds between anchors (each costs one device synchronisation)."""


@dataclass(slots=True)
class Mark:
    """One edge: the host's clock when it was taken, the device marker recorded with it (if any), and the
    resolved time (``time``): the host time until the window that took it resolves its markers."""

    host: float
    time: float
    marker: Any = None
    anchor: int = -1


def host_mark() -> Mark:
    """A mark on the host's clock alone (no device): final at once."""
    t = time.monotonic()
    return Mark(host=t, time=t)


class DeviceClock(Protocol):
    """Records markers in a device's queue and puts their device times on the host's clock."""

    def anchor(self) -> None:
        """Take an anchor. Called right after the device was synchronised (it is idle)."""

    def mark(self, host: float) -> Mark:
        """Record a marker now; ``host`` is the host's clock read just before."""

    def resolve(self, marks: Sequence[Mark]) -> None:
        """Set every mark's ``time``. Called after the device was synchronised (every marker is done)."""


class CudaEventClock:
    """:class:`DeviceClock` over CUDA events on the current stream (PyTorch's)."""

    def __init__(self, torch: Any, sync: Callable[[], Any]) -> None:
        self._torch = torch
        self._sync = sync
        self._anchors: list[tuple[float, Any]] = []

    def anchor(self) -> None:
        ev = self._torch.cuda.Event(enable_timing=True)
        ev.record()
        self._anchors.append((time.monotonic(), ev))

    def mark(self, host: float) -> Mark:
        if not self._anchors or host - self._anchors[-1][0] > ANCHOR_EVERY_S:
            self._sync()
            self.anchor()
            host = time.monotonic()
        ev = self._torch.cuda.Event(enable_timing=True)
        ev.record()
        return Mark(host=host, time=host, marker=ev, anchor=len(self._anchors) - 1)

    def resolve(self, marks: Sequence[Mark]) -> None:
        resolve_marks(marks, lambda m: _device_time(self._anchors[m.anchor], m.marker))
        self._anchors = self._anchors[-1:]  # the latest anchor stays valid for the next window


def _device_time(anchor: tuple[float, Any], marker: Any) -> float:
    host, ev = anchor
    return host + float(ev.elapsed_time(marker)) / 1e3


def resolve_marks(marks: Sequence[Mark], device_time: Callable[[Mark], float]) -> None:
    """Set each mark's ``time`` to max(its host time, ``device_time(mark)``), kept non-decreasing in the
    order the marks were taken (one queue: a later marker cannot be reached earlier; anchors taken at
    different moments may disagree by microseconds)."""
    latest = float("-inf")
    for m in marks:
        t = m.host if m.marker is None else max(m.host, device_time(m))
        latest = max(latest, t)
        m.time = latest


def cuda_clock(sync: Callable[[], Any] | None) -> CudaEventClock | None:
    """A clock over CUDA events if torch has initialised CUDA in this process (and a sync is given)."""
    torch = sys.modules.get("torch")
    if sync is None or torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return CudaEventClock(torch, sync)
