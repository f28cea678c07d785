"""A metered window as the meter records it (a tree of named intervals), and how it becomes a Measurement.

The measured process records only timestamps (:class:`Node`); whoever holds the tracks turns the tree into
energies with :func:`build_measurement`: the sampler thread's owner in this process, or the sampler
process (``wattsup.meter.process``), which receives the tree over its pipe.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.meter.timeline import HostLoadTrack, Track

BUSY_HOST_SHARE = 0.25
"""Background CPU share of the host (other processes' busy CPU time over all CPUs) above which a window is
said to have run on a busy host: modelled and apportioned CPU figures are then less certain."""
BUSY_MIN_WINDOW_S = 1.0
"""Shorter windows record the share but are not warned about: the host's load is read every second."""
APPORTION_ABOVE = 0.05
"""Background CPU share above which what the processes of a host share is apportioned to the metered tree
by its CPU time: a whole-package counter (RAPL), the idle power of the CPU model, the RAM model."""


class Node:
    """One window or phase: its closed intervals (monotonic s) and its named sub-phases, in order.

    The edges are kept in two flat arrays of doubles: a phase entered for every inference adds no Python
    object per entry (nothing for the garbage collector to walk) and pickles as two buffers."""

    __slots__ = ("_by_name", "children", "ends", "name", "open_since", "parent", "starts")

    def __init__(
        self, name: str, intervals: Iterable[tuple[float, float]] = (), open_since: float | None = None
    ) -> None:
        self.name = name
        self.starts = array("d")
        self.ends = array("d")
        self.children: list[Node] = []
        self._by_name: dict[str, Node] = {}
        self.parent: Node | None = None
        """The node this one is a phase of, in the measured process (not sent to the sampler)."""
        self.open_since = open_since
        self.intervals = list(intervals)

    @property
    def intervals(self) -> list[tuple[float, float]]:
        return list(zip(self.starts, self.ends, strict=True))

    @intervals.setter
    def intervals(self, pairs: list[tuple[float, float]]) -> None:
        self.starts = array("d", (a for a, _ in pairs))
        self.ends = array("d", (b for _, b in pairs))

    def add(self, a: float, b: float) -> None:
        self.starts.append(a)
        self.ends.append(b)

    def child(self, name: str) -> Node:
        c = self._by_name.get(name)
        if c is None:
            c = self._by_name[name] = Node(name)
            c.parent = self
            self.children.append(c)
        return c

    def __getstate__(self) -> tuple[str, array[float], array[float], list[Node], float | None]:
        return self.name, self.starts, self.ends, self.children, self.open_since

    def __setstate__(self, state: tuple[str, array[float], array[float], list[Node], float | None]) -> None:
        self.name, self.starts, self.ends, self.children, self.open_since = state
        self._by_name = {c.name: c for c in self.children}
        self.parent = None
        for c in self.children:
            c.parent = self


Shares = tuple[float, float] | None
"""(tree share, background share) of a window's host CPU time, or None where not known."""


def host_shares(
    duration_s: float,
    own: tuple[float | None, float | None] | None,
    enclosing: Shares = None,
) -> Shares:
    """(this process tree's share of the host's busy CPU time, the background share) over a window's
    intervals, ``duration_s`` long in all. The host's load is read every second, so a window shorter than
    that cannot tell its own shares: it takes its enclosing window's (a phase is apportioned as the window
    it lies in, so phases and windows add up), and a window with no enclosing one has none (its whole
    figure is kept rather than risk apportioning it away to nothing). ``own``: the host track's ``shares``
    of the intervals, None without one."""
    if own is None:
        return None
    if duration_s < BUSY_MIN_WINDOW_S:
        return enclosing
    frac, bg = own
    return None if frac is None or bg is None else (frac, bg)


def _component(tr: Track, node: Node, duration_s: float, shares: Shares) -> ComponentEnergy:
    tot = tr.total(node.starts, node.ends)
    e, bound, filled_s = tot.energy_j, tot.bound_j, tot.filled_s
    detail = tr.detail
    how = tr.estimator(node.starts[0], node.ends[0]) if node.starts else None
    if how:
        detail += f" [{how}]"
    if tot.fill_notes:
        detail += "; partial: " + "; ".join(sorted(tot.fill_notes))
    frac, bg = shares if shares is not None and (tr.apportion or tr.static_w) else (None, None)
    if frac is not None and bg is not None and bg > APPORTION_ABOVE:
        # the part of the figure that other processes share: the whole package (a RAPL counter), or the
        # power a modelled CPU or RAM draws whatever runs (idle power, all of the RAM model)
        shared = e if tr.apportion else min(tr.static_w * duration_s, e)
        what = "the whole-package counter" if tr.apportion else "idle (static) power"
        removed = shared * (1 - frac)
        e -= removed
        # how CPU time maps to power is itself uncertain: a quarter of what was taken away
        bound = bound * (e / (e + removed) if e + removed > 0 else 1.0) + 0.25 * removed
        detail += (
            f"; {what} apportioned to this process tree by its share of the host's busy CPU time "
            f"({frac:.0%}): {removed:,.1f} J left to the other processes"
        )
    return ComponentEnergy(
        name=tr.name,
        energy_j=e,
        method=tr.method,
        error_bound_j=bound,
        detail=detail,
        filled_s=filled_s,
    )


def build_measurement(
    tracks: list[Track],
    node: Node,
    notes: list[str],
    keep_timeline: bool,
    host: HostLoadTrack | None = None,
    enclosing: Shares = None,
) -> Measurement:
    """The Measurement of ``node`` (and its phases) over the energy ``tracks``; ``host`` gives the
    background CPU share of the window and apportions whole-package counters (``enclosing``: the shares of
    the window a phase lies in, for phases too short to have their own)."""
    start = node.starts[0]
    duration = math.fsum(node.ends) - math.fsum(node.starts)  # exact sums: a phase per inference is many
    own = host.shares(node.starts, node.ends) if host is not None else None
    shares = host_shares(duration, own, enclosing)
    comps = [_component(t, node, duration, shares) for t in tracks]
    timeline = None
    if keep_timeline and len(node.starts) == 1:
        a, b = node.starts[0], node.ends[0]
        timeline = {t.name: t.points(a, b) for t in tracks}
    return Measurement(
        name=node.name,
        start_s=start,
        duration_s=duration,
        components=comps,
        phases=[build_measurement(tracks, c, [], keep_timeline, host, shares) for c in node.children],
        timeline=timeline,
        warnings=notes,
        background_cpu_share=own[1] if own is not None else None,
    )


def busy_host_note(m: Measurement) -> str | None:
    """The warning a window on a busy host carries, or None."""
    bg = m.background_cpu_share
    if bg is None or bg <= BUSY_HOST_SHARE or m.duration_s < BUSY_MIN_WINDOW_S:
        return None
    return (
        f"busy host: other processes used {bg:.0%} of this machine's CPU time during the window; "
        "CPU energy is charged to this process tree by its own CPU time (modelled or apportioned), "
        "and timings are slower than on a quiet host"
    )
