"""A metered window as the meter records it (a tree of named intervals), and how it becomes a Measurement.

The measured process records only timestamps (:class:`Node`); whoever holds the tracks turns the tree into
energies with :func:`build_measurement`: the sampler thread's owner in this process, or the sampler
process (``wattsup.meter.process``), which receives the tree over its pipe.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wattsup.meter.measurement import ComponentEnergy, Measurement
from wattsup.meter.timeline import Estimate, HostLoadTrack, Track

BUSY_HOST_SHARE = 0.25
"""Background CPU share of the host (other processes' busy CPU time over all CPUs) above which a window is
said to have run on a busy host: modelled and apportioned CPU figures are then less certain."""
BUSY_MIN_WINDOW_S = 0.5
"""Shorter windows record the share but are not warned about: it is read every 0.25 s."""
APPORTION_ABOVE = 0.05
"""Background CPU share above which a whole-package CPU counter (RAPL) is apportioned to the process tree."""


@dataclass
class Node:
    """One window or phase: its closed intervals (monotonic s) and its named sub-phases, in order."""

    name: str
    intervals: list[tuple[float, float]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    open_since: float | None = None

    def child(self, name: str) -> Node:
        for c in self.children:
            if c.name == name:
                return c
        c = Node(name)
        self.children.append(c)
        return c


def _component(
    tr: Track, intervals: list[tuple[float, float]], host: HostLoadTrack | None
) -> ComponentEnergy:
    ests: list[Estimate] = [tr.energy(a, b) for a, b in intervals]
    e = sum(x.energy_j for x in ests)
    bound = sum(x.systematic_j for x in ests) + math.sqrt(sum(x.random_j**2 for x in ests))
    filled_s = sum(x.filled_s for x in ests)
    detail = tr.detail
    how = tr.estimator(*intervals[0]) if intervals else None
    if how:
        detail += f" [{how}]"
    fills = sorted({x.fill_note for x in ests if x.fill_note})
    if fills:
        detail += "; partial: " + "; ".join(fills)
    if tr.apportion and host is not None:
        frac = host.tree_fraction(intervals)
        bg = host.background_share(intervals)
        if frac is not None and bg is not None and bg > APPORTION_ABOVE:
            removed = e * (1 - frac)
            e *= frac
            # how CPU time maps to package power is itself uncertain: a quarter of what was taken away
            bound = bound * frac + 0.25 * removed
            detail += (
                f"; apportioned to this process tree by its share of the host's busy CPU time ({frac:.0%}); "
                "the whole-package counter read "
                f"{e + removed:,.1f} J"
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
) -> Measurement:
    """The Measurement of ``node`` (and its phases) over the energy ``tracks``; ``host`` gives the
    background CPU share of the window and apportions whole-package counters."""
    start = node.intervals[0][0]
    duration = sum(b - a for a, b in node.intervals)
    comps = [_component(t, node.intervals, host) for t in tracks]
    timeline = None
    if keep_timeline and len(node.intervals) == 1:
        a, b = node.intervals[0]
        timeline = {t.name: t.points(a, b) for t in tracks}
    return Measurement(
        name=node.name,
        start_s=start,
        duration_s=duration,
        components=comps,
        phases=[build_measurement(tracks, c, [], keep_timeline, host) for c in node.children],
        timeline=timeline,
        warnings=notes,
        background_cpu_share=host.background_share(node.intervals) if host is not None else None,
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
