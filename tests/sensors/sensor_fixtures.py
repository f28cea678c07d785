"""Fixtures shared by tests/sensors and tests/meter (both conftests import them)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fake_nvml import FakeClock, FakeNvml, fake_nvml_factory

from wattsup.meter import counter_track, guard, meter, sampler, sources, timeline
from wattsup.sensors import nvml

TIMED_MODULES = (timeline, counter_track, sources, nvml, meter, sampler, guard)
"""The wattsup modules whose ``time`` the fake clock replaces."""


@pytest.fixture(autouse=True)
def _fresh_nvml_state(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts with NVML's module-level reference count at zero (restored afterwards).

    Not for the real-GPU tests (marker ``gpu``): their process-wide timeline holds real references."""
    if request.node.get_closest_marker("gpu") is not None:
        return
    monkeypatch.setattr(nvml, "_refs", 0)
    monkeypatch.setattr(nvml, "_module", None)


@pytest.fixture
def fake_nvml() -> Iterator[Callable[..., FakeNvml]]:
    """``fake_nvml(gpus, clock=None, init_error=None)`` installs a fake NVML for the test."""
    make, cleanup = fake_nvml_factory()
    yield make
    cleanup()


@pytest.fixture
def no_nvml(fake_nvml: Callable[..., FakeNvml]) -> FakeNvml:
    """A machine without an NVIDIA driver: ``nvmlInit`` raises ``NVMLError_LibraryNotFound``."""
    import pynvml

    return fake_nvml([], init_error=pynvml.NVMLError_LibraryNotFound)


@pytest.fixture
def fake_clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """A hand-moved clock in place of ``time`` in the meter, timeline, sources, sampler and nvml modules."""
    clock = FakeClock()
    for mod in TIMED_MODULES:
        monkeypatch.setattr(mod, "time", clock)
    return clock


def inner(track: object) -> object:
    """The sensor's own track inside the guard that :func:`sources.discover` wraps around it."""
    from wattsup.meter.guard import GuardedTrack

    return track.primary if isinstance(track, GuardedTrack) else track
