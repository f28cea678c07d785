"""The meter's modules that read ``time`` (the fake clock replaces it there), and the track a guard wraps."""

from __future__ import annotations

from wattsup.meter import counter_track, guard, meter, sampler, sources, timeline
from wattsup.sensors import nvml

TIMED_MODULES = (timeline, counter_track, sources, nvml, meter, sampler, guard)
"""The wattsup modules whose ``time`` the fake clock replaces."""


def inner(track: object) -> object:
    """The sensor's own track inside the guard that :func:`sources.discover` wraps around it."""
    from wattsup.meter.guard import GuardedTrack

    return track.primary if isinstance(track, GuardedTrack) else track
